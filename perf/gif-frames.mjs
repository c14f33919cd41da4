// Incremental splitter for an endless GIF over HTTP/1.x: response head, then GIF89a blocks, fed chunk by
// chunk as they arrive. Hot path for the load clients (thousands of instances per process): the state is a
// handful of numbers per connection, nothing is copied, and runs of sub-block bytes are skipped by length.
//
// Subclass it and override the hooks:
//   onHead(status)           response head complete (status code, 0 if unparsable)
//   onScreen(width, height)  logical screen descriptor read
//   onFrame(isKey, bytes)    a frame's last byte (the image data's 00 terminator) has arrived; isKey when the
//                            image covers the whole logical screen; bytes counted from the frame's first
//                            extension (GCE) or, without one, from its image descriptor
//   onTrailer()              3B trailer: the stream ended cleanly
//   onError(reason)          malformed input; the splitter stops (returns -1 from feed)

const P = /** @type {const} */ ({
  HEAD: 0, SCREEN: 1, SKIP: 2, BLOCK: 3, EXT_LABEL: 4, SUB_LEN: 5, IMAGE_DESC: 6, LZW_MIN: 7, DONE: 8, FAILED: 9,
});
const MAX_HEAD_BYTES = 8192; // a response head longer than this is not one we expect
const CRLFCRLF = [13, 10, 13, 10];

export class GifFrameSplitter {
  constructor() {
    this.phase = P.HEAD;
    this.pos = 0; // bytes consumed within the current fixed-size field (head, screen, image descriptor)
    this.skip = 0; // bytes still to skip (colour table or sub-block payload)
    this.afterSkip = P.BLOCK; // phase once skip reaches 0
    this.inImage = false; // sub-blocks being skipped belong to image data (its 00 ends the frame)
    this.status = 0;
    this.width = 0;
    this.height = 0;
    this.packed = 0;
    this.frameBytes = 0; // bytes of the current frame so far (0: no frame started)
    this.isKey = false;
    this.x = 0; // image descriptor fields gathered byte by byte
    this.y = 0;
    this.w = 0;
    this.h = 0;
    this.frames = 0;
  }

  onHead(_status) {}
  onScreen(_width, _height) {}
  onFrame(_isKey, _bytes) {}
  onTrailer() {}
  onError(_reason) {}

  get done() { return this.phase === P.DONE; }

  fail(reason) {
    this.phase = P.FAILED;
    this.onError(reason);
    return -1;
  }

  // Feeds buf[start, end). Returns the offset just past the last complete frame (or trailer) in this chunk,
  // -1 after a malformed byte, or `start` when no frame ended in it.
  feed(buf, start, end) {
    let i = start;
    let lastEnd = start;
    let phase = this.phase;
    while (i < end) {
      switch (phase) {
        case P.HEAD: {
          const b = buf[i++];
          const p = this.pos++;
          if (p >= 9 && p <= 11) {
            if (b < 48 || b > 57) this.status = -1;
            else if (this.status >= 0) this.status = this.status * 10 + (b - 48);
          }
          if (b === CRLFCRLF[this.skip]) this.skip++;
          else this.skip = b === 13 ? 1 : 0;
          if (this.skip === 4) {
            this.skip = 0;
            this.pos = 0;
            if (this.status < 0) this.status = 0;
            phase = P.SCREEN;
            this.phase = phase;
            this.onHead(this.status);
            if (this.status !== 200) return this.fail(`status ${this.status}`);
          } else if (this.pos > MAX_HEAD_BYTES) return this.fail('head too large');
          break;
        }
        case P.SCREEN: { // "GIF89a" + logical screen descriptor: 13 bytes
          const b = buf[i++];
          const p = this.pos++;
          if (p < 6) {
            if (b !== 'GIF89a'.charCodeAt(p) && !(p === 4 && b === 55)) return this.fail('bad signature');
          } else if (p === 6) this.width = b;
          else if (p === 7) this.width |= b << 8;
          else if (p === 8) this.height = b;
          else if (p === 9) this.height |= b << 8;
          else if (p === 10) this.packed = b;
          else if (p === 12) {
            this.pos = 0;
            if (this.width === 0 || this.height === 0) return this.fail('empty logical screen');
            this.onScreen(this.width, this.height);
            if (this.packed & 0x80) {
              this.skip = 3 << ((this.packed & 7) + 1);
              this.afterSkip = P.BLOCK;
              phase = P.SKIP;
            } else phase = P.BLOCK;
          }
          break;
        }
        case P.SKIP: {
          const n = Math.min(this.skip, end - i);
          i += n;
          this.skip -= n;
          if (this.skip === 0) phase = this.afterSkip;
          break;
        }
        case P.SUB_LEN: {
          const len = buf[i++];
          if (this.frameBytes > 0) this.frameBytes += 1 + len;
          if (len > 0) {
            this.skip = len;
            this.afterSkip = P.SUB_LEN;
            phase = P.SKIP;
          } else if (this.inImage) { // image data terminator: the frame is complete
            this.inImage = false;
            phase = P.BLOCK;
            this.frames++;
            lastEnd = i;
            this.phase = phase;
            this.onFrame(this.isKey, this.frameBytes);
            this.frameBytes = 0;
            if (this.phase === P.FAILED) return -1;
          } else phase = P.BLOCK;
          break;
        }
        case P.BLOCK: {
          const b = buf[i++];
          if (b === 0x21) {
            if (this.frameBytes === 0) this.frameBytes = 1;
            else this.frameBytes += 1;
            phase = P.EXT_LABEL;
          } else if (b === 0x2c) {
            this.frameBytes += 1;
            this.pos = 0;
            phase = P.IMAGE_DESC;
          } else if (b === 0x3b) {
            phase = P.DONE;
            this.phase = phase;
            this.onTrailer();
            return i;
          } else return this.fail(`unknown block 0x${b.toString(16)}`);
          break;
        }
        case P.EXT_LABEL: {
          i++;
          this.frameBytes++;
          phase = P.SUB_LEN;
          break;
        }
        case P.IMAGE_DESC: { // 9 bytes after 2C: x, y, w, h (LE 16-bit), packed
          const b = buf[i++];
          const p = this.pos++;
          this.frameBytes++;
          if (p === 0) this.x = b;
          else if (p === 1) this.x |= b << 8;
          else if (p === 2) this.y = b;
          else if (p === 3) this.y |= b << 8;
          else if (p === 4) this.w = b;
          else if (p === 5) this.w |= b << 8;
          else if (p === 6) this.h = b;
          else if (p === 7) this.h |= b << 8;
          else {
            this.pos = 0;
            if (this.w === 0 || this.h === 0 || this.x + this.w > this.width || this.y + this.h > this.height) {
              return this.fail('image outside the logical screen');
            }
            this.isKey = this.x === 0 && this.y === 0 && this.w === this.width && this.h === this.height;
            if (b & 0x80) {
              this.skip = 3 << ((b & 7) + 1);
              this.frameBytes += this.skip;
              this.afterSkip = P.LZW_MIN;
              phase = P.SKIP;
            } else if ((this.packed & 0x80) === 0) return this.fail('no colour table');
            else phase = P.LZW_MIN;
          }
          break;
        }
        case P.LZW_MIN: {
          const b = buf[i++];
          this.frameBytes++;
          if (b < 2 || b > 8) return this.fail(`LZW minimum code size ${b}`);
          this.inImage = true;
          phase = P.SUB_LEN;
          break;
        }
        case P.DONE:
          return this.fail('bytes after the trailer');
        default:
          return -1;
      }
    }
    this.phase = phase;
    return lastEnd;
  }
}
