#!/usr/bin/env node
// Where timegif's junk cost goes beyond the node:net floor, layer by layer, every layer measured side by side.
//
//   make -C perf junk-layers            (build first: npx tsc -p .; the flood client is perf/out/flood)
//   ROUNDS=5 SECONDS=5 CONNS=50 NO_RESULTS=1 node perf/junk-layers.mjs
//
// Five servers run at once, all on CPU 0, each flooded by its own perf/out/flood on CPU 1 (the misrouted
// BitTorrent announce of flood-bench), keep-alive and then one connection per request:
//   floor     perf/node-floor-junk.mjs's connection handler (node:net, request heads counted by their blank line, one
//             canned 404), run by this script like the layers, so each row differs from the one above by its layer only;
//   +address  the floor, reading the peer's address at accept (getpeername: what a per-address policy needs);
//   +peers    and charging it to timegif's per-address table (lib/guard/peers.ts, swept once a second);
//   +parser   and parsing each request with timegif's RequestParser instead of counting blank lines;
//   timegif   dist/server.js itself (--hosts time.example: every announce is a 421), everything on top.
// Every window reads each server's on-CPU time (schedstat, as flood-bench) over the same seconds, so a change in the shared
// machine's speed hits all five alike; the report gives medians of the per-round ratios to the floor.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { machine, median, record, sleep, stopChild } from './common.mjs';
import { commonWindow, FLOOD, listeningPort, runFlood } from './flood-run.mjs';
import { CLOSE, floorConnection, KEEP, MAX_REQUESTS } from './node-floor-junk.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const num = (k, d) => (process.env[k] === undefined ? d : Number(process.env[k]));
const ROUNDS = num('ROUNDS', 5);
const SECONDS = num('SECONDS', 5);
const CONNS = num('CONNS', 50);
const LAYERS = { floor: 0, address: 1, peers: 2, parser: 3 };

if (process.argv[2] === 'server') await layeredFloor(LAYERS[process.argv[3]]);
else await main();

