import { inflateSync } from 'node:zlib';

/** Why an uploaded PDF is refused: it carries JavaScript, or it packs objects the check cannot read. */
export type ActiveContent = 'javascript' | 'unreadable-object-stream';

/** Names that make a PDF reader run code: a JavaScript action, the document's named scripts, an action
 * that launches a program or file, and an XFA form (which carries scripts of its own). */
const ACTIVE_NAMES = new Set(['JS', 'JavaScript', 'Launch', 'XFA']);
const FLATE = new Set(['FlateDecode', 'Fl']);
const FILTERS = new Set([
  'FlateDecode',
  'Fl',
  'ASCIIHexDecode',
  'AHx',
  'ASCII85Decode',
  'A85',
  'LZWDecode',
  'LZW',
  'RunLengthDecode',
  'RL',
  'DCTDecode',
  'DCT',
  'JPXDecode',
  'JBIG2Decode',
  'CCITTFaxDecode',
  'CCF',
  'Crypt',
]);
/** An object stream holds a few hundred small objects: anything larger is refused, not unpacked. */
const MAX_OBJECT_STREAM_BYTES = 8 * 1024 * 1024;
/** What all the object streams of one file may unpack to, so a small file cannot cost much CPU. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
/** Bytes kept between chunks, so that "endstream" or an object header split by a chunk is still found. */
const CARRY = 32;

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
const ENDSTREAM = Buffer.from('endstream', 'latin1');
const OBJ = Buffer.from('obj', 'latin1');

const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
const isSpace = (b: number | undefined) => b !== undefined && WHITESPACE.has(b);

