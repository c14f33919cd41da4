// One load-client process, forked by load.mjs: opens its share of viewers at a bounded rate over many
// loopback source addresses, reads every stream through a GifFrameSplitter and reports to the parent over
// IPC once a second. Per-connection state is one small object; every read lands in one shared buffer
// (net `onread`), and all measurements go into per-process histograms and counters, never per-frame arrays.
//
// Seconds: a frame whose last byte arrives at wall time `now` counts for second floor((now + EARLY_MS) / 1000)
// with delay now - second * 1000, so a frame written a hair before its boundary is early, not late (unless
// the viewer's previous second had no frame: then it is that frame, late).
// The report for second s goes out at s + 1 - EARLY_MS + REPORT_SLACK_MS, after its last possible frame.

import net from 'node:net';
import { GifFrameSplitter } from './gif-frames.mjs';
import { Hist } from './hist.mjs';

const EARLY_MS = 50;
const REPORT_SLACK_MS = 10;
const RING = 8; // seconds of per-second counters kept; reports are at most a few seconds late
const RAMP_TICK_MS = 2; // small batches: a batch's connects are handled back to back and would inflate TTFF
const SAMPLE_FRAMES = 4; // frames kept (prologue included) by a sampled viewer, for the parent to decode
const CLOSED = /** @type {const} */ ({ OPEN: 0, SERVER: 1, CHURN: 2, ERROR: 3, TRAILER: 4, US: 5 });

// Wall clock with sub-millisecond resolution: performance.now() anchored to Date.now(), re-anchored every
// second (the anchor is taken right after Date.now() ticks over, so it is accurate to a few µs; re-anchoring
// follows NTP slewing of the wall clock, which the servers' second boundaries follow).
let anchor = performance.timeOrigin;
function calibrate() {
  const d0 = Date.now();
  let d = d0;
  let p = 0;
  while (d === d0) { p = performance.now(); d = Date.now(); }
  anchor = d - p;
}
const nowMs = () => anchor + performance.now();

const shared = Buffer.allocUnsafe(65536);
let readNow = 0; // wall time of the read being parsed: every frame that ends in it arrived then

// Per-second counters, indexed by second % RING.
const ring = Array.from({ length: RING }, () => ({
  sec: -1, frames: 0, keys: 0, frameBytes: 0, bytes: 0, hit: 0, dup: 0, delay: new Hist(-EARLY_MS, 1000),
}));
function slot(sec) {
  const r = ring[sec % RING];
  if (r.sec !== sec) {
    r.sec = sec; r.frames = 0; r.keys = 0; r.frameBytes = 0; r.bytes = 0; r.hit = 0; r.dup = 0;
    r.delay.clear();
  }
  return r;
}
const ttff = new Hist(0, 5000); // since the last report
const errors = {}; // socket error code -> count
const streamErrors = {}; // splitter reason -> count
let connects = 0; // attempts since the last report
let window = { from: Infinity, to: Infinity };

class Viewer extends GifFrameSplitter {
  constructor(slow, sample) {
    super();
    this.sock = null;
    this.tReq = 0;
    this.firstSec = -1; // second of the prologue's frame; -1 until it arrived
    this.lastSec = -1; // newest second a frame counted for
    this.closeSec = Infinity;
    this.closed = CLOSED.OPEN;
    this.slow = slow;
    this.missed = 0; // seconds inside the measurement window without a frame
    this.bytes = 0;
    this.sample = sample ? [] : null; // raw chunks of a sampled viewer
    this.sampleLen = 0; // bytes of `sample` up to the end of its last complete frame
  }

  onRead(n, buf) {
    readNow = nowMs();
    this.bytes += n;
    slot(Math.floor((readNow + EARLY_MS) / 1000)).bytes += n;
    const before = this.bytes - n;
    const sample = this.sample;
    if (sample !== null) sample.push(Buffer.from(buf.subarray(0, n)));
    const end = this.feed(buf, 0, n);
    if (end < 0) { this.closed = CLOSED.ERROR; this.sock.destroy(); return false; }
    if (sample !== null && end > 0) {
      this.sampleLen = before + end;
      if (this.frames >= SAMPLE_FRAMES) sendSample(this);
    }
    return true;
  }

