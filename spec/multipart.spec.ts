// The multipart stream for WebKit engines, on the wire: who gets it, what each part is (a complete PNG of its
// second, decoded by independent decoders), the next part's head in the same chunk as each GIF, the
// close delimiter on shutdown, HEAD, 503, forced modes, bad modes, and the same over TLS and HTTP/2.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { route, type RequestInfo } from '../lib/http/routes.js';
import { BOUNDARY, CLOSE_DELIMITER, NEXT_PART_HEAD, PART_CONTENT_TYPE } from '../lib/stream/multipart.js';
import { DEFAULT_FACE, faceSize } from '../lib/face/face.js';
import { RawClient, drainAll, startTest } from './wire.js';
import { cliDecoders, decodeOmggif, decodePngjs, firstDifference, rgbaToRgb } from './decoders.js';
import { faceRgba, h2Session, makeCert, nowSecond, pngSecond, secondsShown, splitMultipart, tlsHandshake, waitFor } from './helpers.js';
import { commandMissing, specIf, toolPresent } from './tools.js';

const UA = {
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  iphoneSafari: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  iosWeChat: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN',
  iosChrome: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1',
  iosFirefox: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15',
  androidChrome: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36',
  desktopChrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  curl: 'curl/7.88.1',
  none: '',
};

const WANT: [keyof typeof UA, 'gif' | 'multipart'][] = [
  ['safariMac', 'multipart'], ['iphoneSafari', 'multipart'], ['iosWeChat', 'multipart'], ['iosChrome', 'multipart'],
  ['iosFirefox', 'multipart'], ['androidChrome', 'gif'], ['desktopChrome', 'gif'], ['edge', 'gif'], ['firefox', 'gif'],
  ['curl', 'gif'], ['none', 'gif'],
];

const req = (query: string, userAgent: string): RequestInfo => ({ method: 'GET', path: '/time.gif', query, host: 'x', secure: false, trusted: false, userAgent });
const ctx = { hosts: new Set<string>(), redirectHttps: false };

for (const [name, mode] of WANT) {
  test(`multipart :: route: ${name} User-Agent gets ${mode}`, () => {
    const r = route(req('', UA[name]), ctx);
    assert.is(r.kind, 'stream');
    assert.is(r.kind === 'stream' && r.mode, mode);
    const z = route(req('tz=Asia/Tokyo', UA[name]), ctx);
    assert.is(z.kind === 'stream' && z.mode, mode, 'the same with another face');
  });
}

test('multipart :: route: stream= forces either mode; a bad value is 400 naming stream', () => {
  const forced = (q: string, ua: string): string => {
    const r = route(req(q, ua), ctx);
    return r.kind === 'stream' ? r.mode : r.kind === 'canned' ? `${r.status} ${r.name}` : r.kind;
  };
  assert.is(forced('stream=gif', UA.iphoneSafari), 'gif');
  assert.is(forced('stream=multipart', UA.curl), 'multipart');
  assert.is(forced('stream=multipart&tz=Europe/Berlin', UA.desktopChrome), 'multipart');
  assert.is(forced('stream=mjpeg', UA.curl), '400 bad-stream');
  assert.is(forced('stream=', UA.curl), '400 bad-stream');
  assert.is(forced('h12=maybe', UA.curl), '400 bad-h12');
});

