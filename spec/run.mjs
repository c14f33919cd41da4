// `make test` / `npm test`: every spec, as `uvu dist/spec '\.spec\.js$'` would run them, then exit with uvu's code.
// A spec that fails midway can leave a socket, a server or a browser open; the run must end anyway instead of
// waiting on them (in CI, until the job's timeout).
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';

const [dir = 'dist/spec', pattern = '\\.spec\\.js$'] = process.argv.slice(2);
const ctx = await parse(dir, new RegExp(pattern), {});
await run(ctx.suites, {});
process.exit(process.exitCode ?? 0);
