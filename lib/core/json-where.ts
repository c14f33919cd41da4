// Where a JSON text goes wrong, for config errors an editor can jump to (FILE:LINE:COLUMN). JSON.parse names a
// character offset for some faults and none for others ("Unexpected token '}', … is not valid JSON"), and the
// wording changes between Node versions, so this walks the text itself (RFC 8259's grammar) and returns the offset
// of the first character that cannot continue a valid text. Only called after JSON.parse has failed.

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Offset of the first fault in `text` (text.length when it ends too early), or -1 if it is valid JSON. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (at: number): never => {
    throw at;
  };
  const ws = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(i); // at the word's start: `tru` is one mistake, not a missing `e`
  };
  const string = (): void => {
    if (text[i] !== '"') fail(i);
    STRING_BODY.lastIndex = i + 1;
    if (STRING_BODY.exec(text) === null) {
      // the first character the string body cannot take
      let k = i + 1;
      for (; k < text.length && text[k] !== '"'; k++) {
        if (text.charCodeAt(k) < 0x20) break;
        if (text[k] === '\\') {
          if (!/["\\/bfnrtu]/.test(text[k + 1] ?? '')) return fail(k + 1);
          if (text[k + 1] === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(k + 2, k + 6))) return fail(k + 2);
          k++;
        }
      }
      fail(k);
    }
    i = STRING_BODY.lastIndex;
  };
  const value = (depth: number): void => {
    if (depth > 512) fail(i);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail(i);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail(i);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail(i);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    NUMBER.lastIndex = i;
    if (NUMBER.exec(text) === null) fail(i);
    i = NUMBER.lastIndex;
  };
  try {
    value(0);
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
}

/** 1-based line and column of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}
