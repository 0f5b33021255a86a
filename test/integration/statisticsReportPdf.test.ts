import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { REPORT_COLUMNS, REPORT_TITLE, TOTAL_ROW_LABEL } from '../../src/documents/statisticsReportDocument';
import { filePermitByApi } from '../helpers/fixtures';
import { assertIncludes, assertQpdfClean, run } from '../helpers/pdfTools';
import { layoutLines, nameOf, tableLines, parseCsv } from '../helpers/reportTable';
import { DEMO_PASSWORD, startTestApp, type TestApp } from '../helpers/testApp';

const PROVINCE = '000.00.00.H10';
const QUERY = `agency=${PROVINCE}&month=2026-11`;
const vn = (dateTime: string) => new Date(`${dateTime}:00.000+07:00`).toISOString();

/** The CSV columns of the report, in the order of the PDF table's figures. */
const CSV_OF_COLUMN = [
  'received',
  'received_online',
  'received_counter',
  'resolved',
  'resolved_early',
  'resolved_on_time',
  'resolved_late',
  'in_progress',
  'in_progress_overdue',
  'on_time_rate',
  'supplement_requests',
  'refusals',
  'withdrawals',
  'results_issued',
  'results_signed_and_sealed',
  'signing_rate',
  'rating_average',
];

/** A CSV figure as the PDF prints it: 1.234,5, and a dash for a ratio with nothing to divide. */
const vi = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 });
const asPrinted = (csv: string) => (csv === '' ? '–' : vi.format(Number(csv)));

describe('statistics report as a PDF table', () => {
  let t: TestApp;
  let workDir: string;

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-pdf-'));
    // Monday 23 November 2026, 09:00 in Vietnam.
    t = await startTestApp({ clock: new FixedClock(vn('2026-11-23T09:00')) });
    const token = async (who: string) =>
      (
        await request(t.app)
          .post('/api/v1/tokens')
          .send({ email: `${who}@demo.gov.vn`, password: DEMO_PASSWORD })
      ).body.token as string;
    const business = await token('business');
    const citizen = await token('citizen');
    const reception = await token('reception');

    // Two work permits at the industrial-zones authority, one of them refused at once (so resolved),
    // and a civil-status extract at the commune, two levels below the province.
    await filePermitByApi(t.app, business);
    const refused = await filePermitByApi(t.app, business);
    const extract = await request(t.app)
      .post('/api/v1/dossiers')
      .set('Authorization', `Bearer ${citizen}`)
      .field('procedure', 'XA-HT-01')
      .field('extractType', 'BIRTH')
      .field('subjectName', 'Nguyễn Văn An')
      .field('subjectBirthDate', '1990-05-12')
      .field('relationship', 'SELF')
      .field('copies', '1');
    assert.equal(extract.status, 201, JSON.stringify(extract.body));
    t.clock.set(vn('2026-11-23T10:00'));
    const refusal = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(refused)}/actions/refuse`)
      .set('Authorization', `Bearer ${reception}`)
      .send({ reason: 'Doanh nghiệp không thuộc khu công nghiệp.' });
    assert.equal(refusal.status, 200, JSON.stringify(refusal.body));
    t.clock.set(vn('2026-11-25T14:05'));
  });

  after(async () => {
    await t.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  const downloadPdf = async (query: string, cookie?: string) => {
    const req = request(t.app).get(`/stats/report.pdf?${query}`);
    if (cookie) req.set('Cookie', cookie);
    const res = await req.buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(res.status, 200, query);
    const file = path.join(workDir, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.pdf`);
    fs.writeFileSync(file, res.body as Buffer);
    try {
      assertQpdfClean(file);
      return { res, text: run('pdftotext', ['-layout', file, '-']).normalize('NFC') };
    } finally {
      fs.rmSync(file, { force: true });
    }
  };

  it('has the figures of the CSV for the same query, agency by agency and in total', async () => {
    const csv = await request(t.app).get(`/stats/report.csv?${QUERY}`);
    assert.equal(csv.status, 200);
    const [header, ...rows] = parseCsv(csv.text);
    const col = (name: string) => header!.indexOf(name);
    const own = rows.filter((r) => r[col('scope')] === 'OWN');
    const total = rows.find((r) => r[col('scope')] === 'TOTAL')!;
    assert.equal(own.length, 5, 'the province and the four agencies of its tree');
    assert.equal(total[col('received')], '3');
    assert.equal(total[col('resolved')], '1');

    const { res, text } = await downloadPdf(QUERY);
    assert.equal(res.headers['content-type'], 'application/pdf');
    assert.equal(
      res.headers['content-disposition'],
      `attachment; filename="bao-cao-${PROVINCE}-2026-11-01-2026-11-30.pdf"`,
    );
    assert.match(res.headers['cache-control']!, /no-store/);

    const folded = text.replace(/\s+/g, ' ');
    assertIncludes(folded, 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM');
    assertIncludes(folded, 'ỦY BAN NHÂN DÂN TỈNH BẮC GIANG');
    assertIncludes(folded, REPORT_TITLE);
    assertIncludes(folded, 'Từ ngày 01/11/2026 đến ngày 30/11/2026');
    assertIncludes(folded, 'Số liệu tính đến 14 giờ 05 phút, ngày 25/11/2026');
    assertIncludes(folded, `/stats?agency=${PROVINCE}&from=2026-11-01&to=2026-11-30`);
    assertIncludes(folded, 'Trang 1/1');

    const lines = layoutLines(text);
    const table = tableLines(lines, REPORT_COLUMNS.length);
    assert.equal(table.length, own.length + 1, 'a row per agency and the total');
    own.forEach((r, i) => {
      const row = table[i]!;
      const name = r[col('agency_name')]!;
      assert.equal(row.order, String(i + 1));
      assert.equal(nameOf(lines, row, name), name);
      assert.deepEqual(
        row.figures,
        CSV_OF_COLUMN.map((c) => asPrinted(r[col(c)]!)),
        name,
      );
    });
    const last = table[own.length]!;
    assert.equal(last.nameStart, TOTAL_ROW_LABEL);
    assert.deepEqual(
      last.figures,
      CSV_OF_COLUMN.map((c) => asPrinted(total[col(c)]!)),
    );
    assert.equal(last.figures[0], '3');
    assert.equal(last.figures[3], '1');
  });

  it('stays in Vietnamese whatever the language of the pages', async () => {
    const { text } = await downloadPdf(QUERY, 'lang=en');
    assertIncludes(text.replace(/\s+/g, ' '), REPORT_TITLE);
    assert.equal(tableLines(layoutLines(text), REPORT_COLUMNS.length).at(-1)?.nameStart, TOTAL_ROW_LABEL);
  });

  it('is linked beside the CSV on the statistics page', async () => {
    const page = await request(t.app).get(`/stats?agency=${PROVINCE}&from=2026-11-01&to=2026-11-30`);
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      /href="\/stats\/report\.pdf\?agency=000\.00\.00\.H10&amp;from=2026-11-01&amp;to=2026-11-30"/,
    );
    assert.match(page.text, /formaction="\/stats\/report\.pdf"/);
  });

  it('answers 422 for a bad query, as the CSV does', async () => {
    for (const query of ['month=2026-13', 'agency=000.99.99.H10', 'from=2026-12-01&to=2026-11-01']) {
      const pdf = await request(t.app).get(`/stats/report.pdf?${query}`);
      assert.equal(pdf.status, 422, query);
      assert.notEqual(pdf.headers['content-type'], 'application/pdf', query);
      assert.equal((await request(t.app).get(`/stats/report.csv?${query}`)).status, 422, query);
    }
  });
});
