import { createHash, randomBytes } from 'node:crypto';
import signpdf, { SignPdfError } from '@signpdf/signpdf';
import { Signer as ExternalSigner } from '@signpdf/utils';
import forge from 'node-forge';
import { AppError } from '../errors';
import { CMS_OID, buildCadesDetached } from './cms';
import {
  type Asn1,
  children,
  der,
  fromDerBuffer,
  isContextTag,
  oidOf,
  toDerBuffer,
  valueBytes,
} from './derCodec';
import {
  IncrementalUpdate,
  type PdfArray,
  type PdfDict,
  type PdfDocumentStructure,
  type PdfRef,
  type PdfValue,
  PdfStructureError,
  array,
  dict,
  name,
  raw,
  readDict,
  readObject,
  readPdfStructure,
  resolve,
} from './pdfIncrementalUpdate';
import { AppearanceBuilder, type SignatureWidget } from './signatureAppearance';
import type { Signer } from './signer';

export type { AppearanceItem, RgbColor, SignatureWidget } from './signatureAppearance';

/**
 * PAdES baseline signatures (ETSI EN 319 142-1: B-B, and B-T with a time-stamp) on the portal's PDFs. Every
 * signature is one incremental update holding the signature dictionary, its field and widgets, new versions
 * of the pages and of the AcroForm, and the appearance fonts, so the approver's signature and the agency's
 * seal after it each cover everything written before them. @signpdf/signpdf only fills /ByteRange and
 * /Contents: its placeholder helpers rewrite the trailer loosely and its P12 signer adds attributes PAdES
 * forbids, so the structure and the CMS are built here.
 */

export interface SignPdfOptions {
  signer: Signer;
  /** The claimed signing time, written as /M; PAdES keeps it out of the CMS. */
  signingTime: Date;
  /** Partial field name (/T), unique in the file: 'ChuKyLanhDao', 'ChuKyCoQuan'. */
  fieldName: string;
  name?: string;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** None: an invisible signature. Several: widgets of the one field, e.g. the seal over two pages. */
  widgets: SignatureWidget[];
  /**
   * Read-only text fields filled in the same update as the signature, which covers them: what the signer
   * writes into the document at signing, such as the register number and the date of issue. To a PDF
   * reader this is form filling plus a signature, the change DocMDP level 2 permits after an earlier
   * signature; poppler up to 22.12 cannot read a signature field with several widgets, which rules out
   * drawing them as further widgets of the signature.
   */
  textFields?: { name: string; value: string; widget: SignatureWidget }[];
  /** An RFC 3161 time-stamping authority: the signature then carries a signature-time-stamp (B-T). */
  timestampUrl?: string;
  /** Bytes reserved for the CMS; /Contents holds twice as many hex digits. */
  placeholderBytes?: number;
}

export const DEFAULT_PLACEHOLDER_BYTES = 16384;
// The release waits for the time-stamp inside its transaction (the number must be in the signed bytes):
// a slow authority must fail fast rather than hold the dossier and counter rows.
const TIMESTAMP_TIMEOUT_MS = 5_000;

export class SignatureFieldError extends AppError {
  constructor(reason: string) {
    super('SIGNATURE_FIELD_INVALID', 422, 'signing.signatureFieldInvalid', { reason });
  }
}

export class TimestampError extends AppError {
  constructor(reason: string) {
    super('TIMESTAMP_FAILED', 502, 'signing.timestampFailed', { reason });
  }
}

/** The CMS did not fit the reserved space, or the signer failed in a way that is not the caller's input. */
export class PdfSigningError extends AppError {
  constructor(reason: string) {
    super('PDF_SIGNING_FAILED', 500, 'signing.pdfSigningFailed', { reason });
  }
}

// signpdf finds the placeholder by this exact text and overwrites it, padded with spaces, in place.
const BYTE_RANGE_PLACEHOLDER = '[0 /********** /********** /**********]';
const WIDGET_PRINT_FLAG = 4;
// SignaturesExist | AppendOnly: readers must save by appending, or the signatures break.
const SIG_FLAGS = 3;

/** A PDF text string: literal when plain ASCII, otherwise UTF-16BE with a byte order mark. */
export function pdfTextString(text: string): PdfValue {
  const normalized = text.normalize('NFC');
  if (/^[\x20-\x7e]*$/.test(normalized)) return raw(`(${normalized.replace(/[\\()]/g, (c) => `\\${c}`)})`);
  const utf16 = Buffer.from(normalized, 'utf16le').swap16();
  return raw(`<FEFF${utf16.toString('hex').toUpperCase()}>`);
}

const LITERAL_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

