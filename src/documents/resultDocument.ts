// The result of a procedure (a permit, an approval letter, a civil-status extract) as an administrative
// document per Decree 30/2020/NĐ-CP. The approver signs it before the clerk gives it a number and a date,
// so the page leaves those two places empty and says where they are: the release step writes them, with
// the agency's seal, in the seal signature's own appearance, and the approver's signature stays intact.
import { create as createQrCode } from 'qrcode';
import {
  BODY_SIZE,
  HEADER_SIZE,
  TITLE_SIZE,
  drawAgencyBlock,
  drawNationalBlock,
  headingColumns,
  keepTogether,
  openAdminDocument,
  upper,
  type Doc,
} from './adminDocumentLayout';

export interface ResultTemplate {
  /** The register the number comes from: one counter per agency, year and document type. */
  documentType: string;
  /** The symbol after the number, from the agency's short name: 'GP-BQL' in '12/GP-BQL'. */
  symbol(agencyShortName: string): string;
  /** The document type, printed in capitals under the heading. */
  title: string;
  /** The summary under the type (trích yếu), if the type has one. */
  summary: string | null;
  /** The sentence before the particulars. */
  lead(data: ResultData): string;
  /** The closing paragraphs. */
  closing(data: ResultData): string[];
}

const TEMPLATES: Record<string, ResultTemplate> = {
  'work-permit': {
    documentType: 'GP',
    symbol: (s) => `GP-${s}`,
    title: 'GIẤY PHÉP LAO ĐỘNG',
    summary: null,
    lead: (d) =>
      `Xét hồ sơ đề nghị cấp giấy phép lao động của ${d.applicantName} (mã hồ sơ ${d.dossierCode}), ${d.agencyName} cấp giấy phép lao động cho người lao động nước ngoài có thông tin sau:`,
    closing: () => [
      'Người lao động nước ngoài và người sử dụng lao động có trách nhiệm thực hiện đúng nội dung giấy phép này và các quy định của pháp luật Việt Nam về lao động.',
    ],
  },
  'approval-letter': {
    documentType: 'CV',
    symbol: (s) => `${s}-QLLĐ`,
    title: 'CÔNG VĂN',
    summary: 'V/v chấp thuận nhu cầu sử dụng người lao động nước ngoài',
    lead: (d) =>
      `Xét văn bản đề nghị của ${d.applicantName} (mã hồ sơ ${d.dossierCode}), ${d.agencyName} chấp thuận nhu cầu sử dụng người lao động nước ngoài như sau:`,
    closing: (d) => [
      `${d.applicantName} có trách nhiệm sử dụng người lao động nước ngoài đúng vị trí, chức danh công việc và thời hạn đã được chấp thuận.`,
    ],
  },
  'civil-status-extract': {
    documentType: 'TLHT',
    symbol: (s) => `TLHT-${s}`,
    title: 'TRÍCH LỤC HỘ TỊCH (BẢN SAO)',
    summary: null,
    lead: (d) =>
      `Theo yêu cầu của ${d.applicantName} (mã hồ sơ ${d.dossierCode}), ${d.agencyName} trích lục thông tin hộ tịch như sau:`,
    closing: () => ['Bản sao trích lục này có giá trị sử dụng thay cho bản chính trong các giao dịch.'],
  },
};

export function resultTemplate(name: string): ResultTemplate {
  const template = TEMPLATES[name];
  if (!template) throw new Error(`unknown result template ${name}`);
  return template;
}

export function hasResultTemplate(name: string): boolean {
  return name in TEMPLATES;
}

export interface ResultData {
  template: string;
  agencyName: string;
  parentAgencyName: string | null;
  placeName: string;
  dossierCode: string;
  procedureName: string;
  applicantName: string;
  legalBasis: readonly string[];
  /** The particulars, label and value, in the procedure's field order. */
  particulars: readonly { label: string; value: string }[];
  signer: { name: string; position: string };
  /** Recipients after 'Như trên': the archive and the unit that handled the dossier. */
  recipients: readonly string[];
  /** What the QR code opens: the public verification page of this result. */
  verifyUrl: string;
  /** When the approver signs; the document's creation date. */
  signedAt: Date;
}

