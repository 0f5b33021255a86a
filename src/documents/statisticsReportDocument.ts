// The monthly report on the handling of administrative procedures, as the agency files it upwards: the
// heading of an administrative document, then one table row per agency of the tree and the total. The
// figures are the ones the public statistics page, the CSV and the API publish, so the PDF adds no
// figure of its own; it only lays them out for print and for the archive.
import type { AgencyFigures, FigureSet, StatisticsReport } from '../services/statisticsService';
import {
  BODY_SIZE,
  HEADER_SIZE,
  TITLE_SIZE,
  clockAndDate,
  contentBottom,
  drawAgencyBlock,
  drawNationalBlock,
  headingColumns,
  keepTogether,
  openAdminDocument,
  placeAndDate,
  type Doc,
} from './adminDocumentLayout';

export interface StatisticsReportData {
  report: StatisticsReport;
  /** The body above the reporting agency, printed over its name in the heading. */
  parentAgencyName: string | null;
  /** When the document was made: the date after the place in the heading. */
  issuedAt: Date;
  /** The public statistics page for the same agency and period, where every figure is explained. */
  publicUrl: string;
}

export const REPORT_TITLE = 'BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH';
export const TOTAL_ROW_LABEL = 'Tổng cộng';

interface Column {
  label: string;
  /** The heading over a run of columns; a column without one spans both header rows. */
  group?: string;
  value(f: FigureSet): number | null;
}

/** The figures of the table, left to right: exported, because a machine reading the PDF's text back
 * finds each row's figures in this order. */
export const REPORT_COLUMNS: readonly Column[] = [
  { group: 'Tiếp nhận', label: 'Tổng số', value: (f) => f.received.total },
  { group: 'Tiếp nhận', label: 'Trực tuyến', value: (f) => f.received.online },
  { group: 'Tiếp nhận', label: 'Trực tiếp', value: (f) => f.received.counter },
  { group: 'Đã giải quyết', label: 'Tổng số', value: (f) => f.resolved.total },
  { group: 'Đã giải quyết', label: 'Trước hạn', value: (f) => f.resolved.early },
  { group: 'Đã giải quyết', label: 'Đúng hạn', value: (f) => f.resolved.onTime },
  { group: 'Đã giải quyết', label: 'Quá hạn', value: (f) => f.resolved.late },
  { group: 'Đang giải quyết', label: 'Tổng số', value: (f) => f.inProgress.total },
  { group: 'Đang giải quyết', label: 'Quá hạn', value: (f) => f.inProgress.overdue },
  { label: 'Tỷ lệ đúng hạn (%)', value: (f) => f.onTimeRate },
  { label: 'Yêu cầu bổ sung', value: (f) => f.supplementRequests },
  { label: 'Từ chối', value: (f) => f.refusals },
  { label: 'Rút hồ sơ', value: (f) => f.withdrawals },
  { group: 'Kết quả', label: 'Đã trả', value: (f) => f.results.issued },
  { group: 'Kết quả', label: 'Ký số, đóng dấu số', value: (f) => f.results.signedAndSealed },
  { group: 'Kết quả', label: 'Tỷ lệ ký số (%)', value: (f) => f.results.signingRate },
  { label: 'Đánh giá trung bình (1–5)', value: (f) => f.ratings.average },
];