/** Decodes a string as the file spells it (literal or hex; PDFDocEncoding read as Latin-1, or UTF-16BE). */
export function decodePdfString(text: string): string {
  let bytes: Buffer;
  if (text.startsWith('<')) {
    const digits = text.slice(1, -1).replace(/\s+/g, '');
    bytes = Buffer.from(digits.length % 2 ? `${digits}0` : digits, 'hex');
  } else if (text.startsWith('(')) {
    let out = '';
    const body = text.slice(1, -1);
    for (let i = 0; i < body.length; i++) {
      const c = body[i] as string;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const next = body[++i] ?? '';
      const octal = /^[0-7]{1,3}/.exec(body.slice(i, i + 3));
      if (octal) {
        out += String.fromCharCode(parseInt(octal[0], 8) & 0xff);
        i += octal[0].length - 1;
      } else if (next === '\r') {
        if (body[i + 1] === '\n') i++;
      } else if (next !== '\n') out += LITERAL_ESCAPES[next] ?? next;
    }
    bytes = Buffer.from(out, 'latin1');
  } else {
    throw new PdfStructureError('expected a string');
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    // A stray odd byte at the end cannot be a UTF-16 unit; dropping it keeps the rest readable.
    const units = bytes.subarray(2, 2 + ((bytes.length - 2) & ~1));
    return Buffer.from(units).swap16().toString('utf16le');
  }
  return bytes.toString('latin1');
}

/** D:YYYYMMDDHHmmss+07'00': the time as it was on the clock in Vietnam, which has no daylight saving. */
export function pdfDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new SignatureFieldError('the signing time is not a valid date');
  const local = new Date(date.getTime() + 7 * 3600_000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `D:${local.getUTCFullYear()}${pad(local.getUTCMonth() + 1)}${pad(local.getUTCDate())}` +
    `${pad(local.getUTCHours())}${pad(local.getUTCMinutes())}${pad(local.getUTCSeconds())}+07'00'`
  );
}

const integerOf = (value: PdfValue | undefined): number | null =>
  value?.kind === 'raw' && /^\d+$/.test(value.text) ? Number(value.text) : null;

/** The page dictionaries in document order, walking the page tree from the catalog. */
function pageRefs(pdf: PdfDocumentStructure, catalog: PdfDict): PdfRef[] {
  const root = catalog.entries.get('Pages');
  if (root?.kind !== 'ref') throw new PdfStructureError('the catalog has no page tree');
  const pages: PdfRef[] = [];
  const visited = new Set<number>();
  const walk = (node: PdfRef): void => {
    // A /Kids cycle would otherwise never end.
    if (visited.has(node.num)) throw new PdfStructureError('the page tree has a cycle');
    visited.add(node.num);
    const page = readDict(pdf, node);
    const type = page.entries.get('Type');
    const kids = resolve(pdf, page.entries.get('Kids'));
    if (type?.kind === 'name' && type.name === 'Page') {
      pages.push(node);
    } else if (kids?.kind === 'array') {
      for (const kid of kids.items) {
        if (kid.kind !== 'ref') throw new PdfStructureError('a page tree node is not an indirect object');
        walk(kid);
      }
    } else {
      throw new PdfStructureError(`object ${node.num} is neither a page nor a page tree node`);
    }
  };
  walk(root);
  return pages;
}

/** Fully qualified names of the fields already in the form, to keep the new name unique. */
function existingFieldNames(pdf: PdfDocumentStructure, fields: PdfArray | undefined): Set<string> {
  const names = new Set<string>();
  const visited = new Set<number>();
  const walk = (items: PdfValue[], prefix: string): void => {
    for (const item of items) {
      if (item.kind === 'ref') {
        if (visited.has(item.num)) continue;
        visited.add(item.num);
      }
      const field = resolve(pdf, item);
      if (field?.kind !== 'dict') continue;
      const partial = field.entries.get('T');
      const own = partial?.kind === 'raw' ? decodePdfString(partial.text) : null;
      const full = own === null ? prefix : prefix ? `${prefix}.${own}` : own;
      if (own !== null) names.add(full.normalize('NFC'));
      const kids = resolve(pdf, field.entries.get('Kids'));
      if (kids?.kind === 'array') walk(kids.items, full);
    }
  };
  if (fields) walk(fields.items, '');
  return names;
}

function checkWidget(widget: SignatureWidget, pageCount: number): void {
  if (!Number.isInteger(widget.pageIndex) || widget.pageIndex < 0 || widget.pageIndex >= pageCount)
    throw new SignatureFieldError(`page ${widget.pageIndex} is not in the document`);
  const [x1, y1, x2, y2] = widget.rect;
  if (![x1, y1, x2, y2].every(Number.isFinite) || x2 <= x1 || y2 <= y1)
    throw new SignatureFieldError('a widget rectangle must be x1 y1 x2 y2 with x1 < x2 and y1 < y2');
}

