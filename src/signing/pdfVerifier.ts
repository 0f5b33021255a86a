import { type KeyObject, X509Certificate, constants, createHash, createPublicKey, verify } from 'node:crypto';
import forge from 'node-forge';
import { CMS_OID } from './cms';
import {
  type Asn1,
  children,
  der,
  derToPem,
  fromDerBuffer,
  isContextTag,
  oidOf,
  toDerBuffer,
  valueBytes,
} from './derCodec';
import {
  Lexer,
  type PdfDict,
  type PdfRef,
  type PdfValue,
  PdfStructureError,
  type XrefEntry,
  findStartxref,
  readXrefSection,
  ref,
  serialize,
} from './pdfIncrementalUpdate';
import { reachesTrustedRoot } from './signer';
import { type CertificateInfo, OID, normalizeSerial, readCertificate } from './x509Reader';

/**
 * Verification of the signatures in a PDF, for anyone who uploads a result to the portal: no database, no
 * network, only the file, the roots the portal trusts and its own revocation list. The verifier answers a
 * report and never throws: whatever the file holds, a broken signature is reported as such, and the others
 * are still checked.
 *
 * What it checks, per signature dictionary (ISO 32000-1 12.8, ETSI EN 319 142-1):
 * - the /ByteRange leaves out exactly the dictionary's own /Contents string, and nothing else before its end;
 * - the CMS (ETSI.CAdES.detached or adbe.pkcs7.detached; for a document time-stamp, ETSI.RFC3161, the
 *   token's imprint): one SignerInfo, the message digest equals the hash of the byte ranges, the signature
 *   over the signed attributes verifies with the signer certificate, and a signing-certificate(-v2)
 *   attribute, when present, names that certificate;
 * - trust: the certificate chains to a trusted root, and was within its validity and not revoked, at the
 *   signing time: a verified RFC 3161 time-stamp's genTime, else the claimed /M, else `now`;
 * - what happened after the signature: every later incremental update is compared with the signed state
 *   (see analyseRevision for the rule).
 */

export interface VerifyPdfOptions {
  trustedRootsPem: readonly string[];
  /** The portal's own revocation list: when the serial (hex, normalised as x509Reader does) was revoked, or null. */
  revokedAt?: (serialHex: string) => Date | null;
  now: Date;
}

export const SIGNATURE_PROBLEMS = [
  'MALFORMED_SIGNATURE_DICTIONARY',
  'BYTE_RANGE_GAP_NOT_CONTENTS',
  'UNSUPPORTED_SUBFILTER',
  'MALFORMED_CMS',
  'CMS_NOT_DETACHED',
  'NOT_ONE_SIGNER',
  'UNSUPPORTED_ALGORITHM',
  'SIGNER_CERTIFICATE_NOT_FOUND',
  'SIGNING_CERTIFICATE_MISMATCH',
  'DIGEST_MISMATCH',
  'SIGNATURE_INVALID',
  'UNTRUSTED_CHAIN',
  'CERTIFICATE_NOT_YET_VALID_AT_SIGNING',
  'CERTIFICATE_EXPIRED_AT_SIGNING',
  'CERTIFICATE_REVOKED',
  /** Revoked after the signing time, but that time is only the signer's claim (/M): it could be backdated. */
  'CERTIFICATE_REVOKED_AFTER_CLAIMED_TIME',
  'TIMESTAMP_INVALID',
  'TIMESTAMP_UNTRUSTED',
  'MODIFIED_AFTER_SIGNING',
  /** An unexpected failure inside the verifier; the signature is reported as not valid. */
  'VERIFICATION_FAILED',
] as const;
export type SignatureProblem = (typeof SIGNATURE_PROBLEMS)[number];

export const CHANGE_CODES = [
  /** Allowed: a later update that adds a signature field, its widgets and appearances. */
  'SIGNATURE_ADDED',
  /**
   * Allowed: read-only text fields added and filled in the same update as a new signature, which covers
   * them: the register number and the date the clerk writes with the agency's seal.
   */
  'SIGNED_FORM_FILLED',
  /** Allowed: a later update that only adds validation data (/DSS: certificates, CRLs, OCSP responses). */
  'VALIDATION_DATA_ADDED',
  /** A later signature that is not valid and trusted: what came with it is not excused. */
  'UNTRUSTED_SIGNATURE_ADDED',
  'PAGE_CONTENT_CHANGED',
  'PAGE_CHANGED',
  'ANNOTATION_ADDED',
  'ANNOTATION_REMOVED',
  'FORM_FIELD_ADDED',
  'FORM_CHANGED',
  'CATALOG_CHANGED',
  'OBJECT_CHANGED',
  'OBJECT_ADDED',
  'OBJECT_DELETED',
  'REVISION_WITHOUT_SIGNATURE',
  /** Bytes after the signature that no later cross-reference section accounts for. */
  'DATA_OUTSIDE_REVISIONS',
  /** A later update the verifier cannot read (a cross-reference stream, a broken table): not accepted. */
  'UNPARSEABLE_UPDATE',
] as const;
export type ChangeCode = (typeof CHANGE_CODES)[number];

/** The changes that do not make a signature "modified after". */
export const ALLOWED_CHANGES: ReadonlySet<ChangeCode> = new Set([
  'SIGNATURE_ADDED',
  'SIGNED_FORM_FILLED',
  'VALIDATION_DATA_ADDED',
]);

export const FILE_PROBLEMS = [
  'NOT_A_PDF',
  'NO_SIGNATURES',
  /** More signature dictionaries than MAX_SIGNATURES: only the first ones are reported. */
  'TOO_MANY_SIGNATURES',
  /** The file could not be read at all (larger than a string the engine can hold); nothing is vouched for. */
  'VERIFICATION_FAILED',
] as const;
export type FileProblem = (typeof FILE_PROBLEMS)[number];

export interface SignerSummary {
  commonName: string | null;
  organization: string | null;
  title: string | null;
  serialNumber: string;
  issuer: string;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
}

export interface SignatureChecks {
  /** The byte ranges lie in the file and hash to the digest the signer signed. */
  bytesIntact: boolean;
  digestMatches: boolean;
  signatureVerifies: boolean;
  chainTrusted: boolean;
  certificateValidAtSigningTime: boolean;
  notRevokedAtSigningTime: boolean;
  byteRangeSound: boolean;
}

export interface SignatureReport {
  /** In file order. */
  index: number;
  fieldName: string | null;
  signer: SignerSummary | null;
  /** ISO, from the time-stamp token when there is a verified one, else /M. */
  signingTime: string | null;
  timestamped: boolean;
  subFilter: string | null;
  byteRange: number[] | null;
  /** Signed bytes intact and signature structure sound. */
  valid: boolean;
  /**
   * The signature verifies with the certificate, the chain reaches a trusted root, and the certificate was
   * within validity and not revoked at signing time. Without the first part the certificate is only a claim.
   */
  trusted: boolean;
  /** The byte range reaches the end of the file (one end-of-line after the final %%EOF may stay outside). */
  coversWholeDocument: boolean;
  /** Changed after this signature by anything other than later signatures. */
  modifiedAfter: boolean;
  /** The signer certificate first, then its issuers as far as they could be linked. */
  chain: CertificateSummary[];
  checks: SignatureChecks;
  changesAfter: ChangeCode[];
  problems: SignatureProblem[];
}

export interface PdfVerification {
  sha256: string;
  isPdf: boolean;
  signatures: SignatureReport[];
  problems: FileProblem[];
}

/** Stops one check with a stable code; caught inside the verifier, never thrown out of it. */
class SignatureCheckFailure extends Error {
  constructor(readonly code: SignatureProblem) {
    super(code);
    this.name = new.target.name;
  }
}

// ---- PDF syntax -----------------------------------------------------------------------------------------

// Hostile files nest arrays and dictionaries to exhaust the stack; real ones stay far below this.
const MAX_NESTING = 64;
const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);

/** A dictionary as parsed, with where each value starts: the /Contents offset is what /ByteRange must skip. */
interface LocatedDict {
  dict: PdfDict;
  valueOffsets: Map<string, number>;
}

/** Lexer.value, except that every dictionary met on the way is reported with the offsets of its values. */
function parseValue(lexer: Lexer, bytes: Buffer, found: LocatedDict[], depth = 0): PdfValue {
  if (depth > MAX_NESTING) throw new PdfStructureError('objects nested too deeply');
  lexer.skipSpace();
  const start = lexer.pos;
  if (bytes[start] === 0x3c && bytes[start + 1] === 0x3c) {
    lexer.pos += 2;
    const entries = new Map<string, PdfValue>();
    const valueOffsets = new Map<string, number>();
    for (;;) {
      lexer.skipSpace();
      if (bytes[lexer.pos] === 0x3e && bytes[lexer.pos + 1] === 0x3e) break;
      const key = lexer.value();
      if (key.kind !== 'name') throw new PdfStructureError('dictionary key is not a name');
      lexer.skipSpace();
      valueOffsets.set(key.name, lexer.pos);
      entries.set(key.name, parseValue(lexer, bytes, found, depth + 1));
    }
    lexer.pos += 2;
    const dict: PdfDict = { kind: 'dict', entries };
    found.push({ dict, valueOffsets });
    return dict;
  }
  if (bytes[start] === 0x5b) {
    lexer.pos++;
    const items: PdfValue[] = [];
    for (;;) {
      lexer.skipSpace();
      if (bytes[lexer.pos] === 0x5d) break;
      if (lexer.pos >= bytes.length) throw new PdfStructureError('unterminated array');
      items.push(parseValue(lexer, bytes, found, depth + 1));
    }
    lexer.pos++;
    return { kind: 'array', items };
  }
  return lexer.value();
}