/** The response's head and the parts of its body so far. */
function parse(c: RawClient): { head: string; parts: Buffer[]; closed: boolean; rest: Buffer } {
  const end = c.headEnd;
  if (end < 0) return { head: '', parts: [], closed: false, rest: Buffer.alloc(0) };
  return { head: c.data.toString('latin1', 0, end), ...splitMultipart(c.data.subarray(end), BOUNDARY) };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * Each part must be a whole picture of one second in [from, to]: the first part of a stream (`intro`) a one-frame
 * GIF, every other a PNG; returns the seconds.
 */
function partSeconds(parts: Buffer[], from: number, to: number, intro = true): number[] {
  return parts.map((p, k) => {
    if (k === 0 && intro) {
      assert.is(decodeOmggif(p).frames.length, 1, 'the first part is a one-frame GIF');
      assert.is(p[p.length - 1], 0x3b, 'the first part ends with the GIF trailer');
      return secondsShown(p, from, to)[0]!;
    }
    assert.ok(p.subarray(0, 8).equals(PNG_SIGNATURE), `part ${k} starts with the PNG signature`);
    assert.ok(p.subarray(-12).equals(PNG_IEND), `part ${k} ends with IEND: nothing after it`);
    assert.is(decodePngjs(p).bitDepth, 2, `part ${k}: three colours at two bits a pixel`);
    return pngSecond(p, from, to);
  });
}

test('multipart :: HTTP/1: Safari gets parts, each a whole PNG of its second with the next head in the same chunk; shutdown closes', async () => {
  const { inst, port } = await startTest();
  const from = nowSecond();
  const c = await RawClient.open(port);
  const chunkEnds: boolean[] = [];
  let seenChunks = 0;
  c.socket.on('data', (d: Buffer) => {
    if (seenChunks++ > 0) chunkEnds.push(d.subarray(d.length - NEXT_PART_HEAD.length).equals(NEXT_PART_HEAD));
  });
  c.send(`GET /time.gif HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${UA.iphoneSafari}\r\n\r\n`);
  await c.until(() => parse(c).parts.length >= 4, 6000, 'four parts');
  let r = parse(c);
  assert.match(r.head, `Content-Type: multipart/x-mixed-replace; boundary=${BOUNDARY}\r\n`);
  assert.match(r.head, 'Vary: User-Agent\r\n');
  assert.match(r.head, 'Cache-Control: no-cache, no-store, no-transform\r\n');
  assert.match(r.head, 'Connection: close\r\n');
  assert.not.match(r.head, /Content-Length|Transfer-Encoding/i);
  assert.is(PART_CONTENT_TYPE, 'image/png');
  assert.match(c.data.toString('latin1', c.headEnd, c.headEnd + 60), `--${BOUNDARY}\r\nContent-Type: image/gif\r\n\r\nGIF89a`, 'the first part is a GIF');
  assert.is(r.rest.toString('latin1'), `--${BOUNDARY}\r\nContent-Type: image/png\r\n\r\n`, 'the next part is open: its head already sent');
  const secs = partSeconds(r.parts, from, nowSecond());
  for (let k = 1; k < secs.length; k++) assert.is(secs[k], secs[k - 1]! + 1, `consecutive seconds: ${secs.join(',')}`);
  assert.ok(chunkEnds.length >= 3 && chunkEnds.every(Boolean), `every part arrives with the next part's head: ${chunkEnds.join(',')}`);
  // Cross-check one part with the command-line decoders we did not write.
  const { width, height } = faceSize(DEFAULT_FACE);
  for (const d of cliDecoders()) {
    if (!d.reads.includes('png') || !toolPresent(d.missing, d.name)) continue;
    const rgb = d.decodeRgb(r.parts[1]!, width, height).at(-1)!;
    assert.is(firstDifference(rgb, rgbaToRgb(faceRgba(secs[1]!))), -1, `${d.name} decodes part 1 as second ${secs[1]}`);
  }
  assert.is(inst.app.multipartViewers, 1);
  await inst.drain();
  await c.untilClosed();
  r = parse(c);
  assert.ok(r.closed, 'the close delimiter ends the body');
  assert.ok(c.data.subarray(c.data.length - CLOSE_DELIMITER.length).equals(CLOSE_DELIMITER), 'nothing after the close delimiter');
  const last = partSeconds(r.parts.slice(-1), from, nowSecond(), false)[0]!;
  assert.ok(last >= secs.at(-1)!, 'the last part is a whole PNG of the current second');
  assert.is(c.closeKind, 'end', 'a clean close, not a reset');
  await drainAll();
});

test('multipart :: HTTP/1: forced modes, HEAD, 400 for a bad mode, 503 is a GIF', async () => {
  const { inst, port } = await startTest(['--max-viewers', '1']);
  const ask = async (target: string, ua: string, method = 'GET'): Promise<RawClient> => {
    const c = await RawClient.open(port);
    c.send(`${method} ${target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${ua}\r\n\r\n`);
    await c.until(() => c.headEnd > 0, 3000, 'a head');
    return c;
  };
  const gif = await ask('/time.gif?stream=gif', UA.safariMac);
  assert.match(gif.text, 'Content-Type: image/gif\r\n');
  assert.match(gif.text, 'Vary: User-Agent\r\n');
  gif.close();
  await waitFor(() => inst.app.viewers === 0, 'the forced GIF viewer gone');
  const head = await ask('/time.gif', UA.safariMac, 'HEAD');
  await head.untilClosed();
  assert.match(head.text, 'multipart/x-mixed-replace');
  assert.is(head.data.length, head.headEnd, 'HEAD: no body');
  const bad = await ask('/time.gif?stream=jpeg', UA.curl);
  assert.is(bad.status, 400);
  assert.match(bad.text, 'stream: use gif or multipart');
  const mp = await ask('/time.gif?stream=multipart', UA.curl);
  assert.match(mp.text, 'multipart/x-mixed-replace');
  const busy = await ask('/time.gif', UA.iphoneSafari);
  assert.is(busy.status, 503);
  assert.match(busy.text, 'Content-Type: image/gif\r\n');
  assert.match(busy.text, 'Retry-After: ');
  mp.close();
  await drainAll();
});

test('multipart :: metrics count viewers and bytes by mode; bytes counted = bytes received', async () => {
  const { inst, port } = await startTest();
  const c = await RawClient.open(port);
  c.send(`GET /time.gif HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${UA.iosChrome}\r\n\r\n`);
  await c.until(() => parse(c).parts.length >= 2, 4000, 'two parts');
  const text = inst.app.metricsText();
  assert.match(text, 'timegif_stream_viewers{mode="multipart"} 1\n');
  assert.match(text, 'timegif_stream_viewers{mode="gif"} 0\n');
  const counted = Number(/timegif_stream_bytes_total\{mode="multipart"\} (\d+)/.exec(text)![1]);
  const head = inst.app.responses.streamHead('multipart').length;
  // The head of the response belongs to the intro: counted bytes are everything received, head included.
  assert.ok(counted <= c.data.length && counted >= c.data.length - 2000, `counted ${counted} of ${c.data.length} received (head ${head})`);
  await c.until(() => Number(/timegif_stream_bytes_total\{mode="multipart"\} (\d+)/.exec(inst.app.metricsText())![1]) === c.data.length, 3000, 'counts to settle');
  assert.match(inst.app.metricsText(), /timegif_frames_sent_total\{kind="part"\} [1-9]/);
  c.close();
  await drainAll();
});

let cert: ReturnType<typeof makeCert> | null = null;
specIf(commandMissing('openssl', ['version']), 'multipart :: over TLS (HTTP/1.1) and HTTP/2: the same parts, and the close delimiter on shutdown', async () => {
  cert ??= makeCert(['localhost']);
  const { inst } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key]);
  const tlsPort = (inst.listeners.find((l) => l.tls)!.server.address() as { port: number }).port;
  const from = nowSecond();
  // HTTP/1.1 over TLS
  const s = await tlsHandshake(tlsPort);
  let h1 = Buffer.alloc(0);
  s.on('data', (d: Buffer) => (h1 = Buffer.concat([h1, d])));
  s.write(`GET /time.gif HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${UA.safariMac}\r\n\r\n`);
  // HTTP/2
  const session = await h2Session(tlsPort);
  const stream = session.request({ ':method': 'GET', ':path': '/time.gif', ':authority': 'localhost', ':scheme': 'https', 'user-agent': UA.iphoneSafari });
  let h2 = Buffer.alloc(0);
  let h2Headers: Record<string, unknown> = {};
  stream.on('response', (h) => (h2Headers = h));
  stream.on('data', (d: Buffer) => (h2 = Buffer.concat([h2, d])));
  const h1Body = (): Buffer => h1.subarray(h1.indexOf('\r\n\r\n') + 4);
  await waitFor(() => splitMultipart(h1Body(), BOUNDARY).parts.length >= 3 && splitMultipart(h2, BOUNDARY).parts.length >= 3, 'three parts on each', 6000);
  assert.match(String(h2Headers['content-type']), 'multipart/x-mixed-replace');
  assert.is(h2Headers.vary, 'User-Agent');
  for (const [name, body] of [['h1 over TLS', h1Body()], ['h2', h2]] as const) {
    const secs = partSeconds(splitMultipart(body, BOUNDARY).parts, from, nowSecond());
    for (let k = 1; k < secs.length; k++) assert.is(secs[k], secs[k - 1]! + 1, `${name}: consecutive seconds ${secs.join(',')}`);
  }
  assert.is(inst.app.multipartViewers, 2);
  const ended = new Promise<void>((r) => stream.once('end', r));
  await inst.drain();
  await ended;
  assert.ok(splitMultipart(h2, BOUNDARY).closed, 'h2: the close delimiter');
  await waitFor(() => splitMultipart(h1Body(), BOUNDARY).closed, 'h1 over TLS: the close delimiter');
  session.destroy();
  s.destroy();
  await drainAll();
});

test.after(() => cert?.remove());
test.run();
