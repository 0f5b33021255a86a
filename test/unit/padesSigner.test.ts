import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import PDFDocument from 'pdfkit';
import { registerFonts } from '../../src/documents/pdfFonts';
import {
  type IssuedCertificate,
  createRootCa,
  issueCertificate,
} from '../../src/signing/certificateAuthority';
import { CMS_OID } from '../../src/signing/cms';
import {
  type Asn1,
  children,
  fromDerBuffer,
  isContextTag,
  oidOf,
  pemToDer,
  toDerBuffer,
  valueBytes,
} from '../../src/signing/derCodec';
import {
  type SignPdfOptions,
  type SignatureWidget,
  decodePdfString,
  pdfDate,
  pdfTextString,
  signPdf,
} from '../../src/signing/padesSigner';
import {
  IncrementalUpdate,
  type PdfRef,
  array,
  dict,
  name,
  raw,
  readDict,
  readObject,
  readPdfStructure,
  resolve,
} from '../../src/signing/pdfIncrementalUpdate';
import { ServerKeySigner } from '../../src/signing/signer';
import { assertIncludes, assertQpdfClean, extractText } from '../helpers/pdfTools';

// Every signed file is checked by the tools a relying party would use (openssl, qpdf, poppler), not by
// re-reading it with the code that wrote it.
const workDir = mkdtempSync(join(tmpdir(), 'pades-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

const PERSON = 'Hoàng Văn Thắng';
const AGENCY = 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang';
const BODY_TEXT = 'Giấy phép lao động số 125/GP-BQL cấp cho bà Trần Thị Bình';

// Certificates valid around the real clock: pdfsig and openssl check them at the time they run.
const NOW = Date.now();
const DAY = 86_400_000;
const root = createRootCa({
  commonName: 'Cổng Dịch vụ công Thử nghiệm Root CA',
  organization: 'Ủy ban nhân dân tỉnh Bắc Giang',
  country: 'VN',
  validFrom: new Date(NOW - 2 * DAY),
  validTo: new Date(NOW + 3650 * DAY),
  keyType: 'RSA',
});
const leaf = (
  commonName: string,
  kind: 'PERSONAL' | 'AGENCY',
  keyType: 'RSA' | 'ECDSA_P256',
): IssuedCertificate =>
  issueCertificate(root, {
    subject: { commonName, organization: kind === 'PERSONAL' ? AGENCY : undefined, country: 'VN' },
    kind,
    validFrom: new Date(NOW - DAY),
    validTo: new Date(NOW + 365 * DAY),
    keyType,
  });
const approverRsa = leaf(PERSON, 'PERSONAL', 'RSA');
const approverEc = leaf(PERSON, 'PERSONAL', 'ECDSA_P256');
const agency = leaf(AGENCY, 'AGENCY', 'RSA');
const signerOf = (c: IssuedCertificate): ServerKeySigner =>
  new ServerKeySigner(c.certificatePem, c.chainPem, createPrivateKey(c.privateKeyPem));

const rootFile = join(workDir, 'root.pem');
writeFileSync(rootFile, root.certificatePem);

let fileCount = 0;
function writeTemp(bytes: Buffer, extension = 'pdf'): string {
  fileCount += 1;
  const file = join(workDir, `file-${fileCount}.${extension}`);
  writeFileSync(file, bytes);
  return file;
}

async function renderSource(): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4' });
  registerFonts(doc);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolvePdf) => doc.on('end', () => resolvePdf(Buffer.concat(chunks))));
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  doc.font('serif').fontSize(13).text(BODY_TEXT, 72, 100);
  doc.end();
  return done;
}

const approverWidget: SignatureWidget = {
  pageIndex: 0,
  rect: [320, 120, 540, 200],
  items: [
    { kind: 'rect', x: 0.5, y: 0.5, width: 219, height: 79, lineWidth: 1, color: [0.1, 0.3, 0.7] },
    { kind: 'text', x: 8, y: 58, size: 10, text: `Ký bởi: ${PERSON}`, bold: true },
    { kind: 'text', x: 8, y: 40, size: 9, text: 'Chức vụ: Phó Trưởng ban', color: [0.2, 0.2, 0.2] },
    { kind: 'text', x: 8, y: 22, size: 9, text: 'Thời gian ký: 15/06/2026 10:00' },
  ],
};
const sealWidgets: SignatureWidget[] = [
  {
    pageIndex: 0,
    rect: [80, 110, 220, 250],
    items: [
      { kind: 'ellipse', cx: 70, cy: 70, rx: 68, ry: 68, lineWidth: 2, color: [0.8, 0, 0] },
      { kind: 'text', x: 22, y: 66, size: 9, text: 'BAN QUẢN LÝ', bold: true, color: [0.8, 0, 0] },
    ],
  },
  {
    pageIndex: 0,
    rect: [80, 40, 300, 70],
    items: [{ kind: 'text', x: 4, y: 10, size: 8, text: 'Đã đóng dấu điện tử bởi cơ quan' }],
  },
];

