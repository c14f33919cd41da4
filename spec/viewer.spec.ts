// Writing frames to sinks: large writes to TLS sockets go out in pieces, everything else in one write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TLS_WRITE_PIECE_BYTES, TRANSPORT, writeToSink, type Sink } from '../lib/stream/viewer.js';

function recorder(): Sink & { writes: Buffer[] } {
  const writes: Buffer[] = [];
  return { writes, writableLength: 0, write: (b: Buffer) => (writes.push(b), true) };
}

const cases: [string, number, number, number][] = [
  // name, transport, size, expected writes
  ['plain, large', TRANSPORT.H1, 2000, 1],
  ['h2, large', TRANSPORT.H2, 2000, 1],
  ['TLS, small', TRANSPORT.H1_TLS, TLS_WRITE_PIECE_BYTES, 1],
  ['TLS, one byte over', TRANSPORT.H1_TLS, TLS_WRITE_PIECE_BYTES + 1, 2],
  ['TLS, large', TRANSPORT.H1_TLS, 2000, Math.ceil(2000 / TLS_WRITE_PIECE_BYTES)],
];

for (const [name, transport, size, n] of cases) {
  test(`viewer :: writeToSink ${name}: ${n} write(s), same bytes in order`, () => {
    const buf = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) & 0xff));
    const sink = recorder();
    writeToSink(sink, transport as 0 | 1 | 2, buf);
    assert.is(sink.writes.length, n);
    assert.ok(sink.writes.every((w) => w.length <= (transport === TRANSPORT.H1_TLS ? TLS_WRITE_PIECE_BYTES : size)));
    assert.ok(Buffer.concat(sink.writes).equals(buf));
  });
}

test.run();
