// The WebKit stream: `multipart/x-mixed-replace`, each part a complete PNG of its second (encoder/png.ts: 0.40x
// the one-frame GIF it replaced at the default scale). WebKit (Safari, every iOS browser and webview) creates no animator for an image that has not
// finished loading, so an endless GIF stays on its first frame there; a replaced part is a new, complete image.
//
// Wire shape, measured in Chromium, Firefox and WebKit: a part is shown as soon as it arrives only if the next
// boundary and the next part's headers follow it in the same write; otherwise Chromium and WebKit wait for them
// and stay a second behind. So each shared part Buffer is PNG(t) + CRLF--BOUNDARY CRLF + the next part's head,
// and a deliberate end is the current second's PNG again + the closing delimiter (the image keeps it). The first
// part, in the viewer's intro, is the one-frame GIF of its second (FIRST_PART_HEAD says why).

/** Who gets multipart: the User-Agent of a WebKit engine (Safari, CriOS, FxiOS, iOS webviews), not Blink's. */
/** How a stream is carried: one endless GIF, or multipart/x-mixed-replace of one-frame GIFs (this file). */
export type StreamMode = 'gif' | 'multipart';

export function isWebKitEngine(userAgent: string): boolean {
  return userAgent.includes('AppleWebKit/') && !userAgent.includes('Chrome/') && !userAgent.includes('Chromium/');
}

export const BOUNDARY = 'timegif-frame';
/** What each part is. */
export const PART_CONTENT_TYPE = 'image/png';
export const MULTIPART_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;

const PART_HEAD = `--${BOUNDARY}\r\nContent-Type: ${PART_CONTENT_TYPE}\r\n\r\n`;
/**
 * Starts the body: the first part's delimiter and head. The first part is a one-frame GIF, every later one a PNG:
 * WebKitGTK shows a first PNG part only once the second part arrives (up to a second with no picture at all,
 * measured: 1.1-1.2 s after the request, whether the head and the part came in one write or two, with or without
 * a Content-Length), and a first GIF part at once (0.13 s); later PNG parts show as they arrive.
 */
export const FIRST_PART_HEAD = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/gif\r\n\r\n`, 'latin1');
/** Follows every part: closes it and opens the next (see the header comment). */
export const NEXT_PART_HEAD = Buffer.from(`\r\n${PART_HEAD}`, 'latin1');
/** Follows the last part: the close delimiter (RFC 2046 §5.1.1). */
export const CLOSE_DELIMITER = Buffer.from(`\r\n--${BOUNDARY}--\r\n`, 'latin1');