/** The floor (node-floor-junk.mjs) with the first `layer` of timegif's accept-and-parse steps on it. */
async function layeredFloor(layer) {
  const { PeerTable, DEFAULT_PEER_LIMITS } = await import('../dist/lib/guard/peers.js');
  const { ipKey } = await import('../dist/lib/guard/cidr.js');
  const { RequestParser, PARSE } = await import('../dist/lib/http/http1-parser.js');
  const peers = new PeerTable(DEFAULT_PEER_LIMITS);
  setInterval(() => peers.sweep(Date.now()), 1000);
  // The parser layer: the floor's loop with heads parsed by RequestParser instead of counted by their blank line.
  const parsed = (socket) => {
    let served = 0;
    let parser = null;
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      parser ??= new RequestParser();
      for (;;) {
        const st = parser.execute(chunk);
        if (st === PARSE.NEED_MORE) return;
        if (st !== PARSE.DONE) return void socket.destroy();
        const close = ++served >= MAX_REQUESTS || !parser.keepAlive;
        const rest = parser.consumed < chunk.length ? chunk.subarray(parser.consumed) : null;
        parser.reset();
        socket.write(close ? CLOSE : KEEP);
        if (close) return void socket.destroy();
        if (rest === null) return;
        chunk = rest;
      }
    });
  };
  const answer = layer >= LAYERS.parser ? parsed : floorConnection;
  const server = createServer({ noDelay: true }, (socket) => {
    const addr = layer >= LAYERS.address ? socket.remoteAddress : undefined;
    if (layer >= LAYERS.peers && (addr === undefined || !peers.admitConnection(ipKey(addr), Date.now()))) {
      socket.destroy();
      return;
    }
    answer(socket);
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', () => process.exit(0));
}

async function startServer(name, args) {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  child.stderr.resume();
  return { name, child, pid: child.pid, port: await listeningPort(child, name) };
}

async function main() {
  if (!existsSync(FLOOD)) throw new Error(`${FLOOD} missing: make -C perf out/flood`);
  if (!existsSync(`${ROOT}dist/server.js`)) throw new Error('dist/server.js missing: npx tsc -p .');
  const servers = [
    ...await Promise.all(Object.keys(LAYERS).map((l) => startServer(l === 'floor' ? l : `+${l}`, [fileURLToPath(import.meta.url), 'server', l]))),
    await startServer('timegif', [`${ROOT}dist/server.js`, 'serve', '--listen', '127.0.0.1:0', '--hosts', 'time.example']),
  ];
  const expect = (srv) => (srv.name === 'timegif' ? '421' : '404');
  const rows = [];
  try {
    await sleep(500);
    for (const mode of ['keepalive', 'close']) {
      for (let round = 1; round <= ROUNDS; round++) {
        // Each server its own /16 of sources, a new one each round: the per-address table sees strangers.
        const runs = await Promise.all(servers.map((srv, i) => runFlood(srv, { mode, conns: CONNS, seconds: SECONDS, src: `127.${(i * ROUNDS + round) % 250 + 1}.0.0/16` })));
        const [from, to] = commonWindow(runs);
        runs.forEach((r, i) => {
          const srv = servers[i];
          const a = r.ticks.find((t) => t.sec === from);
          const b = r.ticks.find((t) => t.sec === to);
          const wrong = Object.keys(r.status).filter((c) => c !== expect(srv));
          if (wrong.length > 0 || b.bad > 0) throw new Error(`${srv.name} ${mode}: statuses ${JSON.stringify(r.status)}, ${b.bad} dropped/partial/errors`);
          rows.push({ server: srv.name, mode, round, responses: b.responses - a.responses, cpu: b.cpu - a.cpu, perCpuS: (b.responses - a.responses) / (b.cpu - a.cpu) });
        });
        const mine = rows.filter((x) => x.mode === mode && x.round === round);
        console.log(`${mode} round ${round}: ${mine.map((x) => `${x.server} ${Math.round(x.perCpuS)}`).join(', ')} responses per CPU-second`);
        await sleep(500);
      }
    }
  } finally {
    for (const srv of servers) await stopChild(srv.child);
  }
  report(servers.map((s) => s.name), rows);
}

function report(names, rows) {
  const per = (name, mode) => rows.filter((r) => r.server === name && r.mode === mode).sort((a, b) => a.round - b.round);
  const ratios = (name, mode) => per(name, mode).map((r, i) => r.perCpuS / per('floor', mode)[i].perCpuS);
  const lines = [
    '',
    `## Junk, layer by layer, side by side (${new Date().toISOString()})`,
    '',
    `Command: \`make -C perf junk-layers\` (perf/junk-layers.mjs; ROUNDS=${ROUNDS} SECONDS=${SECONDS} CONNS=${CONNS})  `,
    `${machine()} (at the end). The five servers ran at once on CPU 0, each flooded by its own perf/out/flood (${CONNS} connections) on CPU 1; ` +
      'each round reads every server\'s CPU over the same seconds. Every response was checked (the floors 404, timegif 421; nothing dropped or cut short).',
    '',
    '| server | what it adds | keep-alive: responses / CPU-s | × floor (rounds) | one connection per request: responses / CPU-s | × floor (rounds) |',
    '|---|---|---:|---|---:|---|',
  ];
  const what = {
    floor: 'node:net, blank lines counted, one canned 404 (perf/node-floor-junk.mjs\'s loop)',
    '+address': 'the peer address at accept (getpeername)',
    '+peers': '… charged to the per-address table',
    '+parser': '… each request parsed by RequestParser',
    timegif: 'dist/server.js: connection object, route, counted answer, deadlines',
  };
  for (const name of names) {
    const cells = ['keepalive', 'close'].flatMap((mode) => {
      const rs = ratios(name, mode);
      return [Math.round(median(per(name, mode).map((r) => r.perCpuS))), `${median(rs).toFixed(2)}× (${rs.map((x) => x.toFixed(2)).join(', ')})`];
    });
    lines.push(`| ${name} | ${what[name]} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  record(lines);
}
