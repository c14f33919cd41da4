// Field values the HTTP/1 parser turns into meaning: Host, Connection tokens, trailing whitespace.
// Plain string functions, run once per request on values already cut out of the head.

const SP = 0x20, HTAB = 0x09, COLON = 0x3a;

// ---- Host (RFC 9110 §7.2, RFC 3986 §3.2.2), loosely: reg-name / IPv4 / [IPv6] [":" port] ------------------
const HOST_CHAR = new Uint8Array(128); // 1: reg-name byte (unreserved, pct-encoded, sub-delims); 2: upper-case letter
for (const ch of "abcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=") HOST_CHAR[ch.charCodeAt(0)] = 1;
for (let b = 0x41; b <= 0x5a; b++) HOST_CHAR[b] = 2;

function isPort(s: string, from: number): boolean {
  if (s.length - from > 5) return false; // port = *DIGIT; an empty port is allowed by RFC 3986
  for (let k = from; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Lower-cased host without its port, brackets of an IPv6 literal kept; '' for an empty value; null if invalid. */
export function normalizeHost(s: string): string | null {
  if (s.length === 0) return '';
  if (s.charCodeAt(0) === 0x5b) {
    const close = s.indexOf(']');
    if (close < 3) return null;
    for (let k = 1; k < close; k++) {
      const c = s.charCodeAt(k);
      const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
      if (!hex && c !== COLON && c !== 0x2e) return null; // hex digits, ':' and '.' (an IPv4 tail)
    }
    if (close + 1 < s.length && (s.charCodeAt(close + 1) !== COLON || !isPort(s, close + 2))) return null;
    const host = close + 1 === s.length ? s : s.slice(0, close + 1);
    return host.toLowerCase();
  }
  let upper = false;
  let end = s.length;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === COLON) {
      if (k === 0 || !isPort(s, k + 1)) return null;
      end = k;
      break;
    }
    const cls = c < 128 ? HOST_CHAR[c]! : 0;
    if (cls === 0) return null;
    if (cls === 2) upper = true;
  }
  const host = end === s.length ? s : s.slice(0, end);
  return upper ? host.toLowerCase() : host;
}

/** `list` contains the token `word` (lower-case) case-insensitively, as one of its comma-separated elements. */
export function hasToken(list: string, word: string): boolean {
  let k = 0;
  const n = list.length;
  while (k < n) {
    while (k < n && (list.charCodeAt(k) === SP || list.charCodeAt(k) === HTAB || list.charCodeAt(k) === 0x2c)) k++;
    const start = k;
    while (k < n && list.charCodeAt(k) !== 0x2c) k++;
    let end = k;
    while (end > start && (list.charCodeAt(end - 1) === SP || list.charCodeAt(end - 1) === HTAB)) end--;
    if (end - start === word.length) {
      let same = true;
      for (let j = 0; j < word.length; j++) {
        const c = list.charCodeAt(start + j);
        if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== word.charCodeAt(j)) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
  }
  return false;
}

/** `s` without trailing SP / HTAB (OWS before CRLF). */
export function trimEnd(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === SP || s.charCodeAt(end - 1) === HTAB)) end--;
  return end === s.length ? s : s.slice(0, end);
}