/** A name as a reader sees it: "#53" is "S", so "/J#53" is "/JS". */
function decodeName(raw: string): string {
  return raw.replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The start of "12 0 obj" when `objAt` is the "obj" of an object header, else -1. A header whose
 * beginning lies before these bytes (long runs of white space across chunks) counts from their start. */
function objectHeaderStart(bytes: Buffer, objAt: number): number {
  const after = bytes[objAt + 3];
  if (after !== undefined && !isSpace(after) && !DELIMITERS.has(after)) return -1;
  let i = objAt - 1;
  const expect = [isSpace, isDigit, isSpace, isDigit];
  for (const [k, test] of expect.entries()) {
    if (i < 0) return k === 0 ? -1 : 0;
    if (!test(bytes[i])) return -1;
    while (i >= 0 && test(bytes[i])) i--;
  }
  return i + 1;
}

/**
 * Reads a PDF as it streams in and tells whether it carries JavaScript: a /JS or /JavaScript name in any
 * object, written plainly or with #-escapes, also inside compressed object streams, which are unpacked
 * (within a budget). Strings and comments are skipped, as a title may mention JavaScript; stream data is
 * skipped up to "endstream", or up to an object header hidden in it, which a reader following the
 * cross-reference table would still read. An object stream that cannot be unpacked plainly is refused:
 * it could hide anything. Files that do not start with "%PDF-" are not scanned.
 */
export class PdfActiveContentScanner {
  private head: Buffer | null = Buffer.alloc(0);
  private enabled = false;
  private result: ActiveContent | null = null;
  private inflated = 0;

  // The tokenizer outside stream data.
  private mode: 'normal' | 'stream' = 'normal';
  private token = '';
  private tokenKind: 'none' | 'name' | 'regular' = 'none';
  private stringDepth = 0;
  private escaped = false;
  private inHex = false;
  private inComment = false;
  private lessThan = false;
  /** Names in the current object's dictionary: what tells an object stream and its filters. */
  private names: string[] = [];

  // Stream data: the carried bytes, and an object stream's bytes with its filters.
  private carry = Buffer.alloc(0);
  private objectStream: Buffer[] | null = null;
  private objectStreamBytes = 0;
  private objectStreamFilters: string[] = [];

  push(chunk: Buffer): void {
    if (this.result) return;
    if (this.head) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 5) return;
      const data = this.head;
      this.head = null;
      this.enabled = data.toString('latin1', 0, 5) === '%PDF-';
      if (this.enabled) this.scan(data);
      return;
    }
    if (this.enabled) this.scan(chunk);
  }

  /** The verdict once every byte was pushed: null when the file carries no active content. */
  finish(): ActiveContent | null {
    if (this.enabled && !this.result) {
      if (this.mode === 'stream') this.stream(Buffer.from('\nendstream\n'), 0, true);
      this.endToken();
    }
    return this.result;
  }

  private scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.result) {
      at = this.mode === 'normal' ? this.normal(chunk, at) : this.stream(chunk, at, false);
    }
  }

  /** Tokenizes up to the end of the chunk or the start of stream data; answers where it stopped. */
  private normal(chunk: Buffer, from: number): number {
    for (let i = from; i < chunk.length && !this.result; i++) {
      const b = chunk[i]!;
      if (this.inComment) {
        if (b === 0x0a || b === 0x0d) this.inComment = false;
      } else if (this.stringDepth > 0) {
        if (this.escaped) this.escaped = false;
        else if (b === 0x5c) this.escaped = true;
        else if (b === 0x28) this.stringDepth++;
        else if (b === 0x29) this.stringDepth--;
      } else if (this.inHex) {
        if (b === 0x3e) this.inHex = false;
      } else if (this.lessThan) {
        // "<<" opens a dictionary, "<>" is an empty string, anything else starts a hex string.
        this.lessThan = false;
        if (b !== 0x3c && b !== 0x3e) this.inHex = true;
      } else if (isSpace(b) || DELIMITERS.has(b)) {
        if (this.endToken() === 'stream' && (b === 0x0a || b === 0x0d)) {
          // Stream data starts after the end of line that follows the keyword.
          this.startStream();
          return b === 0x0d && chunk[i + 1] === 0x0a ? i + 2 : i + 1;
        }
        if (b === 0x25) this.inComment = true;
        else if (b === 0x28) this.stringDepth = 1;
        else if (b === 0x3c) this.lessThan = true;
        else if (b === 0x2f) this.tokenKind = 'name';
      } else {
        if (this.tokenKind === 'none') this.tokenKind = 'regular';
        if (this.token.length < 256) this.token += String.fromCharCode(b);
      }
    }
    return chunk.length;
  }

  /** Ends the token being read; answers the keyword it was, if any. */
  private endToken(): string | null {
    const { token, tokenKind } = this;
    this.token = '';
    this.tokenKind = 'none';
    if (tokenKind === 'name') {
      const name = decodeName(token);
      if (ACTIVE_NAMES.has(name)) this.result = 'javascript';
      if (this.names.length < 64) this.names.push(name);
      return null;
    }
    if (tokenKind !== 'regular') return null;
    if (token === 'obj' || token === 'endobj') this.names = [];
    return token;
  }

  private startStream(): void {
    const names = this.names;
    this.names = [];
    this.mode = 'stream';
    this.carry = Buffer.alloc(0);
    // A reader unpacks objects from any stream the cross-reference stream points at, whether or not it
    // says /Type /ObjStm; /N and /First are what it needs.
    const objectStream = names.includes('ObjStm') || (names.includes('N') && names.includes('First'));
    this.objectStream = objectStream ? [] : null;
    this.objectStreamBytes = 0;
    this.objectStreamFilters = names.filter((n) => FILTERS.has(n));
    if (!objectStream) return;
    // Predictors change the bytes; a filter by reference or an unknown filter cannot be followed here.
    const unreadable =
      names.includes('DecodeParms') ||
      names.includes('DP') ||
      (names.includes('Filter') && this.objectStreamFilters.length === 0) ||
      this.objectStreamFilters.length > 1 ||
      (this.objectStreamFilters.length === 1 && !FLATE.has(this.objectStreamFilters[0]!));
    if (unreadable) this.result = 'unreadable-object-stream';
  }

  /** Skips stream data up to "endstream" or an object header, keeping an object stream's bytes. */
  private stream(chunk: Buffer, from: number, last: boolean): number {
    const carried = this.carry.length;
    const data = Buffer.concat([this.carry, chunk.subarray(from)]);
    let end = data.indexOf(ENDSTREAM);
    for (let o = data.indexOf(OBJ); o !== -1 && (end === -1 || o < end); o = data.indexOf(OBJ, o + 1)) {
      const start = objectHeaderStart(data, o);
      if (start !== -1) {
        end = start;
        break;
      }
    }
    if (end === -1) {
      const cut = last ? data.length : Math.max(0, data.length - CARRY);
      this.collect(data.subarray(0, cut));
      this.carry = Buffer.from(data.subarray(cut));
      return chunk.length;
    }
    this.collect(data.subarray(0, end));
    this.carry = Buffer.alloc(0);
    this.mode = 'normal';
    this.endObjectStream();
    if (end >= carried) return from + (end - carried);
    // The keyword or header began in the carried bytes: read those first, then the chunk from `from`.
    this.normal(data.subarray(end, carried), 0);
    return from;
  }

  private collect(bytes: Buffer): void {
    if (!this.objectStream || bytes.length === 0) return;
    this.objectStreamBytes += bytes.length;
    if (this.objectStreamBytes > MAX_OBJECT_STREAM_BYTES) {
      this.result = 'unreadable-object-stream';
      this.objectStream = null;
      return;
    }
    this.objectStream.push(Buffer.from(bytes));
  }

  private endObjectStream(): void {
    const parts = this.objectStream;
    this.objectStream = null;
    if (!parts || this.result) return;
    let raw = Buffer.concat(parts);
    let end = raw.length;
    while (end > 0 && isSpace(raw[end - 1])) end--;
    raw = raw.subarray(0, end);
    let inside = raw;
    if (this.objectStreamFilters.length === 1) {
      try {
        inside = inflateSync(raw, { maxOutputLength: MAX_INFLATED_BYTES - this.inflated });
      } catch {
        this.result = 'unreadable-object-stream';
        return;
      }
    }
    this.inflated += inside.length;
    // The objects inside, read by a tokenizer of their own (they start with no header of a file).
    const inner = new PdfActiveContentScanner();
    inner.head = null;
    inner.enabled = true;
    inner.inflated = MAX_INFLATED_BYTES;
    inner.scan(inside);
    this.result = inner.finish();
  }
}