/** After the `stream` keyword: where the data starts and ends; /Length first, `endstream` when it lies. */
function streamExtent(layout: FileLayout, afterKeyword: number, length: number | null): [number, number] {
  const bytes = layout.bytes;
  let start = afterKeyword;
  if (bytes[start] === 0x0d) start++;
  if (bytes[start] === 0x0a) start++;
  if (length !== null && start + length <= bytes.length) {
    let end = start + length;
    while (WHITESPACE.has(bytes[end] ?? -1)) end++;
    if (bytes.toString('latin1', end, end + 9) === 'endstream') return [start, start + length];
  }
  const keyword = layout.next('endstream', start);
  if (keyword === null) throw new PdfStructureError('unterminated stream');
  let end = keyword;
  if (bytes[end - 1] === 0x0a) end--;
  if (bytes[end - 1] === 0x0d) end--;
  return [start, Math.max(start, end)];
}

const integerOf = (value: PdfValue | undefined): number | null =>
  value?.kind === 'raw' && /^\d{1,15}$/.test(value.text) ? Number(value.text) : null;

const nameOf = (value: PdfValue | undefined): string | null =>
  value?.kind === 'name'
    ? value.name.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : null;

const LITERAL_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, b: 0x08, f: 0x0c };

/** The bytes of a literal or hexadecimal string as the lexer kept it; null for anything else. */
function stringBytes(value: PdfValue | undefined): Buffer | null {
  if (value?.kind !== 'raw') return null;
  const text = value.text;
  if (text.startsWith('<') && text.endsWith('>')) {
    const digits = text.slice(1, -1).replace(/\s+/g, '');
    if (!/^[0-9a-fA-F]*$/.test(digits)) return null;
    return Buffer.from(digits.length % 2 ? `${digits}0` : digits, 'hex');
  }
  if (!text.startsWith('(') || !text.endsWith(')')) return null;
  const body = Buffer.from(text.slice(1, -1), 'latin1');
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] as number;
    if (byte === 0x0d) {
      // An unescaped end of line, whatever its form, reads as a single LF (7.3.4.2).
      if (body[i + 1] === 0x0a) i++;
      out.push(0x0a);
    } else if (byte !== 0x5c) {
      out.push(byte);
    } else {
      const next = body[++i];
      if (next === undefined) break;
      const escaped = LITERAL_ESCAPES[String.fromCharCode(next)];
      if (escaped !== undefined) out.push(escaped);
      else if (next >= 0x30 && next <= 0x37) {
        let code = next - 0x30;
        for (let k = 0; k < 2 && (body[i + 1] ?? 0) >= 0x30 && (body[i + 1] ?? 0) <= 0x37; k++)
          code = code * 8 + ((body[++i] as number) - 0x30);
        out.push(code & 0xff);
      } else if (next === 0x0d) {
        if (body[i + 1] === 0x0a) i++;
      } else if (next !== 0x0a) out.push(next);
    }
  }
  return Buffer.from(out);
}

/** A text string: UTF-16BE or UTF-8 behind their byte order marks, else PDFDocEncoding, read as Latin-1. */
function textOf(value: PdfValue | undefined): string | null {
  const bytes = stringBytes(value);
  if (!bytes) return null;
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return Buffer.from(bytes.subarray(2, bytes.length - (bytes.length % 2)))
      .swap16()
      .toString('utf16le');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  return bytes.toString('latin1');
}

/** D:YYYYMMDDHHmmSSOHH'mm' with every part after the year optional (7.9.4). */
function pdfDateOf(value: PdfValue | undefined): Date | null {
  const text = textOf(value);
  const match = text
    ? /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?/.exec(
        text,
      )
    : null;
  if (!match) return null;
  const part = (index: number, fallback: number): number => (match[index] ? Number(match[index]) : fallback);
  const utc = Date.UTC(part(1, 0), part(2, 1) - 1, part(3, 1), part(4, 0), part(5, 0), part(6, 0));
  const sign = match[7] === '-' ? -1 : match[7] === '+' ? 1 : 0;
  const offsetMinutes = sign * (part(8, 0) * 60 + part(9, 0));
  const date = new Date(utc - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

// ---- Finding the signatures -----------------------------------------------------------------------------

/** The first element of the ascending `sorted` that is at least `position`. */
function firstAtOrAfter(sorted: readonly number[], position: number): number | null {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] as number) < position) low = middle + 1;
    else high = middle;
  }
  return sorted[low] ?? null;
}

const OBJECT_HEADER = /(\d{1,10})[\0\t\n\f\r ]+(\d{1,5})[\0\t\n\f\r ]+obj(?![^\0\t\n\f\r ()<>[\]{}/%])/g;
const DELIMITER_BEFORE = /[\0\t\n\f\r ()<>[\]{}/%]/;

interface ObjectHeader {
  num: number;
  gen: number;
  offset: number;
  /** Just after the `obj` keyword. */
  bodyStart: number;
}

/**
 * Where the object headers and keywords are, found in one pass. Every parse of an object is confined to the
 * bytes before the next object header: an unterminated string, array or stream would otherwise be read to
 * the end of the file once per object, and a hostile upload of many of them would take hours.
 */
class FileLayout {
  readonly text: string;
  readonly headers: ObjectHeader[] = [];
  private readonly headerOffsets: number[];
  private readonly keywords = new Map<string, number[]>();

  constructor(readonly bytes: Buffer) {
    this.text = bytes.toString('latin1');
    for (const match of this.text.matchAll(OBJECT_HEADER)) {
      const offset = match.index;
      if (offset > 0 && !DELIMITER_BEFORE.test(this.text[offset - 1] ?? '')) continue;
      this.headers.push({
        num: Number(match[1]),
        gen: Number(match[2]),
        offset,
        bodyStart: offset + match[0].length,
      });
    }
    this.headerOffsets = this.headers.map((header) => header.offset);
  }

  /** The file cut where the next object header after `offset` starts. */
  regionFrom(offset: number): Buffer {
    return this.bytes.subarray(0, firstAtOrAfter(this.headerOffsets, offset + 1) ?? this.bytes.length);
  }

  /** Where `keyword` next occurs at or after `position`. */
  next(keyword: 'endstream' | 'endobj', position: number): number | null {
    let positions = this.keywords.get(keyword);
    if (!positions) {
      positions = [];
      for (let at = this.text.indexOf(keyword); at >= 0; at = this.text.indexOf(keyword, at + 1))
        positions.push(at);
      this.keywords.set(keyword, positions);
    }
    return firstAtOrAfter(positions, position);
  }
}

interface ScannedObject {
  num: number;
  gen: number;
  offset: number;
  /** null when the object did not parse. */
  value: PdfValue | null;
  dicts: LocatedDict[];
  /** The object's text up to `endobj` or the next object, kept only when it did not parse. */
  rawText: string | null;
}

/**
 * Every `N G obj` in the file, in file order, whether or not a cross-reference table points at it: a
 * verifier must see signatures a broken or foreign table (a cross-reference stream) would hide. Stream
 * data is skipped so that bytes inside a font or an image are not read as objects.
 */
function scanObjects(layout: FileLayout): ScannedObject[] {
  const objects: ScannedObject[] = [];
  let resumeAt = 0;
  for (const header of layout.headers) {
    if (header.offset < resumeAt) continue;
    const { num, gen, offset, bodyStart } = header;
    const region = layout.regionFrom(offset);
    const dicts: LocatedDict[] = [];
    try {
      const lexer = new Lexer(region, bodyStart);
      const value = parseValue(lexer, region, dicts);
      resumeAt = lexer.pos;
      if (lexer.token() === 'stream') {
        const length = value.kind === 'dict' ? integerOf(value.entries.get('Length')) : null;
        resumeAt = streamExtent(layout, lexer.pos, length)[1];
      }
      objects.push({ num, gen, offset, value, dicts, rawText: null });
    } catch {
      const end = Math.min(region.length, layout.next('endobj', bodyStart) ?? region.length);
      objects.push({ num, gen, offset, value: null, dicts: [], rawText: layout.text.slice(bodyStart, end) });
      resumeAt = bodyStart;
    }
  }
  return objects;
}

interface SignatureCandidate {
  object: ScannedObject;
  /** null when the object around it did not parse. */
  located: LocatedDict | null;
}

const SIGNATURE_TYPES = new Set(['Sig', 'DocTimeStamp']);
const LOOKS_LIKE_SIGNATURE = /\/ByteRange|\/Type\s*\/(?:Sig|DocTimeStamp)(?![A-Za-z])/;

function isSignatureDict(dict: PdfDict): boolean {
  const type = nameOf(dict.entries.get('Type'));
  if (type !== null && SIGNATURE_TYPES.has(type)) return true;
  return dict.entries.has('ByteRange') && dict.entries.has('Contents');
}

const serializeOrEmpty = (value: PdfValue | undefined): string => (value ? serialize(value) : '');

function findSignatures(objects: readonly ScannedObject[]): SignatureCandidate[] {
  const candidates: SignatureCandidate[] = [];
  const seen = new Set<string>();
  for (const object of objects) {
    if (object.value === null) {
      if (object.rawText !== null && LOOKS_LIKE_SIGNATURE.test(object.rawText))
        candidates.push({ object, located: null });
      continue;
    }
    for (const located of object.dicts) {
      if (!isSignatureDict(located.dict)) continue;
      // A writer that copies an unchanged signature dictionary into a later update shows it twice.
      const entries = located.dict.entries;
      const key = [
        object.num,
        object.gen,
        serializeOrEmpty(entries.get('ByteRange')),
        serializeOrEmpty(entries.get('Contents')),
      ].join(' ');
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push({ object, located });
    }
  }
  return candidates;
}

/** Which dictionary has which signature as its /V, and the latest version of each object, in file order. */
interface FieldIndex {
  byReference: Map<string, PdfDict>;
  byValue: Map<PdfDict, PdfDict>;
  latest: Map<number, PdfDict>;
}

function indexFields(objects: readonly ScannedObject[]): FieldIndex {
  const index: FieldIndex = { byReference: new Map(), byValue: new Map(), latest: new Map() };
  for (const object of objects) {
    if (object.value?.kind === 'dict') index.latest.set(object.num, object.value);
    for (const { dict } of object.dicts) {
      const value = dict.entries.get('V');
      if (value?.kind === 'ref') index.byReference.set(`${value.num} ${value.gen}`, dict);
      else if (value?.kind === 'dict') index.byValue.set(value, dict);
    }
  }
  return index;
}