// Short, so that the notes stay on the last page of a one-page report; the public page has the long text.
const NOTES = [
  'Mỗi dòng là hồ sơ của riêng cơ quan, đơn vị đó; dòng "Tổng cộng" gồm cơ quan báo cáo và tất cả đơn vị trực thuộc.',
  'Tiếp nhận: hồ sơ nộp trong kỳ, trực tuyến hoặc trực tiếp tại Bộ phận Một cửa. Đã giải quyết: hồ sơ trả kết quả hoặc từ chối giải quyết trong kỳ; trước hạn là trước ngày hẹn trả, đúng hạn là trong ngày hẹn trả, quá hạn là sau thời điểm hẹn trả đang có hiệu lực.',
  'Đang giải quyết: hồ sơ chưa có kết quả, chưa rút tại thời điểm lấy số liệu; quá hạn là đã qua thời điểm hẹn trả (không tính hồ sơ đang chờ bổ sung).',
  'Tỷ lệ đúng hạn = (trước hạn + đúng hạn) / đã giải quyết. Yêu cầu bổ sung, từ chối, rút hồ sơ: số lần phát sinh trong kỳ. Tỷ lệ ký số = kết quả điện tử có chữ ký số của người có thẩm quyền và con dấu số của cơ quan / kết quả đã trả. Đánh giá trung bình: mức độ hài lòng của người dân, doanh nghiệp, thang điểm 1 đến 5.',
];

const TABLE_SIZE = 8;
const TABLE_HEADER_SIZE = 7;
const NOTE_SIZE = 9;
const PAD_X = 2;
const PAD_Y = 3;
const INDENT = 8;
const ORDER_WIDTH = 22;
const FIGURE_WIDTH = 33;
const RULE = 0.5;

/** Numbers as Vietnamese readers write them: 1.234,5. A missing ratio (nothing to divide) is a dash. */
const numberFormat = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 });
export function formatFigure(n: number | null): string {
  return n === null ? '–' : numberFormat.format(n);
}

/** '01/11/2026' from '2026-11-01'. */
function localDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

interface Geometry {
  left: number;
  nameWidth: number;
  /** Left edges: [order, name, ...figures], and the table's right edge. */
  xs: number[];
  right: number;
}

function geometry(doc: Doc): Geometry {
  const { left, width } = headingColumns(doc);
  const nameWidth = width - ORDER_WIDTH - FIGURE_WIDTH * REPORT_COLUMNS.length;
  const xs = [left, left + ORDER_WIDTH];
  for (let i = 0; i < REPORT_COLUMNS.length; i += 1)
    xs.push(left + ORDER_WIDTH + nameWidth + i * FIGURE_WIDTH);
  return { left, nameWidth, xs, right: left + width };
}

/** Text in a box: wrapped to its width, never past its height, so pdfkit never breaks the page itself. */
function cellText(
  doc: Doc,
  text: string,
  x: number,
  y: number,
  width: number,
  height: number,
  align: 'left' | 'center' | 'right',
): void {
  doc.text(text, x, y, { width, height, align, lineGap: 0 });
}

function box(doc: Doc, x: number, y: number, width: number, height: number): void {
  doc.rect(x, y, width, height).lineWidth(RULE).stroke();
}

interface HeaderCell {
  label: string;
  x: number;
  width: number;
  /** 0: the group row, 1: the row under it, 'both': a column without a group. */
  row: 0 | 1 | 'both';
}

function headerCells(g: Geometry): HeaderCell[] {
  const cells: HeaderCell[] = [
    { label: 'STT', x: g.xs[0]!, width: ORDER_WIDTH, row: 'both' },
    { label: 'Cơ quan, đơn vị', x: g.xs[1]!, width: g.nameWidth, row: 'both' },
  ];
  REPORT_COLUMNS.forEach((c, i) => {
    const x = g.xs[i + 2]!;
    if (!c.group) {
      cells.push({ label: c.label, x, width: FIGURE_WIDTH, row: 'both' });
      return;
    }
    if (REPORT_COLUMNS[i - 1]?.group !== c.group) {
      const span = REPORT_COLUMNS.slice(i).findIndex((n) => n.group !== c.group);
      const count = span === -1 ? REPORT_COLUMNS.length - i : span;
      cells.push({ label: c.group, x, width: FIGURE_WIDTH * count, row: 0 });
    }
    cells.push({ label: c.label, x, width: FIGURE_WIDTH, row: 1 });
  });
  return cells;
}