const numbers = (values: number[]): PdfArray =>
  array(values.map((v) => raw(String(Math.round(v * 1000) / 1000))));

/** A copy of `value` that is a direct array, for appending; the original may be shared or indirect. */
function appendTo(value: PdfValue | undefined, refs: PdfRef[], what: string): PdfArray {
  if (value === undefined) return array([...refs]);
  if (value.kind !== 'array') throw new PdfStructureError(`${what} is not an array`);
  return array([...value.items, ...refs]);
}

/**
 * Writes the signature's objects into one incremental update and answers the file with the update, ready
 * for signpdf: /ByteRange and /Contents are placeholders.
 */
export function preparePdf(pdfBytes: Buffer, options: SignPdfOptions): Buffer {
  const placeholderBytes = options.placeholderBytes ?? DEFAULT_PLACEHOLDER_BYTES;
  if (!Number.isInteger(placeholderBytes) || placeholderBytes < 1024)
    throw new SignatureFieldError('the placeholder must be a whole number of at least 1024 bytes');
  const fieldName = options.fieldName.normalize('NFC');
  // A period separates the parts of a qualified name (32000-1, 12.7.3.2), so it cannot be inside one.
  if (!fieldName || fieldName.includes('.'))
    throw new SignatureFieldError('the field name is empty or has a period');

  const pdf = readPdfStructure(pdfBytes);
  const update = new IncrementalUpdate(pdf);
  const rootRef = pdf.trailer.entries.get('Root') as PdfRef;
  const catalog = readDict(pdf, rootRef);
  let catalogChanged = false;
  const pages = pageRefs(pdf, catalog);
  for (const widget of options.widgets) checkWidget(widget, pages.length);
  const textFields = options.textFields ?? [];
  for (const field of textFields) checkWidget(field.widget, pages.length);

  // The AcroForm may be inline in the catalog or its own object, and so may its /Fields.
  const acroFormValue = catalog.entries.get('AcroForm');
  let acroFormRef: PdfRef | null = null;
  let acroForm: PdfDict;
  if (acroFormValue?.kind === 'ref') {
    acroFormRef = acroFormValue;
    acroForm = readDict(pdf, acroFormValue);
  } else if (acroFormValue?.kind === 'dict') {
    acroForm = acroFormValue;
  } else if (acroFormValue === undefined) {
    acroForm = dict({});
  } else {
    throw new PdfStructureError('/AcroForm is not a dictionary');
  }
  const fieldsValue = acroForm.entries.get('Fields');
  const fields = resolve(pdf, fieldsValue);
  if (fields !== undefined && fields.kind !== 'array') throw new PdfStructureError('/Fields is not an array');
  const taken = existingFieldNames(pdf, fields);
  for (const newName of [fieldName, ...textFields.map((f) => f.name.normalize('NFC'))]) {
    if (!newName || newName.includes('.'))
      throw new SignatureFieldError('the field name is empty or has a period');
    if (taken.has(newName))
      throw new SignatureFieldError(`the document already has a field named ${newName}`);
    taken.add(newName);
  }

  const signatureRef = update.allocate();
  const fieldRef = update.allocate();
  const signatureEntries: Record<string, PdfValue> = {
    Type: name('Sig'),
    Filter: name('Adobe.PPKLite'),
    SubFilter: name('ETSI.CAdES.detached'),
    // /Contents must follow /ByteRange: signpdf looks for it after the placeholder.
    ByteRange: raw(BYTE_RANGE_PLACEHOLDER),
    Contents: raw(`<${'0'.repeat(placeholderBytes * 2)}>`),
    M: raw(`(${pdfDate(options.signingTime)})`),
  };
  if (options.name) signatureEntries.Name = pdfTextString(options.name);
  if (options.reason) signatureEntries.Reason = pdfTextString(options.reason);
  if (options.location) signatureEntries.Location = pdfTextString(options.location);
  if (options.contactInfo) signatureEntries.ContactInfo = pdfTextString(options.contactInfo);
  update.set(signatureRef, dict(signatureEntries));

  const fieldEntries: Record<string, PdfValue> = {
    FT: name('Sig'),
    T: pdfTextString(fieldName),
    V: signatureRef,
  };
  const appearances = new AppearanceBuilder(update);
  // An invisible signature still gets a widget, of zero size on the first page, as readers expect one.
  const widgets: SignatureWidget[] =
    options.widgets.length > 0 ? options.widgets : [{ pageIndex: 0, rect: [0, 0, 0, 0], items: [] }];
  const annotationsByPage = new Map<number, PdfRef[]>();
  const widgetEntries = (widget: SignatureWidget): Record<string, PdfValue> => ({
    Type: name('Annot'),
    Subtype: name('Widget'),
    Rect: numbers(widget.rect),
    F: raw(String(WIDGET_PRINT_FLAG)),
    P: pages[widget.pageIndex] as PdfRef,
    AP: dict({ N: appearances.formXObject(widget) }),
  });
  if (widgets.length === 1) {
    // One widget: field and widget merge into one dictionary, the usual form for a signature.
    const widget = widgets[0] as SignatureWidget;
    update.set(fieldRef, dict({ ...widgetEntries(widget), ...fieldEntries }));
    annotationsByPage.set(widget.pageIndex, [fieldRef]);
  } else {
    const kids: PdfRef[] = [];
    for (const widget of widgets) {
      const widgetRef = update.allocate();
      update.set(widgetRef, dict({ ...widgetEntries(widget), Parent: fieldRef }));
      kids.push(widgetRef);
      annotationsByPage.set(widget.pageIndex, [
        ...(annotationsByPage.get(widget.pageIndex) ?? []),
        widgetRef,
      ]);
    }
    update.set(fieldRef, dict({ ...fieldEntries, Kids: array(kids) }));
  }
  const textFieldRefs: PdfRef[] = [];
  for (const field of textFields) {
    const ref = update.allocate();
    update.set(
      ref,
      dict({
        ...widgetEntries(field.widget),
        FT: name('Tx'),
        T: pdfTextString(field.name.normalize('NFC')),
        V: pdfTextString(field.value),
        // ReadOnly: nobody types over what the signature covers.
        Ff: raw('1'),
      }),
    );
    textFieldRefs.push(ref);
    annotationsByPage.set(field.widget.pageIndex, [
      ...(annotationsByPage.get(field.widget.pageIndex) ?? []),
      ref,
    ]);
  }
  appearances.finish();

  for (const [pageIndex, refs] of annotationsByPage) {
    const pageRef = pages[pageIndex] as PdfRef;
    const page = readDict(pdf, pageRef);
    const annots = page.entries.get('Annots');
    if (annots?.kind === 'ref') {
      // An indirect /Annots array gets a new version of its own; the page itself stays as it was.
      update.set(annots, appendTo(readObject(pdf, annots), refs, '/Annots'));
    } else {
      page.entries.set('Annots', appendTo(annots, refs, '/Annots'));
      update.set(pageRef, page);
    }
  }

  if (fieldsValue?.kind === 'ref') {
    update.set(fieldsValue, appendTo(fields, [fieldRef, ...textFieldRefs], '/Fields'));
  } else {
    acroForm.entries.set('Fields', appendTo(fields, [fieldRef, ...textFieldRefs], '/Fields'));
  }
  acroForm.entries.set(
    'SigFlags',
    raw(String((integerOf(acroForm.entries.get('SigFlags')) ?? 0) | SIG_FLAGS)),
  );
  if (acroFormRef) {
    update.set(acroFormRef, acroForm);
  } else {
    const newRef = update.allocate();
    update.set(newRef, acroForm);
    catalog.entries.set('AcroForm', newRef);
    catalogChanged = true;
  }

  // ETSI.CAdES.detached arrived with PDF 2.0 (and PAdES' extension of 1.7); pdfkit's header says 1.3.
  const header = /^%PDF-(\d\.\d)/.exec(pdfBytes.toString('latin1', 0, 16))?.[1] ?? '1.0';
  const declared = catalog.entries.get('Version');
  const version = declared?.kind === 'name' && declared.name > header ? declared.name : header;
  if (version < '1.7') {
    catalog.entries.set('Version', name('1.7'));
    catalogChanged = true;
  }
  if (catalogChanged) update.set(rootRef, catalog);

  return update.write().bytes;
}