/** A place on a page, in PDF user space (points from the bottom left): x1 y1 x2 y2. */
export interface PageRect {
  page: number;
  rect: [number, number, number, number];
}

export interface RenderedResult {
  pdf: Buffer;
  /** Left empty for the release: the number line, the place-and-date line. */
  numberSlot: PageRect;
  dateSlot: PageRect;
  /** The approver's visible signature, and the seal over its left third. */
  signatureSlot: PageRect;
  sealSlot: PageRect;
}

const SIGNATURE_HEIGHT = 86;
const QR_SIZE = 56;

function rectOf(doc: Doc, page: number, x: number, top: number, width: number, height: number): PageRect {
  const h = doc.page.height;
  return { page, rect: [x, h - (top + height), x + width, h - top] };
}

function currentPage(doc: Doc): number {
  const range = doc.bufferedPageRange();
  return range.start + range.count - 1;
}

/**
 * The QR code as vector squares: sharp at any print size, and cheaper than a PNG that pdfkit would decode
 * and compress again for every result. One quiet module around it.
 */
function drawQrCode(
  doc: Doc,
  modules: { size: number; get(row: number, col: number): number },
  x: number,
  y: number,
  size: number,
): void {
  const cell = size / (modules.size + 2);
  doc.save().fillColor('black');
  for (let row = 0; row < modules.size; row++) {
    // Runs of dark modules on a row become one rectangle.
    for (let col = 0; col < modules.size;) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      let end = col;
      while (end < modules.size && modules.get(row, end)) end++;
      doc.rect(x + (col + 1) * cell, y + (row + 1) * cell, (end - col) * cell, cell);
      col = end;
    }
  }
  doc.fill().restore();
}

/** 'KT. TRƯỞNG BAN' over 'PHÓ TRƯỞNG BAN' for a deputy, as Decree 30 writes signing on behalf. */
export function signingAuthority(position: string): string[] {
  const p = position.trim();
  const deputy = /^Phó\s+(.+)$/iu.exec(p);
  if (deputy) return [`KT. ${upper(deputy[1]!)}`, upper(p)];
  return [upper(p)];
}

