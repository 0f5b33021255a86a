import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import {
  array,
  IncrementalUpdate,
  type PdfDict,
  type PdfDocumentStructure,
  type PdfRef,
  readDict,
  readPdfStructure,
} from '../../src/signing/pdfIncrementalUpdate';
import { csrfFrom, startTestApp, type TestApp } from '../helpers/testApp';
import { bearer, binary, buildScenario, MONDAY_9AM, type Scenario } from './securityScenario';

// A real result of the workflow (the approver's signature, then the agency's seal over the whole file),
// altered in the ways forgers alter signed PDFs. /verify and POST /api/v1/verify must flag every one: the
// file is no longer the one the portal issued, and not every signature is good.

interface SignatureJson {
  fieldName: string | null;
  valid: boolean;
  trusted: boolean;
  coversWholeDocument: boolean;
  modifiedAfter: boolean;
  changesAfter: string[];
  problems: string[];
  checks: { byteRangeSound: boolean; digestMatches: boolean };
}
interface ReportJson {
  issuedByPortal: boolean;
  allSignaturesGood: boolean;
  problems: string[];
  signatures: SignatureJson[];
}

/** Replaces `from` by `to` (same length, so no offset moves) at its `nth` occurrence (-1: the last). */
function patch(pdf: Buffer, from: string, to: string, nth = 0): Buffer {
  assert.equal(to.length, from.length, 'a patch keeps the length');
  const text = pdf.toString('latin1');
  const found: number[] = [];
  for (let i = text.indexOf(from); i !== -1; i = text.indexOf(from, i + 1)) found.push(i);
  const at = nth < 0 ? found[found.length + nth] : found[nth];
  assert.ok(at !== undefined, `${from} in the file`);
  const copy = Buffer.from(pdf);
  copy.write(to, at, 'latin1');
  return copy;
}

/** Each signature's /ByteRange and where its text is, in file order. */
function byteRanges(pdf: Buffer): { at: number; text: string; values: [number, number, number, number] }[] {
  const text = pdf.toString('latin1');
  return [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)].map((m) => ({
    at: m.index,
    text: m[0],
    values: m.slice(1, 5).map(Number) as [number, number, number, number],
  }));
}

function firstPage(structure: PdfDocumentStructure): { ref: PdfRef; dict: PdfDict } {
  const catalog = readDict(structure, structure.trailer.entries.get('Root') as PdfRef);
  const pages = readDict(structure, catalog.entries.get('Pages') as PdfRef);
  const kids = pages.entries.get('Kids');
  assert.ok(kids?.kind === 'array');
  const ref = kids.items[0] as PdfRef;
  return { ref, dict: readDict(structure, ref) };
}

/** Appends an incremental update, as an editor (not a signer) would. */
function appendUpdate(
  pdf: Buffer,
  change: (
    update: IncrementalUpdate,
    structure: PdfDocumentStructure,
    page: { ref: PdfRef; dict: PdfDict },
  ) => void,
): Buffer {
  const structure = readPdfStructure(pdf);
  const update = new IncrementalUpdate(structure);
  change(update, structure, firstPage(structure));
  return update.write().bytes;
}

const stream = (operators: string) => `<</Length ${operators.length}>>\nstream\n${operators}\nendstream`;
const STAMP = 'BT /F1 28 Tf 60 420 Td (DA DUOC GIA HAN DEN 2030) Tj ET';

