// TLS viewers held by client processes (tls-bench.mjs's `viewer-client` mode), for the RSS benches: h1 (HTTP/1.1
// over TLS), h2 (a session each) or h2x8 (eight streams per session).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from './common.mjs';

const CLIENT = fileURLToPath(new URL('./tls-bench.mjs', import.meta.url));

/** `n` viewers of `kind` on `port` from `procs` processes; resolves once all receive (or after 20 s) with how many do. */
export async function holdViewers(kind, port, n, procs) {
  const per = Math.ceil(n / procs);
  const clients = [];
  for (let left = n; left > 0; left -= per) {
    const c = spawn(process.execPath, [CLIENT, 'viewer-client', kind, String(port), String(Math.min(per, left))], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise((r) => c.once('message', r));
    clients.push(c);
  }
  let receiving = 0;
  for (let i = 0; i < 40 && receiving < n; i++) {
    await sleep(500);
    const reps = await Promise.all(clients.map((c) => new Promise((r) => { c.once('message', r); c.send('report'); })));
    receiving = reps.reduce((a, r) => a + r.receiving, 0);
  }
  return { clients, receiving };
}
