/**
 * Just enough of PDF to append an incremental update (ISO 32000-1, 7.5.6) to a finished file: find the
 * latest cross-reference section, read the few dictionaries a signature needs to change (catalog, page,
 * AcroForm), and write new versions of them after the original bytes, which stay untouched. That last
 * point is the whole reason for an incremental update: a signature already in the file keeps covering
 * exactly the bytes it signed.
 *
 * Only classic cross-reference tables are read; a file whose latest section is a cross-reference stream is
 * refused rather than patched half-understood. pdfkit, which renders every document of the portal, writes
 * classic tables.
 */

export class PdfStructureError extends Error {
  readonly code = 'PDF_STRUCTURE_UNSUPPORTED';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface PdfRef {
  kind: 'ref';
  num: number;
  gen: number;
}
export interface PdfName {
  kind: 'name';
  /** As written after the slash, escapes (#20) included, so it writes back unchanged. */
  name: string;
}
/** Numbers, strings, booleans and null, kept as their source text so they write back byte for byte. */
export interface PdfRaw {
  kind: 'raw';
  text: string;
}
export interface PdfArray {
  kind: 'array';
  items: PdfValue[];
}
export interface PdfDict {
  kind: 'dict';
  entries: Map<string, PdfValue>;
}
export type PdfValue = PdfRef | PdfName | PdfRaw | PdfArray | PdfDict;

export const ref = (num: number, gen = 0): PdfRef => ({ kind: 'ref', num, gen });
export const name = (value: string): PdfName => ({ kind: 'name', name: value });
export const raw = (text: string): PdfRaw => ({ kind: 'raw', text });
export const array = (items: PdfValue[]): PdfArray => ({ kind: 'array', items });
export const dict = (entries: Record<string, PdfValue>): PdfDict => ({
  kind: 'dict',
  entries: new Map(Object.entries(entries)),
});

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);
const isRegular = (byte: number | undefined): boolean =>
  byte !== undefined && !WHITESPACE.has(byte) && !DELIMITERS.has(byte);
const INTEGER = /^\d+$/;

/** A reader over the file's bytes; positions are byte offsets. */
export class Lexer {
  constructor(
    private readonly bytes: Buffer,
    public pos: number,
  ) {}

  private peek(ahead = 0): number | undefined {
    return this.bytes[this.pos + ahead];
  }

  skipSpace(): void {
    for (;;) {
      const byte = this.peek();
      if (byte === undefined) return;
      if (WHITESPACE.has(byte)) this.pos++;
      else if (byte === 0x25) {
        while (this.peek() !== undefined && this.peek() !== 0x0a && this.peek() !== 0x0d) this.pos++;
      } else return;
    }
  }

  /** A run of regular characters: a number or a keyword. */
  token(): string {
    this.skipSpace();
    const start = this.pos;
    while (isRegular(this.peek())) this.pos++;
    return this.bytes.toString('latin1', start, this.pos);
  }

  expect(keyword: string): void {
    const found = this.token();
    if (found !== keyword) throw new PdfStructureError(`expected "${keyword}" but found "${found}"`);
  }

  value(): PdfValue {
    this.skipSpace();
    const byte = this.peek();
    const start = this.pos;
    if (byte === 0x3c && this.peek(1) === 0x3c) return this.dictionary();
    if (byte === 0x3c) {
      const end = this.bytes.indexOf(0x3e, this.pos);
      if (end < 0) throw new PdfStructureError('unterminated hex string');
      this.pos = end + 1;
      return raw(this.bytes.toString('latin1', start, this.pos));
    }
    if (byte === 0x28) return this.literalString();
    if (byte === 0x5b) {
      this.pos++;
      const items: PdfValue[] = [];
      for (;;) {
        this.skipSpace();
        if (this.peek() === 0x5d) break;
        if (this.peek() === undefined) throw new PdfStructureError('unterminated array');
        items.push(this.value());
      }
      this.pos++;
      return array(items);
    }
    if (byte === 0x2f) {
      this.pos++;
      while (isRegular(this.peek())) this.pos++;
      return name(this.bytes.toString('latin1', start + 1, this.pos));
    }
    const text = this.token();
    if (!text) throw new PdfStructureError(`unexpected byte at offset ${start}`);
    if (INTEGER.test(text)) {
      // "12 0 R" is one value: look ahead, and step back when it turns out to be two numbers.
      const after = this.pos;
      const gen = this.token();
      if (INTEGER.test(gen) && this.token() === 'R') return ref(Number(text), Number(gen));
      this.pos = after;
    }
    return raw(text);
  }