const approverOptions = (overrides: Partial<SignPdfOptions> = {}): SignPdfOptions => ({
  signer: signerOf(approverRsa),
  signingTime: new Date(NOW),
  fieldName: 'ChuKyLanhDao',
  name: PERSON,
  reason: 'Phê duyệt kết quả giải quyết thủ tục hành chính',
  location: 'Bắc Giang',
  contactInfo: 'vanthu@bqlkcn.example.vn',
  widgets: [approverWidget],
  ...overrides,
});
const sealOptions = (overrides: Partial<SignPdfOptions> = {}): SignPdfOptions => ({
  signer: signerOf(agency),
  signingTime: new Date(NOW + 60_000),
  fieldName: 'ChuKyCoQuan',
  name: AGENCY,
  reason: 'Đóng dấu phát hành',
  widgets: sealWidgets,
  ...overrides,
});

interface EmbeddedSignature {
  byteRange: [number, number, number, number];
  signedBytes: Buffer;
  cms: Buffer;
}

/** The signatures in file order, read the way a verifier does: /ByteRange, then /Contents between. */
function signaturesOf(pdf: Buffer): EmbeddedSignature[] {
  const text = pdf.toString('latin1');
  return [...text.matchAll(/\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]/g)].map((match) => {
    const byteRange = match.slice(1, 5).map(Number) as [number, number, number, number];
    const [a, b, c, d] = byteRange;
    const hex = text.slice(a + b + 1, c - 1);
    const padded = Buffer.from(hex, 'hex');
    // The DER length says where the CMS ends and the zero padding starts.
    const lengthBytes = (padded[1] ?? 0) & 0x7f;
    const length = 2 + lengthBytes + padded.readUIntBE(2, lengthBytes);
    return {
      byteRange,
      signedBytes: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]),
      cms: padded.subarray(0, length),
    };
  });
}