describe('signed results altered after signing are flagged by /verify and the API', () => {
  let t: TestApp;
  let s: Scenario;
  let signed: Buffer;

  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    s = await buildScenario(t);
    const res = await binary(
      request(t.app)
        .get(`/api/v1/dossiers/${encodeURIComponent(s.permit.code)}/result`)
        .set(bearer(s.tokens.business)),
    );
    assert.equal(res.status, 200);
    signed = res.body as Buffer;
    assert.equal(byteRanges(signed).length, 2, 'the approver’s signature and the seal');
  });
  after(() => t.close());

  const viaApi = async (pdf: Buffer): Promise<ReportJson> => {
    const res = await request(t.app).post('/api/v1/verify').attach('file', pdf, 'giay-phep.pdf');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as ReportJson;
  };

  const viaPage = async (pdf: Buffer): Promise<string> => {
    const agent = request.agent(t.app);
    const form = await agent.get('/verify');
    const res = await agent
      .post('/verify')
      .field('_csrf', csrfFrom(form.text))
      .attach('file', pdf, 'giay-phep.pdf');
    assert.equal(res.status, 200);
    return res.text;
  };

  /** What every altered file must get: not the portal's, not all good, and a warning on the page. */
  const assertFlagged = async (pdf: Buffer, label: string): Promise<ReportJson> => {
    const report = await viaApi(pdf);
    assert.equal(report.issuedByPortal, false, `${label}: not the file the portal issued`);
    assert.equal(report.allSignaturesGood, false, `${label}: ${JSON.stringify(report.signatures)}`);
    const page = await viaPage(pdf);
    assert.doesNotMatch(page, /Tất cả chữ ký số hợp lệ/, `${label}: the page does not call it good`);
    assert.match(page, /Cảnh báo/, `${label}: the page warns`);
    return report;
  };

  it('accepts the untouched result (the reference for every alteration below)', async () => {
    const report = await viaApi(signed);
    assert.equal(report.issuedByPortal, true);
    assert.equal(report.allSignaturesGood, true, JSON.stringify(report.signatures));
    assert.match(await viaPage(signed), /Tất cả chữ ký số hợp lệ/);
  });

  it('flags content changed by an incremental update after the seal', async () => {
    // A new content stream drawn on the page, added to the page's /Contents.
    const added = appendUpdate(signed, (update, _structure, page) => {
      const contents = update.allocate();
      update.set(contents, stream(STAMP));
      const before = page.dict.entries.get('Contents')!;
      page.dict.entries.set(
        'Contents',
        array([...(before.kind === 'array' ? before.items : [before]), contents]),
      );
      update.set(page.ref, page.dict);
    });
    // The page's existing content stream redefined under its own object number (a shadowing object).
    const shadowed = appendUpdate(signed, (update, _structure, page) => {
      const contents = page.dict.entries.get('Contents')!;
      const target = (contents.kind === 'array' ? contents.items[0] : contents) as PdfRef;
      update.set(target, stream(STAMP));
    });
    for (const [label, pdf] of [
      ['a content stream added', added],
      ['the content stream redefined', shadowed],
    ] as const) {
      const report = await assertFlagged(pdf, label);
      const seal = report.signatures[1]!;
      assert.equal(seal.valid, true, `${label}: the sealed bytes themselves are intact`);
      assert.equal(seal.coversWholeDocument, false, label);
      assert.equal(seal.modifiedAfter, true, label);
      assert.ok(seal.changesAfter.includes('PAGE_CONTENT_CHANGED'), `${label}: ${seal.changesAfter.join()}`);
      assert.equal(report.signatures[0]!.modifiedAfter, true, `${label}: after the approver too`);
    }
  });

  it('flags duplicated objects appended without a cross-reference section', async () => {
    const structure = readPdfStructure(signed);
    const page = firstPage(structure);
    const contents = page.dict.entries.get('Contents')!;
    const target = (contents.kind === 'array' ? contents.items[0] : contents) as PdfRef;
    // Readers that rebuild a broken file take the last definition of an object; this one never says so.
    const tail = `\n${target.num} ${target.gen} obj\n${stream(STAMP)}\nendobj\n`;
    const report = await assertFlagged(
      Buffer.concat([signed, Buffer.from(tail, 'latin1')]),
      'appended object',
    );
    const seal = report.signatures[1]!;
    assert.equal(seal.coversWholeDocument, false);
    assert.ok(seal.changesAfter.includes('DATA_OUTSIDE_REVISIONS'), seal.changesAfter.join());
  });

  it('flags signature wrapping: a /ByteRange whose gap is moved, and content hidden in the gap', async () => {
    const seal = byteRanges(signed)[1]!;
    const [a, b, c, d] = seal.values;
    const moved = (values: number[]) => {
      const text = `/ByteRange [${values.join(' ')}]`;
      assert.ok(text.length <= seal.text.length, 'the new range fits');
      return patch(signed, seal.text, text.padEnd(seal.text.length, ' '), -1);
    };
    for (const [label, pdf] of [
      // The gap shifted onto bytes of the dictionary, the signed part made to start later.
      ['gap shifted', moved([a, b + 2, c + 2, d - 2])],
      // The gap widened to leave bytes before /Contents unsigned.
      ['gap widened', moved([a, b - 40, c, d])],
      // The second range pointing back into the first: the same bytes signed twice, the rest unsigned.
      ['second range pointing elsewhere', moved([a, b, 0, d])],
    ] as const) {
      const report = await assertFlagged(pdf, label);
      const sig = report.signatures[1]!;
      assert.equal(sig.valid, false, label);
      assert.ok(
        sig.problems.includes('BYTE_RANGE_GAP_NOT_CONTENTS') || sig.problems.includes('DIGEST_MISMATCH'),
        `${label}: ${sig.problems.join()}`,
      );
    }

    // The seal's real signature kept, the range untouched, and a key smuggled into the padding of /Contents:
    // every signed byte is the same, only the unsigned gap now holds more than the signature.
    const text = signed.toString('latin1');
    const gapStart = b;
    const gap = text.slice(gapStart, c);
    assert.match(gap, /^<[0-9a-fA-F]+>$/, 'the gap is the /Contents hex string');
    const cms = gap.slice(1, -1).replace(/(00)+$/, '');
    const smuggled = ` /Reason (Gia han den 2030) /Contents <${cms}>`;
    const wrapped = `<${cms}>${smuggled}`.padEnd(gap.length - 1, ' ');
    const inGap = Buffer.from(signed);
    inGap.write(`${wrapped} `, gapStart, 'latin1');
    assert.equal(inGap.length, signed.length);
    const report = await assertFlagged(inGap, 'content hidden in the gap');
    const sig = report.signatures[1]!;
    assert.equal(sig.valid, false);
    assert.equal(sig.checks.byteRangeSound, false);
    assert.ok(sig.problems.includes('BYTE_RANGE_GAP_NOT_CONTENTS'), sig.problems.join());

    // The approver's signature value pasted over the seal's: a real signature of other bytes.
    const [approver] = byteRanges(signed);
    const approverCms = text.slice(approver!.values[1] + 1, approver!.values[2] - 1).replace(/(00)+$/, '');
    assert.ok(approverCms.length <= gap.length - 2, 'the approver’s signature fits in the seal’s gap');
    const pasted = Buffer.from(signed);
    pasted.write(`<${approverCms.padEnd(gap.length - 2, '0')}>`, gapStart, 'latin1');
    const swapped = await assertFlagged(pasted, 'another signature’s value');
    assert.equal(swapped.signatures[1]!.valid, false);
    assert.equal(swapped.signatures[0]!.valid, true, 'the approver’s own signature is untouched');
  });

  it('flags a broken signature dictionary', async () => {
    const sealAt = byteRanges(signed)[1]!.at;
    const sealDict = (from: string, to: string) => {
      const text = signed.toString('latin1');
      const at = text.indexOf(from, sealAt - 4000);
      assert.ok(at !== -1 && at < sealAt + 20000, `${from} in the seal's dictionary`);
      const copy = Buffer.from(signed);
      copy.write(to, at, 'latin1');
      return copy;
    };
    const gapStart = byteRanges(signed)[1]!.values[1];
    const nonHex = Buffer.from(signed);
    nonHex.write('zz', gapStart + 1, 'latin1');
    const asString = Buffer.from(signed);
    asString.write('(', gapStart, 'latin1');
    asString.write(')', byteRanges(signed)[1]!.values[2] - 1, 'latin1');
    for (const [label, pdf, expected] of [
      ['no /ByteRange', patch(signed, '/ByteRange', '/ByteRangX', -1), 'MALFORMED_SIGNATURE_DICTIONARY'],
      [
        '/ByteRange not four integers',
        patch(
          signed,
          byteRanges(signed)[1]!.text,
          `/ByteRange [0 x y z]`.padEnd(byteRanges(signed)[1]!.text.length, ' '),
          -1,
        ),
        'MALFORMED_SIGNATURE_DICTIONARY',
      ],
      ['/Contents not hex', nonHex, 'MALFORMED'],
      ['/Contents a literal string', asString, 'MALFORMED_SIGNATURE_DICTIONARY'],
      [
        'an unknown /SubFilter',
        sealDict('/ETSI.CAdES.detached', '/ETSI.CAdES.detachex'),
        'UNSUPPORTED_SUBFILTER',
      ],
    ] as const) {
      const report = await assertFlagged(pdf, label);
      const sig = report.signatures[report.signatures.length - 1]!;
      assert.equal(sig.valid, false, label);
      assert.equal(sig.trusted, false, label);
      assert.ok(
        sig.problems.some((p) => p.startsWith(expected)),
        `${label}: ${sig.problems.join()} should include ${expected}`,
      );
    }
    // Broken in the approver's signature: the seal over it cannot be good either.
    const first = await assertFlagged(patch(signed, '/ByteRange', '/ByteRangX', 0), 'approver’s dictionary');
    assert.ok(first.signatures[0]!.problems.includes('MALFORMED_SIGNATURE_DICTIONARY'));
    assert.equal(first.signatures[1]!.valid, false);
  });
});
