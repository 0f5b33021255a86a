// The page frame every administrative document of the portal shares, laid out per Decree 30/2020/NĐ-CP:
// A4 with its margins, the issuing body beside the national title and motto, the dossier code, the place
// and date, the centred document title and page numbers from the second page. Kept in one place so the
// receipt and the notices cannot drift apart when a province asks for a change to the frame.
import PDFDocument from 'pdfkit';
import { registerFonts, sharedFont } from './pdfFonts';
import { vietnamTimeParts } from '../clock';

export type Doc = PDFKit.PDFDocument;

export const mm = (value: number): number => (value * 72) / 25.4;

const MARGINS = { top: mm(20), bottom: mm(20), left: mm(30), right: mm(15) };
export const BODY_SIZE = 13;
export const HEADER_SIZE = 12;
export const TITLE_SIZE = 14;
const FOOTER_SIZE = 10;
// Wide enough for the national title in bold at 12 pt; DejaVu Serif sets wider than Times New Roman.
const NATIONAL_COLUMN_WIDTH = 296;
const COLUMN_GAP = 12;

/** 'Bắc Giang, ngày 05 tháng 8 năm 2026': Decree 30 pads days below 10 and months 1 and 2 only. */
export function placeAndDate(place: string, d: Date): string {
  const t = vietnamTimeParts(d);
  const month = Number(t.month) < 3 ? t.month : String(Number(t.month));
  return `${place}, ngày ${t.day} tháng ${month} năm ${t.year}`;
}

/** '14 giờ 05 phút, ngày 23/11/2026' */
export function clockAndDate(d: Date): string {
  const t = vietnamTimeParts(d);
  return `${t.hour} giờ ${t.minute} phút, ngày ${t.day}/${t.month}/${t.year}`;
}

/** '23/11/2026' */
export function shortDate(d: Date): string {
  const t = vietnamTimeParts(d);
  return `${t.day}/${t.month}/${t.year}`;
}

export const upper = (s: string): string => s.toLocaleUpperCase('vi-VN');

export const contentLeft = (doc: Doc): number => doc.page.margins.left;
export const contentWidth = (doc: Doc): number =>
  doc.page.width - doc.page.margins.left - doc.page.margins.right;
export const contentBottom = (doc: Doc): number => doc.page.height - doc.page.margins.bottom;

/** Starts a new page unless `height` still fits, so blocks that belong together are not split. */
export function keepTogether(doc: Doc, height: number): void {
  if (doc.y + height > contentBottom(doc)) doc.addPage();
}

function horizontalRule(doc: Doc, centreX: number, y: number, width: number): void {
  doc
    .moveTo(centreX - width / 2, y)
    .lineTo(centreX + width / 2, y)
    .lineWidth(0.75)
    .stroke();
}

export interface AdminDocumentInfo {
  /** The document type as a reader's software lists it, in sentence case. */
  title: string;
  agencyName: string;
  /** The dossier code, so a file saved from a mail client can still be matched to its dossier. */
  code: string;
  /** The instant the document was issued, rather than the moment it happened to be rendered. */
  issuedAt: Date;
  /** A report whose table needs the width is set landscape; everything else stays portrait. */
  layout?: 'portrait' | 'landscape';
  /**
   * 'top' is Decree 30's numbering (from the second page, centred in the top margin). A long table is
   * read page by page and pages get separated, so 'footer' numbers every page as 'Trang x/y'.
   */
  pageNumbers?: 'top' | 'footer';
}

export interface OpenDocument {
  doc: Doc;
  /** Numbers the pages, closes the document and resolves with its bytes. */
  finish(): Promise<Buffer>;
}

/** An A4 document with the Decree 30 margins, the embedded fonts and its information dictionary. */
export function openAdminDocument(info: AdminDocumentInfo): OpenDocument {
  const doc = new PDFDocument({
    size: 'A4',
    layout: info.layout ?? 'portrait',
    margins: MARGINS,
    info: {
      Title: info.title,
      Author: info.agencyName,
      Subject: info.code,
      CreationDate: info.issuedAt,
    },
    pdfVersion: '1.7',
    lang: 'vi-VN',
    autoFirstPage: true,
    // Kept so page numbers can be written once the page count is known.
    bufferPages: true,
    // The document's own font from the start, so pdfkit does not load its default Helvetica metrics.
    font: sharedFont('serif') as unknown as string,
  });
  const chunks: Buffer[] = [];
  const finished = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  registerFonts(doc);
  return {
    doc,
    finish: () => {
      if (info.pageNumbers === 'footer') numberPagesInFooter(doc);
      else numberPages(doc);
      doc.end();
      return finished;
    },
  };
}

export interface HeadingData {
  agencyName: string;
  parentAgencyName: string | null;
  placeName: string;
  /** The date written after the place, read in Vietnam time. */
  date: Date;
  code: string;
}

/** Where the two heading columns sit: the issuing body on the left, the national title on the right. */
export function headingColumns(doc: Doc) {
  const left = contentLeft(doc);
  const width = contentWidth(doc);
  return {
    left,
    width,
    agencyWidth: width - NATIONAL_COLUMN_WIDTH - COLUMN_GAP,
    nationalLeft: left + width - NATIONAL_COLUMN_WIDTH,
    nationalWidth: NATIONAL_COLUMN_WIDTH,
  };
}

