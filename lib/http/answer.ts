// What to answer a request, decided once for every transport: the route, then what every answer counts (the
// status, a junk reason and its fault sample), the finite GIF or a 503 when its budget is spent, the viewer or a
// 503 when the server is full. HTTP/1 (http1-conn.ts) and HTTP/2 (http2.ts) only write the decision down in their own
// framing and log it. Junk allocates nothing here: its answer is the route's shared object.

import type { App } from '../run/app.js';
import type { FiniteGif } from '../stream/finite.js';
import { route, type CannedName, type RequestInfo } from './routes.js';
import type { StreamMode } from '../stream/multipart.js';
import type { Sink, Transport, Viewer } from '../stream/viewer.js';

export type Answer =
  /** A canned page (status and body in responses.ts); `junk` names what it counted, null for a real page. */
  | { kind: 'canned'; name: CannedName; status: number; junk: string | null }
  | { kind: 'metrics' }
  | { kind: 'finite'; gif: FiniteGif }
  /** 503 + Retry-After and the tiny grey GIF: the server is full, or the finite-GIF budget is spent. */
  | { kind: 'busy' }
  /** HEAD of a stream: its head alone. */
  | { kind: 'stream-head'; mode: StreamMode }
  /** A viewer, already counted and registered; the transport writes its head and intro. */
  | { kind: 'stream'; mode: StreamMode; viewer: Viewer };

/** Who asks, and where a stream's frames would go. */
export interface Asker {
  remote: string;
  key: string;
  sink: Sink;
  transport: Transport;
}

const METRICS: Answer = { kind: 'metrics' };
const BUSY: Answer = { kind: 'busy' };

/** `target` is the request target as sent (for the fault sample). */
export function decide(app: App, info: RequestInfo, target: string, isHead: boolean, who: Asker): Answer {
  const r = route(info, app.routeCtx);
  switch (r.kind) {
    case 'canned':
      if (r.junk !== null) {
        // Junk: counted and sampled, never logged line by line.
        app.faults.note(r.junk, who.remote, info.host ?? '-', target);
      }
      app.metrics.response(r.status);
      return r;
    case 'metrics':
      app.metrics.response(200);
      return METRICS;
    case 'finite': {
      const gif = app.finiteGif(r.face, r.seconds, r.loop);
      if (gif === null) return busy(app);
      app.metrics.response(200);
      return { kind: 'finite', gif };
    }
    case 'stream': {
      if (isHead) {
        app.metrics.response(200);
        return { kind: 'stream-head', mode: r.mode };
      }
      const viewer = app.openViewer(who.sink, who.transport, r.face, r.mode, who.key, who.remote);
      if (typeof viewer === 'string') return busy(app);
      app.metrics.response(200);
      return { kind: 'stream', mode: r.mode, viewer };
    }
  }
}

function busy(app: App): Answer {
  app.metrics.response(503);
  return BUSY;
}
