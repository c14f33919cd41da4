// Per channel-second cost: render + delta every second (what prepare() does), against also encoding the
// keyframe every second (what it did before keyframes were built on first use). Checks first that the lazy
// keyframe is byte-identical to one encoded eagerly. Env: HOURS (default 7). Appends to RESULTS.md.
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Channel } from '../dist/lib/stream/channel.js';
import { DEFAULT_FACE } from '../dist/lib/face/face.js';

const HOURS = Number(process.env.HOURS ?? 7);
const t0 = Date.parse('2026-11-21T09:30:00Z') / 1000;

// check: the lazily built keyframe equals an eager one for the same second
{
  const a = new Channel(DEFAULT_FACE, t0);
  const b = new Channel(DEFAULT_FACE, t0);
  for (let k = 1; k <= 120; k++) {
    a.prepare(t0 + k);
    b.prepare(t0 + k);
    const fa = a.advance(t0 + k);
    const kb = b.advance(t0 + k).keyframe;
    if (k % 7 === 0 && !fa.keyframe.equals(kb)) throw new Error(`keyframe differs at second ${k}`);
  }
}

const hour = (withKeyframe) => {
  const ch = new Channel(DEFAULT_FACE, t0);
  const start = process.hrtime.bigint();
  for (let k = 1; k <= 3600; k++) {
    ch.prepare(t0 + k);
    const f = ch.advance(t0 + k);
    if (withKeyframe) void f.keyframe;
  }
  return Number(process.hrtime.bigint() - start) / 3600 / 1000;
};
const lazy = [], eager = [];
for (let r = 0; r < HOURS; r++) {
  lazy.push(hour(false));
  eager.push(hour(true));
}
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const line = `| ${med(lazy).toFixed(1)} µs | ${med(eager).toFixed(1)} µs | ${(med(lazy) / med(eager)).toFixed(2)} |`;
console.log(`per channel-second: delta only ${med(lazy).toFixed(1)} µs, delta + keyframe ${med(eager).toFixed(1)} µs`);
if (process.env.RECORD !== '0')
  appendFileSync(new URL('RESULTS.md', import.meta.url), [
    '',
    `## Channel: work per channel-second (${new Date().toISOString()})`,
    '',
    `Command: \`HOURS=${HOURS} node perf/channel-bench.mjs\`; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${loadavg()[0].toFixed(1)}. ` +
      'Default face, an hour of seconds from 2026-11-21T09:30:00Z, median of the hours. Checked first: the lazy keyframe equals an eager one.',
    '',
    '| render + delta (prepare) | + keyframe every second | ratio |',
    '|---:|---:|---:|',
    line,
    '',
  ].join('\n'));
