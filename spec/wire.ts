// Raw-socket helpers for wire specs: exact bytes out, everything that comes back collected.

import type { Instance, StartOptions } from '../lib/run/start.js';
import { setInfoSink } from '../lib/core/log.js';
import { startServer } from './helpers.js';
import { RawClient } from './raw.js';

export { RawClient };

const running = new Set<Instance>();

/** Drain every instance startTest made (uvu `after.each`), so a failed spec cannot leave the process hanging. */
export async function drainAll(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((i) => i.drain(500)));
}

/**
 * startServer (helpers.ts), the one way specs start an instance, with its info lines captured instead of printed and
 * the instance registered for drainAll.
 */
export async function startTest(args: string[] = [], opts: StartOptions = {}): Promise<{ inst: Instance; port: number; logs: string[] }> {
  const logs: string[] = [];
  setInfoSink((l) => logs.push(l));
  const { inst, httpPort } = await startServer(args, null, { inherited: [], ...opts });
  running.add(inst);
  return { inst, port: httpPort, logs };
}