/** The two header rows' heights: each as tall as its tallest wrapped label, with room for spanning ones. */
function headerHeights(doc: Doc, cells: readonly HeaderCell[]): [number, number] {
  doc.font('serif-bold').fontSize(TABLE_HEADER_SIZE);
  const need = (c: HeaderCell) => doc.heightOfString(c.label, { width: c.width - 2 * PAD_X }) + 2 * PAD_Y;
  const top = Math.max(...cells.filter((c) => c.row === 0).map(need));
  let bottom = Math.max(...cells.filter((c) => c.row === 1).map(need));
  const spanning = Math.max(...cells.filter((c) => c.row === 'both').map(need));
  if (top + bottom < spanning) bottom = spanning - top;
  return [top, bottom];
}

function drawHeader(doc: Doc, cells: readonly HeaderCell[], heights: [number, number], y: number): number {
  const [top, bottom] = heights;
  doc.font('serif-bold').fontSize(TABLE_HEADER_SIZE);
  for (const c of cells) {
    const cellY = c.row === 1 ? y + top : y;
    const height = c.row === 'both' ? top + bottom : c.row === 0 ? top : bottom;
    box(doc, c.x, cellY, c.width, height);
    const textWidth = c.width - 2 * PAD_X;
    const textHeight = doc.heightOfString(c.label, { width: textWidth });
    cellText(
      doc,
      c.label,
      c.x + PAD_X,
      cellY + (height - textHeight) / 2,
      textWidth,
      textHeight + 1,
      'center',
    );
  }
  return y + top + bottom;
}

interface Row {
  order: string;
  name: string;
  depth: number;
  figures: FigureSet;
  bold: boolean;
}

function rowHeight(doc: Doc, g: Geometry, row: Row): number {
  doc.font(row.bold ? 'serif-bold' : 'serif').fontSize(TABLE_SIZE);
  const nameHeight = doc.heightOfString(row.name, { width: g.nameWidth - 2 * PAD_X - row.depth * INDENT });
  return Math.max(nameHeight, doc.currentLineHeight(true)) + 2 * PAD_Y;
}

/**
 * A figure right-aligned in its cell. Every cell of the row starts at the same y as the agency's name, so
 * the figures share the baseline of the name's first line and text extraction keeps them on its line.
 */
function drawRow(doc: Doc, g: Geometry, row: Row, y: number, height: number): void {
  const font = row.bold ? 'serif-bold' : 'serif';
  doc.font(font).fontSize(TABLE_SIZE);
  const lineHeight = doc.currentLineHeight(true);
  box(doc, g.xs[0]!, y, ORDER_WIDTH, height);
  cellText(doc, row.order, g.xs[0]! + PAD_X, y + PAD_Y, ORDER_WIDTH - 2 * PAD_X, lineHeight, 'center');
  box(doc, g.xs[1]!, y, g.nameWidth, height);
  const indent = row.depth * INDENT;
  cellText(
    doc,
    row.name,
    g.xs[1]! + PAD_X + indent,
    y + PAD_Y,
    g.nameWidth - 2 * PAD_X - indent,
    height - 2 * PAD_Y + 1,
    'left',
  );
  REPORT_COLUMNS.forEach((c, i) => {
    const x = g.xs[i + 2]!;
    box(doc, x, y, FIGURE_WIDTH, height);
    const text = formatFigure(c.value(row.figures));
    const room = FIGURE_WIDTH - 2 * PAD_X;
    // A count too wide for its column is set smaller rather than wrapped or cut.
    const width = doc.font(font).fontSize(TABLE_SIZE).widthOfString(text);
    if (width > room) doc.fontSize((TABLE_SIZE * room) / width);
    cellText(doc, text, x + PAD_X, y + PAD_Y, room, lineHeight, 'right');
  });
}

/**
 * The table: the header, then each row whole; a row that does not fit above the bottom margin goes to a
 * new page, which starts with the header again, so every page can be read on its own.
 */