/** The fully qualified name of the field whose /V is the signature: its /T behind its parents' names. */
function fieldNameOf(candidate: SignatureCandidate, fields: FieldIndex): string | null {
  const { object, located } = candidate;
  // An indirect signature is the whole object (or an object that did not parse); a direct one sits in /V.
  const field =
    located !== null && object.value !== located.dict
      ? fields.byValue.get(located.dict)
      : fields.byReference.get(`${object.num} ${object.gen}`);
  const parts: string[] = [];
  const visited = new Set<number>();
  for (let node = field; node;) {
    const partial = textOf(node.entries.get('T'));
    if (partial !== null) parts.unshift(partial);
    const parent = node.entries.get('Parent');
    if (parent?.kind !== 'ref' || visited.has(parent.num) || visited.size > MAX_NESTING) break;
    visited.add(parent.num);
    node = fields.latest.get(parent.num);
  }
  return parts.length > 0 ? parts.join('.').normalize('NFC') : null;
}

// ---- Revisions ------------------------------------------------------------------------------------------

interface XrefSection {
  offset: number;
  entries: Map<number, XrefEntry>;
  trailer: PdfDict;
}

/** The cross-reference sections, newest first; `complete` is false when the chain broke before its end. */
interface SectionChain {
  sections: XrefSection[];
  complete: boolean;
}

// Far more incremental updates than any real document has; a longer chain is not analysed.
const MAX_SECTIONS = 256;

function readSectionChain(bytes: Buffer): SectionChain {
  const sections: XrefSection[] = [];
  try {
    const visited = new Set<number>();
    for (let offset: number | null = findStartxref(bytes); offset !== null;) {
      if (visited.has(offset) || sections.length >= MAX_SECTIONS) return { sections, complete: false };
      visited.add(offset);
      const entries = new Map<number, XrefEntry>();
      const trailer = readXrefSection(bytes, offset, entries);
      // A hybrid file hides part of its table in a cross-reference stream.
      if (trailer.entries.has('XRefStm')) return { sections, complete: false };
      sections.push({ offset, entries, trailer });
      offset = integerOf(trailer.entries.get('Prev'));
    }
    return { sections, complete: true };
  } catch {
    return { sections, complete: false };
  }
}

interface LoadedObject {
  value: PdfValue;
  stream: Buffer | null;
}

type LoadCache = Map<number, LoadedObject & { num: number; gen: number }>;

/** The document as of one revision: what that cross-reference section and the ones before it say. */
class RevisionState {
  constructor(
    private readonly layout: FileLayout,
    /** The object's entry as of this revision. */
    readonly entry: (num: number) => XrefEntry | undefined,
    readonly trailer: PdfDict,
    private readonly cache: LoadCache,
  ) {}

  /** The object as this revision sees it; null when it is free or missing, which PDF reads as null. */
  load(target: PdfRef, depth = 0): LoadedObject | null {
    const entry = this.entry(target.num);
    if (!entry?.inUse || entry.gen !== target.gen) return null;
    const cached = this.cache.get(entry.offset);
    if (cached) return cached.num === target.num && cached.gen === target.gen ? cached : null;
    const region = this.layout.regionFrom(entry.offset);
    const lexer = new Lexer(region, entry.offset);
    if (
      lexer.token() !== String(target.num) ||
      lexer.token() !== String(target.gen) ||
      lexer.token() !== 'obj'
    )
      throw new PdfStructureError(`the cross-reference entry of object ${target.num} is wrong`);
    const value = parseValue(lexer, region, []);
    let stream: Buffer | null = null;
    if (lexer.token() === 'stream') {
      const lengthValue = value.kind === 'dict' ? value.entries.get('Length') : undefined;
      let length = integerOf(lengthValue);
      if (lengthValue?.kind === 'ref' && depth === 0) length = integerOf(this.load(lengthValue, 1)?.value);
      const [start, end] = streamExtent(this.layout, lexer.pos, length);
      stream = this.layout.bytes.subarray(start, end);
    }
    const loaded = { num: target.num, gen: target.gen, value, stream };
    this.cache.set(entry.offset, loaded);
    return loaded;
  }

  resolve(value: PdfValue | undefined): PdfValue | undefined {
    return value?.kind === 'ref' ? this.load(value)?.value : value;
  }

  resolveDict(value: PdfValue | undefined): PdfDict | null {
    const resolved = this.resolve(value);
    return resolved?.kind === 'dict' ? resolved : null;
  }

  resolveArray(value: PdfValue | undefined): PdfValue[] {
    const resolved = this.resolve(value);
    return resolved?.kind === 'array' ? resolved.items : [];
  }
}

const sameValue = (a: PdfValue | undefined, b: PdfValue | undefined): boolean =>
  serializeOrEmpty(a) === serializeOrEmpty(b);

const sameObject = (a: LoadedObject, b: LoadedObject): boolean =>
  sameValue(a.value, b.value) &&
  (a.stream === null ? b.stream === null : b.stream !== null && a.stream.equals(b.stream));

/** The keys whose values differ, ignoring `mutable`. */
function differingKeys(before: PdfDict | null, after: PdfDict | null, mutable: readonly string[]): string[] {
  const keys = new Set([...(before?.entries.keys() ?? []), ...(after?.entries.keys() ?? [])]);
  return [...keys].filter(
    (key) => !mutable.includes(key) && !sameValue(before?.entries.get(key), after?.entries.get(key)),
  );
}

/** The object numbers of a page's content streams (/Contents is a stream or an array of them). */
function contentNumbers(state: RevisionState, page: PdfDict): number[] {
  const contents = page.entries.get('Contents');
  const items =
    contents?.kind === 'ref' && state.resolve(contents)?.kind === 'array' ? state.resolveArray(contents) : [];
  const refs = [contents, ...items].filter((value): value is PdfRef => value?.kind === 'ref');
  return refs.map((value) => value.num);
}

/**
 * Which page objects refer to an object as their /Annots or /Contents (directly, or through an indirect
 * /Contents array), from every version of every page in the file. A revision's analysis asks it about the
 * objects that revision changed and confirms the answer against the revision before, so no analysis walks
 * the whole page tree: with many revisions of a large document that would cost revisions times pages.
 */
interface PageOwners {
  annots: Map<number, Set<number>>;
  contents: Map<number, Set<number>>;
}

function indexPageOwners(objects: readonly ScannedObject[]): PageOwners {
  const owners: PageOwners = { annots: new Map(), contents: new Map() };
  const add = (index: Map<number, Set<number>>, value: PdfValue | undefined, page: number): void => {
    if (value?.kind !== 'ref') return;
    const pages = index.get(value.num);
    if (pages) pages.add(page);
    else index.set(value.num, new Set([page]));
  };
  for (const object of objects) {
    const page = object.value;
    if (page?.kind !== 'dict' || nameOf(page.entries.get('Type')) !== 'Page') continue;
    add(owners.annots, page.entries.get('Annots'), object.num);
    const contents = page.entries.get('Contents');
    add(owners.contents, contents, object.num);
    if (contents?.kind === 'array') for (const item of contents.items) add(owners.contents, item, object.num);
  }
  for (const object of objects) {
    const pages = owners.contents.get(object.num);
    if (object.value?.kind !== 'array' || !pages) continue;
    for (const item of object.value.items) for (const page of pages) add(owners.contents, item, page);
  }
  return owners;
}

// A hostile file can claim an object for any number of pages; a real one shares a stream among a few.
const MAX_OWNERS_CHECKED = 16;

/** The pages, as of `state`, among `candidates` for which `holds` is true. */
function confirmedPages(
  state: RevisionState,
  candidates: ReadonlySet<number> | undefined,
  holds: (page: PdfDict) => boolean,
): number[] {
  const pages: number[] = [];
  for (const num of [...(candidates ?? [])].slice(0, MAX_OWNERS_CHECKED)) {
    const page = state.resolveDict(ref(num, state.entry(num)?.gen ?? 0));
    if (page && nameOf(page.entries.get('Type')) === 'Page' && holds(page)) pages.push(num);
  }
  return pages;
}

/** The added objects reachable from `start`, not following the back links /P and /Parent. */
function reachableAdded(
  state: RevisionState,
  start: PdfValue | undefined,
  added: ReadonlySet<number>,
  into: Set<number>,
): void {
  const stack: PdfValue[] = start ? [start] : [];
  let steps = 0;
  while (stack.length > 0 && steps++ < 1_000_000) {
    const value = stack.pop() as PdfValue;
    if (value.kind === 'ref') {
      if (!added.has(value.num) || into.has(value.num)) continue;
      into.add(value.num);
      const loaded = state.load(value);
      if (loaded) stack.push(loaded.value);
    } else if (value.kind === 'array') {
      stack.push(...value.items);
    } else if (value.kind === 'dict') {
      for (const [key, item] of value.entries) if (key !== 'P' && key !== 'Parent') stack.push(item);
    }
  }
}

const CATALOG_MUTABLE_KEYS = ['AcroForm', 'DSS', 'Version', 'Extensions'] as const;
const ACROFORM_MUTABLE_KEYS = ['Fields', 'SigFlags', 'DR', 'DA'] as const;
const INFO_MUTABLE_KEYS = ['ModDate', 'Producer'] as const;
const SIGNED_FIELD_MUTABLE_KEYS = ['V', 'AP'] as const;

const READ_ONLY_FLAG = 1;

