import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Agency } from '../../src/data/agencyRepository';
import {
  REPORT_COLUMNS,
  REPORT_TITLE,
  TOTAL_ROW_LABEL,
  renderStatisticsReport,
} from '../../src/documents/statisticsReportDocument';
import type { FigureSet, StatisticsReport } from '../../src/services/statisticsService';
import { assertIncludes, assertQpdfClean, pageCount, run } from '../helpers/pdfTools';
import { layoutLines, nameOf, tableLines, type TableLine } from '../helpers/reportTable';

// Checked with the tools a reader's software relies on (poppler, qpdf), as the other documents are.
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-report-'));
after(() => fs.rmSync(workDir, { recursive: true, force: true }));

function agency(id: number, parentId: number | null, name: string): Agency {
  return {
    id,
    code: `000.${String(id).padStart(2, '0')}.00.H10`,
    name,
    nameEn: `Agency ${id}`,
    shortName: `A${id}`,
    level: parentId === null ? 'PROVINCE' : 'DEPARTMENT',
    parentId,
    placeName: 'Bắc Giang',
    address: '',
  };
}

/** Figures that differ from agency to agency, with thousands, fractions and a ratio left undefined. */
function figures(k: number): FigureSet {
  return {
    received: { total: 1200 + k, online: 1000 + k, counter: 200 },
    procedures: { offered: 10, fullOnline: 4 },
    resolved: { total: 900, early: 500, onTime: 300 + k, late: 100 - k, released: 880, refused: 20 },
    onTimeRate: k % 2 === 0 ? 88.9 : null,
    averageProcessingDays: 3.71,
    inProgress: { total: 50 + k, notYetDue: 40, overdue: 10 + k, paused: 3 },
    supplementRequests: k,
    refusals: 3,
    withdrawals: 2,
    results: {
      issued: 880,
      signedAndSealed: 800,
      withApproverSignature: 810,
      withAgencySeal: 805,
      paper: 80,
      signingRate: 90.91,
    },
    certificates: { personal: 1, agency: 1, expiringSoon: { personal: 0, agency: 0 } },
    ratings: { count: 10, average: 4.25, distribution: { '1': 0, '2': 0, '3': 1, '4': 5, '5': 4 } },
  };
}

const AGENCIES = 60;
const province = agency(1, null, 'Ủy ban nhân dân tỉnh Bắc Giang');
// Long enough to wrap in the name column, and indented by depth.
const names = Array.from({ length: AGENCIES }, (_, i) =>
  i === 0 ? province.name : `Ban Quản lý dự án đầu tư xây dựng công trình giao thông số ${i} tỉnh Bắc Giang`,
);

function report(): StatisticsReport {
  const total = figures(0);
  total.received.total = 12_345;
  return {
    agency: province,
    period: {
      from: '2026-11-01',
      to: '2026-11-30',
      start: new Date('2026-10-31T17:00:00Z'),
      end: new Date('2026-11-30T17:00:00Z'),
      // 14:05 on 30 November in Vietnam.
      asOf: new Date('2026-11-30T07:05:00Z'),
    },
    total,
    byAgency: names.map((name, i) => ({
      agency: i === 0 ? province : agency(i + 1, 1, name),
      depth: i === 0 ? 0 : 1 + (i % 3 === 0 ? 1 : 0),
      figures: figures(i),
    })),
    ratingsByProcedure: [],
    monthly: [],
    expiringWithinDays: 30,
    hoursPerDay: 8,
  };
}

const pageText = (file: string, page: number) =>
  run('pdftotext', ['-layout', '-f', String(page), '-l', String(page), file, '-']).normalize('NFC');

