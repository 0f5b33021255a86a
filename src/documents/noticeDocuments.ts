// The notices a one-stop desk sends the applicant while a dossier is open: forms 02 (request to
// supplement and complete the dossier), 03 (refusal to receive or process it) and 04 (apology and new
// appointment) of Circular 01/2018/TT-VPCP, laid out per Decree 30/2020. Circular 03/2025/TT-VPCP keeps
// 02 and 03 under the same names and recasts 04 as a letter of apology asking for more time; the older
// title is kept for 04 because it is the name applicants and desks still use for a late dossier.
import {
  BODY_SIZE,
  clockAndDate,
  contentBottom,
  contentLeft,
  contentWidth,
  drawHeading,
  drawTitle,
  keepTogether,
  mm,
  openAdminDocument,
  upper,
  type Doc,
  type OpenDocument,
} from './adminDocumentLayout';

export interface NoticeBase {
  agencyName: string;
  parentAgencyName: string | null;
  /** Place written before the date: 'Bắc Giang, ngày 23 tháng 11 năm 2026'. */
  placeName: string;
  /** The dossier code. */
  code: string;
  procedureName: string;
  applicantName: string;
  /** When the notice is issued; printed in Vietnam time. */
  issuedAt: Date;
  /** Who signs the notice. */
  officerName: string;
  officerPosition: string;
}

export interface SupplementNoticeData extends NoticeBase {
  reason: string;
  papers: string[];
  /** What is left of the time limit, counted again once the papers arrive. */
  remainingWorkingHours: number;
}

export interface RefusalNoticeData extends NoticeBase {
  reason: string;
}

export interface ApologyNoticeData extends NoticeBase {
  reason: string;
  previousDueAt: Date;
  newDueAt: Date;
}

/**
 * The form titles in sentence case, as a reader's software lists them and as a mail subject or file
 * name may reuse them; printed in upper case.
 */
export const NOTICE_TITLES = {
  supplement: 'Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ',
  refusal: 'Phiếu từ chối tiếp nhận giải quyết hồ sơ',
  apology: 'Phiếu xin lỗi và hẹn lại ngày trả kết quả',
} as const;

// A little air between lines and paragraphs: a notice is short, so unlike the receipt it need not be
// squeezed onto one page, and Decree 30 allows up to 1.5 lines and asks for at least 6 pt between
// paragraphs.
const LINE_GAP = 2;
const PARAGRAPH_GAP = 6;
// Decree 30 indents the first line of each paragraph by 1 to 1.27 cm.
const INDENT = mm(10);
const SIGNING_SPACE = 64;

const twoDigits = (n: number): string => String(n).padStart(2, '0');

/** '20 giờ làm việc', '04 giờ làm việc' (administrative writing pads small counts), '2,5 giờ làm việc'. */
function workingHoursText(hours: number): string {
  if (!Number.isFinite(hours) || hours < 0) {
    throw new RangeError(`remainingWorkingHours must be a non-negative number, got ${hours}`);
  }
  const count = Number.isInteger(hours)
    ? twoDigits(hours)
    : new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 2 }).format(hours);
  return `${count} giờ làm việc`;
}

/** An officer may type a reason over several lines; each becomes its own paragraph, blanks dropped. */
function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

const paragraphOptions = (doc: Doc): PDFKit.Mixins.TextOptions => ({
  width: contentWidth(doc),
  align: 'justify',
  indent: INDENT,
  lineGap: LINE_GAP,
  paragraphGap: PARAGRAPH_GAP,
});

/** A body paragraph: first line indented, justified, flowing onto the next page when it must. */
function paragraph(doc: Doc, text: string): void {
  doc.font('serif').fontSize(BODY_SIZE);
  doc.text(text, contentLeft(doc), doc.y, paragraphOptions(doc));
}

/** How much of the page a body paragraph takes, its gap below included. */
function paragraphHeight(doc: Doc, text: string): number {
  doc.font('serif').fontSize(BODY_SIZE);
  return doc.heightOfString(text, paragraphOptions(doc)) + PARAGRAPH_GAP;
}

const pageRoom = (doc: Doc): number => contentBottom(doc) - doc.page.margins.top;

/**
 * Moves a paragraph to the next page when it would be split there, unless it could never fit on one
 * page; a paper of the list then reads as a whole.
 */
function unsplitParagraph(doc: Doc, text: string): void {
  const height = paragraphHeight(doc, text);
  if (height <= pageRoom(doc)) keepTogether(doc, height);
  paragraph(doc, text);
}

