// The receipt and appointment slip given when a dossier is accepted: form 01 of the one-stop circular
// (Circular 01/2018/TT-VPCP, kept as form 01 by Circular 03/2025/TT-VPCP), laid out per Decree 30/2020.
import { toBuffer as qrCodePng } from 'qrcode';
import {
  BODY_SIZE,
  clockAndDate,
  contentBottom,
  contentLeft,
  contentWidth,
  drawHeading,
  drawTitle,
  keepTogether,
  openAdminDocument,
  type Doc,
} from './adminDocumentLayout';
import type { DocumentFont } from './pdfFonts';

export interface ReceiptData {
  agencyName: string;
  parentAgencyName: string | null;
  /** Place written before the date: 'Bắc Giang, ngày 23 tháng 11 năm 2026'. */
  placeName: string;
  code: string;
  secret: string;
  procedureName: string;
  applicant: {
    name: string;
    idLabel: string;
    idNumber: string;
    address: string | null;
    phone: string | null;
    email: string | null;
  };
  papers: { name: string; copies: number }[];
  timeLimitText: string;
  receivedAt: Date;
  /** The appointment to return the result. */
  dueAt: Date;
  channel: 'ONLINE' | 'COUNTER';
  /** The reception officer at the counter; null for an online submission. */
  receivedBy: string | null;
  /** What the QR code opens: the public lookup page with the code and the secret. */
  lookupUrl: string;
}

const RECEIPT_TITLE = 'GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ';

const TABLE_SIZE = 12;
// Single spacing, the least Decree 30 allows, so that an ordinary receipt fits on one page.
const LINE_GAP = 0;
// 24 mm: comfortably above what a phone camera needs for a lookup address of ~100 characters.
const QR_SIZE = 68;

const twoDigits = (n: number): string => String(n).padStart(2, '0');

function paragraph(doc: Doc, text: string): void {
  doc.font('serif').fontSize(BODY_SIZE);
  doc.text(text, contentLeft(doc), doc.y, { width: contentWidth(doc), lineGap: LINE_GAP });
}

/** A label in regular type followed by its value, wrapping under the label when long. */
function labelled(doc: Doc, label: string, value: string, valueFont: DocumentFont = 'serif'): void {
  doc.font('serif').fontSize(BODY_SIZE);
  doc.text(`${label}: `, contentLeft(doc), doc.y, {
    width: contentWidth(doc),
    lineGap: LINE_GAP,
    continued: true,
  });
  doc.font(valueFont).text(value, { lineGap: LINE_GAP });
}

interface Column {
  title: string;
  width: number;
  align: 'left' | 'center';
}

function drawPapersTable(doc: Doc, papers: ReceiptData['papers']): void {
  const left = contentLeft(doc);
  const width = contentWidth(doc);
  const columns: Column[] = [
    { title: 'STT', width: 36, align: 'center' },
    { title: 'Tên giấy tờ', width: width - 36 - 68, align: 'left' },
    { title: 'Số lượng', width: 68, align: 'center' },
  ];
  const padding = 3;

  const rowHeight = (cells: string[], font: DocumentFont): number => {
    doc.font(font).fontSize(TABLE_SIZE);
    const heights = cells.map(
      (text, i) => doc.heightOfString(text, { width: columns[i]!.width - 2 * padding }) + 2 * padding,
    );
    return Math.max(...heights);
  };

  const drawRow = (cells: string[], font: DocumentFont, height: number): void => {
    const y = doc.y;
    let x = left;
    doc.font(font).fontSize(TABLE_SIZE);
    cells.forEach((text, i) => {
      const column = columns[i]!;
      // The height limit keeps an absurdly long name inside its cell (cut with an ellipsis) rather
      // than running past the bottom margin.
      doc.text(text, x + padding, y + padding, {
        width: column.width - 2 * padding,
        // One point of slack so rounding never cuts a name that was measured to fit exactly.
        height: height - 2 * padding + 1,
        align: column.align,
        ellipsis: true,
      });
      doc.rect(x, y, column.width, height).lineWidth(0.5).stroke();
      x += column.width;
    });
    doc.x = left;
    doc.y = y + height;
  };

  const headerCells = columns.map((c) => c.title);
  const headerHeight = rowHeight(headerCells, 'serif-bold');
  const pageRoom = (): number => contentBottom(doc) - doc.page.margins.top - headerHeight;

  const rows = papers.map((paper, i) => [String(i + 1), paper.name, twoDigits(paper.copies)]);
  const heights = rows.map((cells) => Math.min(rowHeight(cells, 'serif'), pageRoom()));

  // The header never stands alone at the foot of a page: it goes with at least the first row.
  keepTogether(doc, headerHeight + (heights[0] ?? 0));
  drawRow(headerCells, 'serif-bold', headerHeight);
  rows.forEach((cells, i) => {
    const height = heights[i]!;
    if (doc.y + height > contentBottom(doc)) {
      doc.addPage();
      drawRow(headerCells, 'serif-bold', headerHeight);
    }
    drawRow(cells, 'serif', height);
  });
  doc.moveDown(0.3);
}

