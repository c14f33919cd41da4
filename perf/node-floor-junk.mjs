// The Node floor for junk: the least a node:net server can do per request. It parses nothing (counts request
// heads by their blank line), answers each with one canned 404, keeps a connection alive for 1000 requests
// like timegif, and closes at once after a `Connection: close` request. Whatever timegif costs beyond this is
// its own; what this costs beyond nginx is Node's socket layer. junk-layers.mjs builds its layers on these exports.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const head = (keep) => `HTTP/1.1 404 Not Found\r\nServer: floor\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: ${keep ? 'keep-alive' : 'close'}\r\n\r\nnot found\n`;
export const KEEP = Buffer.from(head(true));
export const CLOSE = Buffer.from(head(false));
export const MAX_REQUESTS = 1000;

/** One connection of the floor, from accept to close. */
export function floorConnection(socket) {
  let served = 0;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    for (let at = chunk.indexOf('\r\n\r\n'); at >= 0; at = chunk.indexOf('\r\n\r\n', at + 4)) {
      served++;
      const close = served >= MAX_REQUESTS || chunk.includes('Connection: close');
      socket.write(close ? CLOSE : KEEP);
      if (close) {
        socket.destroy();
        return;
      }
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = createServer({ noDelay: true }, floorConnection);
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', () => process.exit(0));
}
