import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fontFileReadCount } from '../../src/documents/pdfFonts';
import { renderReceipt, type ReceiptData } from '../../src/documents/receiptDocument';
import { assertIncludes, assertQpdfClean, extractText, pageCount, run } from '../helpers/pdfTools';

// The PDFs are checked with the same external tools a reader's software relies on (poppler, qpdf),
// not with pdfkit's own view of what it wrote.
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'receipt-'));
after(() => fs.rmSync(workDir, { recursive: true, force: true }));

function receiptData(overrides: Partial<ReceiptData> = {}): ReceiptData {
  return {
    agencyName: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
    parentAgencyName: 'Ủy ban nhân dân tỉnh Bắc Giang',
    placeName: 'Bắc Giang',
    code: '000.00.12.H10-261123-0001',
    secret: 'K7P2-9QXM',
    procedureName: 'Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại khu công nghiệp',
    applicant: {
      name: 'Trần Thị Bình',
      idLabel: 'Số định danh cá nhân',
      idNumber: '024190001234',
      address: 'Số 12 đường Nguyễn Văn Cừ, phường Hoàng Văn Thụ, thành phố Bắc Giang',
      phone: '0912345678',
      email: 'binh.tran@example.vn',
    },
    papers: [
      { name: 'Văn bản đề nghị cấp giấy phép lao động (Mẫu số 11/PLI)', copies: 1 },
      { name: 'Giấy chứng nhận sức khỏe do cơ sở khám bệnh, chữa bệnh cấp', copies: 1 },
      { name: 'Hai ảnh màu 4 cm x 6 cm, phông nền trắng', copies: 2 },
    ],
    timeLimitText: '05 ngày làm việc',
    // 23 November, 06:10 in Vietnam, is still 22 November in UTC.
    receivedAt: new Date('2026-11-22T23:10:00Z'),
    // 15 December, 06:30 in Vietnam, is still 14 December in UTC.
    dueAt: new Date('2026-12-14T23:30:00Z'),
    channel: 'ONLINE',
    receivedBy: null,
    lookupUrl: 'https://dichvucong.example.vn/tra-cuu?ma=000.00.12.H10-261123-0001&bi-mat=K7P2-9QXM',
    ...overrides,
  };
}

let fileCount = 0;
async function renderToFile(data: ReceiptData): Promise<string> {
  fileCount += 1;
  const file = path.join(workDir, `receipt-${fileCount}.pdf`);
  fs.writeFileSync(file, await renderReceipt(data));
  return file;
}