function drawLookupBox(doc: Doc, data: ReceiptData, qrPng: Buffer): void {
  const left = contentLeft(doc);
  const width = contentWidth(doc);
  const padding = 6;
  const textLeft = left + padding;
  const textWidth = width - QR_SIZE - 3 * padding;
  const caption = 'Quét mã để tra cứu tình trạng hồ sơ';
  const note = `Hoặc tra cứu tại: ${data.lookupUrl}`;

  doc.font('serif-bold').fontSize(14);
  const secretHeight = doc.currentLineHeight(true);
  doc.font('serif-italic').fontSize(BODY_SIZE);
  const captionHeight = doc.heightOfString(caption, { width: textWidth });
  doc.fontSize(9);
  const noteHeight = doc.heightOfString(note, { width: textWidth });
  const textHeight = secretHeight + 4 + captionHeight + 4 + noteHeight;
  const boxHeight = Math.max(QR_SIZE, textHeight) + 2 * padding;

  doc.moveDown(0.3);
  keepTogether(doc, boxHeight);
  const top = doc.y;
  doc.rect(left, top, width, boxHeight).lineWidth(0.75).stroke();
  doc.image(qrPng, left + width - padding - QR_SIZE, top + (boxHeight - QR_SIZE) / 2, {
    width: QR_SIZE,
    height: QR_SIZE,
  });

  // The caption sits beside the code rather than under it, which keeps an ordinary receipt on one page.
  const textTop = top + (boxHeight - textHeight) / 2;
  doc
    .font('serif')
    .fontSize(14)
    .text('Mã tra cứu: ', textLeft, textTop, { width: textWidth, continued: true });
  doc.font('serif-bold').text(data.secret);
  doc.font('serif-italic').fontSize(BODY_SIZE);
  doc.text(caption, textLeft, doc.y + 4, { width: textWidth });
  doc.fontSize(9).text(note, textLeft, doc.y + 4, { width: textWidth });

  doc.x = left;
  doc.y = top + boxHeight + 10;
}

interface SignatureColumn {
  title: string;
  name: string;
  font: DocumentFont;
  size: number;
  width: number;
}

