import assert from 'node:assert/strict';
import {
  type KeyObject,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
} from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import signpdf from '@signpdf/signpdf';
import { Signer as ExternalSigner } from '@signpdf/utils';
import forge from 'node-forge';
import PDFDocument from 'pdfkit';
import { registerFonts } from '../../src/documents/pdfFonts';
import {
  type CaMaterial,
  type IssuedCertificate,
  type KeyType,
  createRootCa,
  issueCertificate,
} from '../../src/signing/certificateAuthority';
import { CMS_OID } from '../../src/signing/cms';
import { type Asn1, children, der, fromDerBuffer, toDerBuffer } from '../../src/signing/derCodec';
import { signPdf } from '../../src/signing/padesSigner';
import {
  IncrementalUpdate,
  type PdfDict,
  type PdfDocumentStructure,
  type PdfRef,
  array,
  dict,
  name,
  raw,
  readDict,
  readPdfStructure,
} from '../../src/signing/pdfIncrementalUpdate';
import { type PdfVerification, type VerifyPdfOptions, verifyPdf } from '../../src/signing/pdfVerifier';
import { ServerKeySigner } from '../../src/signing/signer';
import { OID, readCertificate } from '../../src/signing/x509Reader';

const CA_FROM = new Date('2025-01-01T00:00:00Z');
const CA_TO = new Date('2045-01-01T00:00:00Z');
const LEAF_FROM = new Date('2026-01-01T00:00:00Z');
const LEAF_TO = new Date('2028-01-01T00:00:00Z');
const SIGNED_AT = new Date('2026-06-15T03:00:00Z');
const SEALED_AT = new Date('2026-06-15T04:00:00Z');
const NOW = new Date('2026-07-01T00:00:00Z');

function rootCa(commonName: string): CaMaterial {
  return createRootCa({
    commonName,
    organization: 'Ủy ban nhân dân tỉnh Bắc Giang',
    country: 'VN',
    validFrom: CA_FROM,
    validTo: CA_TO,
    keyType: 'RSA',
  });
}

function officer(ca: CaMaterial, keyType: KeyType): IssuedCertificate {
  return issueCertificate(ca, {
    subject: {
      commonName: 'Hoàng Văn Thắng',
      organization: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
      title: 'Phó Trưởng ban',
      country: 'VN',
    },
    kind: 'PERSONAL',
    validFrom: LEAF_FROM,
    validTo: LEAF_TO,
    keyType,
  });
}

const root = rootCa('Cổng Dịch vụ công Thử nghiệm Root CA');
const otherRoot = rootCa('Một CA khác');
const rsaOfficer = officer(root, 'RSA');
const ecOfficer = officer(root, 'ECDSA_P256');
const agency = issueCertificate(root, {
  subject: { commonName: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang', country: 'VN' },
  kind: 'AGENCY',
  validFrom: LEAF_FROM,
  validTo: LEAF_TO,
  keyType: 'RSA',
});

const signerOf = (issued: IssuedCertificate): ServerKeySigner =>
  new ServerKeySigner(issued.certificatePem, issued.chainPem, createPrivateKey(issued.privateKeyPem));

function onePagePdf(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', info: { Title: 'Giấy phép' } });
    registerFonts(doc);
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.font('serif').fontSize(14).text('GIẤY PHÉP số 125/GP-BQL', 72, 72);
    doc.end();
  });
}

function sign(
  pdf: Buffer,
  issued: IssuedCertificate,
  fieldName: string,
  signingTime: Date,
  extra: { timestampUrl?: string } = {},
): Promise<Buffer> {
  return signPdf(pdf, {
    signer: signerOf(issued),
    signingTime,
    fieldName,
    reason: 'Phê duyệt kết quả',
    widgets: [
      {
        pageIndex: 0,
        rect: fieldName === 'ChuKyCoQuan' ? [80, 80, 260, 150] : [320, 80, 520, 150],
        items: [
          {
            kind: 'text',
            x: 6,
            y: 30,
            size: 9,
            text: `Ký bởi: ${readCertificate(issued.certificatePem).serialNumber}`,
          },
        ],
      },
    ],
    ...extra,
  });
}

function verify(bytes: Buffer, options: Partial<VerifyPdfOptions> = {}): PdfVerification {
  return verifyPdf(bytes, { trustedRootsPem: [root.certificatePem], now: NOW, ...options });
}

/** The only signature of a one-signature report. */
function only(result: PdfVerification): PdfVerification['signatures'][number] {
  assert.equal(result.signatures.length, 1, JSON.stringify(result.signatures.map((s) => s.problems)));
  return result.signatures[0] as PdfVerification['signatures'][number];
}

// ---- File surgery ---------------------------------------------------------------------------------------

/** Replaces the first match in place; the replacement keeps the length so no offset moves. */
function patch(pdf: Buffer, pattern: RegExp, replace: (match: string) => string): Buffer {
  const text = pdf.toString('latin1');
  const match = pattern.exec(text);
  assert.ok(match, `pattern ${String(pattern)} is in the file`);
  const replacement = replace(match[0]);
  assert.equal(replacement.length, match[0].length, 'a patch keeps the length');
  const copy = Buffer.from(pdf);
  copy.write(replacement, match.index, 'latin1');
  return copy;
}

interface FirstPage {
  ref: PdfRef;
  dict: PdfDict;
}