  private dictionary(): PdfDict {
    this.pos += 2;
    const entries = new Map<string, PdfValue>();
    for (;;) {
      this.skipSpace();
      if (this.peek() === 0x3e && this.peek(1) === 0x3e) break;
      const key = this.value();
      if (key.kind !== 'name') throw new PdfStructureError('dictionary key is not a name');
      entries.set(key.name, this.value());
    }
    this.pos += 2;
    return { kind: 'dict', entries };
  }

  private literalString(): PdfRaw {
    const start = this.pos;
    let depth = 0;
    for (;;) {
      const byte = this.peek();
      if (byte === undefined) throw new PdfStructureError('unterminated string');
      this.pos++;
      if (byte === 0x5c) this.pos++;
      else if (byte === 0x28) depth++;
      else if (byte === 0x29 && --depth === 0) break;
    }
    return raw(this.bytes.toString('latin1', start, this.pos));
  }
}

export function serialize(value: PdfValue): string {
  switch (value.kind) {
    case 'ref':
      return `${value.num} ${value.gen} R`;
    case 'name':
      return `/${value.name}`;
    case 'raw':
      return value.text;
    case 'array':
      return `[${value.items.map(serialize).join(' ')}]`;
    case 'dict':
      return `<<${[...value.entries].map(([key, item]) => `/${key} ${serialize(item)}`).join(' ')}>>`;
  }
}

export interface XrefEntry {
  offset: number;
  gen: number;
  inUse: boolean;
}

export interface PdfDocumentStructure {
  bytes: Buffer;
  /** Offset of the latest cross-reference section: the new trailer's /Prev. */
  startxref: number;
  trailer: PdfDict;
  /** The latest entry of every object number, across all sections. */
  xref: Map<number, XrefEntry>;
}

/** Where the last `startxref` points; the keyword must sit in the file's final kilobyte. */
export function findStartxref(bytes: Buffer): number {
  const tail = Math.max(0, bytes.length - 1024);
  const at = bytes.lastIndexOf('startxref');
  if (at < tail) throw new PdfStructureError('no startxref at the end of the file');
  const lexer = new Lexer(bytes, at + 'startxref'.length);
  const offset = lexer.token();
  if (!INTEGER.test(offset) || Number(offset) >= bytes.length)
    throw new PdfStructureError('startxref does not point into the file');
  return Number(offset);
}

export function readXrefSection(bytes: Buffer, offset: number, xref: Map<number, XrefEntry>): PdfDict {
  const lexer = new Lexer(bytes, offset);
  const keyword = lexer.token();
  if (keyword !== 'xref') {
    throw new PdfStructureError(
      INTEGER.test(keyword)
        ? 'cross-reference streams are not supported'
        : `no cross-reference table at offset ${offset}`,
    );
  }
  for (;;) {
    const first = lexer.token();
    if (first === 'trailer') break;
    const count = lexer.token();
    if (!INTEGER.test(first) || !INTEGER.test(count))
      throw new PdfStructureError('malformed cross-reference subsection');
    for (let i = 0; i < Number(count); i++) {
      const entryOffset = lexer.token();
      const gen = lexer.token();
      const type = lexer.token();
      if (!INTEGER.test(entryOffset) || !INTEGER.test(gen) || (type !== 'n' && type !== 'f'))
        throw new PdfStructureError('malformed cross-reference entry');
      const num = Number(first) + i;
      // Sections are read newest first, so an entry already known is the current one.
      if (!xref.has(num))
        xref.set(num, { offset: Number(entryOffset), gen: Number(gen), inUse: type === 'n' });
    }
  }
  const trailer = lexer.value();
  if (trailer.kind !== 'dict') throw new PdfStructureError('trailer is not a dictionary');
  return trailer;
}

/** Reads the cross-reference chain and the latest trailer. */
export function readPdfStructure(bytes: Buffer): PdfDocumentStructure {
  const startxref = findStartxref(bytes);
  const xref = new Map<number, XrefEntry>();
  let trailer: PdfDict | null = null;
  const visited = new Set<number>();
  for (let offset: number | null = startxref; offset !== null;) {
    // A /Prev loop would otherwise never end.
    if (visited.has(offset)) throw new PdfStructureError('cross-reference sections form a loop');
    visited.add(offset);
    const section = readXrefSection(bytes, offset, xref);
    trailer ??= section;
    if (section.entries.has('XRefStm'))
      throw new PdfStructureError('hybrid cross-references are not supported');
    const prev = section.entries.get('Prev');
    offset = prev?.kind === 'raw' && INTEGER.test(prev.text) ? Number(prev.text) : null;
  }
  if (!trailer) throw new PdfStructureError('no trailer');
  if (trailer.entries.has('Encrypt')) throw new PdfStructureError('encrypted files cannot be signed');
  if (trailer.entries.get('Root')?.kind !== 'ref') throw new PdfStructureError('the trailer has no /Root');
  return { bytes, startxref, trailer, xref };
}