function drawSignatures(doc: Doc, data: ReceiptData): void {
  const left = contentLeft(doc);
  const width = contentWidth(doc);
  // Nobody signs a receipt issued online, so its signing space is smaller and keeps it on one page.
  const signingSpace = data.channel === 'ONLINE' ? 32 : 56;
  // The receiver's column is the wider one so the online note fits on one line.
  const applicantWidth = width * 0.45;
  const columns: SignatureColumn[] = [
    {
      title: 'NGƯỜI NỘP HỒ SƠ',
      name: data.applicant.name,
      font: 'serif-bold',
      size: BODY_SIZE,
      width: applicantWidth,
    },
    data.channel === 'ONLINE'
      ? {
          title: 'NGƯỜI TIẾP NHẬN HỒ SƠ',
          name: 'Hồ sơ nộp trực tuyến, tiếp nhận tự động',
          font: 'serif-italic',
          size: 12,
          width: width - applicantWidth,
        }
      : {
          title: 'NGƯỜI TIẾP NHẬN HỒ SƠ',
          name: data.receivedBy ?? '',
          font: 'serif-bold',
          size: BODY_SIZE,
          width: width - applicantWidth,
        },
  ];

  doc.font('serif-bold').fontSize(BODY_SIZE);
  const lineHeight = doc.currentLineHeight(true);
  const nameHeight = Math.max(
    ...columns.map((c) =>
      doc
        .font(c.font)
        .fontSize(c.size)
        .heightOfString(c.name || ' ', { width: c.width }),
    ),
  );
  keepTogether(doc, 2 * lineHeight + signingSpace + nameHeight);

  const top = doc.y;
  let x = left;
  let bottom = top;
  for (const c of columns) {
    doc.font('serif-bold').fontSize(BODY_SIZE).text(c.title, x, top, { width: c.width, align: 'center' });
    doc.font('serif-italic').text('(Ký và ghi rõ họ tên)', x, doc.y, { width: c.width, align: 'center' });
    const nameY = doc.y + signingSpace;
    if (c.name) {
      // Capped, so that an absurdly long name cannot push this column onto a page of its own.
      doc.font(c.font).fontSize(c.size);
      doc.text(c.name, x, nameY, {
        width: c.width,
        align: 'center',
        height: contentBottom(doc) - nameY,
        ellipsis: true,
      });
    }
    bottom = Math.max(bottom, doc.y, nameY);
    x += c.width;
  }
  doc.x = left;
  doc.y = bottom;
}

/** Renders the receipt (form 01) as an A4 PDF. */
export async function renderReceipt(data: ReceiptData): Promise<Buffer> {
  // Made before the document, so a failure here leaves no half-written document behind.
  const qrPng = await qrCodePng(data.lookupUrl, {
    errorCorrectionLevel: 'M',
    type: 'png',
    margin: 2,
    scale: 6,
  });
  const { doc, finish } = openAdminDocument({
    title: 'Giấy tiếp nhận hồ sơ và hẹn trả kết quả',
    agencyName: data.agencyName,
    code: data.code,
    issuedAt: data.receivedAt,
  });

  drawHeading(doc, { ...data, date: data.receivedAt });
  drawTitle(doc, RECEIPT_TITLE);

  const { applicant } = data;
  paragraph(doc, `${data.agencyName} đã tiếp nhận hồ sơ của:`);
  labelled(doc, 'Ông/Bà', applicant.name, 'serif-bold');
  labelled(doc, applicant.idLabel, applicant.idNumber);
  if (applicant.address) labelled(doc, 'Địa chỉ', applicant.address);
  if (applicant.phone) labelled(doc, 'Số điện thoại', applicant.phone);
  if (applicant.email) labelled(doc, 'Email', applicant.email);
  labelled(doc, 'Nội dung yêu cầu giải quyết', data.procedureName, 'serif-bold');

  doc.moveDown(0.2);
  // Keeps the heading of the list with the table that follows it.
  doc.font('serif').fontSize(BODY_SIZE);
  keepTogether(doc, doc.currentLineHeight(true) * 4);
  paragraph(doc, '1. Thành phần hồ sơ nộp gồm:');
  doc.moveDown(0.2);
  drawPapersTable(doc, data.papers);
  paragraph(doc, '2. Số lượng hồ sơ: 01 (bộ)');
  paragraph(doc, `3. Thời gian giải quyết hồ sơ theo quy định là: ${data.timeLimitText}`);
  paragraph(doc, `4. Thời gian nhận hồ sơ: ${clockAndDate(data.receivedAt)}`);
  labelled(doc, '5. Thời gian trả kết quả giải quyết hồ sơ', clockAndDate(data.dueAt), 'serif-bold');
  paragraph(
    doc,
    `6. Hình thức nộp: ${data.channel === 'ONLINE' ? 'Trực tuyến' : 'Trực tiếp tại Bộ phận Một cửa'}`,
  );

  drawLookupBox(doc, data, qrPng);
  drawSignatures(doc, data);
  return finish();
}