function firstPage(structure: PdfDocumentStructure): FirstPage {
  const catalog = readDict(structure, structure.trailer.entries.get('Root') as PdfRef);
  const pages = readDict(structure, catalog.entries.get('Pages') as PdfRef);
  const kids = pages.entries.get('Kids');
  assert.ok(kids?.kind === 'array');
  const ref = kids.items[0] as PdfRef;
  return { ref, dict: readDict(structure, ref) };
}

/** Appends one incremental update written by `change`, as a later editor (not a signer) would. */
function appendUpdate(
  pdf: Buffer,
  change: (update: IncrementalUpdate, structure: PdfDocumentStructure, page: FirstPage) => void,
): Buffer {
  const structure = readPdfStructure(pdf);
  const update = new IncrementalUpdate(structure);
  change(update, structure, firstPage(structure));
  return update.write().bytes;
}

const contentStream = (operators: string): string =>
  `<</Length ${operators.length}>>\nstream\n${operators}\nendstream`;

// ---- A time-stamping authority ----------------------------------------------------------------------------

const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
const attribute = (oid: string, value: Asn1): Asn1 => der.sequence([der.oid(oid), der.set([value])]);

interface Tsa {
  der: Buffer;
  privateKey: KeyObject;
}

/**
 * A TSA certificate (ECDSA P-256) under `ca`. The certificate authority module only issues signing
 * certificates, and RFC 3161 2.3 wants the time-stamping extended key usage, alone and critical.
 */
function issueTsa(ca: CaMaterial): Tsa {
  const caInfo = readCertificate(ca.certificatePem);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const extension = (oid: string, value: Asn1): Asn1 =>
    der.sequence([der.oid(oid), der.boolean(true), der.octetString(toDerBuffer(value))]);
  const rsaWithSha256 = der.sequence([der.oid(OID.sha256WithRsaEncryption), der.null()]);
  const serial = randomBytes(12);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x10;
  const tbs = toDerBuffer(
    der.sequence([
      der.explicit(0, der.smallInteger(2)),
      der.unsignedInteger(serial),
      rsaWithSha256,
      fromDerBuffer(caInfo.subjectDer),
      der.sequence([der.time(LEAF_FROM), der.time(LEAF_TO)]),
      der.sequence([
        der.set([der.sequence([der.oid(OID.country), der.printableString('VN')])]),
        der.set([
          der.sequence([der.oid(OID.commonName), der.utf8String('Dịch vụ cấp dấu thời gian thử nghiệm')]),
        ]),
      ]),
      fromDerBuffer(publicKey.export({ type: 'spki', format: 'der' })),
      der.explicit(
        3,
        der.sequence([
          extension(OID.keyUsage, der.namedBits([0, 1])),
          extension(OID.extKeyUsage, der.sequence([der.oid(TIME_STAMPING)])),
        ]),
      ),
    ]),
  );
  const signature = cryptoSign('sha256', tbs, createPrivateKey(ca.privateKeyPem));
  const certificate = der.sequence([fromDerBuffer(tbs), rsaWithSha256, der.bitString(signature)]);
  return { der: toDerBuffer(certificate), privateKey };
}