/** A read-only text field merged with its widget, holding a value and its appearance, and nothing else. */
function isSignedFormFill(dict: PdfDict): boolean {
  const flags = dict.entries.get('Ff');
  const ff = flags?.kind === 'raw' && /^\d+$/.test(flags.text) ? Number(flags.text) : 0;
  return (
    nameOf(dict.entries.get('FT')) === 'Tx' &&
    nameOf(dict.entries.get('Subtype')) === 'Widget' &&
    (ff & READ_ONLY_FLAG) === READ_ONLY_FLAG &&
    dict.entries.has('V') &&
    dict.entries.has('AP') &&
    !dict.entries.has('Kids') &&
    // Actions would let a "filled field" run something when the document is opened or clicked.
    !dict.entries.has('A') &&
    !dict.entries.has('AA')
  );
}

/**
 * What one incremental update changed, compared with the revision before it.
 *
 * The rule is a prudent one, deliberately narrower than DocMDP (32000-1 12.8.2.2), and /Perms is not read:
 * after a signature, an update may only add another signature or validation data. It may
 * - add a signature field (new in /Fields, or an empty signature field that gets its /V and /AP) with its
 *   new signature dictionary, and everything new reachable from the field: widgets, appearance streams,
 *   their fonts and resources;
 * - in an update that adds a signature, also add read-only text fields, each merged with its one widget,
 *   with a value and an appearance: what the new signer writes into the document and signs at once (the
 *   form filling DocMDP level 2 permits, narrowed to fields nobody can edit afterwards);
 * - give the catalog a new /AcroForm, /DSS, /Version or /Extensions, and add to the /DSS;
 * - give the AcroForm more /Fields (never fewer), and a new /SigFlags, /DR or /DA;
 * - give a page more /Annots, when the additions are widgets of the new signature fields;
 * - give the document information dictionary a new /ModDate or /Producer.
 * Anything else (another page key, a content stream, any other object, an annotation that is not such a
 * widget, an object added that nothing new reaches, an update that adds neither a signature nor validation
 * data) is reported, so that a reader is told rather than reassured.
 */
function analyseRevision(
  before: RevisionState,
  after: RevisionState,
  section: XrefSection,
  owners: PageOwners,
): Set<ChangeCode> {
  const changes = new Set<ChangeCode>();
  const added = new Set<number>();
  const changed = new Set<number>();
  for (const [num, entry] of section.entries) {
    if (num === 0) continue;
    const previous = before.entry(num);
    const wasInUse = previous?.inUse === true;
    if (!entry.inUse) {
      if (wasInUse) changes.add('OBJECT_DELETED');
      continue;
    }
    if (!wasInUse || !previous) {
      added.add(num);
      continue;
    }
    const oldObject = before.load(ref(num, previous.gen));
    const newObject = after.load(ref(num, entry.gen));
    if (!newObject) changes.add('UNPARSEABLE_UPDATE');
    else if (!oldObject || previous.gen !== entry.gen || !sameObject(oldObject, newObject)) changed.add(num);
  }
  for (const num of added)
    if (!after.load(ref(num, after.entry(num)?.gen ?? 0))) changes.add('UNPARSEABLE_UPDATE');
  if (
    after.trailer.entries.has('Encrypt') &&
    !sameValue(before.trailer.entries.get('Encrypt'), after.trailer.entries.get('Encrypt'))
  )
    changes.add('OBJECT_CHANGED');

  // Objects whose change the rules below account for, and added objects they allow. An object is excused
  // by the rule for the place it fills (the catalog's /DSS, a page's /Annots) only when it filled that place
  // before or is new: pointing /DSS at a rewritten content stream must not excuse the rewrite.
  const explained = new Set<number>();
  const allowed = new Set<number>();
  const explain = (previous: PdfValue | undefined, current: PdfValue | undefined): void => {
    if (current?.kind === 'ref' && (sameValue(previous, current) || added.has(current.num)))
      explained.add(current.num);
  };

  const rootBefore = before.trailer.entries.get('Root');
  const rootAfter = after.trailer.entries.get('Root');
  const catalogBefore = before.resolveDict(rootBefore);
  const catalogAfter = after.resolveDict(rootAfter);
  if (!catalogBefore || !catalogAfter) {
    changes.add('UNPARSEABLE_UPDATE');
    return changes;
  }
  if (
    !sameValue(rootBefore, rootAfter) ||
    differingKeys(catalogBefore, catalogAfter, CATALOG_MUTABLE_KEYS).length > 0
  )
    changes.add('CATALOG_CHANGED');
  explain(rootBefore, rootAfter);

  const formBefore = before.resolveDict(catalogBefore.entries.get('AcroForm'));
  const formAfter = after.resolveDict(catalogAfter.entries.get('AcroForm'));
  if (differingKeys(formBefore, formAfter, ACROFORM_MUTABLE_KEYS).length > 0) changes.add('FORM_CHANGED');
  const fieldsBefore = before.resolveArray(formBefore?.entries.get('Fields')).map(serialize);
  const fieldsAfter = after.resolveArray(formAfter?.entries.get('Fields'));
  const fieldsAfterText = new Set(fieldsAfter.map(serialize));
  if (fieldsBefore.some((field) => !fieldsAfterText.has(field))) changes.add('FORM_CHANGED');
  explain(catalogBefore.entries.get('AcroForm'), catalogAfter.entries.get('AcroForm'));
  explain(formBefore?.entries.get('Fields'), formAfter?.entries.get('Fields'));
  reachableAdded(after, formAfter?.entries.get('DR'), added, allowed);
  // Validation data (PAdES B-LT) may grow after a signature: the DSS itself and what it newly holds. An
  // object the DSS reaches that existed before is not excused, so it cannot launder a page change.
  const dssBefore = catalogBefore.entries.get('DSS');
  const dssAfter = catalogAfter.entries.get('DSS');
  const validationDataAdded =
    dssAfter !== undefined &&
    (!sameValue(dssBefore, dssAfter) ||
      (dssAfter.kind === 'ref' && (changed.has(dssAfter.num) || added.has(dssAfter.num))));
  explain(dssBefore, dssAfter);
  reachableAdded(after, dssAfter, added, allowed);

  // The new signature fields: added to /Fields in this update, or an empty signature field now signed.
  const isNewSignature = (value: PdfValue | undefined): boolean => {
    if (value?.kind !== 'ref' || !added.has(value.num)) return false;
    const signature = after.resolveDict(value);
    return signature !== null && isSignatureDict(signature);
  };
  const signatureFields: { num: number; dict: PdfDict }[] = [];
  const filledFields: { num: number; dict: PdfDict }[] = [];
  const knownFields = new Set(fieldsBefore);
  for (const field of fieldsAfter) {
    if (knownFields.has(serialize(field))) continue;
    const dict = field.kind === 'ref' && added.has(field.num) ? after.resolveDict(field) : null;
    if (
      field.kind === 'ref' &&
      dict &&
      nameOf(dict.entries.get('FT')) === 'Sig' &&
      isNewSignature(dict.entries.get('V'))
    )
      signatureFields.push({ num: field.num, dict });
    else if (field.kind === 'ref' && dict && isSignedFormFill(dict))
      filledFields.push({ num: field.num, dict });
    else changes.add('FORM_FIELD_ADDED');
  }
  // Filled fields ride on a signature of the same update; without one they are a plain form change.
  if (filledFields.length > 0 && signatureFields.length === 0) changes.add('FORM_FIELD_ADDED');
  for (const num of changed) {
    const oldDict = before.resolveDict(ref(num, before.entry(num)?.gen ?? 0));
    const newDict = after.resolveDict(ref(num, after.entry(num)?.gen ?? 0));
    if (
      oldDict &&
      newDict &&
      nameOf(oldDict.entries.get('FT')) === 'Sig' &&
      !oldDict.entries.has('V') &&
      isNewSignature(newDict.entries.get('V')) &&
      differingKeys(oldDict, newDict, SIGNED_FIELD_MUTABLE_KEYS).length === 0
    )
      signatureFields.push({ num, dict: newDict });
  }

  // The widgets of the new fields: the field itself when merged with its widget, else its kids.
  const widgets = new Set<number>();
  const isWidget = (dict: PdfDict | null): boolean => nameOf(dict?.entries.get('Subtype')) === 'Widget';
  if (signatureFields.length > 0) {
    for (const field of filledFields) {
      explained.add(field.num);
      reachableAdded(after, field.dict, added, allowed);
      widgets.add(field.num);
    }
    if (filledFields.length > 0) changes.add('SIGNED_FORM_FILLED');
  }
  for (const field of signatureFields) {
    explained.add(field.num);
    reachableAdded(after, field.dict, added, allowed);
    if (isWidget(field.dict)) widgets.add(field.num);
    for (const kid of after.resolveArray(field.dict.entries.get('Kids')))
      if (kid.kind === 'ref' && allowed.has(kid.num) && isWidget(after.resolveDict(kid)))
        widgets.add(kid.num);
  }

  // The pages this update touches: a new version of the page itself, or of its indirect /Annots array. A page
  // is known by its /Type; an orphan page dictionary gains nothing from being treated as a page, and a page
  // without /Type falls to OBJECT_CHANGED below.
  const touchedPages = new Set<number>();
  for (const num of changed) {
    const oldRef = ref(num, before.entry(num)?.gen ?? 0);
    const old = before.resolveDict(oldRef);
    if (old && nameOf(old.entries.get('Type')) === 'Page') touchedPages.add(num);
    const isAnnotsOf = (page: PdfDict): boolean => sameValue(page.entries.get('Annots'), oldRef);
    for (const page of confirmedPages(before, owners.annots.get(num), isAnnotsOf)) touchedPages.add(page);
  }
  for (const num of touchedPages) {
    const page = before.resolveDict(ref(num, before.entry(num)?.gen ?? 0));
    const newPage = after.resolveDict(ref(num, after.entry(num)?.gen ?? 0));
    if (!page || !newPage) continue;
    for (const key of differingKeys(page, newPage, ['Annots']))
      changes.add(key === 'Contents' || key === 'Resources' ? 'PAGE_CONTENT_CHANGED' : 'PAGE_CHANGED');
    const annotsBefore = before.resolveArray(page.entries.get('Annots')).map(serialize);
    const annotsAfter = after.resolveArray(newPage.entries.get('Annots'));
    const annotsAfterText = new Set(annotsAfter.map(serialize));
    if (annotsBefore.some((annot) => !annotsAfterText.has(annot))) changes.add('ANNOTATION_REMOVED');
    const knownAnnots = new Set(annotsBefore);
    for (const annot of annotsAfter) {
      if (!knownAnnots.has(serialize(annot)) && !(annot.kind === 'ref' && widgets.has(annot.num)))
        changes.add('ANNOTATION_ADDED');
    }
    if (newPage.entries.has('Annots') && after.resolve(newPage.entries.get('Annots'))?.kind !== 'array')
      changes.add('PAGE_CHANGED');
    explained.add(num);
    explain(page.entries.get('Annots'), newPage.entries.get('Annots'));
  }

  const infoBefore = before.trailer.entries.get('Info');
  const infoAfter = after.trailer.entries.get('Info');
  const infoUnchanged =
    differingKeys(before.resolveDict(infoBefore), after.resolveDict(infoAfter), INFO_MUTABLE_KEYS).length ===
    0;
  if (infoUnchanged) explain(infoBefore, infoAfter);
  else if (!sameValue(infoBefore, infoAfter)) changes.add('OBJECT_CHANGED');

  for (const num of changed) {
    if (explained.has(num)) continue;
    const isContentOf = (page: PdfDict): boolean => contentNumbers(before, page).includes(num);
    const ofPage = confirmedPages(before, owners.contents.get(num), isContentOf).length > 0;
    changes.add(ofPage ? 'PAGE_CONTENT_CHANGED' : 'OBJECT_CHANGED');
  }
  for (const num of added) if (!explained.has(num) && !allowed.has(num)) changes.add('OBJECT_ADDED');
  if (signatureFields.length > 0) changes.add('SIGNATURE_ADDED');
  if (validationDataAdded) changes.add('VALIDATION_DATA_ADDED');
  if (signatureFields.length === 0 && !validationDataAdded) changes.add('REVISION_WITHOUT_SIGNATURE');
  return changes;
}