  onFrame(isKey, bytes) {
    const now = readNow;
    if (this.firstSec < 0) {
      ttff.add(now - this.tReq);
      this.firstSec = this.lastSec = Math.floor(now / 1000);
      if (this.slow) this.sock.pause();
      pending--;
      return;
    }
    let sec = Math.floor((now + EARLY_MS) / 1000);
    // In the early margin right after a missed second, it is that second's frame arriving late, not the
    // next second's arriving early.
    if (now < sec * 1000 && this.lastSec === sec - 2) sec--;
    const r = slot(sec);
    r.frames++;
    if (isKey) r.keys++;
    r.frameBytes += bytes;
    r.delay.add(now - sec * 1000);
    if (sec > this.lastSec) {
      r.hit++;
      this.countMissed(this.lastSec + 1, sec - 1);
      this.lastSec = sec;
    } else r.dup++;
  }

  countMissed(from, to) {
    const a = Math.max(from, window.from);
    const b = Math.min(to, window.to);
    if (b >= a) this.missed += b - a + 1;
  }

  onTrailer() { this.closed = CLOSED.TRAILER; }

  onError(reason) { streamErrors[reason] = (streamErrors[reason] ?? 0) + 1; }
}

let opts = null;
let request = null;
const viewers = [];
let planned = 0;
let started = 0;
let pending = 0; // viewers still waiting for their first frame (or failure)
let srcIndex = 0;
let rampSent = false;

function send(msg) { if (process.connected) process.send(msg); }

function open(slow, sample) {
  const v = new Viewer(slow, sample);
  const src = opts.src.length > 0 ? opts.src[srcIndex++ % opts.src.length] : undefined;
  const sock = net.connect({
    host: opts.host, port: opts.port, localAddress: src, noDelay: true,
    onread: { buffer: shared, callback: (n, buf) => v.onRead(n, buf) },
  });
  v.sock = sock;
  viewers.push(v);
  pending++;
  connects++;
  sock.on('connect', () => { sock.write(request); v.tReq = nowMs(); });
  sock.on('error', (err) => {
    errors[err.code ?? 'ERR'] = (errors[err.code ?? 'ERR'] ?? 0) + 1;
    if (v.closed === CLOSED.OPEN) v.closed = CLOSED.ERROR;
  });
  sock.on('close', () => {
    if (v.closed === CLOSED.OPEN) v.closed = CLOSED.SERVER;
    if (v.closeSec === Infinity) v.closeSec = Math.floor(nowMs() / 1000);
    if (v.firstSec < 0) pending--;
  });
}

function ramp() {
  const perTick = opts.rate * RAMP_TICK_MS / 1000;
  let credit = 0;
  const timer = setInterval(() => {
    credit += perTick;
    while (credit >= 1 && started < planned) {
      credit--;
      const i = started++;
      open(i < opts.slow, i >= opts.slow && i < opts.slow + opts.sample);
    }
    if (started >= planned) clearInterval(timer);
  }, RAMP_TICK_MS);
}

function churn(sec) {
  // Drop `opts.churn` random established viewers while the server is writing this second's frames (some
  // with a reset, some with a FIN) and open as many new ones.
  let n = opts.churn;
  for (let tries = 0; n > 0 && tries < opts.churn * 20; tries++) {
    const v = viewers[Math.floor(Math.random() * viewers.length)];
    if (v.closed !== CLOSED.OPEN || v.firstSec < 0 || v.slow || v.sample !== null) continue;
    v.closed = CLOSED.CHURN;
    v.closeSec = sec;
    if (n & 1) v.sock.resetAndDestroy();
    else v.sock.destroy();
    n--;
    open(false, false);
  }
}