/** A TimeStampToken (RFC 3161) over `imprint`, a MessageImprint, signed by `tsa`. */
function timestampToken(tsa: Tsa, imprint: Asn1, nonce: Asn1 | undefined, genTime: Date): Buffer {
  const tstInfo = toDerBuffer(
    der.sequence([
      der.smallInteger(1),
      der.oid('1.3.6.1.4.1.57264.1.1'),
      imprint,
      der.unsignedInteger(randomBytes(8)),
      forge.asn1.create(
        forge.asn1.Class.UNIVERSAL,
        forge.asn1.Type.GENERALIZEDTIME,
        false,
        forge.asn1.dateToGeneralizedTime(genTime),
      ),
      ...(nonce ? [nonce] : []),
    ]),
  );
  // DER orders a SET OF by the encodings of its elements; the signature covers that order.
  const attributes = [
    attribute(CMS_OID.contentType, der.oid(TST_INFO)),
    attribute(CMS_OID.messageDigest, der.octetString(sha256(tstInfo))),
    attribute(
      CMS_OID.signingCertificateV2,
      der.sequence([der.sequence([der.sequence([der.octetString(sha256(tsa.der))])])]),
    ),
  ].sort((a, b) => Buffer.compare(toDerBuffer(a), toDerBuffer(b)));
  const signature = cryptoSign('sha256', toDerBuffer(der.set(attributes)), tsa.privateKey);
  const tsaInfo = readCertificate(tsa.der);
  const certificateFields = children(children(fromDerBuffer(tsa.der))[0] as Asn1);
  const signerInfo = der.sequence([
    der.smallInteger(1),
    der.sequence([fromDerBuffer(tsaInfo.issuerDer), certificateFields[1] as Asn1]),
    der.sequence([der.oid(CMS_OID.sha256)]),
    forge.asn1.create(forge.asn1.Class.CONTEXT_SPECIFIC, 0, true, attributes),
    der.sequence([der.oid(CMS_OID.ecdsaWithSha256)]),
    der.octetString(signature),
  ]);
  const signedData = der.sequence([
    der.smallInteger(3),
    der.set([der.sequence([der.oid(CMS_OID.sha256)])]),
    der.sequence([der.oid(TST_INFO), der.explicit(0, der.octetString(tstInfo))]),
    forge.asn1.create(forge.asn1.Class.CONTEXT_SPECIFIC, 0, true, [fromDerBuffer(tsa.der)]),
    der.set([signerInfo]),
  ]);
  return toDerBuffer(der.sequence([der.oid(CMS_OID.signedData), der.explicit(0, signedData)]));
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** An RFC 3161 responder on the loopback interface that stamps every request with `genTime`. */
async function startTsa(tsa: Tsa, genTime: Date): Promise<string> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      // TimeStampReq: version, messageImprint, then the optional policy, nonce and certReq.
      const [, imprint, ...rest] = children(fromDerBuffer(Buffer.concat(chunks)));
      const nonce = rest.find((node) => node.type === forge.asn1.Type.INTEGER);
      const token = fromDerBuffer(timestampToken(tsa, imprint as Asn1, nonce, genTime));
      const body = toDerBuffer(der.sequence([der.sequence([der.smallInteger(0)]), token]));
      response.writeHead(200, { 'content-type': 'application/timestamp-reply', connection: 'close' });
      response.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** signpdf's signer for a document time-stamp: the CMS is the token over the byte ranges themselves. */
class DocumentTimestamper extends ExternalSigner {
  constructor(
    private readonly tsa: Tsa,
    private readonly genTime: Date,
  ) {
    super();
  }

  override async sign(signedBytes: Buffer): Promise<Buffer> {
    const imprint = der.sequence([
      der.sequence([der.oid(CMS_OID.sha256)]),
      der.octetString(sha256(signedBytes)),
    ]);
    return timestampToken(this.tsa, imprint, undefined, this.genTime);
  }
}

/**
 * Adds an invisible signature field holding `signature` to the update: the field merged with its widget,
 * appended to the AcroForm's /Fields and to the first page's /Annots, as a signer would.
 */
function addSignatureField(
  update: IncrementalUpdate,
  structure: PdfDocumentStructure,
  page: FirstPage,
  fieldName: string,
  signature: PdfDict,
): void {
  const catalog = readDict(structure, structure.trailer.entries.get('Root') as PdfRef);
  const formRef = catalog.entries.get('AcroForm') as PdfRef;
  const form = readDict(structure, formRef);
  const fields = form.entries.get('Fields');
  assert.ok(fields?.kind === 'array', 'the signer writes /Fields inline');
  const signatureRef = update.allocate();
  const fieldRef = update.allocate();
  update.set(signatureRef, signature);
  update.set(
    fieldRef,
    dict({
      Type: name('Annot'),
      Subtype: name('Widget'),
      Rect: raw('[0 0 0 0]'),
      F: raw('4'),
      P: page.ref,
      FT: name('Sig'),
      T: raw(`(${fieldName})`),
      V: signatureRef,
    }),
  );
  form.entries.set('Fields', array([...fields.items, fieldRef]));
  update.set(formRef, form);
  const annots = page.dict.entries.get('Annots');
  page.dict.entries.set('Annots', array([...(annots?.kind === 'array' ? annots.items : []), fieldRef]));
  update.set(page.ref, page.dict);
}

const signaturePlaceholder = (type: 'Sig' | 'DocTimeStamp', subFilter: string): PdfDict =>
  dict({
    Type: name(type),
    Filter: name('Adobe.PPKLite'),
    SubFilter: name(subFilter),
    ByteRange: raw('[0 /********** /********** /**********]'),
    Contents: raw(`<${'0'.repeat(8192)}>`),
  });

/** Appends a PAdES document time-stamp (/DocTimeStamp, ETSI.RFC3161) with an invisible widget. */
async function addDocumentTimestamp(pdf: Buffer, tsa: Tsa, genTime: Date): Promise<Buffer> {
  const prepared = appendUpdate(pdf, (update, structure, page) =>
    addSignatureField(
      update,
      structure,
      page,
      'DauThoiGian',
      signaturePlaceholder('DocTimeStamp', 'ETSI.RFC3161'),
    ),
  );
  return signpdf.sign(prepared, new DocumentTimestamper(tsa, genTime));
}

// ---- Fixtures -------------------------------------------------------------------------------------------

let unsigned: Buffer;
let single: Buffer;
let double: Buffer;

before(async () => {
  unsigned = await onePagePdf();
  single = await sign(unsigned, rsaOfficer, 'ChuKyLanhDao', SIGNED_AT);
  const approved = await sign(unsigned, ecOfficer, 'ChuKyLanhDao', SIGNED_AT);
  double = await sign(approved, agency, 'ChuKyCoQuan', SEALED_AT);
});

describe('verifyPdf: good signatures', () => {
  it('reports a single signature as valid, trusted, covering the whole file and unmodified', () => {
    const result = verify(single);
    assert.equal(result.isPdf, true);
    assert.deepEqual(result.problems, []);
    assert.match(result.sha256, /^[0-9a-f]{64}$/);
    const signature = only(result);
    assert.equal(signature.index, 0);
    assert.equal(signature.fieldName, 'ChuKyLanhDao');
    assert.equal(signature.subFilter, 'ETSI.CAdES.detached');
    assert.equal(signature.signingTime, SIGNED_AT.toISOString());
    assert.equal(signature.timestamped, false);
    assert.deepEqual(signature.signer, {
      commonName: 'Hoàng Văn Thắng',
      organization: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
      title: 'Phó Trưởng ban',
      serialNumber: readCertificate(rsaOfficer.certificatePem).serialNumber,
      issuer: 'CN=Cổng Dịch vụ công Thử nghiệm Root CA, O=Ủy ban nhân dân tỉnh Bắc Giang, C=VN',
    });
    assert.deepEqual(signature.checks, {
      bytesIntact: true,
      digestMatches: true,
      signatureVerifies: true,
      chainTrusted: true,
      certificateValidAtSigningTime: true,
      notRevokedAtSigningTime: true,
      byteRangeSound: true,
    });
    assert.equal(signature.valid, true);
    assert.equal(signature.trusted, true);
    assert.equal(signature.coversWholeDocument, true);
    assert.equal(signature.modifiedAfter, false);
    assert.deepEqual(signature.changesAfter, []);
    assert.deepEqual(signature.problems, []);
    const [start, firstLength, secondStart, secondLength] = signature.byteRange ?? [];
    assert.equal(start, 0);
    assert.equal((secondStart ?? 0) + (secondLength ?? 0), single.length);
    assert.ok((firstLength ?? 0) < (secondStart ?? 0));
    assert.deepEqual(
      signature.chain.map((c) => c.subject),
      [
        'CN=Hoàng Văn Thắng, title=Phó Trưởng ban, O=Ban Quản lý các khu công nghiệp tỉnh Bắc Giang, C=VN',
        'CN=Cổng Dịch vụ công Thử nghiệm Root CA, O=Ủy ban nhân dân tỉnh Bắc Giang, C=VN',
      ],
    );
    assert.equal(signature.chain[0]?.notAfter, LEAF_TO.toISOString());
  });

  it('accepts the approver (ECDSA) followed by the agency seal (RSA): a later signature is not a modification', () => {
    const [approval, seal, ...rest] = verify(double).signatures;
    assert.equal(rest.length, 0);
    assert.ok(approval && seal);
    assert.equal(approval.fieldName, 'ChuKyLanhDao');
    assert.equal(approval.valid, true);
    assert.equal(approval.trusted, true);
    assert.equal(approval.coversWholeDocument, false);
    assert.equal(approval.modifiedAfter, false);
    assert.deepEqual(approval.changesAfter, ['SIGNATURE_ADDED']);
    assert.deepEqual(approval.problems, []);
    assert.equal(seal.fieldName, 'ChuKyCoQuan');
    assert.equal(seal.signingTime, SEALED_AT.toISOString());
    assert.equal(seal.signer?.title, null);
    assert.equal(seal.valid, true);
    assert.equal(seal.trusted, true);
    assert.equal(seal.coversWholeDocument, true);
    assert.equal(seal.modifiedAfter, false);
    assert.deepEqual(seal.problems, []);
  });

  it('lets one end of line after the final %%EOF stay outside the byte range', () => {
    const signature = only(verify(Buffer.concat([single, Buffer.from('\n')])));
    assert.equal(signature.coversWholeDocument, true);
    assert.equal(signature.modifiedAfter, false);
    const twoLines = only(verify(Buffer.concat([single, Buffer.from('\n\n')])));
    assert.equal(twoLines.coversWholeDocument, false);
  });
});

describe('verifyPdf: number and date filled in with the seal', () => {
  const field = (name: string, value: string, rect: [number, number, number, number]) => ({
    name,
    value,
    widget: { pageIndex: 0, rect, items: [{ kind: 'text' as const, x: 4, y: 4, size: 12, text: value }] },
  });
  const seal = (approved: Buffer, textFields: ReturnType<typeof field>[]) =>
    signPdf(approved, {
      signer: signerOf(agency),
      signingTime: SEALED_AT,
      fieldName: 'ChuKyCoQuan',
      widgets: [{ pageIndex: 0, rect: [80, 80, 160, 160], items: [] }],
      textFields,
    });

  it('accepts read-only fields added and signed in the seal update: the approval is not modified after', async () => {
    const approved = await sign(await onePagePdf(), ecOfficer, 'ChuKyLanhDao', SIGNED_AT);
    const sealed = await seal(approved, [
      field('SoKyHieu', 'Số: 12/GP-BQL', [72, 700, 250, 720]),
      field('NgayBanHanh', 'Bắc Giang, ngày 15 tháng 6 năm 2026', [300, 700, 560, 720]),
    ]);
    const [approval, sealSignature] = verify(sealed).signatures;
    assert.equal(approval?.modifiedAfter, false, JSON.stringify(approval?.changesAfter));
    assert.deepEqual(approval?.changesAfter, ['SIGNATURE_ADDED', 'SIGNED_FORM_FILLED']);
    assert.equal(sealSignature?.coversWholeDocument, true);
    assert.equal(sealSignature?.valid, true);
  });

  it('flags such a field when it comes in an update without a signature', async () => {
    const approved = await sign(await onePagePdf(), ecOfficer, 'ChuKyLanhDao', SIGNED_AT);
    const sealed = await seal(approved, [field('SoKyHieu', 'Số: 12/GP-BQL', [72, 700, 250, 720])]);
    // A revision that only fills a field (the seal's update with its signature stripped is not a valid
    // file), so: a field added after the seal, in an update of its own.
    const structure = readPdfStructure(sealed);
    const update = new IncrementalUpdate(structure);
    const catalogRef = structure.trailer.entries.get('Root') as PdfRef;
    const catalog = readDict(structure, catalogRef);
    const formRef = catalog.entries.get('AcroForm') as PdfRef;
    const form = readDict(structure, formRef);
    const fields = form.entries.get('Fields');
    const extra = update.allocate();
    update.set(
      extra,
      '<</FT /Tx /T (Them) /V (Sua doi) /Ff 1 /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /AP <<>>>>',
    );
    if (fields?.kind === 'array') fields.items.push(extra);
    update.set(formRef, form);
    const later = update.write().bytes;
    const report = verify(later).signatures;
    assert.ok(
      report.every((s) => s.modifiedAfter),
      JSON.stringify(report.map((s) => s.changesAfter)),
    );
    assert.ok(report.at(-1)?.changesAfter.includes('FORM_FIELD_ADDED'));
  });
});

describe('verifyPdf: tampering', () => {
  it('flags a byte changed inside a signed range as a digest mismatch', () => {
    const tampered = patch(single, /GP-BQL|PDFKit/, (text) => text.replace(/[A-Z]/, 'X'));
    const signature = only(verify(tampered));
    assert.equal(signature.valid, false);
    assert.equal(signature.checks.digestMatches, false);
    assert.equal(signature.checks.bytesIntact, false);
    // The signed attributes themselves are intact: only the document's hash no longer matches them.
    assert.equal(signature.checks.signatureVerifies, true);
    assert.ok(signature.problems.includes('DIGEST_MISMATCH'));
  });

  it('flags an update that adds a content stream to the page', () => {
    const modified = appendUpdate(single, (update, _structure, page) => {
      const added = update.allocate();
      update.set(added, contentStream('BT /F1 24 Tf 72 600 Td (DA THU HOI) Tj ET'));
      const contents = page.dict.entries.get('Contents') as PdfRef;
      page.dict.entries.set('Contents', array([contents, added]));
      update.set(page.ref, page.dict);
    });
    const signature = only(verify(modified));
    assert.equal(signature.valid, true, 'the signed bytes themselves are intact');
    assert.equal(signature.coversWholeDocument, false);
    assert.equal(signature.modifiedAfter, true);
    assert.ok(signature.changesAfter.includes('PAGE_CONTENT_CHANGED'));
    assert.ok(signature.changesAfter.includes('REVISION_WITHOUT_SIGNATURE'));
    assert.ok(signature.problems.includes('MODIFIED_AFTER_SIGNING'));
  });

  it('flags a new version of an existing content stream', () => {
    const modified = appendUpdate(single, (update, _structure, page) => {
      update.set(page.dict.entries.get('Contents') as PdfRef, contentStream('0 0 0 rg 0 0 595 842 re f'));
    });
    const signature = only(verify(modified));
    assert.equal(signature.modifiedAfter, true);
    assert.ok(signature.changesAfter.includes('PAGE_CONTENT_CHANGED'));
  });

  it('flags an update that adds a FreeText annotation', () => {
    const modified = appendUpdate(single, (update, _structure, page) => {
      const note = update.allocate();
      update.set(
        note,
        dict({
          Type: name('Annot'),
          Subtype: name('FreeText'),
          Rect: raw('[72 700 300 740]'),
          Contents: raw('(Het hieu luc)'),
          DA: raw('(/Helv 12 Tf 0 g)'),
          P: page.ref,
        }),
      );
      const annots = page.dict.entries.get('Annots');
      page.dict.entries.set('Annots', array([...(annots?.kind === 'array' ? annots.items : []), note]));
      update.set(page.ref, page.dict);
    });
    const signature = only(verify(modified));
    assert.equal(signature.modifiedAfter, true);
    assert.ok(signature.changesAfter.includes('ANNOTATION_ADDED'));
    assert.ok(signature.problems.includes('MODIFIED_AFTER_SIGNING'));
  });

  it('flags other changes after signing, each with its own code', () => {
    const cases: [
      string,
      (update: IncrementalUpdate, structure: PdfDocumentStructure, page: FirstPage) => void,
    ][] = [
      [
        'PAGE_CHANGED',
        (update, _structure, page) => {
          page.dict.entries.set('Rotate', raw('90'));
          update.set(page.ref, page.dict);
        },
      ],
      [
        'CATALOG_CHANGED',
        (update, structure) => {
          const rootRef = structure.trailer.entries.get('Root') as PdfRef;
          const catalog = readDict(structure, rootRef);
          catalog.entries.set('OpenAction', raw('[7 0 R /Fit]'));
          update.set(rootRef, catalog);
        },
      ],
      [
        'OBJECT_CHANGED',
        (update, structure) => {
          const infoRef = structure.trailer.entries.get('Info') as PdfRef;
          const info = readDict(structure, infoRef);
          info.entries.set('Title', raw('(Giay phep gia)'));
          update.set(infoRef, info);
        },
      ],
      ['OBJECT_ADDED', (update) => update.set(update.allocate(), dict({ Note: raw('(unreferenced)') }))],
      [
        'ANNOTATION_REMOVED',
        (update, _structure, page) => {
          page.dict.entries.set('Annots', array([]));
          update.set(page.ref, page.dict);
        },
      ],
    ];
    for (const [code, change] of cases) {
      const signature = only(verify(appendUpdate(single, change)));
      assert.equal(signature.modifiedAfter, true, code);
      assert.ok(signature.changesAfter.includes(code as never), `${code}: ${signature.changesAfter.join()}`);
    }
  });

  it('does not let a signature added in the same update excuse other changes', () => {
    const contentsOf = (page: FirstPage): PdfRef => page.dict.entries.get('Contents') as PdfRef;
    const attacks: [
      string,
      (update: IncrementalUpdate, structure: PdfDocumentStructure, page: FirstPage) => void,
    ][] = [
      [
        'rewritten content stream',
        (update, _structure, page) => update.set(contentsOf(page), contentStream('0 g')),
      ],
      [
        // /DSS may grow freely, so the attack points it at the rewritten stream to have it excused.
        'content stream posing as validation data',
        (update, structure, page) => {
          update.set(contentsOf(page), contentStream('0 g'));
          const rootRef = structure.trailer.entries.get('Root') as PdfRef;
          const catalog = readDict(structure, rootRef);
          catalog.entries.set('DSS', contentsOf(page));
          update.set(rootRef, catalog);
        },
      ],
    ];
    for (const [label, attack] of attacks) {
      const modified = appendUpdate(single, (update, structure, page) => {
        attack(update, structure, page);
        addSignatureField(
          update,
          structure,
          page,
          'ChuKyGia',
          signaturePlaceholder('Sig', 'ETSI.CAdES.detached'),
        );
      });
      const [first] = verify(modified).signatures;
      assert.equal(first?.modifiedAfter, true, label);
      assert.ok(first?.changesAfter.includes('SIGNATURE_ADDED'), label);
      assert.ok(
        first?.changesAfter.includes('PAGE_CONTENT_CHANGED'),
        `${label}: ${first?.changesAfter.join()}`,
      );
    }
  });

  it('accepts a metadata-only update of /ModDate but still reports that no signature was added', () => {
    const modified = appendUpdate(single, (update, structure) => {
      const infoRef = structure.trailer.entries.get('Info') as PdfRef;
      const info = readDict(structure, infoRef);
      info.entries.set('ModDate', raw("(D:20260616000000+07'00')"));
      update.set(infoRef, info);
    });
    const signature = only(verify(modified));
    assert.deepEqual(signature.changesAfter, ['REVISION_WITHOUT_SIGNATURE']);
    assert.equal(signature.modifiedAfter, true);
  });

  it('flags bytes appended after the final %%EOF', () => {
    const signature = only(verify(Buffer.concat([single, Buffer.from('\n99 0 obj\n(x)\nendobj\n')])));
    assert.equal(signature.coversWholeDocument, false);
    assert.equal(signature.modifiedAfter, true);
    assert.ok(signature.changesAfter.includes('DATA_OUTSIDE_REVISIONS'));
  });

  it('reports an update written as a cross-reference stream as unparseable, and still finds the signature', () => {
    const offset = single.length + 1;
    const xrefStream =
      `\n30 0 obj\n<</Type /XRef /Size 31 /W [1 4 1] /Index [30 1] /Root 1 0 R /Prev ${readPdfStructure(single).startxref} /Length 6>>\nstream\n` +
      `\x01${String.fromCharCode(0, 0, (offset >> 8) & 0xff, offset & 0xff)}\x00\nendstream\nendobj\nstartxref\n${offset}\n%%EOF\n`;
    const signature = only(verify(Buffer.concat([single, Buffer.from(xrefStream, 'latin1')])));
    assert.equal(signature.valid, true);
    assert.equal(signature.modifiedAfter, true);
    assert.ok(signature.changesAfter.includes('UNPARSEABLE_UPDATE'));
  });

  it('flags a /ByteRange whose gap is not exactly the /Contents string', () => {
    for (const [label, shift] of [
      ['widened', (a: number, b: number, c: number) => [a - 1, b + 1, c - 1]],
      ['shifted', (a: number, b: number, c: number) => [a + 2, b + 2, c - 2]],
    ] as const) {
      const tampered = patch(single, /\/ByteRange \[0 \d+ \d+ \d+\] */, (text) => {
        const [a, b, c] = (text.match(/\d+/g) ?? []).slice(1).map(Number) as [number, number, number];
        return `/ByteRange [0 ${shift(a, b, c).join(' ')}]`.padEnd(text.length, ' ');
      });
      const signature = only(verify(tampered));
      assert.equal(signature.valid, false, label);
      assert.equal(signature.checks.byteRangeSound, false, label);
      assert.ok(signature.problems.includes('BYTE_RANGE_GAP_NOT_CONTENTS'), label);
    }
  });

  it('reports a broken signature dictionary without throwing', () => {
    const broken = [
      patch(single, /\/ByteRange/, () => '/ByteRangX'),
      patch(single, /\/Contents <3082/, () => '/Contents <zz82'),
      // An array that never closes: the dictionary no longer parses at all.
      patch(single, /\/Filter \/Adobe/, () => '/Filter [Adobe'),
    ];
    for (const pdf of broken) {
      const signature = only(verify(pdf));
      assert.equal(signature.valid, false);
      assert.equal(signature.trusted, false);
      assert.ok(signature.problems.includes('MALFORMED_SIGNATURE_DICTIONARY'), signature.problems.join());
      assert.equal(signature.fieldName, 'ChuKyLanhDao');
    }
  });

  it('keeps reporting the second signature when the first one is broken', () => {
    const result = verify(patch(double, /\/ByteRange/, () => '/ByteRangX'));
    assert.equal(result.signatures.length, 2);
    assert.ok(result.signatures[0]?.problems.includes('MALFORMED_SIGNATURE_DICTIONARY'));
    assert.equal(result.signatures[1]?.valid, false, 'the seal covers the broken bytes too');
    assert.ok(result.signatures[1]?.problems.includes('DIGEST_MISMATCH'));
  });
});

describe('verifyPdf: trust', () => {
  it('reports a signature under another root as valid but untrusted', () => {
    const signature = only(verify(single, { trustedRootsPem: [otherRoot.certificatePem] }));
    assert.equal(signature.valid, true);
    assert.equal(signature.trusted, false);
    assert.equal(signature.checks.chainTrusted, false);
    assert.ok(signature.problems.includes('UNTRUSTED_CHAIN'));
  });

  it('does not trust a certificate revoked before the signing time', () => {
    const serial = readCertificate(rsaOfficer.certificatePem).serialNumber;
    const revokedAt = (hex: string): Date | null =>
      hex === serial ? new Date('2026-06-01T00:00:00Z') : null;
    const signature = only(verify(single, { revokedAt }));
    assert.equal(signature.valid, true);
    assert.equal(signature.trusted, false);
    assert.equal(signature.checks.notRevokedAtSigningTime, false);
    assert.ok(signature.problems.includes('CERTIFICATE_REVOKED'));
  });

  it('does not trust a revoked certificate whose signing time is only claimed, even if claimed before', () => {
    // Whoever holds a stolen key can write any /M: only a time-stamp proves the signature came first.
    const serial = readCertificate(rsaOfficer.certificatePem).serialNumber;
    const revokedAt = (hex: string): Date | null =>
      hex === serial ? new Date('2026-06-20T00:00:00Z') : null;
    const signature = only(verify(single, { revokedAt }));
    assert.equal(signature.valid, true);
    assert.equal(signature.trusted, false);
    assert.equal(signature.checks.notRevokedAtSigningTime, false);
    assert.deepEqual(signature.problems, ['CERTIFICATE_REVOKED_AFTER_CLAIMED_TIME']);
  });

  it('does not let an untrusted later signature excuse the fields it paints over the page', async () => {
    const stranger = officer(otherRoot, 'RSA');
    const overlaid = await signPdf(single, {
      signer: signerOf(stranger),
      signingTime: SEALED_AT,
      fieldName: 'Khac',
      widgets: [],
      textFields: [
        {
          name: 'ThoiHan',
          value: 'THỜI HẠN: 2027-2040',
          widget: {
            pageIndex: 0,
            rect: [60, 400, 560, 600],
            items: [{ kind: 'text', x: 4, y: 4, size: 30, text: 'THỜI HẠN: 2027-2040' }],
          },
        },
      ],
    });
    const [first, second] = verify(overlaid).signatures;
    assert.equal(second?.trusted, false);
    assert.equal(first?.modifiedAfter, true);
    assert.ok(first?.changesAfter.includes('UNTRUSTED_SIGNATURE_ADDED'));
    assert.ok(first?.problems.includes('MODIFIED_AFTER_SIGNING'));
  });

  it('does not trust a signature claimed after the certificate expired', async () => {
    const late = await sign(unsigned, rsaOfficer, 'ChuKyLanhDao', new Date('2028-03-01T00:00:00Z'));
    const signature = only(verify(late));
    assert.equal(signature.valid, true);
    assert.equal(signature.trusted, false);
    assert.equal(signature.checks.certificateValidAtSigningTime, false);
    assert.ok(signature.problems.includes('CERTIFICATE_EXPIRED_AT_SIGNING'));
  });
});

describe('verifyPdf: time-stamps', () => {
  const tsa = issueTsa(root);
  const foreignTsa = issueTsa(otherRoot);
  const STAMPED_AT = new Date('2026-06-20T02:00:00Z');

  it('takes the signing time from a verified signature time-stamp', async () => {
    const stamped = await sign(unsigned, rsaOfficer, 'ChuKyLanhDao', SIGNED_AT, {
      timestampUrl: await startTsa(tsa, STAMPED_AT),
    });
    const signature = only(verify(stamped));
    assert.equal(signature.valid, true);
    assert.equal(signature.trusted, true);
    assert.equal(signature.timestamped, true);
    assert.equal(signature.signingTime, STAMPED_AT.toISOString());
    assert.deepEqual(signature.problems, []);

    // The time-stamp proves the signature was made after a revocation that /M alone would hide.
    const serial = readCertificate(rsaOfficer.certificatePem).serialNumber;
    const revokedAt = (hex: string): Date | null =>
      hex === serial ? new Date('2026-06-18T00:00:00Z') : null;
    const revoked = only(verify(stamped, { revokedAt }));
    assert.equal(revoked.trusted, false);
    assert.ok(revoked.problems.includes('CERTIFICATE_REVOKED'));
  });

  it('falls back to /M when the time-stamp is from an untrusted TSA or altered', async () => {
    const stamped = await sign(unsigned, rsaOfficer, 'ChuKyLanhDao', SIGNED_AT, {
      timestampUrl: await startTsa(foreignTsa, STAMPED_AT),
    });
    const untrusted = only(verify(stamped));
    assert.equal(untrusted.valid, true);
    assert.equal(untrusted.timestamped, false);
    assert.equal(untrusted.signingTime, SIGNED_AT.toISOString());
    assert.deepEqual(untrusted.problems, ['TIMESTAMP_UNTRUSTED']);

    // genTime's text, as hex inside /Contents: one digit of the seconds changed breaks the token only.
    const genTimeHex = Buffer.from(forge.asn1.dateToGeneralizedTime(STAMPED_AT), 'latin1').toString('hex');
    const altered = patch(stamped, new RegExp(genTimeHex), (hex) => `${hex.slice(0, -4)}31${hex.slice(-2)}`);
    const invalid = only(
      verify(altered, { trustedRootsPem: [root.certificatePem, otherRoot.certificatePem] }),
    );
    assert.equal(invalid.valid, true, 'the unsigned attribute is outside what the signer signed');
    assert.equal(invalid.timestamped, false);
    assert.deepEqual(invalid.problems, ['TIMESTAMP_INVALID']);
  });

  it('verifies a document time-stamp added after the signatures, which is no modification', async () => {
    const archived = await addDocumentTimestamp(double, tsa, STAMPED_AT);
    const [approval, seal, timestamp, ...rest] = verify(archived).signatures;
    assert.equal(rest.length, 0);
    assert.deepEqual(approval?.changesAfter, ['SIGNATURE_ADDED']);
    assert.equal(seal?.modifiedAfter, false);
    assert.ok(timestamp);
    assert.equal(timestamp.fieldName, 'DauThoiGian');
    assert.equal(timestamp.subFilter, 'ETSI.RFC3161');
    assert.equal(timestamp.valid, true);
    assert.equal(timestamp.trusted, true);
    assert.equal(timestamp.timestamped, true);
    assert.equal(timestamp.coversWholeDocument, true);
    assert.equal(timestamp.signingTime, STAMPED_AT.toISOString());
    assert.equal(timestamp.signer?.commonName, 'Dịch vụ cấp dấu thời gian thử nghiệm');
    assert.deepEqual(timestamp.problems, []);

    // A certificate the portal trusts, but not one for time-stamping, cannot vouch for the time.
    const notATsa = {
      der: readCertificate(ecOfficer.certificatePem).der,
      privateKey: createPrivateKey(ecOfficer.privateKeyPem),
    };
    const [, , posing] = verify(await addDocumentTimestamp(double, notATsa, STAMPED_AT)).signatures;
    assert.equal(posing?.valid, true);
    assert.equal(posing?.checks.chainTrusted, true);
    assert.equal(posing?.timestamped, false);
    assert.equal(posing?.trusted, false);
    assert.deepEqual(posing?.problems, ['TIMESTAMP_UNTRUSTED']);
  });

  it('accepts an update that only adds validation data (/DSS)', () => {
    const withDss = appendUpdate(single, (update, structure) => {
      const rootRef = structure.trailer.entries.get('Root') as PdfRef;
      const catalog = readDict(structure, rootRef);
      const certificate = update.allocate();
      const rootDer = readCertificate(root.certificatePem).der;
      update.set(
        certificate,
        `<</Length ${rootDer.length}>>\nstream\n${rootDer.toString('latin1')}\nendstream`,
      );
      const dss = update.allocate();
      update.set(dss, dict({ Certs: array([certificate]) }));
      catalog.entries.set('DSS', dss);
      update.set(rootRef, catalog);
    });
    const signature = only(verify(withDss));
    assert.deepEqual(signature.changesAfter, ['VALIDATION_DATA_ADDED']);
    assert.equal(signature.modifiedAfter, false);
  });
});

describe('verifyPdf: files that are not signed PDFs', () => {
  it('reports a file that is not a PDF', () => {
    const result = verify(Buffer.from('PK\x03\x04 not a pdf at all'));
    assert.equal(result.isPdf, false);
    assert.deepEqual(result.problems, ['NOT_A_PDF']);
    assert.deepEqual(result.signatures, []);
  });

  it('reports a PDF without signatures', () => {
    const result = verify(unsigned);
    assert.equal(result.isPdf, true);
    assert.deepEqual(result.problems, ['NO_SIGNATURES']);
    assert.deepEqual(result.signatures, []);
  });

  it('never throws on mutated copies of a signed file, and never calls a changed byte valid', () => {
    // A fixed seed, so a failure can be replayed.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = (limit: number): number => Math.floor(random() * limit);
    for (let round = 0; round < 200; round++) {
      let mutated = Buffer.from(double);
      const flipped: number[] = [];
      for (let flips = pick(4); flips >= 0; flips--) {
        const at = pick(mutated.length);
        mutated[at] = (mutated[at] ?? 0) ^ (1 + pick(255));
        flipped.push(at);
      }
      if (random() < 0.3) mutated = mutated.subarray(0, pick(mutated.length));
      let result: PdfVerification | undefined;
      assert.doesNotThrow(() => {
        result = verify(mutated);
      }, `round ${round}`);
      for (const signature of result?.signatures ?? []) {
        if (!signature.valid) continue;
        const [, a = 0, b = 0, c = 0] = signature.byteRange ?? [];
        const signedFlip = flipped.find((at) => at < mutated.length && (at < a || (at >= b && at < b + c)));
        assert.equal(
          signedFlip,
          undefined,
          `round ${round}: a valid signature covers changed byte ${signedFlip}`,
        );
      }
    }
  });
});