/** The bridge to signpdf: hashes the byte ranges and builds the CAdES CMS over their digest. */
class CadesSigner extends ExternalSigner {
  constructor(
    private readonly signer: Signer,
    private readonly timestampUrl: string | undefined,
  ) {
    super();
  }

  override async sign(signedBytes: Buffer): Promise<Buffer> {
    const url = this.timestampUrl;
    return buildCadesDetached({
      contentDigest: createHash('sha256').update(signedBytes).digest(),
      certificatePem: this.signer.certificatePem,
      chainPem: this.signer.chainPem,
      sign: (data) => this.signer.sign(data),
      timestamp: url ? (signatureValue) => requestTimestamp(url, signatureValue) : undefined,
    });
  }
}

/** Signs `pdf` with one PAdES signature in a new incremental update; earlier bytes are left untouched. */
export async function signPdf(pdf: Buffer, options: SignPdfOptions): Promise<Buffer> {
  return fillSignature(preparePdf(pdf, options), options);
}

/** The signature step alone: byte ranges, digest, CMS and the key operation on a prepared file. */
export async function fillSignature(
  prepared: Buffer,
  options: Pick<SignPdfOptions, 'signer' | 'timestampUrl'>,
): Promise<Buffer> {
  try {
    return await signpdf.sign(prepared, new CadesSigner(options.signer, options.timestampUrl));
  } catch (error) {
    // signpdf's own errors (a CMS larger than the placeholder) become ours; the signer's pass through.
    if (error instanceof SignPdfError) throw new PdfSigningError(error.message);
    throw error;
  }
}