/** The whole-file facts every signature's modification check shares, worked out once. */
class RevisionHistory {
  private readonly chain: SectionChain;
  /** For each object number, the sections (newest first) that list it: a revision's entry is a lookup. */
  private readonly sectionsListing = new Map<number, number[]>();
  private readonly states = new Map<number, RevisionState>();
  private readonly analysed = new Map<number, Set<ChangeCode>>();
  private readonly answered = new Map<number, ChangeCode[]>();
  private readonly cache: LoadCache = new Map();
  /** Where the file's content ends: after the final %%EOF and the whitespace after it. */
  readonly contentEnd: number;

  private readonly owners: PageOwners;

  constructor(
    private readonly layout: FileLayout,
    private readonly objects: readonly ScannedObject[],
  ) {
    this.owners = indexPageOwners(objects);
    this.chain = readSectionChain(layout.bytes);
    this.chain.sections.forEach((section, index) => {
      for (const num of section.entries.keys()) {
        const listing = this.sectionsListing.get(num);
        if (listing) listing.push(index);
        else this.sectionsListing.set(num, [index]);
      }
    });
    this.contentEnd = endOfContent(layout.bytes);
  }

  /** The state of the document with sections `index` (newest first) and older. */
  private state(index: number): RevisionState {
    let state = this.states.get(index);
    if (!state) {
      const section = this.chain.sections[index];
      if (!section) throw new PdfStructureError('no such revision');
      const entry = (num: number): XrefEntry | undefined => {
        const newest = firstAtOrAfter(this.sectionsListing.get(num) ?? [], index);
        return newest === null ? undefined : this.chain.sections[newest]?.entries.get(num);
      };
      state = new RevisionState(this.layout, entry, section.trailer, this.cache);
      this.states.set(index, state);
    }
    return state;
  }

  private revisionChanges(index: number): Set<ChangeCode> {
    let changes = this.analysed.get(index);
    if (!changes) {
      const section = this.chain.sections[index];
      try {
        if (!section) throw new PdfStructureError('no such revision');
        changes = analyseRevision(this.state(index + 1), this.state(index), section, this.owners);
      } catch {
        changes = new Set<ChangeCode>(['UNPARSEABLE_UPDATE']);
      }
      this.analysed.set(index, changes);
    }
    return changes;
  }

  /** What the file went through after its first `signedLength` bytes, which a signature covers. */
  changesAfter(signedLength: number): ChangeCode[] {
    let answer = this.answered.get(signedLength);
    if (!answer) {
      answer = this.analyseAfter(signedLength);
      this.answered.set(signedLength, answer);
    }
    return [...answer];
  }

  private analyseAfter(signedLength: number): ChangeCode[] {
    const bytes = this.layout.bytes;
    if (signedLength >= bytes.length || this.isOnlyEndOfLine(signedLength)) return [];
    const changes = new Set<ChangeCode>();
    // The signed bytes must be a complete revision, ending with its %%EOF, for the rest to be updates.
    const signedText = bytes.toString('latin1', Math.max(0, signedLength - 1024), signedLength);
    let signedStartxref = -1;
    try {
      if (!/%%EOF[\r\n]*$/.test(signedText))
        throw new PdfStructureError('the signature ends inside a revision');
      signedStartxref = findStartxref(bytes.subarray(0, signedLength));
    } catch {
      return ['UNPARSEABLE_UPDATE'];
    }
    const signedIndex = this.chain.sections.findIndex((section) => section.offset === signedStartxref);
    const later = this.chain.sections.slice(0, Math.max(0, signedIndex));
    if (!this.chain.complete || signedIndex < 0 || later.some((section) => section.offset < signedLength))
      return ['UNPARSEABLE_UPDATE'];
    for (let index = signedIndex - 1; index >= 0; index--)
      for (const code of this.revisionChanges(index)) changes.add(code);

    // Objects after the signature that no later table lists, or anything after the final %%EOF, are bytes a
    // repairing reader might still use: report them.
    const listed = new Set<string>();
    for (const section of later)
      for (const [num, entry] of section.entries) if (entry.inUse) listed.add(`${num}@${entry.offset}`);
    const unlisted = this.objects.some(
      (object) => object.offset >= signedLength && !listed.has(`${object.num}@${object.offset}`),
    );
    if (unlisted || this.contentEnd < bytes.length) changes.add('DATA_OUTSIDE_REVISIONS');
    return CHANGE_CODES.filter((code) => changes.has(code));
  }

  /** True when all that follows `offset` is one end of line after a %%EOF. */
  isOnlyEndOfLine(offset: number): boolean {
    const bytes = this.layout.bytes;
    if (offset < 5 || bytes.length - offset > 2) return false;
    const rest = bytes.toString('latin1', offset);
    return (
      (rest === '\n' || rest === '\r\n' || rest === '\r') &&
      bytes.toString('latin1', offset - 5, offset) === '%%EOF'
    );
  }
}

/** The end of the final %%EOF line; whitespace after it is tolerated, anything else is not content. */
function endOfContent(bytes: Buffer): number {
  const eof = bytes.lastIndexOf('%%EOF');
  if (eof < 0) return bytes.length;
  let end = eof + 5;
  while (end < bytes.length && WHITESPACE.has(bytes[end] as number)) end++;
  return end;
}

// ---- CMS ------------------------------------------------------------------------------------------------

const { Class, Type } = forge.asn1;