function drawTable(doc: Doc, rows: readonly Row[]): void {
  const g = geometry(doc);
  const cells = headerCells(g);
  const heights = headerHeights(doc, cells);
  const headerHeight = heights[0] + heights[1];
  let y = doc.y;
  // The header never stands alone at the foot of a page.
  if (rows.length > 0 && y + headerHeight + rowHeight(doc, g, rows[0]!) > contentBottom(doc)) {
    doc.addPage();
    y = doc.page.margins.top;
  }
  y = drawHeader(doc, cells, heights, y);
  for (const row of rows) {
    const height = rowHeight(doc, g, row);
    if (y + height > contentBottom(doc)) {
      doc.addPage();
      y = drawHeader(doc, cells, heights, doc.page.margins.top);
    }
    drawRow(doc, g, row, y, height);
    y += height;
  }
  doc.x = g.left;
  doc.y = y;
}

function tableRows(report: StatisticsReport): Row[] {
  return [
    ...report.byAgency.map((a: AgencyFigures, i) => ({
      order: String(i + 1),
      name: a.agency.name,
      depth: a.depth,
      figures: a.figures,
      bold: false,
    })),
    { order: '', name: TOTAL_ROW_LABEL, depth: 0, figures: report.total, bold: true },
  ];
}

/** The report as an A4 landscape PDF; its text extracts, so the figures can be read back by machine. */
export async function renderStatisticsReport(data: StatisticsReportData): Promise<Buffer> {
  const { report } = data;
  const from = localDate(report.period.from);
  const to = localDate(report.period.to);
  const { doc, finish } = openAdminDocument({
    title: 'Báo cáo tình hình, kết quả giải quyết thủ tục hành chính',
    agencyName: report.agency.name,
    code: `${report.agency.code}, ${from} - ${to}`,
    issuedAt: data.issuedAt,
    layout: 'landscape',
    pageNumbers: 'footer',
  });
  const { left, width, nationalLeft, nationalWidth } = headingColumns(doc);

  const top = doc.y;
  const agencyRuleY = drawAgencyBlock(
    doc,
    { agencyName: report.agency.name, parentAgencyName: data.parentAgencyName },
    top,
  );
  const mottoRuleY = drawNationalBlock(doc, top);
  doc.font('serif-italic').fontSize(BODY_SIZE);
  doc.text(placeAndDate(report.agency.placeName, data.issuedAt), nationalLeft, mottoRuleY + 8, {
    width: nationalWidth,
    align: 'center',
  });
  doc.y = Math.max(doc.y, agencyRuleY) + 12;

  doc.font('serif-bold').fontSize(TITLE_SIZE);
  doc.text(REPORT_TITLE, left, doc.y, { width, align: 'center' });
  doc.font('serif-italic').fontSize(BODY_SIZE);
  doc.text(`Từ ngày ${from} đến ngày ${to}`, left, doc.y + 2, { width, align: 'center' });
  doc.fontSize(HEADER_SIZE - 1);
  doc.text(`(Số liệu tính đến ${clockAndDate(report.period.asOf)})`, left, doc.y, {
    width,
    align: 'center',
  });
  doc.moveDown(0.8);

  drawTable(doc, tableRows(report));

  doc.moveDown(0.8);
  doc.font('serif').fontSize(NOTE_SIZE);
  // The notes' heading keeps its first note with it.
  keepTogether(doc, doc.currentLineHeight(true) * 3);
  doc.font('serif-bold').text('Ghi chú:', left, doc.y, { width });
  doc.font('serif');
  for (const note of NOTES) doc.text(`- ${note}`, left, doc.y, { width, align: 'justify', paragraphGap: 1 });
  doc.font('serif-italic');
  doc.text('Cách tính và giải thích chi tiết các chỉ tiêu được công khai tại:', left, doc.y, { width });
  // On a line of its own, so that it is not broken at its '?' and can be copied whole.
  doc.text(data.publicUrl, left, doc.y, { width, link: data.publicUrl });
  return finish();
}