/** The current version of an indirect object. Objects are looked up by number; the generation must match. */
export function readObject(pdf: PdfDocumentStructure, target: PdfRef): PdfValue {
  const entry = pdf.xref.get(target.num);
  if (!entry?.inUse || entry.gen !== target.gen)
    throw new PdfStructureError(`object ${target.num} ${target.gen} is not in the file`);
  const lexer = new Lexer(pdf.bytes, entry.offset);
  const num = lexer.token();
  const gen = lexer.token();
  if (Number(num) !== target.num || Number(gen) !== target.gen)
    throw new PdfStructureError(`the cross-reference entry of object ${target.num} is wrong`);
  lexer.expect('obj');
  return lexer.value();
}

/** Follows a reference; anything else is already the value. */
export function resolve(pdf: PdfDocumentStructure, value: PdfValue | undefined): PdfValue | undefined {
  return value?.kind === 'ref' ? readObject(pdf, value) : value;
}

export function readDict(pdf: PdfDocumentStructure, target: PdfRef): PdfDict {
  const value = readObject(pdf, target);
  if (value.kind !== 'dict') throw new PdfStructureError(`object ${target.num} is not a dictionary`);
  return value;
}

/** Highest object number in use plus one; trusts the table over a /Size that may be wrong. */
function nextObjectNumber(pdf: PdfDocumentStructure): number {
  const size = pdf.trailer.entries.get('Size');
  const declared = size?.kind === 'raw' && INTEGER.test(size.text) ? Number(size.text) : 0;
  return Math.max(declared, ...[...pdf.xref.keys()].map((n) => n + 1));
}

/** One body written into the update; `text` is latin1, binary-safe. */
interface UpdatedObject {
  ref: PdfRef;
  text: string;
}

export interface WrittenUpdate {
  /** The whole file: the original bytes followed by the update. */
  bytes: Buffer;
  /** Offset of each written object, by object number. */
  offsets: Map<number, number>;
}

/** Collects new objects and new versions of existing ones, then writes them as one update. */
export class IncrementalUpdate {
  private readonly objects = new Map<number, UpdatedObject>();
  private next: number;

  constructor(readonly pdf: PdfDocumentStructure) {
    this.next = nextObjectNumber(pdf);
  }

  /** A fresh object number for an object added by this update. */
  allocate(): PdfRef {
    return ref(this.next++);
  }

  /** Sets the body of a new object, or replaces an existing one under its own number and generation. */
  set(target: PdfRef, value: PdfValue | string): void {
    this.objects.set(target.num, { ref: target, text: typeof value === 'string' ? value : serialize(value) });
  }

  write(): WrittenUpdate {
    const original = this.pdf.bytes;
    const last = original[original.length - 1];
    // The original's %%EOF must stay on its own line; the separator belongs to the update.
    const parts: string[] = [last === 0x0a || last === 0x0d ? '' : '\n'];
    let position = original.length + (parts[0] ?? '').length;
    const offsets = new Map<number, number>();
    const sorted = [...this.objects.values()].sort((a, b) => a.ref.num - b.ref.num);
    for (const object of sorted) {
      const text = `${object.ref.num} ${object.ref.gen} obj\n${object.text}\nendobj\n`;
      offsets.set(object.ref.num, position);
      parts.push(text);
      position += Buffer.byteLength(text, 'latin1');
    }

    const xrefOffset = position;
    const lines = ['xref'];
    // Consecutive object numbers share a subsection; gaps start a new one.
    for (let i = 0; i < sorted.length;) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1]!.ref.num === sorted[j]!.ref.num + 1) j++;
      lines.push(`${sorted[i]!.ref.num} ${j - i + 1}`);
      for (let k = i; k <= j; k++) {
        const object = sorted[k]!;
        const offset = String(offsets.get(object.ref.num)).padStart(10, '0');
        // Each entry is exactly 20 bytes: the two-character end of line is space + LF.
        lines.push(`${offset} ${String(object.ref.gen).padStart(5, '0')} n `);
      }
      i = j + 1;
    }

    const trailer = new Map<string, PdfValue>();
    trailer.set('Size', raw(String(Math.max(this.next, ...sorted.map((o) => o.ref.num + 1)))));
    for (const key of ['Root', 'Info', 'ID']) {
      const value = this.pdf.trailer.entries.get(key);
      if (value) trailer.set(key, value);
    }
    trailer.set('Prev', raw(String(this.pdf.startxref)));
    lines.push(
      'trailer',
      serialize({ kind: 'dict', entries: trailer }),
      'startxref',
      String(xrefOffset),
      '%%EOF',
    );
    parts.push(`${lines.join('\n')}\n`);

    return { bytes: Buffer.concat([original, Buffer.from(parts.join(''), 'latin1')]), offsets };
  }
}