/**
 * 'Label: value' as a paragraph with the value in bold. Left-aligned rather than justified: pdfkit
 * justifies each font's fragment on its own, which would spread the label across the line.
 */
function labelled(doc: Doc, label: string, value: string): void {
  doc.font('serif').fontSize(BODY_SIZE);
  doc.text(`${label}: `, contentLeft(doc), doc.y, {
    width: contentWidth(doc),
    indent: INDENT,
    lineGap: LINE_GAP,
    continued: true,
  });
  doc.font('serif-bold').text(value, { lineGap: LINE_GAP, paragraphGap: PARAGRAPH_GAP });
}

/** 'Lý do: ...' with any further lines of the reason as paragraphs of their own. */
function reasonParagraphs(doc: Doc, reason: string, label: string | null): void {
  const [first = '', ...rest] = lines(reason);
  paragraph(doc, label ? `${label}: ${first}` : first);
  for (const line of rest) paragraph(doc, line);
}

/** 'Kính gửi: {name}', centred under the title with the name in bold, or wrapped when too long. */
function drawAddressee(doc: Doc, name: string): void {
  const left = contentLeft(doc);
  const width = contentWidth(doc);
  const label = 'Kính gửi: ';
  doc.fontSize(BODY_SIZE);
  const labelWidth = doc.font('serif').widthOfString(label);
  const total = labelWidth + doc.font('serif-bold').widthOfString(name);
  if (total <= width) {
    // Placed by hand: pdfkit centres each fragment of continued text on its own.
    const x = left + (width - total) / 2;
    const y = doc.y;
    doc.font('serif').text(label, x, y, { lineBreak: false });
    doc.font('serif-bold').text(name, x + labelWidth, y, { lineBreak: false });
    doc.y = y + doc.currentLineHeight(true);
  } else {
    doc.font('serif').text(label, left, doc.y, { width, continued: true });
    doc.font('serif-bold').text(name);
  }
  doc.x = left;
  doc.moveDown(0.6);
}

/** The dossier the notice is about, as the forms name it under the opening sentence. */
function drawDossier(doc: Doc, d: NoticeBase): void {
  paragraph(doc, `${d.agencyName} đã tiếp nhận hồ sơ mã số ${d.code} của Ông/Bà.`);
  labelled(doc, 'Nội dung yêu cầu giải quyết', d.procedureName);
}

/**
 * The closing paragraph and the signer's block on the right of the page: position, the signing note,
 * space to sign and the name. Kept together, so the signature never stands on a page of its own, as
 * Decree 30 forbids a last page without body text.
 */
function closeWithSignOff(doc: Doc, closing: string, d: NoticeBase): void {
  // A little over half the page, so that a position such as 'CÔNG CHỨC TIẾP NHẬN HỒ SƠ' stays whole.
  const width = contentWidth(doc) * 0.6;
  const x = contentLeft(doc) + contentWidth(doc) - width;
  const position = upper(d.officerPosition);
  const note = '(Ký, ghi rõ họ tên)';
  const gap = doc.font('serif').fontSize(BODY_SIZE).currentLineHeight(true) * 0.6;

  doc.font('serif-bold').fontSize(BODY_SIZE);
  const positionHeight = doc.heightOfString(position, { width });
  const nameHeight = doc.heightOfString(d.officerName, { width });
  doc.font('serif-italic');
  const noteHeight = doc.heightOfString(note, { width });
  const signOffHeight = gap + positionHeight + noteHeight + SIGNING_SPACE + nameHeight;
  const together = paragraphHeight(doc, closing) + signOffHeight;

  if (together <= pageRoom(doc)) keepTogether(doc, together);
  paragraph(doc, closing);
  keepTogether(doc, signOffHeight);
  doc.y += gap;
  doc.font('serif-bold').fontSize(BODY_SIZE).text(position, x, doc.y, { width, align: 'center' });
  doc.font('serif-italic').text(note, x, doc.y, { width, align: 'center' });
  const nameY = doc.y + SIGNING_SPACE;
  // Capped, so that an absurdly long name cannot run past the bottom margin onto a page of its own.
  doc.font('serif-bold').text(d.officerName, x, nameY, {
    width,
    align: 'center',
    height: Math.max(contentBottom(doc) - nameY, doc.currentLineHeight(true)),
    ellipsis: true,
  });
  doc.x = contentLeft(doc);
}

/** Each form has a line for the reason; a notice without one leaves the applicant nothing to act on. */
function requireReason(reason: string): void {
  if (lines(reason).length === 0) throw new RangeError('a notice must state its reason');
}