// ---- RFC 3161 time-stamp client -------------------------------------------------------------------------

const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4';
const { Class, Type } = forge.asn1;

const at = (nodes: Asn1[], index: number, what: string): Asn1 => {
  const node = nodes[index];
  if (!node) throw new TimestampError(`the response has no ${what}`);
  return node;
};

/** TSTInfo's fields by position: version, policy, messageImprint, serialNumber, genTime, then optional ones. */
function readTstInfo(token: Asn1): { imprint: Asn1; nonce: Asn1 | undefined } {
  const [contentType, content] = children(token);
  if (!contentType || oidOf(contentType) !== CMS_OID.signedData || !content || !isContextTag(content, 0))
    throw new TimestampError('the token is not a SignedData');
  const signedData = children(at(children(content), 0, 'SignedData'));
  const encapsulated = children(at(signedData, 2, 'encapsulated content'));
  if (oidOf(at(encapsulated, 0, 'content type')) !== TST_INFO_OID)
    throw new TimestampError('the token does not hold a TSTInfo');
  const octets = at(children(at(encapsulated, 1, 'TSTInfo')), 0, 'TSTInfo');
  const tstInfo = children(fromDerBuffer(valueBytes(octets)));
  const imprint = at(tstInfo, 2, 'message imprint');
  // After genTime come accuracy (SEQUENCE), ordering (BOOLEAN), nonce (INTEGER), then tagged fields.
  const nonce = tstInfo
    .slice(5)
    .find((node) => node.tagClass === Class.UNIVERSAL && node.type === Type.INTEGER);
  return { imprint, nonce };
}

/**
 * Asks the TSA for a token over `signatureValue` and checks that it answers this request: granted, the
 * same message imprint and the same nonce. The token's own signature is checked by the verifier against
 * the TSA certificate it trusts, as for any other signature.
 */
export async function requestTimestamp(url: string, signatureValue: Buffer): Promise<Buffer> {
  const imprint = der.sequence([
    der.sequence([der.oid(CMS_OID.sha256)]),
    der.octetString(createHash('sha256').update(signatureValue).digest()),
  ]);
  const nonce = der.unsignedInteger(randomBytes(8));
  const request = toDerBuffer(der.sequence([der.smallInteger(1), imprint, nonce, der.boolean(true)]));

  let body: Buffer;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: request,
      signal: AbortSignal.timeout(TIMESTAMP_TIMEOUT_MS),
    });
    if (!response.ok) throw new TimestampError(`the TSA answered HTTP ${response.status}`);
    body = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    if (error instanceof TimestampError) throw error;
    throw new TimestampError(`the TSA could not be reached: ${(error as Error).message}`);
  }

  try {
    const response = children(fromDerBuffer(body));
    const status = children(at(response, 0, 'status'));
    const code = valueBytes(at(status, 0, 'status')).readUIntBE(0, 1);
    // 0 granted, 1 granted with modifications; anything else is a refusal.
    if (code > 1) throw new TimestampError(`the TSA refused the request (status ${code})`);
    const token = at(response, 1, 'token');
    const info = readTstInfo(token);
    if (!toDerBuffer(info.imprint).equals(toDerBuffer(imprint)))
      throw new TimestampError('the token is for another message imprint');
    if (!info.nonce || !toDerBuffer(info.nonce).equals(toDerBuffer(nonce)))
      throw new TimestampError('the token does not carry the request nonce');
    // The token is the response's last element; its bytes go out exactly as the TSA signed them.
    return body.subarray(body.length - toDerBuffer(token).length);
  } catch (error) {
    if (error instanceof TimestampError) throw error;
    throw new TimestampError(`the TSA response is malformed: ${(error as Error).message}`);
  }
}