describe('receipt PDF (mẫu 01)', () => {
  it('passes qpdf --check without warnings', async () => {
    assertQpdfClean(await renderToFile(receiptData()));
  });

  it('extracts as text with the code, secret, applicant and procedure, diacritics intact', async () => {
    const text = extractText(await renderToFile(receiptData()));
    assertIncludes(text, 'GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ');
    assertIncludes(text, 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM');
    assertIncludes(text, 'BAN QUẢN LÝ CÁC');
    assertIncludes(text, 'Mã hồ sơ: 000.00.12.H10-261123-0001');
    assertIncludes(text, 'Mã tra cứu: K7P2-9QXM');
    assertIncludes(text, 'Ông/Bà: Trần Thị Bình');
    assertIncludes(text, 'Số định danh cá nhân: 024190001234');
    assertIncludes(
      text,
      'Nội dung yêu cầu giải quyết: Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại khu công nghiệp',
    );
    // A cell's first line sits beside its quantity, so names are checked up to where they may wrap.
    assertIncludes(text, '1 Văn bản đề nghị cấp giấy phép lao động');
    assertIncludes(text, '3 Hai ảnh màu 4 cm x 6 cm, phông nền trắng 02');
    assertIncludes(text, '2. Số lượng hồ sơ: 01 (bộ)');
    assertIncludes(text, '3. Thời gian giải quyết hồ sơ theo quy định là: 05 ngày làm việc');
    assertIncludes(text, '6. Hình thức nộp: Trực tuyến');
    assertIncludes(text, 'Quét mã để tra cứu tình trạng hồ sơ');
    assertIncludes(text, 'Hồ sơ nộp trực tuyến, tiếp nhận tự động');
  });

  it('shows times in Vietnam time, whatever the zone of the machine', async () => {
    const savedZone = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    try {
      const text = extractText(await renderToFile(receiptData()));
      assertIncludes(text, 'Bắc Giang, ngày 23 tháng 11 năm 2026');
      assertIncludes(text, '4. Thời gian nhận hồ sơ: 06 giờ 10 phút, ngày 23/11/2026');
      assertIncludes(text, '5. Thời gian trả kết quả giải quyết hồ sơ: 06 giờ 30 phút, ngày 15/12/2026');
      assert.ok(!text.includes('14/12/2026'), 'not the UTC date of the appointment');
      assert.ok(!text.includes('22/11/2026'), 'not the UTC date of receipt');
    } finally {
      if (savedZone === undefined) delete process.env.TZ;
      else process.env.TZ = savedZone;
    }
  });

  it('pads the day below 10 and months 1 and 2 in the place and date line, as Decree 30 writes them', async () => {
    const text = extractText(
      await renderToFile(
        receiptData({
          receivedAt: new Date('2026-02-04T02:00:00Z'),
          dueAt: new Date('2026-03-05T02:00:00Z'),
        }),
      ),
    );
    assertIncludes(text, 'Bắc Giang, ngày 04 tháng 02 năm 2026');
    assertIncludes(text, '09 giờ 00 phút, ngày 05/03/2026');
  });

  it('names the reception officer for a dossier received at the counter', async () => {
    const text = extractText(
      await renderToFile(
        receiptData({ channel: 'COUNTER', receivedBy: 'Nguyễn Văn Hùng', parentAgencyName: null }),
      ),
    );
    assertIncludes(text, '6. Hình thức nộp: Trực tiếp tại Bộ phận Một cửa');
    assertIncludes(text, 'Nguyễn Văn Hùng');
    assert.ok(!text.includes('tiếp nhận tự động'));
    assert.ok(!text.includes('ỦY BAN NHÂN DÂN'));
  });

  it('embeds subsets of the DejaVu Serif fonts and no other font', async () => {
    const lines = run('pdffonts', [await renderToFile(receiptData())])
      .trim()
      .split('\n')
      .slice(2);
    const names = lines.map((line) => line.split(/\s+/)[0] ?? '');
    for (const style of ['DejaVuSerif', 'DejaVuSerif-Bold', 'DejaVuSerif-Italic']) {
      assert.ok(
        names.some((name) => name.endsWith(`+${style}`)),
        `${style} is used: ${names.join(', ')}`,
      );
    }
    for (const line of lines) {
      // Columns: name, type (may contain spaces), encoding, emb, sub, uni, object number, generation.
      const columns = line.trim().split(/\s+/);
      assert.match(columns[0] ?? '', /^[A-Z]{6}\+DejaVuSerif/, line);
      assert.equal(columns.at(-5), 'yes', `embedded: ${line}`);
      assert.equal(columns.at(-4), 'yes', `subset: ${line}`);
      assert.equal(columns.at(-3), 'yes', `has a ToUnicode map: ${line}`);
    }
  });

  it('is one A4 page carrying the title, agency, code and time of receipt in its information', async () => {
    const file = await renderToFile(receiptData());
    const info = run('pdfinfo', ['-isodates', file]);
    assert.match(info, /^Title:\s+Giấy tiếp nhận hồ sơ và hẹn trả kết quả$/m);
    assert.match(info, /^Author:\s+Ban Quản lý các khu công nghiệp tỉnh Bắc Giang$/m);
    assert.match(info, /^Subject:\s+000\.00\.12\.H10-261123-0001$/m);
    assert.match(info, /^CreationDate:\s+2026-11-22T23:10:00(Z|\+00)/m);
    assert.match(info, /^Page size:\s+595\.28 x 841\.89 pts \(A4\)$/m);
    assert.equal(pageCount(file), 1, 'an ordinary receipt fits on one page');
  });

  it('flows 40 papers and a very long name onto further pages and stays valid', async () => {
    const longName =
      'Công ty trách nhiệm hữu hạn sản xuất thương mại và dịch vụ kỹ thuật Hòa Bình Việt Nam '.repeat(4);
    const papers = Array.from({ length: 40 }, (_, i) => ({
      name: `Giấy tờ thứ ${i + 1}: bản sao có chứng thực văn bằng, chứng chỉ chuyên môn được hợp pháp hóa lãnh sự`,
      copies: (i % 3) + 1,
    }));
    const procedureName =
      `${receiptData().procedureName}, khu kinh tế, khu chế xuất và khu công nghệ cao `.repeat(3);
    const file = await renderToFile(
      receiptData({ applicant: { ...receiptData().applicant, name: longName }, papers, procedureName }),
    );
    assertQpdfClean(file);
    assert.ok(pageCount(file) >= 2);
    const text = extractText(file);
    // Names wrap inside their cells, so each row is found by its start.
    for (let i = 1; i <= papers.length; i += 1)
      assert.ok(text.includes(`Giấy tờ thứ ${i}: bản sao`), `paper ${i}`);
    assertIncludes(text, 'Mã tra cứu: K7P2-9QXM');
    assertIncludes(text, 'NGƯỜI TIẾP NHẬN HỒ SƠ');
  });

  it('reads each font file once per process, however many receipts are rendered', async () => {
    await renderReceipt(receiptData());
    await renderReceipt(receiptData({ channel: 'COUNTER', receivedBy: 'Nguyễn Văn Hùng' }));
    assert.equal(fontFileReadCount(), 4);
  });
});