/** Renders the result for the approver's signature, with the places the release fills in. */
export async function renderResult(data: ResultData): Promise<RenderedResult> {
  const template = resultTemplate(data.template);
  const qr = createQrCode(data.verifyUrl, { errorCorrectionLevel: 'M' });
  const { doc, finish } = openAdminDocument({
    title: template.title.charAt(0) + template.title.slice(1).toLocaleLowerCase('vi-VN'),
    agencyName: data.agencyName,
    code: data.dossierCode,
    issuedAt: data.signedAt,
  });

  const { left, width, agencyWidth, nationalLeft, nationalWidth } = headingColumns(doc);
  const top = doc.y;

  // Left: parent body, issuing body, a short rule, then the empty number line.
  const ruleY = drawAgencyBlock(doc, data, top);
  doc.font('serif').fontSize(BODY_SIZE);
  const lineHeight = doc.currentLineHeight(true);
  const numberSlot = rectOf(doc, 0, left, ruleY + 8, agencyWidth, lineHeight + 4);
  let leftBottom = ruleY + 8 + lineHeight + 4;
  if (template.summary) {
    doc.fontSize(HEADER_SIZE);
    doc.text(template.summary, left, leftBottom + 2, { width: agencyWidth, align: 'center' });
    leftBottom = doc.y;
  }

  // Right: national title, motto, rule, then the empty place-and-date line.
  const mottoRuleY = drawNationalBlock(doc, top);
  const dateSlot = rectOf(doc, 0, nationalLeft, mottoRuleY + 8, nationalWidth, lineHeight + 4);
  const rightBottom = mottoRuleY + 8 + lineHeight + 4;

  doc.x = left;
  doc.y = Math.max(leftBottom, rightBottom) + 18;
  doc.font('serif-bold').fontSize(TITLE_SIZE);
  doc.text(template.title, left, doc.y, { width, align: 'center' });
  doc.moveDown(0.8);

  const paragraph = (text: string, font = 'serif') => {
    doc.font(font).fontSize(BODY_SIZE);
    doc.text(text, left, doc.y, { width, align: 'justify', indent: 28, paragraphGap: 4 });
  };
  doc.font('serif-italic').fontSize(BODY_SIZE);
  for (const basis of data.legalBasis) {
    doc.text(`Căn cứ ${basis};`, left, doc.y, { width, align: 'justify', indent: 28, paragraphGap: 2 });
  }
  doc.moveDown(0.3);
  paragraph(template.lead(data));
  for (const p of data.particulars) {
    doc.font('serif').fontSize(BODY_SIZE);
    keepTogether(doc, lineHeight);
    doc.text(`- ${p.label}: `, left + 28, doc.y, { width: width - 28, continued: true });
    doc.font('serif-bold').text(p.value, { paragraphGap: 2 });
  }
  doc.moveDown(0.3);
  for (const p of template.closing(data)) paragraph(p);
  doc.moveDown(0.6);

  // Recipients and the QR code on the left, the signer's block on the right, kept on one page.
  const authority = signingAuthority(data.signer.position);
  doc.font('serif-bold').fontSize(BODY_SIZE);
  const signerHeight = authority.length * lineHeight + SIGNATURE_HEIGHT + lineHeight;
  doc.font('serif').fontSize(11);
  const recipientsHeight =
    lineHeight * 1.5 +
    [data.applicantName, ...data.recipients].reduce(
      (sum, r) => sum + doc.heightOfString(`- ${r}`, { width: agencyWidth }),
      0,
    );
  keepTogether(doc, Math.max(signerHeight, recipientsHeight + QR_SIZE + 14));
  const blockTop = doc.y;
  const page = currentPage(doc);
  const signerLeft = nationalLeft;
  doc.font('serif-bold').fontSize(BODY_SIZE);
  for (const line of authority) {
    doc.text(line, signerLeft, doc.y, { width: nationalWidth, align: 'center' });
  }
  const signatureTop = doc.y + 4;
  const signatureWidth = 210;
  const signatureX = signerLeft + (nationalWidth - signatureWidth) / 2;
  const signatureSlot = rectOf(doc, page, signatureX, signatureTop, signatureWidth, SIGNATURE_HEIGHT - 8);
  // Decree 30's appendix: the seal covers about a third of the signature, on its left.
  const sealSize = SIGNATURE_HEIGHT;
  const sealSlot = rectOf(doc, page, signatureX - sealSize * 0.66, signatureTop - 6, sealSize, sealSize);
  doc.text(data.signer.name, signerLeft, signatureTop + SIGNATURE_HEIGHT, {
    width: nationalWidth,
    align: 'center',
  });

  doc.font('serif-bold-italic').fontSize(HEADER_SIZE);
  doc.text('Nơi nhận:', left, blockTop, { width: agencyWidth });
  doc.font('serif').fontSize(11);
  doc.text(`- ${data.applicantName};`, left, doc.y, { width: agencyWidth });
  for (const r of data.recipients) doc.text(`- ${r}`, left, doc.y, { width: agencyWidth });

  // The QR code and the address beside it let a reader of a printout check the electronic original.
  const qrTop = doc.y + 10;
  drawQrCode(doc, qr.modules, left, qrTop, QR_SIZE);
  doc.font('serif-italic').fontSize(8);
  doc.text(
    'Văn bản điện tử có chữ ký số. Quét mã để kiểm tra tính toàn vẹn và hiệu lực tại:',
    left + QR_SIZE + 6,
    qrTop,
    { width: agencyWidth - QR_SIZE - 6 },
  );
  doc.text(data.verifyUrl, { width: agencyWidth - QR_SIZE - 6 });
  const pdf = await finish();
  return { pdf, numberSlot, dateSlot, signatureSlot, sealSlot };
}