function opensslCmsVerify(signature: EmbeddedSignature): string {
  const cmsFile = writeTemp(signature.cms, 'p7s');
  const contentFile = writeTemp(signature.signedBytes, 'bin');
  return execFileSync(
    'openssl',
    [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      cmsFile,
      '-content',
      contentFile,
      '-CAfile',
      rootFile,
      '-purpose',
      'any',
      '-out',
      join(workDir, 'verified.bin'),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

const nssDir = join(workDir, 'nss');
before(() => {
  mkdirSync(nssDir);
  execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${nssDir}`]);
  execFileSync('certutil', ['-A', '-n', 'root', '-t', 'CT,C,C', '-i', rootFile, '-d', `sql:${nssDir}`]);
});

/**
 * pdfsig's report, split per signature. No -no-ocsp: poppler 22.12 then answers "Unknown issue with
 * Certificate" for every certificate; the test certificates name no OCSP responder, so nothing is fetched.
 */
function pdfsig(pdf: Buffer): string[] {
  const output = execFileSync('pdfsig', ['-nssdir', `sql:${nssDir}`, writeTemp(pdf)], {
    encoding: 'utf8',
  });
  return output.split(/^Signature #\d+:$/m).slice(1);
}

function assertValidSignature(report: string | undefined, fieldName: string, total: boolean): void {
  assert.ok(report, `pdfsig reports ${fieldName}`);
  assert.match(report, new RegExp(`Signature Field Name: ${fieldName}\n`));
  assert.match(report, /Signature Type: ETSI\.CAdES\.detached/);
  assert.match(report, /Signing Hash Algorithm: SHA-256/);
  assert.match(report, /Signature Validation: Signature is Valid\./);
  assert.match(report, /Certificate Validation: Certificate is Trusted\./);
  assert.match(report, total ? /- Total document signed/ : /- Not total document signed/);
}

/** The ASN.1 path into the CMS SignedData of a signature. */
function signerInfoOf(cms: Buffer): { signedData: Asn1[]; signerInfo: Asn1[] } {
  const contentInfo = children(fromDerBuffer(cms));
  assert.equal(oidOf(contentInfo[0] as Asn1), CMS_OID.signedData);
  const signedData = children(children(contentInfo[1] as Asn1)[0] as Asn1);
  const signerInfos = children(signedData[signedData.length - 1] as Asn1);
  assert.equal(signerInfos.length, 1, 'one SignerInfo');
  return { signedData, signerInfo: children(signerInfos[0] as Asn1) };
}

const attributesOf = (signerInfo: Asn1[]): Asn1[] => {
  const signed = signerInfo[3] as Asn1;
  assert.ok(isContextTag(signed, 0), 'signed attributes are [0]');
  return children(signed);
};

let source: Buffer;
let oneSignature: Buffer;
let twoSignatures: Buffer;
before(async () => {
  source = await renderSource();
  oneSignature = await signPdf(source, approverOptions());
  twoSignatures = await signPdf(oneSignature, sealOptions());
});

describe('PAdES signing', () => {
  it('builds a PAdES B-B CMS: three signed attributes in DER order, SHA-256, the chain', () => {
    const [signature] = signaturesOf(oneSignature);
    assert.ok(signature);
    const { signedData, signerInfo } = signerInfoOf(signature.cms);
    assert.equal(valueBytes(signedData[0] as Asn1)[0], 1, 'SignedData version 1');
    const digestAlgorithms = children(signedData[1] as Asn1).map((a) => oidOf(children(a)[0] as Asn1));
    assert.deepEqual(digestAlgorithms, [CMS_OID.sha256]);
    const encapsulated = children(signedData[2] as Asn1);
    assert.equal(encapsulated.length, 1, 'detached: no eContent');
    assert.equal(oidOf(encapsulated[0] as Asn1), CMS_OID.data);

    const certificates = children(signedData[3] as Asn1).map((c) => toDerBuffer(c));
    const expected = [approverRsa.certificatePem, root.certificatePem].map((pem) =>
      pemToDer(pem, 'CERTIFICATE'),
    );
    assert.equal(certificates.length, 2);
    for (const certificate of expected) assert.ok(certificates.some((c) => c.equals(certificate)));

    assert.equal(oidOf(children(signerInfo[2] as Asn1)[0] as Asn1), CMS_OID.sha256);
    assert.equal(oidOf(children(signerInfo[4] as Asn1)[0] as Asn1), CMS_OID.rsaEncryption);
    assert.equal(signerInfo.length, 6, 'no unsigned attributes without a time-stamp');

    const attributes = attributesOf(signerInfo);
    const oids = attributes.map((a) => oidOf(children(a)[0] as Asn1));
    assert.deepEqual(
      [...oids].sort(),
      [CMS_OID.contentType, CMS_OID.messageDigest, CMS_OID.signingCertificateV2].sort(),
    );
    assert.ok(!oids.includes(CMS_OID.signingTime));
    const encoded = attributes.map((a) => toDerBuffer(a));
    for (let i = 1; i < encoded.length; i++)
      assert.ok(Buffer.compare(encoded[i - 1] as Buffer, encoded[i] as Buffer) < 0, 'DER SET OF order');

    const valueOf = (oid: string): Asn1 => {
      const found = attributes.find((a) => oidOf(children(a)[0] as Asn1) === oid);
      assert.ok(found);
      return children(children(found)[1] as Asn1)[0] as Asn1;
    };
    const digest = createHash('sha256').update(signature.signedBytes).digest();
    assert.deepEqual(valueBytes(valueOf(CMS_OID.messageDigest)), digest);
    assert.equal(oidOf(valueOf(CMS_OID.contentType)), CMS_OID.data);
    const essCertId = children(
      children(children(valueOf(CMS_OID.signingCertificateV2))[0] as Asn1)[0] as Asn1,
    );
    const certHash = createHash('sha256')
      .update(pemToDer(approverRsa.certificatePem, 'CERTIFICATE'))
      .digest();
    assert.deepEqual(valueBytes(essCertId[0] as Asn1), certHash);
  });

  it('covers the whole file but the signature, and leaves earlier bytes untouched', () => {
    const signatures = signaturesOf(twoSignatures);
    assert.equal(signatures.length, 2);
    assert.ok(
      twoSignatures.subarray(0, oneSignature.length).equals(oneSignature),
      'the first file is a prefix',
    );
    assert.ok(oneSignature.subarray(0, source.length - 1).equals(source.subarray(0, source.length - 1)));
    const [first, second] = signatures as [EmbeddedSignature, EmbeddedSignature];
    assert.equal(first.byteRange[2] + first.byteRange[3], oneSignature.length);
    assert.equal(second.byteRange[2] + second.byteRange[3], twoSignatures.length);
    assert.equal(second.byteRange[0], 0);
  });

  it('passes openssl cms -verify for each signature', () => {
    for (const signature of signaturesOf(twoSignatures))
      assert.doesNotThrow(() => opensslCmsVerify(signature));
    const [signature] = signaturesOf(oneSignature) as [EmbeddedSignature];
    const tampered = Buffer.from(signature.signedBytes);
    tampered[100] = (tampered[100] ?? 0) ^ 1;
    assert.throws(() => opensslCmsVerify({ ...signature, signedBytes: tampered }));
  });

  it('passes qpdf --check without warnings after one and after two signatures', () => {
    assertQpdfClean(writeTemp(oneSignature));
    assertQpdfClean(writeTemp(twoSignatures));
  });

  it('writes an exact trailer and cross-reference section', () => {
    for (const pdf of [oneSignature, twoSignatures]) {
      const structure = readPdfStructure(pdf);
      const size = structure.trailer.entries.get('Size');
      const highest = Math.max(...structure.xref.keys());
      assert.deepEqual(size, raw(String(highest + 1)));
      const section = pdf.toString('latin1', structure.startxref, pdf.lastIndexOf('trailer'));
      const entries = section.match(/\d{10} \d{5} [nf] \n/g) ?? [];
      assert.ok(entries.length > 5);
      assert.equal(entries.join('').length, entries.length * 20);
      assert.ok(pdf.toString('latin1').endsWith('%%EOF'));
    }
  });

  it('adds the second signature to the existing AcroForm and page', () => {
    const structure = readPdfStructure(twoSignatures);
    const catalog = readDict(structure, structure.trailer.entries.get('Root') as PdfRef);
    const acroForm = resolve(structure, catalog.entries.get('AcroForm'));
    assert.equal(acroForm?.kind, 'dict');
    if (acroForm?.kind !== 'dict') return;
    assert.deepEqual(acroForm.entries.get('SigFlags'), raw('3'));
    const fields = resolve(structure, acroForm.entries.get('Fields'));
    assert.equal(fields?.kind, 'array');
    if (fields?.kind !== 'array') return;
    const names = fields.items.map((f) => {
      const field = resolve(structure, f);
      assert.equal(field?.kind, 'dict');
      const t = field?.kind === 'dict' ? field.entries.get('T') : undefined;
      return t?.kind === 'raw' ? decodePdfString(t.text) : '';
    });
    assert.deepEqual(names, ['ChuKyLanhDao', 'ChuKyCoQuan']);

    // The seal is one field with two widgets; each widget points back to it and to its page.
    const seal = resolve(structure, fields.items[1]);
    assert.ok(seal?.kind === 'dict');
    const kids = seal.entries.get('Kids');
    assert.ok(kids?.kind === 'array' && kids.items.length === 2);
    const sealRef = fields.items[1] as PdfRef;
    const pages = resolve(structure, catalog.entries.get('Pages'));
    assert.ok(pages?.kind === 'dict');
    const pageRef = (pages.entries.get('Kids') as { items: PdfRef[] }).items[0] as PdfRef;
    const annots = resolve(structure, readDict(structure, pageRef).entries.get('Annots'));
    assert.ok(annots?.kind === 'array');
    assert.equal(annots.items.length, 3, 'the approver widget stays, the two seal widgets follow');
    for (const kid of kids.items) {
      const widget = resolve(structure, kid);
      assert.ok(widget?.kind === 'dict');
      assert.deepEqual(widget.entries.get('Parent'), sealRef);
      assert.deepEqual(widget.entries.get('P'), pageRef);
      assert.ok(annots.items.some((a) => a.kind === 'ref' && kid.kind === 'ref' && a.num === kid.num));
    }
  });

  it('is reported valid and trusted by pdfsig, the last one covering the whole document', async () => {
    const [approver] = pdfsig(oneSignature);
    assertValidSignature(approver, 'ChuKyLanhDao', true);
    assert.match(approver ?? '', /Signer Certificate Common Name: Hoàng Văn Thắng/);

    // The approver's signature, once the seal is appended, still verifies but no longer covers the end of
    // the file: that is what pdfsig says of every signature but the last.
    const withSingleWidgetSeal = await signPdf(
      oneSignature,
      sealOptions({ widgets: [sealWidgets[0] as SignatureWidget] }),
    );
    const reports = pdfsig(withSingleWidgetSeal);
    assert.equal(reports.length, 2);
    assertValidSignature(reports[0], 'ChuKyLanhDao', false);
    assertValidSignature(reports[1], 'ChuKyCoQuan', true);
    assert.match(reports[1] ?? '', /Signer Certificate Common Name: Ban Quản lý/);
  });

  it('shows what pdfsig makes of a seal with two widgets', () => {
    const reports = pdfsig(twoSignatures);
    assertValidSignature(reports[0], 'ChuKyLanhDao', false);
    const seal = reports.slice(1);
    if (seal.some((report) => /Signature is Valid/.test(report))) {
      // Poppler releases that tell widget kids from field kids list the field once.
      assert.equal(seal.length, 1);
      assertValidSignature(seal[0], 'ChuKyCoQuan', true);
    } else {
      // Older poppler (22.12 here) takes any kid with /Parent for a child field, so it lists each widget as
      // a field of its own without /V. The file is right (ISO 32000-1, 12.7.3.1; openssl verifies it above).
      assert.equal(seal.length, 2);
      for (const report of seal)
        assert.match(report, /ChuKyCoQuan\n\s+The signature form field is not signed\./);
    }
  });

  it('signs with ECDSA P-256 as with RSA', async () => {
    const signed = await signPdf(source, approverOptions({ signer: signerOf(approverEc) }));
    const [signature] = signaturesOf(signed) as [EmbeddedSignature];
    const { signerInfo } = signerInfoOf(signature.cms);
    assert.equal(oidOf(children(signerInfo[4] as Asn1)[0] as Asn1), CMS_OID.ecdsaWithSha256);
    assert.doesNotThrow(() => opensslCmsVerify(signature));
    assertQpdfClean(writeTemp(signed));
    assertValidSignature(pdfsig(signed)[0], 'ChuKyLanhDao', true);

    const sealed = await signPdf(signed, sealOptions({ widgets: [] }));
    assertQpdfClean(writeTemp(sealed));
    const reports = pdfsig(sealed);
    assertValidSignature(reports[0], 'ChuKyLanhDao', false);
    assertValidSignature(reports[1], 'ChuKyCoQuan', true);
  });

  it('draws the appearance with an embedded font whose text extracts, diacritics included', () => {
    const text = extractText(writeTemp(twoSignatures));
    assertIncludes(text, BODY_TEXT);
    assertIncludes(text, `Ký bởi: ${PERSON}`);
    assertIncludes(text, 'Chức vụ: Phó Trưởng ban');
    assertIncludes(text, 'BAN QUẢN LÝ');
    assertIncludes(text, 'Đã đóng dấu điện tử bởi cơ quan');

    const fonts = execFileSync('pdffonts', [writeTemp(oneSignature)], { encoding: 'utf8' });
    // Two subsets (regular and bold) from the signature, besides the page's own font.
    const embedded = fonts
      .split('\n')
      .filter((line) => /\+DejaVuSerif(-Bold)?\s+CID TrueType\s+Identity-H\s+yes yes yes/.test(line));
    assert.equal(embedded.length, 3);
  });

  it('writes a shared font set per update and a form XObject per widget', () => {
    const update = twoSignatures.subarray(oneSignature.length).toString('latin1');
    assert.equal(
      update.match(/\/Subtype \/Type0/g)?.length,
      2,
      'one regular and one bold font for both widgets',
    );
    assert.equal(update.match(/\/Subtype \/Form/g)?.length, 2);
    assert.match(update, /\/BBox \[0 0 140 140\]/);
    assert.match(update, /\/CIDToGIDMap \/Identity/);
    assert.match(update, /\/FontFile2 \d+ 0 R/);
    assert.match(update, /\/ToUnicode \d+ 0 R/);

    // The ToUnicode map of the bold font holds the letters of "BAN QUẢN LÝ".
    const structure = readPdfStructure(twoSignatures);
    const maps = [...update.matchAll(/\/ToUnicode (\d+) 0 R/g)].map((m) => {
      const body = readObjectStream(twoSignatures, structure.xref.get(Number(m[1]))?.offset ?? 0);
      return body.toString('latin1');
    });
    const decoded = maps.map((cmap) =>
      [...cmap.matchAll(/<[0-9A-F]{4}> <([0-9A-F]+)>/g)]
        .map((m) =>
          Buffer.from(m[1] ?? '', 'hex')
            .swap16()
            .toString('utf16le'),
        )
        .join(''),
    );
    assert.ok(decoded.some((letters) => [...'BANQUẢLÝ'].every((c) => letters.includes(c))));
  });

  it('gives a signer the same font subsets whatever the time it shows, and the new time still extracts', async () => {
    const later = {
      ...approverWidget,
      items: approverWidget.items.map((item) =>
        item.kind === 'text' && item.text.startsWith('Thời gian ký')
          ? { ...item, text: 'Thời gian ký: 27/08/2026 14:39' }
          : item,
      ),
    };
    const again = await signPdf(
      source,
      approverOptions({ widgets: [later], signingTime: new Date(NOW + 3_600_000) }),
    );
    const fontFiles = (pdf: Buffer) => {
      const update = pdf.subarray(source.length).toString('latin1');
      const structure = readPdfStructure(pdf);
      return [...update.matchAll(/\/FontFile2 (\d+) 0 R/g)].map((m) =>
        readObjectStream(pdf, structure.xref.get(Number(m[1]))?.offset ?? 0).toString('hex'),
      );
    };
    const first = fontFiles(oneSignature);
    assert.equal(first.length, 2, 'regular and bold');
    assert.deepEqual(fontFiles(again), first);
    assertIncludes(extractText(writeTemp(again)), 'Thời gian ký: 27/08/2026 14:39');
    assertValidSignature(pdfsig(again)[0], 'ChuKyLanhDao', true);
  });

  it('writes the signature dictionary of PAdES with Vietnamese text strings', () => {
    const update = oneSignature.subarray(source.length).toString('latin1');
    assert.match(
      update,
      /\/Type \/Sig \/Filter \/Adobe\.PPKLite \/SubFilter \/ETSI\.CAdES\.detached \/ByteRange/,
    );
    assert.ok(update.includes(`/M (${pdfDate(new Date(NOW))})`));
    assert.ok(update.includes(`/Name ${(pdfTextString(PERSON) as { text: string }).text}`));
    assert.ok(update.includes('/ContactInfo (vanthu@bqlkcn.example.vn)'));
    assert.match(update, /\/FT \/Sig \/T \(ChuKyLanhDao\) \/V \d+ 0 R/);
  });

  it('signs invisibly when there is no widget', async () => {
    const signed = await signPdf(source, approverOptions({ widgets: [] }));
    assertQpdfClean(writeTemp(signed));
    assertValidSignature(pdfsig(signed)[0], 'ChuKyLanhDao', true);
    assert.match(signed.subarray(source.length).toString('latin1'), /\/Rect \[0 0 0 0\]/);
  });

  it('appends to an indirect /Annots array and keeps the annotations already there', async () => {
    // A page whose /Annots is its own object, holding a link, as some producers write it.
    const structure = readPdfStructure(source);
    const update = new IncrementalUpdate(structure);
    const catalog = readDict(structure, structure.trailer.entries.get('Root') as PdfRef);
    const pages = readDict(structure, catalog.entries.get('Pages') as PdfRef);
    const pageRef = (pages.entries.get('Kids') as { items: PdfRef[] }).items[0] as PdfRef;
    const page = readDict(structure, pageRef);
    const link = update.allocate();
    const annots = update.allocate();
    update.set(
      link,
      dict({
        Type: name('Annot'),
        Subtype: name('Link'),
        Rect: array([raw('72'), raw('90'), raw('300'), raw('110')]),
        Border: array([raw('0'), raw('0'), raw('0')]),
        A: dict({ S: name('URI'), URI: raw('(https://dichvucong.example.vn)') }),
      }),
    );
    update.set(annots, array([link]));
    page.entries.set('Annots', annots);
    update.set(pageRef, page);
    const withLink = update.write().bytes;
    assertQpdfClean(writeTemp(withLink));

    const signed = await signPdf(withLink, approverOptions());
    assertQpdfClean(writeTemp(signed));
    assertValidSignature(pdfsig(signed)[0], 'ChuKyLanhDao', true);
    const after = readPdfStructure(signed);
    const newAnnots = readObject(after, annots);
    assert.ok(newAnnots.kind === 'array');
    assert.equal(newAnnots.items.length, 2);
    assert.deepEqual(newAnnots.items[0], link);
    // The page itself did not need a new version.
    assert.equal(
      after.xref.get(pageRef.num)?.offset,
      readPdfStructure(withLink).xref.get(pageRef.num)?.offset,
    );
  });

  it('refuses a field name already in the document, and bad widgets', async () => {
    await assert.rejects(signPdf(oneSignature, approverOptions()), { code: 'SIGNATURE_FIELD_INVALID' });
    await assert.rejects(signPdf(source, approverOptions({ fieldName: 'Chu.Ky' })), {
      code: 'SIGNATURE_FIELD_INVALID',
    });
    await assert.rejects(
      signPdf(source, approverOptions({ widgets: [{ ...approverWidget, pageIndex: 1 }] })),
      {
        code: 'SIGNATURE_FIELD_INVALID',
      },
    );
    await assert.rejects(
      signPdf(source, approverOptions({ widgets: [{ ...approverWidget, rect: [300, 200, 100, 100] }] })),
      { code: 'SIGNATURE_FIELD_INVALID' },
    );
    await assert.rejects(signPdf(Buffer.from('%PDF-1.7\nnot really\n%%EOF\n'), approverOptions()), {
      code: 'PDF_STRUCTURE_UNSUPPORTED',
    });
  });

  it('refuses files the incremental update does not understand', () => {
    const xrefStream = Buffer.from('%PDF-1.7\n1 0 obj\n<</Type /XRef>>\nendobj\nstartxref\n9\n%%EOF\n');
    assert.throws(() => readPdfStructure(xrefStream), /cross-reference streams are not supported/);
    const text = source.toString('latin1');
    const encrypted = Buffer.from(text.replace('/Root 3 0 R', '/Encrypt 9 0 R /Root 3 0 R'), 'latin1');
    assert.throws(() => readPdfStructure(encrypted), { code: 'PDF_STRUCTURE_UNSUPPORTED' });
    // The trailer follows its table, so naming the table's own offset as /Prev moves nothing.
    const self = readPdfStructure(source).startxref;
    const looping = Buffer.from(text.replace('/Root 3 0 R', `/Prev ${self} /Root 3 0 R`), 'latin1');
    assert.throws(() => readPdfStructure(looping), /cross-reference sections form a loop/);
  });

  it('says so when the CMS does not fit the placeholder', async () => {
    await assert.rejects(signPdf(source, approverOptions({ placeholderBytes: 1024 })), {
      code: 'PDF_SIGNING_FAILED',
    });
  });

  it('encodes and decodes PDF text strings', () => {
    assert.deepEqual(pdfTextString('ChuKy (1)'), raw('(ChuKy \\(1\\))'));
    assert.equal(decodePdfString('(ChuKy \\(1\\))'), 'ChuKy (1)');
    const vietnamese = pdfTextString(PERSON.normalize('NFD'));
    assert.ok(vietnamese.kind === 'raw' && vietnamese.text.startsWith('<FEFF'));
    assert.equal(decodePdfString(vietnamese.text), PERSON);
    assert.equal(decodePdfString('(a\\101\\\nb)'), 'aAb');
    assert.equal(pdfDate(new Date('2026-06-15T17:30:05Z')), "D:20260616003005+07'00'");
  });
});

/** The decoded data of the Flate stream object at `offset`. */
function readObjectStream(pdf: Buffer, offset: number): Buffer {
  const head = pdf.toString('latin1', offset, offset + 400);
  const length = Number(/\/Length (\d+)/.exec(head)?.[1]);
  const start = pdf.indexOf('stream\n', offset) + 'stream\n'.length;
  return inflateSync(pdf.subarray(start, start + length));
}

// ---- time-stamping ---------------------------------------------------------------------------------------

const run = promisify(execFile);

interface LocalTsa {
  url: string;
  close(): Promise<void>;
}

/** openssl ts -reply behind a local HTTP server; `mode` makes it misbehave on purpose. */
async function startTsa(mode: 'answer' | 'http-error' | 'replay'): Promise<LocalTsa> {
  let first: Buffer | null = null;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        if (mode === 'http-error') {
          response.writeHead(503).end();
          return;
        }
        const query = join(tsaDir, `${randomUUID()}.tsq`);
        const reply = join(tsaDir, `${randomUUID()}.tsr`);
        writeFileSync(query, Buffer.concat(chunks));
        await run('openssl', ['ts', '-reply', '-config', tsaConfig, '-queryfile', query, '-out', reply]);
        const answer = readFileSync(reply);
        first ??= answer;
        response.writeHead(200, { 'content-type': 'application/timestamp-reply' });
        response.end(mode === 'replay' ? first : answer);
      })().catch(() => response.writeHead(500).end());
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

const tsaDir = join(workDir, 'tsa');
const tsaConfig = join(tsaDir, 'tsa.cnf');

describe('signature time-stamp (PAdES B-T)', () => {
  before(async () => {
    mkdirSync(tsaDir);
    // The TSA certificate needs extendedKeyUsage timeStamping, critical (RFC 3161, 2.3), which the portal's
    // own CA does not issue; openssl signs one with the test root's key.
    const rootKey = join(tsaDir, 'root-key.pem');
    writeFileSync(rootKey, root.privateKeyPem, { mode: 0o600 });
    const tsaKey = join(tsaDir, 'tsa-key.pem');
    const csr = join(tsaDir, 'tsa.csr');
    const extensions = join(tsaDir, 'tsa-ext.cnf');
    writeFileSync(
      extensions,
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
    );
    await run('openssl', [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      tsaKey,
      '-subj',
      '/C=VN/O=Thử nghiệm/CN=Test TSA',
      '-utf8',
      '-out',
      csr,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      rootFile,
      '-CAkey',
      rootKey,
      '-days',
      '30',
      '-extfile',
      extensions,
      '-out',
      join(tsaDir, 'tsa.pem'),
    ]);
    writeFileSync(
      tsaConfig,
      [
        '[ tsa ]',
        'default_tsa = test_tsa',
        '[ test_tsa ]',
        `serial = ${join(tsaDir, 'serial')}`,
        `signer_cert = ${join(tsaDir, 'tsa.pem')}`,
        `certs = ${rootFile}`,
        `signer_key = ${tsaKey}`,
        'signer_digest = sha256',
        'default_policy = 1.3.6.1.4.1.99999.1',
        'digests = sha256',
        'accuracy = secs:1',
        'ess_cert_id_alg = sha256',
        '',
      ].join('\n'),
    );
    writeFileSync(join(tsaDir, 'serial'), '01\n');
  });

  it('embeds a token over the signature value that openssl ts -verify accepts', async () => {
    const tsa = await startTsa('answer');
    try {
      const signed = await signPdf(source, approverOptions({ timestampUrl: tsa.url }));
      assertQpdfClean(writeTemp(signed));
      const [signature] = signaturesOf(signed) as [EmbeddedSignature];
      assert.doesNotThrow(() => opensslCmsVerify(signature));
      const { signerInfo } = signerInfoOf(signature.cms);
      assert.equal(signerInfo.length, 7);
      const unsigned = signerInfo[6] as Asn1;
      assert.ok(isContextTag(unsigned, 1));
      const [attribute] = children(unsigned);
      assert.ok(attribute);
      assert.equal(oidOf(children(attribute)[0] as Asn1), CMS_OID.signatureTimeStampToken);
      const token = toDerBuffer(children(children(attribute)[1] as Asn1)[0] as Asn1);
      const signatureValue = valueBytes(signerInfo[5] as Asn1);

      // No -untrusted: the token must carry the TSA certificate, as the request asked (certReq).
      const tsVerify = (data: Buffer): string =>
        execFileSync(
          'openssl',
          [
            'ts',
            '-verify',
            '-token_in',
            '-in',
            writeTemp(token, 'tst'),
            '-data',
            writeTemp(data, 'bin'),
            '-CAfile',
            rootFile,
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
      assert.match(tsVerify(signatureValue), /Verification: OK/);
      assert.throws(() => tsVerify(Buffer.concat([signatureValue, Buffer.from([0])])));
      // The signed attributes stay those of B-B: the token is unsigned.
      assert.equal(attributesOf(signerInfo).length, 3);
      assertValidSignature(pdfsig(signed)[0], 'ChuKyLanhDao', true);
    } finally {
      await tsa.close();
    }
  });

  it('fails with TIMESTAMP_FAILED when the TSA errs or answers another request', async () => {
    for (const mode of ['http-error', 'replay'] as const) {
      const tsa = await startTsa(mode);
      try {
        if (mode === 'replay') await signPdf(source, approverOptions({ timestampUrl: tsa.url }));
        await assert.rejects(signPdf(source, approverOptions({ timestampUrl: tsa.url })), {
          code: 'TIMESTAMP_FAILED',
        });
      } finally {
        await tsa.close();
      }
    }
    // Nothing listens on port 9 of the loopback interface.
    await assert.rejects(signPdf(source, approverOptions({ timestampUrl: 'http://127.0.0.1:9/tsa' })), {
      code: 'TIMESTAMP_FAILED',
    });
  });
});