type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const HASHES: Record<string, HashName> = {
  '1.3.14.3.2.26': 'sha1',
  [CMS_OID.sha256]: 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
// SHA-1 is read only where old structures name it (ESSCertID); it never counts for a signature.
const SIGNATURE_HASHES: readonly HashName[] = ['sha256', 'sha384', 'sha512'];

type KeyFamily = 'rsa' | 'rsa-pss' | 'ec';
const SIGNATURE_ALGORITHMS: Record<string, { family: KeyFamily; hash?: HashName }> = {
  [CMS_OID.rsaEncryption]: { family: 'rsa' },
  '1.2.840.113549.1.1.11': { family: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { family: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { family: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { family: 'rsa-pss' },
  '1.2.840.10045.2.1': { family: 'ec' },
  [CMS_OID.ecdsaWithSha256]: { family: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { family: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { family: 'ec', hash: 'sha512' },
};

const CMS_OIDS = {
  ...CMS_OID,
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  mgf1: '1.2.840.113549.1.1.8',
  timeStamping: '1.3.6.1.5.5.7.3.8',
} as const;

const MAX_CERTIFICATES = 32;

/** The child at `index`, or a MALFORMED_CMS failure. */
function child(node: Asn1 | undefined, index: number): Asn1 {
  const found = node && Array.isArray(node.value) ? node.value[index] : undefined;
  if (!found) throw new SignatureCheckFailure('MALFORMED_CMS');
  return found;
}

function isUniversal(node: Asn1 | undefined, type: number): node is Asn1 {
  return node !== undefined && node.tagClass === Class.UNIVERSAL && node.type === type;
}

function hashOf(algorithm: Asn1): HashName {
  const hash = HASHES[oidOf(child(algorithm, 0))];
  if (!hash) throw new SignatureCheckFailure('UNSUPPORTED_ALGORITHM');
  return hash;
}

/** The DER inside /Contents: one ContentInfo, followed by the zero padding the placeholder left. */
function parseContentInfo(bytes: Buffer): Asn1 {
  if (bytes[0] !== 0x30 || bytes.length < 2) throw new SignatureCheckFailure('MALFORMED_CMS');
  const first = bytes[1] as number;
  let total: number;
  if (first < 0x80) total = 2 + first;
  else {
    const size = first & 0x7f;
    if (size === 0 || size > 4) throw new SignatureCheckFailure('MALFORMED_CMS');
    total = 2 + size + bytes.subarray(2, 2 + size).readUIntBE(0, size);
  }
  if (total > bytes.length || bytes.subarray(total).some((byte) => byte !== 0))
    throw new SignatureCheckFailure('MALFORMED_CMS');
  try {
    return fromDerBuffer(bytes.subarray(0, total));
  } catch {
    throw new SignatureCheckFailure('MALFORMED_CMS');
  }
}

interface SignedDataCheck {
  problems: SignatureProblem[];
  digestMatches: boolean;
  signatureVerifies: boolean;
  signer: CertificateInfo | null;
  certificates: CertificateInfo[];
  signatureValue: Buffer | null;
  unsignedAttributes: Map<string, Asn1[]>;
  contentType: string | null;
  content: Buffer | null;
}

function attributesOf(node: Asn1): Map<string, Asn1[]> {
  const attributes = new Map<string, Asn1[]>();
  for (const attribute of children(node)) {
    const type = oidOf(child(attribute, 0));
    // RFC 5652 5.3: message-digest and content-type appear once; a second copy could say something else.
    if (attributes.has(type)) throw new SignatureCheckFailure('MALFORMED_CMS');
    attributes.set(type, children(child(attribute, 1)));
  }
  return attributes;
}

function publicKeyOf(certificate: CertificateInfo): KeyObject {
  return createPublicKey({ key: certificate.subjectPublicKeyInfoDer, format: 'der', type: 'spki' });
}

/** RSASSA-PSS-params (RFC 4055): Node's verify takes the salt length, and uses the same hash for MGF1. */
function pssParameters(parameters: Asn1 | undefined): { hash: HashName; saltLength: number } {
  let hash: HashName = 'sha1';
  let maskHash: HashName = 'sha1';
  let saltLength = 20;
  for (const field of parameters && Array.isArray(parameters.value) ? children(parameters) : []) {
    const inner = child(field, 0);
    if (isContextTag(field, 0)) hash = hashOf(inner);
    else if (isContextTag(field, 1)) {
      if (oidOf(child(inner, 0)) !== CMS_OIDS.mgf1) throw new SignatureCheckFailure('UNSUPPORTED_ALGORITHM');
      maskHash = hashOf(child(inner, 1));
    } else if (isContextTag(field, 2))
      saltLength = valueBytes(inner).readUIntBE(0, Math.min(6, valueBytes(inner).length));
  }
  if (!SIGNATURE_HASHES.includes(hash) || maskHash !== hash)
    throw new SignatureCheckFailure('UNSUPPORTED_ALGORITHM');
  return { hash, saltLength };
}

function signatureVerifies(
  algorithm: Asn1,
  digestHash: HashName,
  data: Buffer,
  signature: Buffer,
  certificate: CertificateInfo,
): boolean {
  const known = SIGNATURE_ALGORITHMS[oidOf(child(algorithm, 0))];
  if (!known) throw new SignatureCheckFailure('UNSUPPORTED_ALGORITHM');
  const key = publicKeyOf(certificate);
  const keyType = key.asymmetricKeyType;
  try {
    if (known.family === 'rsa-pss') {
      if (keyType !== 'rsa' && keyType !== 'rsa-pss') return false;
      const { hash, saltLength } = pssParameters(child(algorithm, 1));
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
    if (keyType !== known.family) return false;
    const hash = known.hash ?? digestHash;
    if (!SIGNATURE_HASHES.includes(hash)) throw new SignatureCheckFailure('UNSUPPORTED_ALGORITHM');
    return verify(hash, data, key, signature);
  } catch (error) {
    if (error instanceof SignatureCheckFailure) throw error;
    // OpenSSL rejects some malformed signatures by throwing rather than answering false.
    return false;
  }
}

/**
 * ESSCertIDv2 (RFC 5035) or ESSCertID (RFC 2634): the first entry must be the signer certificate's hash,
 * and, when it names the issuer and serial, that certificate's serial.
 */
function signingCertificateMatches(attribute: Asn1, certificate: CertificateInfo, version: 1 | 2): boolean {
  const certId = child(child(attribute, 0), 0);
  const fields = children(certId);
  let index = 0;
  let hash: HashName = version === 2 ? 'sha256' : 'sha1';
  if (version === 2 && isUniversal(fields[0], Type.SEQUENCE)) {
    hash = hashOf(fields[0]);
    index = 1;
  }
  const certHash = valueBytes(child(certId, index));
  if (!createHash(hash).update(certificate.der).digest().equals(certHash)) return false;
  const issuerSerial = fields[index + 1];
  if (!issuerSerial) return true;
  const serial = child(issuerSerial, 1);
  return normalizeSerial(valueBytes(serial).toString('hex') || '0') === certificate.serialNumber;
}

/**
 * Checks a SignedData: over `detached` (the PDF's byte ranges) or over its own encapsulated content. Answers
 * what held; structural failures become problems rather than exceptions.
 */
function checkSignedData(contentInfo: Asn1, detached: readonly Buffer[] | null): SignedDataCheck {
  const result: SignedDataCheck = {
    problems: [],
    digestMatches: false,
    signatureVerifies: false,
    signer: null,
    certificates: [],
    signatureValue: null,
    unsignedAttributes: new Map(),
    contentType: null,
    content: null,
  };
  const fail = (code: SignatureProblem): SignedDataCheck => {
    if (!result.problems.includes(code)) result.problems.push(code);
    return result;
  };
  try {
    if (oidOf(child(contentInfo, 0)) !== CMS_OID.signedData || !isContextTag(child(contentInfo, 1), 0))
      return fail('MALFORMED_CMS');
    const signedData = child(child(contentInfo, 1), 0);
    const fields = children(signedData);
    const encapsulated = child(signedData, 2);
    result.contentType = oidOf(child(encapsulated, 0));
    const eContent = children(encapsulated)[1];
    if (eContent) {
      const octets = child(eContent, 0);
      if (!isContextTag(eContent, 0) || !isUniversal(octets, Type.OCTETSTRING)) return fail('MALFORMED_CMS');
      result.content = valueBytes(octets);
    }
    if (detached && result.content !== null) return fail('CMS_NOT_DETACHED');
    if (!detached && result.content === null) return fail('MALFORMED_CMS');

    for (const node of fields.slice(3)) {
      if (!isContextTag(node, 0)) continue;
      // Each certificate may be tried against every other on the way to a root: a real CMS holds a few.
      for (const certificate of children(node).slice(0, MAX_CERTIFICATES)) {
        if (!isUniversal(certificate, Type.SEQUENCE)) continue;
        try {
          result.certificates.push(readCertificate(toDerBuffer(certificate)));
        } catch {
          // A certificate this reader cannot parse cannot be the signer's or a link of its chain.
        }
      }
    }

    const signerInfos = fields[fields.length - 1];
    if (!isUniversal(signerInfos, Type.SET)) return fail('MALFORMED_CMS');
    const infos = children(signerInfos);
    if (infos.length !== 1) fail('NOT_ONE_SIGNER');
    const signerInfo = infos[0];
    if (!signerInfo) return result;
    const parts = children(signerInfo);
    const sid = child(signerInfo, 1);
    const digestHash = hashOf(child(signerInfo, 2));
    if (!SIGNATURE_HASHES.includes(digestHash)) return fail('UNSUPPORTED_ALGORITHM');
    let index = 3;
    const signedAttributesNode =
      parts[index] && isContextTag(parts[index] as Asn1, 0) ? parts[index++] : undefined;
    const signatureAlgorithm = child(signerInfo, index++);
    const signatureNode = child(signerInfo, index++);
    if (!isUniversal(signatureNode, Type.OCTETSTRING)) return fail('MALFORMED_CMS');
    result.signatureValue = valueBytes(signatureNode);
    const unsignedNode = parts[index];
    if (unsignedNode && isContextTag(unsignedNode, 1)) result.unsignedAttributes = attributesOf(unsignedNode);

    if (isUniversal(sid, Type.SEQUENCE)) {
      const issuer = toDerBuffer(child(sid, 0));
      const serial = normalizeSerial(valueBytes(child(sid, 1)).toString('hex') || '0');
      result.signer =
        result.certificates.find((c) => c.issuerDer.equals(issuer) && c.serialNumber === serial) ?? null;
    } else if (isContextTag(sid, 0)) {
      const keyId = valueBytes(sid);
      result.signer = result.certificates.find((c) => c.subjectKeyIdentifier?.equals(keyId)) ?? null;
    }
    if (!result.signer) return fail('SIGNER_CERTIFICATE_NOT_FOUND');

    const contentHash = createHash(digestHash);
    for (const part of detached ?? [result.content as Buffer]) contentHash.update(part);
    const digest = contentHash.digest();

    if (signedAttributesNode) {
      const attributes = attributesOf(signedAttributesNode);
      const contentType = attributes.get(CMS_OID.contentType);
      const messageDigest = attributes.get(CMS_OID.messageDigest);
      if (contentType?.length !== 1 || oidOf(contentType[0] as Asn1) !== result.contentType)
        return fail('MALFORMED_CMS');
      const digestValue = messageDigest?.length === 1 ? messageDigest[0] : undefined;
      if (!isUniversal(digestValue, Type.OCTETSTRING)) return fail('MALFORMED_CMS');
      result.digestMatches = valueBytes(digestValue).equals(digest);
      if (!result.digestMatches) fail('DIGEST_MISMATCH');
      for (const [oid, version] of [
        [CMS_OID.signingCertificateV2, 2],
        [CMS_OIDS.signingCertificate, 1],
      ] as const) {
        const value = attributes.get(oid)?.[0];
        if (value && !signingCertificateMatches(value, result.signer, version))
          fail('SIGNING_CERTIFICATE_MISMATCH');
      }
      // RFC 5652 5.4: the signature covers the attributes DER-encoded with the universal SET tag.
      const signedBytes = toDerBuffer(der.set(children(signedAttributesNode)));
      result.signatureVerifies = signatureVerifies(
        signatureAlgorithm,
        digestHash,
        signedBytes,
        result.signatureValue,
        result.signer,
      );
    } else {
      // Without signed attributes (allowed for adbe.pkcs7.detached) the signature is over the content itself.
      const content = Buffer.concat([...(detached ?? [result.content as Buffer])]);
      result.signatureVerifies = signatureVerifies(
        signatureAlgorithm,
        digestHash,
        content,
        result.signatureValue,
        result.signer,
      );
      result.digestMatches = result.signatureVerifies;
      if (!result.digestMatches) fail('DIGEST_MISMATCH');
    }
    if (!result.signatureVerifies) fail('SIGNATURE_INVALID');
    return result;
  } catch (error) {
    return fail(error instanceof SignatureCheckFailure ? error.code : 'MALFORMED_CMS');
  }
}

// ---- Certificates ---------------------------------------------------------------------------------------

const NAME_LABELS: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.country]: 'C',
  [OID.locality]: 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.title]: 'title',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function directoryString(node: Asn1): string {
  const bytes = valueBytes(node);
  // UniversalString (28) is missing from forge's Type enumeration.
  switch (node.type as number) {
    case Type.UTF8:
      return bytes.toString('utf8');
    case Type.BMPSTRING:
      return Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)))
        .swap16()
        .toString('utf16le');
    case 28: {
      // UniversalString: UTF-32BE.
      let text = '';
      for (let i = 0; i + 3 < bytes.length; i += 4)
        text += String.fromCodePoint(Math.min(bytes.readUInt32BE(i), 0x10ffff));
      return text;
    }
    default:
      return bytes.toString('latin1');
  }
}

/** The attributes of a Name, in the order they are encoded (most general first). */
function nameAttributes(nameDer: Buffer): [string, string][] {
  const attributes: [string, string][] = [];
  for (const rdn of children(fromDerBuffer(nameDer))) {
    for (const pair of children(rdn)) {
      const type = oidOf(child(pair, 0));
      attributes.push([NAME_LABELS[type] ?? type, directoryString(child(pair, 1))]);
    }
  }
  return attributes;
}

/** RFC 4514 string form: most specific first, with its escapes. */
function formatName(nameDer: Buffer): string {
  try {
    return nameAttributes(nameDer)
      .reverse()
      .map(([label, value]) => {
        const escaped = value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[ #]| $/g, (c) => `\\${c}`);
        return `${label}=${escaped.normalize('NFC')}`;
      })
      .join(', ');
  } catch {
    return '';
  }
}

function signerSummary(certificate: CertificateInfo): SignerSummary {
  let attributes: [string, string][] = [];
  try {
    attributes = nameAttributes(certificate.subjectDer);
  } catch {
    // An unreadable subject still leaves the serial number and issuer to show.
  }
  const first = (label: string): string | null =>
    attributes.find(([key]) => key === label)?.[1].normalize('NFC') ?? null;
  return {
    commonName: first('CN'),
    organization: first('O'),
    title: first('title'),
    serialNumber: certificate.serialNumber,
    issuer: formatName(certificate.issuerDer),
  };
}

const certificateSummary = (certificate: CertificateInfo): CertificateSummary => ({
  subject: formatName(certificate.subjectDer),
  issuer: formatName(certificate.issuerDer),
  serialNumber: certificate.serialNumber,
  notBefore: certificate.notBefore.toISOString(),
  notAfter: certificate.notAfter.toISOString(),
});

const pemOf = (certificate: CertificateInfo): string => derToPem(certificate.der, 'CERTIFICATE');

function readRoots(trustedRootsPem: readonly string[]): CertificateInfo[] {
  const roots: CertificateInfo[] = [];
  for (const pem of trustedRootsPem) {
    try {
      roots.push(readCertificate(pem));
    } catch {
      // An unreadable root trusts nothing; the others still count.
    }
  }
  return roots;
}

/** The signer certificate and its issuers, as far as signatures link them, for display. */
function displayChain(signer: CertificateInfo, pool: readonly CertificateInfo[]): CertificateSummary[] {
  const chain = [certificateSummary(signer)];
  try {
    const candidates = pool.map((info) => ({ info, x509: new X509Certificate(info.der) }));
    let current = new X509Certificate(signer.der);
    const used = new Set<string>([current.fingerprint256]);
    for (let depth = 0; depth < 8; depth++) {
      const issuer = candidates.find(
        (c) =>
          !used.has(c.x509.fingerprint256) && current.checkIssued(c.x509) && current.verify(c.x509.publicKey),
      );
      if (!issuer) break;
      used.add(issuer.x509.fingerprint256);
      chain.push(certificateSummary(issuer.info));
      current = issuer.x509;
    }
  } catch {
    // The chain shown is only informative; trust was decided by reachesTrustedRoot.
  }
  return chain;
}

interface TrustCheck {
  chainTrusted: boolean;
  validAtTime: boolean;
  notRevoked: boolean;
  revokedAt: Date | null;
}

function checkTrust(
  certificate: CertificateInfo,
  pool: readonly CertificateInfo[],
  options: VerifyPdfOptions,
  at: Date,
): TrustCheck {
  let chainTrusted = false;
  try {
    chainTrusted = reachesTrustedRoot(pemOf(certificate), pool.map(pemOf), options.trustedRootsPem, at);
  } catch {
    chainTrusted = false;
  }
  let revokedAt: Date | null = null;
  try {
    revokedAt = options.revokedAt?.(certificate.serialNumber) ?? null;
  } catch {
    // A revocation lookup that fails cannot vouch for the certificate.
    revokedAt = new Date(0);
  }
  return {
    chainTrusted,
    validAtTime: certificate.notBefore <= at && at <= certificate.notAfter,
    notRevoked: revokedAt === null || revokedAt > at,
    revokedAt,
  };
}

function generalizedTime(node: Asn1): Date {
  const text = valueBytes(node).toString('latin1');
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?Z$/.exec(text);
  if (!isUniversal(node, Type.GENERALIZEDTIME) || !match)
    throw new SignatureCheckFailure('TIMESTAMP_INVALID');
  const [, year, month, day, hour, minute, second, fraction] = match;
  const millis = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  return new Date(
    Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
      millis,
    ),
  );
}

interface TimestampCheck {
  time: Date | null;
  problem: SignatureProblem | null;
  tsa: CertificateInfo | null;
}

/**
 * An RFC 3161 token: its own SignedData must verify, its TSTInfo's message imprint must be the hash of
 * `imprinted` (the signature value, or for a document time-stamp the byte ranges), and the TSA certificate,
 * meant for time-stamping, must chain to a trusted root and be valid and unrevoked at genTime.
 */
function checkTimestampToken(
  token: Asn1,
  imprinted: readonly Buffer[],
  options: VerifyPdfOptions,
): TimestampCheck & { signedData: SignedDataCheck | null } {
  const failed = (problem: SignatureProblem, signedData: SignedDataCheck | null = null) => ({
    time: null,
    problem,
    tsa: signedData?.signer ?? null,
    signedData,
  });
  const signedData = checkSignedData(token, null);
  try {
    if (
      signedData.problems.length > 0 ||
      !signedData.digestMatches ||
      !signedData.signatureVerifies ||
      signedData.contentType !== CMS_OIDS.tstInfo ||
      !signedData.content ||
      !signedData.signer
    )
      return failed('TIMESTAMP_INVALID', signedData);
    const tstInfo = fromDerBuffer(signedData.content);
    const imprint = child(tstInfo, 2);
    const hash = hashOf(child(imprint, 0));
    if (!SIGNATURE_HASHES.includes(hash)) return failed('TIMESTAMP_INVALID', signedData);
    const digest = createHash(hash);
    for (const part of imprinted) digest.update(part);
    if (!valueBytes(child(imprint, 1)).equals(digest.digest()))
      return failed('TIMESTAMP_INVALID', signedData);
    const time = generalizedTime(child(tstInfo, 4));

    const tsa = signedData.signer;
    const trust = checkTrust(tsa, signedData.certificates, options, time);
    const forTimeStamping = tsa.extKeyUsage?.includes(CMS_OIDS.timeStamping) === true;
    if (!trust.chainTrusted || !trust.validAtTime || !trust.notRevoked || !forTimeStamping)
      return { time, problem: 'TIMESTAMP_UNTRUSTED', tsa, signedData };
    return { time, problem: null, tsa, signedData };
  } catch {
    return failed('TIMESTAMP_INVALID', signedData);
  }
}

// ---- One signature --------------------------------------------------------------------------------------

const DETACHED_SUBFILTERS = new Set(['ETSI.CAdES.detached', 'adbe.pkcs7.detached']);
const DOCUMENT_TIMESTAMP_SUBFILTER = 'ETSI.RFC3161';

interface FileContext {
  bytes: Buffer;
  fields: FieldIndex;
  history: RevisionHistory;
  options: VerifyPdfOptions;
  /** Read once for all signatures. */
  roots: CertificateInfo[];
}

function emptyReport(index: number, fieldName: string | null): SignatureReport {
  return {
    index,
    fieldName,
    signer: null,
    signingTime: null,
    timestamped: false,
    subFilter: null,
    byteRange: null,
    valid: false,
    trusted: false,
    coversWholeDocument: false,
    modifiedAfter: false,
    chain: [],
    checks: {
      bytesIntact: false,
      digestMatches: false,
      signatureVerifies: false,
      chainTrusted: false,
      certificateValidAtSigningTime: false,
      notRevokedAtSigningTime: false,
      byteRangeSound: false,
    },
    changesAfter: [],
    problems: [],
  };
}

const addProblem = (report: SignatureReport, problem: SignatureProblem): void => {
  if (!report.problems.includes(problem)) report.problems.push(problem);
};

/** The four integers of /ByteRange, or null when it is not an array of four non-negative integers. */
function byteRangeOf(value: PdfValue | undefined): number[] | null {
  if (value?.kind !== 'array' || value.items.length !== 4) return null;
  const numbers = value.items.map(integerOf);
  return numbers.every((n): n is number => n !== null && Number.isSafeInteger(n)) ? numbers : null;
}

function verifyCandidate(
  candidate: SignatureCandidate,
  index: number,
  context: FileContext,
): SignatureReport {
  const { bytes, options } = context;
  const report = emptyReport(index, fieldNameOf(candidate, context.fields));
  const located = candidate.located;
  if (!located) {
    addProblem(report, 'MALFORMED_SIGNATURE_DICTIONARY');
    return report;
  }
  const entries = located.dict.entries;
  report.subFilter = nameOf(entries.get('SubFilter'));
  const byteRange = byteRangeOf(entries.get('ByteRange'));
  report.byteRange = byteRange;
  const contents = entries.get('Contents');
  const contentsBytes =
    contents?.kind === 'raw' && contents.text.startsWith('<') ? stringBytes(contents) : null;
  if (!byteRange || !contentsBytes) {
    addProblem(report, 'MALFORMED_SIGNATURE_DICTIONARY');
    return report;
  }

  const [start, firstLength, secondStart, secondLength] = byteRange as [number, number, number, number];
  const signedEnd = secondStart + secondLength;
  const rangesInFile = start === 0 && firstLength < secondStart && signedEnd <= bytes.length;
  const contentsOffset = located.valueOffsets.get('Contents');
  const gap = rangesInFile ? bytes.toString('latin1', firstLength, secondStart) : '';
  report.checks.byteRangeSound =
    rangesInFile &&
    contentsOffset === firstLength &&
    /^<[0-9A-Fa-f]*>$/.test(gap) &&
    gap === (contents as { text: string }).text;
  if (!report.checks.byteRangeSound) addProblem(report, 'BYTE_RANGE_GAP_NOT_CONTENTS');
  report.coversWholeDocument =
    rangesInFile && (signedEnd === bytes.length || context.history.isOnlyEndOfLine(signedEnd));

  const ranges = rangesInFile
    ? [bytes.subarray(0, firstLength), bytes.subarray(secondStart, signedEnd)]
    : null;
  const claimedTime = pdfDateOf(entries.get('M'));
  let signingTime: Date | null = claimedTime;
  let signer: CertificateInfo | null = null;
  let pool: CertificateInfo[] = [];

  const isDocumentTimestamp = report.subFilter === DOCUMENT_TIMESTAMP_SUBFILTER;
  if (report.subFilter === null || (!DETACHED_SUBFILTERS.has(report.subFilter) && !isDocumentTimestamp)) {
    addProblem(report, 'UNSUPPORTED_SUBFILTER');
  } else if (ranges) {
    try {
      const contentInfo = parseContentInfo(contentsBytes);
      if (isDocumentTimestamp) {
        // A document time-stamp (PAdES B-LTA) is a token whose imprint is the hash of the byte ranges.
        const token = checkTimestampToken(contentInfo, ranges, options);
        const signedData = token.signedData;
        signer = token.tsa;
        pool = signedData?.certificates ?? [];
        report.checks.signatureVerifies = signedData?.signatureVerifies === true;
        report.checks.digestMatches = token.time !== null;
        if (token.time) {
          signingTime = token.time;
          report.timestamped = token.problem === null;
        }
        for (const problem of signedData?.problems ?? []) addProblem(report, problem);
        if (!token.time)
          addProblem(report, report.checks.signatureVerifies ? 'DIGEST_MISMATCH' : 'SIGNATURE_INVALID');
        // The signer of a document time-stamp is trusted only as a time-stamping authority.
        if (token.problem) addProblem(report, token.problem);
      } else {
        const signedData = checkSignedData(contentInfo, ranges);
        signer = signedData.signer;
        pool = signedData.certificates;
        report.checks.digestMatches = signedData.digestMatches;
        report.checks.signatureVerifies = signedData.signatureVerifies;
        for (const problem of signedData.problems) addProblem(report, problem);
        const token = signedData.unsignedAttributes.get(CMS_OID.signatureTimeStampToken)?.[0];
        if (token && signedData.signatureValue) {
          const stamp = checkTimestampToken(token, [signedData.signatureValue], options);
          if (stamp.problem) addProblem(report, stamp.problem);
          else if (stamp.time) {
            signingTime = stamp.time;
            report.timestamped = true;
          }
        }
      }
    } catch (error) {
      addProblem(report, error instanceof SignatureCheckFailure ? error.code : 'MALFORMED_CMS');
    }
  }
  report.checks.bytesIntact = rangesInFile && report.checks.digestMatches;
  report.signingTime = signingTime?.toISOString() ?? null;

  const structural: readonly SignatureProblem[] = [
    'MALFORMED_CMS',
    'CMS_NOT_DETACHED',
    'NOT_ONE_SIGNER',
    'UNSUPPORTED_ALGORITHM',
    'UNSUPPORTED_SUBFILTER',
    'SIGNER_CERTIFICATE_NOT_FOUND',
    'SIGNING_CERTIFICATE_MISMATCH',
  ];
  report.valid =
    report.checks.byteRangeSound &&
    report.checks.bytesIntact &&
    report.checks.signatureVerifies &&
    !report.problems.some((problem) => structural.includes(problem));

  if (signer) {
    const at = signingTime ?? options.now;
    report.signer = signerSummary(signer);
    report.chain = displayChain(signer, [...pool, ...context.roots]);
    const trust = checkTrust(signer, pool, options, at);
    report.checks.chainTrusted = trust.chainTrusted;
    report.checks.certificateValidAtSigningTime = trust.validAtTime;
    report.checks.notRevokedAtSigningTime = trust.notRevoked;
    if (!trust.chainTrusted) addProblem(report, 'UNTRUSTED_CHAIN');
    if (at < signer.notBefore) addProblem(report, 'CERTIFICATE_NOT_YET_VALID_AT_SIGNING');
    if (at > signer.notAfter) addProblem(report, 'CERTIFICATE_EXPIRED_AT_SIGNING');
    if (!trust.notRevoked) addProblem(report, 'CERTIFICATE_REVOKED');
    // Without a verified time-stamp the signing time is only the signer's claim: whoever holds a stolen key
    // can backdate /M to before the revocation. So any revocation makes such a signature untrusted.
    const revokedClaimOnly = trust.notRevoked && trust.revokedAt !== null && !report.timestamped;
    if (revokedClaimOnly) {
      addProblem(report, 'CERTIFICATE_REVOKED_AFTER_CLAIMED_TIME');
      report.checks.notRevokedAtSigningTime = false;
    }
    report.trusted =
      report.checks.signatureVerifies &&
      trust.chainTrusted &&
      trust.validAtTime &&
      trust.notRevoked &&
      !revokedClaimOnly &&
      !(isDocumentTimestamp && report.problems.includes('TIMESTAMP_UNTRUSTED'));
  }

  if (rangesInFile) {
    report.changesAfter = context.history.changesAfter(signedEnd);
    report.modifiedAfter = report.changesAfter.some((code) => !ALLOWED_CHANGES.has(code));
    if (report.modifiedAfter) addProblem(report, 'MODIFIED_AFTER_SIGNING');
  }
  return report;
}

// ---- The file -------------------------------------------------------------------------------------------

/** The header may follow up to a kilobyte of other bytes (32000-1, annex H, and common practice). */
function hasPdfHeader(bytes: Buffer): boolean {
  return bytes.subarray(0, 1024).indexOf('%PDF-', 0, 'latin1') >= 0;
}

// A document with more signatures than this is not one the portal or any approval chain produces; the
// bound keeps the work per upload proportional to its size.
export const MAX_SIGNATURES = 100;

/** Verifies every signature in `bytes`; never throws. */
export function verifyPdf(bytes: Buffer, options: VerifyPdfOptions): PdfVerification {
  // A hostile file makes the parser fail once per broken object, and capturing the stack of each error,
  // which nobody reads, was most of the time spent on such files. The verifier runs synchronously, so no
  // other code sees the lowered limit before it is restored.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return verifyFile(bytes, options);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/**
 * A later revision's additions are excused only as another signature: that holds only if the later
 * signature itself is valid and trusted. An unsigned, broken or untrusted "signature" (or one whose read-only
 * fields paint over the page) would otherwise launder anything it brings. So every signature followed by
 * one that is not good is reported as modified after.
 */
function excuseOnlyGoodSignatures(signatures: SignatureReport[]): void {
  signatures.forEach((report, index) => {
    const later = signatures.slice(index + 1);
    if (later.length === 0 || later.every((s) => s.valid && s.trusted)) return;
    if (!report.changesAfter.includes('UNTRUSTED_SIGNATURE_ADDED'))
      report.changesAfter.push('UNTRUSTED_SIGNATURE_ADDED');
    if (!report.modifiedAfter) {
      report.modifiedAfter = true;
      addProblem(report, 'MODIFIED_AFTER_SIGNING');
    }
  });
}

function verifyFile(bytes: Buffer, options: VerifyPdfOptions): PdfVerification {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (!hasPdfHeader(bytes)) return { sha256, isPdf: false, signatures: [], problems: ['NOT_A_PDF'] };

  let layout: FileLayout;
  try {
    layout = new FileLayout(bytes);
  } catch {
    return { sha256, isPdf: true, signatures: [], problems: ['VERIFICATION_FAILED'] };
  }
  const objects = scanObjects(layout);
  const candidates = findSignatures(objects);
  const context: FileContext = {
    bytes,
    fields: indexFields(objects),
    history: new RevisionHistory(layout, objects),
    options,
    roots: readRoots(options.trustedRootsPem),
  };
  const signatures = candidates.slice(0, MAX_SIGNATURES).map((candidate, index) => {
    try {
      return verifyCandidate(candidate, index, context);
    } catch {
      const report = emptyReport(index, null);
      addProblem(report, 'VERIFICATION_FAILED');
      return report;
    }
  });
  excuseOnlyGoodSignatures(signatures);
  const problems: FileProblem[] = [];
  if (signatures.length === 0) problems.push('NO_SIGNATURES');
  if (candidates.length > MAX_SIGNATURES) problems.push('TOO_MANY_SIGNATURES');
  return { sha256, isPdf: true, signatures, problems };
}