describe('statistics report PDF', () => {
  let file: string;
  let pages: number;

  before(async () => {
    file = path.join(workDir, 'report.pdf');
    fs.writeFileSync(
      file,
      await renderStatisticsReport({
        report: report(),
        parentAgencyName: null,
        // 1 December, 06:30 in Vietnam, is still 30 November in UTC.
        issuedAt: new Date('2026-11-30T23:30:00Z'),
        publicUrl: 'https://dichvucong.example.vn/stats?agency=000.01.00.H10&from=2026-11-01&to=2026-11-30',
      }),
    );
    pages = pageCount(file);
  });

  it('is a clean A4 landscape file with the fonts embedded', () => {
    assertQpdfClean(file);
    assert.match(run('pdfinfo', [file]), /^Page size:\s+841\.89 x 595\.28 pts \(A4\)$/m);
    const fonts = run('pdffonts', [file]).trim().split('\n').slice(2);
    for (const line of fonts) assert.match(line, /^[A-Z]{6}\+DejaVuSerif\S*\s.*\byes\s+yes\s+yes\s/, line);
  });

  it('opens with the heading of an administrative document, the title and the period', () => {
    const first = pageText(file, 1).replace(/\s+/g, ' ');
    assertIncludes(first, 'ỦY BAN NHÂN DÂN TỈNH BẮC GIANG');
    assertIncludes(first, 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM');
    assertIncludes(first, 'Độc lập - Tự do - Hạnh phúc');
    assertIncludes(first, 'Bắc Giang, ngày 01 tháng 12 năm 2026');
    assertIncludes(first, REPORT_TITLE);
    assertIncludes(first, 'Từ ngày 01/11/2026 đến ngày 30/11/2026');
    assertIncludes(first, 'Số liệu tính đến 14 giờ 05 phút, ngày 30/11/2026');
  });

  it('runs over several pages, each with the table header and its number', () => {
    assert.ok(pages >= 2, `${AGENCIES} agencies take more than a page (${pages})`);
    for (let p = 1; p <= pages; p += 1) {
      const text = pageText(file, p).replace(/\s+/g, ' ');
      assertIncludes(text, `Trang ${p}/${pages}`);
      if (p > 1) assert.ok(!text.includes('CỘNG HÒA XÃ HỘI'), `page ${p} has no heading of its own`);
      if (tableLines(layoutLines(pageText(file, p)), REPORT_COLUMNS.length).length === 0) continue;
      for (const label of [
        'STT',
        'Cơ quan, đơn vị',
        'Tiếp nhận',
        'Đã giải quyết',
        'Đang giải quyết',
        'Kết quả',
      ]) {
        assertIncludes(text, label);
      }
    }
  });

  it('has every agency once, whole on one page, in order, with its figures Vietnamese-style', () => {
    const expected = report();
    const rows: TableLine[] = [];
    for (let p = 1; p <= pages; p += 1) {
      const lines = layoutLines(pageText(file, p));
      for (const row of tableLines(lines, REPORT_COLUMNS.length)) {
        const i = rows.length;
        const name = i < AGENCIES ? names[i]! : TOTAL_ROW_LABEL;
        assert.equal(nameOf(lines, row, name), name, `row ${i + 1} on page ${p}`);
        rows.push(row);
      }
    }
    assert.equal(rows.length, AGENCIES + 1);
    assert.deepEqual(
      rows.map((r) => r.order),
      [...names.map((_, i) => String(i + 1)), ''],
    );
    const format = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 });
    const cells = (f: FigureSet) =>
      REPORT_COLUMNS.map((c) => {
        const v = c.value(f);
        return v === null ? '–' : format.format(v);
      });
    expected.byAgency.forEach((a, i) => assert.deepEqual(rows[i]!.figures, cells(a.figures), names[i]));
    assert.deepEqual(rows[AGENCIES]!.figures, cells(expected.total));
    // Spelled out, so that a change of formatter shows: thousands with dots, decimals with a comma.
    assert.equal(rows[AGENCIES]!.figures[0], '12.345');
    assert.deepEqual(rows[0]!.figures.slice(9, 10), ['88,9']);
    assert.deepEqual(rows[1]!.figures.slice(9, 10), ['–']);
    assert.equal(rows[0]!.figures[15], '90,91');
    assert.equal(rows[0]!.figures[16], '4,25');
  });

  it('ends with the notes and where the figures are explained', () => {
    const last = pageText(file, pages).replace(/\s+/g, ' ');
    assertIncludes(last, 'Ghi chú:');
    assertIncludes(last, 'Tỷ lệ đúng hạn = (trước hạn + đúng hạn) / đã giải quyết');
    assertIncludes(last, 'https://dichvucong.example.vn/stats?agency=000.01.00.H10');
  });
});