function report(sec) {
  const r = slot(sec);
  let open = 0; let expected = 0; let slowOpen = 0; let active = 0;
  for (let i = 0; i < viewers.length; i++) {
    const v = viewers[i];
    const isOpen = v.closed === CLOSED.OPEN;
    if (isOpen) open++;
    if (v.slow) { if (isOpen) slowOpen++; continue; }
    if (v.firstSec < 0 || v.firstSec >= sec) continue;
    if (v.closed === CLOSED.CHURN && v.closeSec <= sec && v.lastSec < sec) continue;
    expected++;
    if (isOpen) active++;
  }
  send({
    t: 'sec', sec, open, active, slowOpen, expected, hit: r.hit, frames: r.frames, keys: r.keys, dup: r.dup,
    frameBytes: r.frameBytes, bytes: r.bytes, delay: r.delay.toSparse(), ttff: ttff.toSparse(), connects,
  });
  ttff.clear();
  connects = 0;
  if (!rampSent && started >= planned && pending <= 0) {
    rampSent = true;
    send({ t: 'ramped', sec });
  }
}

let lastReported = -1;
function scheduleReports() {
  const now = Date.now();
  // Next report instant: (s + 1) * 1000 - EARLY_MS + REPORT_SLACK_MS for the current second s.
  const sec = Math.max(lastReported + 1, Math.floor((now + EARLY_MS - REPORT_SLACK_MS) / 1000));
  lastReported = sec;
  const at = (sec + 1) * 1000 - EARLY_MS + REPORT_SLACK_MS;
  setTimeout(() => {
    calibrate();
    report(sec);
    scheduleReports();
  }, at - now);
  if (opts.churn > 0) {
    const churnAt = (sec + 1) * 1000 + 2;
    setTimeout(() => { if (started >= planned) churn(sec + 1); }, churnAt - now);
  }
}

function sendSample(v) {
  if (v.frames >= 2) send({ t: 'sample', bytes: Buffer.concat(v.sample).subarray(0, v.sampleLen).toString('base64') });
  v.sample = null;
}

function final() {
  const closed = { server: 0, churn: 0, error: 0, trailer: 0 };
  let connected = 0; let failed = 0; let withMissed = 0; let maxMissed = 0; let missed = 0;
  const slow = { viewers: 0, open: 0, closedByServer: 0, bytes: 0 };
  for (const v of viewers) {
    if (v.sample !== null) sendSample(v);
    if (v.closed === CLOSED.SERVER) closed.server++;
    else if (v.closed === CLOSED.CHURN) closed.churn++;
    else if (v.closed === CLOSED.ERROR) closed.error++;
    else if (v.closed === CLOSED.TRAILER) closed.trailer++;
    if (v.firstSec < 0) { failed++; continue; }
    connected++;
    if (v.slow) {
      slow.viewers++; slow.bytes += v.bytes;
      if (v.closed === CLOSED.OPEN) slow.open++;
      else slow.closedByServer++;
      continue;
    }
    if (v.closed !== CLOSED.CHURN) v.countMissed(v.lastSec + 1, window.to);
    missed += v.missed;
    if (v.missed > 0) withMissed++;
    if (v.missed > maxMissed) maxMissed = v.missed;
  }
  send({ t: 'final', planned: viewers.length, connected, failed, closed, errors, streamErrors, missed, withMissed, maxMissed, slow });
}

process.on('message', (msg) => {
  if (msg.t === 'start') {
    opts = msg;
    planned = msg.viewers;
    request = Buffer.from(
      `GET ${msg.path} HTTP/1.1\r\nHost: ${msg.hostHeader}\r\n` +
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n' +
      'Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8\r\n' +
      `Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\nReferer: http://${msg.hostHeader}/\r\n` +
      'Connection: keep-alive\r\nSec-Fetch-Dest: image\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: same-origin\r\n\r\n', 'latin1');
    calibrate();
    scheduleReports();
    ramp();
  } else if (msg.t === 'window') {
    window = { from: msg.from, to: msg.to };
  } else if (msg.t === 'stop') {
    final();
    for (const v of viewers) { if (v.closed === CLOSED.OPEN) v.closed = CLOSED.US; v.sock.destroy(); }
    process.disconnect();
    setTimeout(() => process.exit(0), 200).unref();
  }
});
process.on('disconnect', () => process.exit(0));