function openNotice(title: string, d: NoticeBase): OpenDocument {
  const opened = openAdminDocument({
    title,
    agencyName: d.agencyName,
    code: d.code,
    issuedAt: d.issuedAt,
  });
  const { doc } = opened;
  drawHeading(doc, { ...d, date: d.issuedAt });
  drawTitle(doc, upper(title));
  drawAddressee(doc, d.applicantName);
  drawDossier(doc, d);
  return opened;
}

/** Form 02: what the applicant must add to the dossier, and why; the time limit waits meanwhile. */
export async function renderSupplementNotice(d: SupplementNoticeData): Promise<Buffer> {
  // Checked before the document is opened, so a bad value leaves nothing half-written behind.
  requireReason(d.reason);
  const remaining = workingHoursText(d.remainingWorkingHours);
  const papers = d.papers.map((p) => p.trim()).filter((p) => p.length > 0);
  const { doc, finish } = openNotice(NOTICE_TITLES.supplement, d);

  doc.font('serif').fontSize(BODY_SIZE);
  // The request and at least its first item start on the same page.
  keepTogether(doc, doc.currentLineHeight(true) * 4);
  if (papers.length > 0) {
    paragraph(
      doc,
      'Qua kiểm tra, hồ sơ chưa đầy đủ, hợp lệ. Đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:',
    );
    papers.forEach((paper, i) => unsplitParagraph(doc, `${i + 1}. ${paper}`));
  } else {
    paragraph(doc, 'Qua kiểm tra, hồ sơ chưa đầy đủ, hợp lệ. Đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ.');
  }
  reasonParagraphs(doc, d.reason, 'Lý do');
  paragraph(
    doc,
    'Thời hạn giải quyết hồ sơ được tạm dừng trong thời gian Ông/Bà bổ sung, hoàn thiện hồ sơ và được ' +
      `tính tiếp kể từ khi ${d.agencyName} nhận đủ các giấy tờ bổ sung nêu trên; thời gian giải quyết ` +
      `còn lại là ${remaining}.`,
  );
  closeWithSignOff(
    doc,
    'Trong quá trình bổ sung, hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà vui lòng liên hệ ' +
      `${d.agencyName} để được hướng dẫn./.`,
    d,
  );
  return finish();
}

/** Form 03: the dossier is not received or not processed, with the reason. */
export async function renderRefusalNotice(d: RefusalNoticeData): Promise<Buffer> {
  requireReason(d.reason);
  const { doc, finish } = openNotice(NOTICE_TITLES.refusal, d);
  paragraph(
    doc,
    `Qua xem xét, ${d.agencyName} thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:`,
  );
  reasonParagraphs(doc, d.reason, null);
  closeWithSignOff(doc, 'Xin thông báo để Ông/Bà được biết và thực hiện./.', d);
  return finish();
}

/** Form 04: the result is late; an apology, the reason and the new appointment replacing the old one. */
export async function renderApologyNotice(d: ApologyNoticeData): Promise<Buffer> {
  requireReason(d.reason);
  // An apology that moves the appointment earlier, or leaves it, would tell the applicant something
  // false, so it is refused before anything is drawn.
  if (!(d.newDueAt.getTime() > d.previousDueAt.getTime())) {
    throw new RangeError('the new appointment must come after the previous one');
  }
  const { doc, finish } = openNotice(NOTICE_TITLES.apology, d);
  paragraph(doc, `Thời gian hẹn trả kết quả: ${clockAndDate(d.previousDueAt)}`);
  paragraph(
    doc,
    `Tuy nhiên đến nay, ${d.agencyName} chưa trả được kết quả giải quyết hồ sơ cho Ông/Bà đúng thời hạn đã hẹn.`,
  );
  reasonParagraphs(doc, d.reason, 'Lý do');
  paragraph(
    doc,
    `Sự chậm trễ này đã gây phiền hà cho Ông/Bà. ${d.agencyName} thành thật xin lỗi Ông/Bà và hẹn lại ` +
      'thời gian trả kết quả giải quyết hồ sơ, thay cho thời gian đã hẹn nêu trên, như sau:',
  );
  // Short enough a label that the appointment, whose digits all set the same width, stays on one line.
  labelled(doc, 'Thời gian trả kết quả mới', clockAndDate(d.newDueAt));
  closeWithSignOff(doc, 'Rất mong nhận được sự thông cảm của Ông/Bà. Xin trân trọng cảm ơn./.', d);
  return finish();
}