/** The parent body, the issuing body in bold and the short rule under it; answers the rule's y. */
export function drawAgencyBlock(
  doc: Doc,
  data: { agencyName: string; parentAgencyName: string | null },
  top: number,
): number {
  const { left, agencyWidth } = headingColumns(doc);
  if (data.parentAgencyName) {
    doc.font('serif').fontSize(HEADER_SIZE);
    doc.text(upper(data.parentAgencyName), left, top, { width: agencyWidth, align: 'center' });
  }
  const agency = upper(data.agencyName);
  doc.font('serif-bold').fontSize(HEADER_SIZE);
  doc.text(agency, left, data.parentAgencyName ? doc.y : top, { width: agencyWidth, align: 'center' });
  // Decree 30: a rule a third to a half as long as the agency's name, centred under it.
  const ruleY = doc.y + 3;
  horizontalRule(doc, left + agencyWidth / 2, ruleY, Math.min(doc.widthOfString(agency), agencyWidth) * 0.4);
  return ruleY;
}

/** The national title, the motto and the rule as long as the motto; answers the rule's y. */
export function drawNationalBlock(doc: Doc, top: number): number {
  const { nationalLeft } = headingColumns(doc);
  doc.font('serif-bold').fontSize(HEADER_SIZE);
  doc.text('CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', nationalLeft, top, {
    width: NATIONAL_COLUMN_WIDTH,
    align: 'center',
  });
  const motto = 'Độc lập - Tự do - Hạnh phúc';
  doc.fontSize(BODY_SIZE);
  doc.text(motto, nationalLeft, doc.y, { width: NATIONAL_COLUMN_WIDTH, align: 'center' });
  const mottoRuleY = doc.y + 3;
  horizontalRule(doc, nationalLeft + NATIONAL_COLUMN_WIDTH / 2, mottoRuleY, doc.widthOfString(motto));
  return mottoRuleY;
}

/**
 * The two heading blocks side by side: the agency (under its parent) on the left, the national title
 * and motto on the right with the place and date under them; then the dossier code.
 */
export function drawHeading(doc: Doc, data: HeadingData): void {
  const { left, width, agencyWidth, nationalLeft } = headingColumns(doc);
  const top = doc.y;
  const agencyRuleY = drawAgencyBlock(doc, data, top);
  const mottoRuleY = drawNationalBlock(doc, top);
  doc.font('serif-italic').fontSize(BODY_SIZE);
  doc.text(placeAndDate(data.placeName, data.date), nationalLeft, mottoRuleY + 10, {
    width: NATIONAL_COLUMN_WIDTH,
    align: 'center',
  });
  const nationalBottom = doc.y;

  // Decree 30 puts the number under the agency; a dossier code is usually too long for that column,
  // so it then takes its own line under both blocks.
  const codeLabel = 'Mã hồ sơ: ';
  doc.fontSize(BODY_SIZE);
  const labelWidth = doc.font('serif').widthOfString(codeLabel);
  const codeWidth = labelWidth + doc.font('serif-bold').widthOfString(data.code);
  if (codeWidth <= agencyWidth) {
    // Placed by hand: pdfkit centres each fragment of continued text on its own.
    const x = left + (agencyWidth - codeWidth) / 2;
    const y = agencyRuleY + 10;
    doc.font('serif').text(codeLabel, x, y, { lineBreak: false });
    doc.font('serif-bold').text(data.code, x + labelWidth, y, { lineBreak: false });
    doc.y = y + doc.currentLineHeight(true);
  } else {
    const y = Math.max(agencyRuleY, nationalBottom) + 8;
    doc.font('serif').text(codeLabel, left, y, { width, continued: true });
    doc.font('serif-bold').text(data.code);
  }

  doc.x = left;
  doc.y = Math.max(doc.y, nationalBottom) + 14;
}

/** The document type, bold and centred under the heading. */
export function drawTitle(doc: Doc, title: string): void {
  doc.font('serif-bold').fontSize(TITLE_SIZE);
  doc.text(title, contentLeft(doc), doc.y, { width: contentWidth(doc), align: 'center' });
  doc.moveDown(0.6);
}

/** Decree 30: pages are numbered from the second one, centred in the top margin. */
function numberPages(doc: Doc): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start + 1; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    doc.font('serif').fontSize(BODY_SIZE);
    const y = (doc.page.margins.top - doc.currentLineHeight()) / 2;
    doc.text(String(i + 1), contentLeft(doc), y, {
      width: contentWidth(doc),
      align: 'center',
      lineBreak: false,
    });
  }
}

/** 'Trang x/y' centred in the bottom margin of every page. */
function numberPagesInFooter(doc: Doc): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    doc.font('serif').fontSize(FOOTER_SIZE);
    const lineHeight = doc.currentLineHeight(true);
    const y = doc.page.height - doc.page.margins.bottom + (doc.page.margins.bottom - lineHeight) / 2;
    // The explicit height keeps pdfkit from treating text in the bottom margin as overflow.
    doc.text(`Trang ${i - range.start + 1}/${range.count}`, contentLeft(doc), y, {
      width: contentWidth(doc),
      align: 'center',
      lineBreak: false,
      height: lineHeight,
    });
  }
}
