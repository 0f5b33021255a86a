import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { assertIncludes, assertQpdfClean, extractText, pageCount, run } from '../helpers/pdfTools';
import {
  renderApologyNotice,
  renderRefusalNotice,
  renderSupplementNotice,
  type ApologyNoticeData,
  type NoticeBase,
  type RefusalNoticeData,
  type SupplementNoticeData,
} from '../../src/documents/noticeDocuments';

// As for the receipt, the PDFs are checked with the tools a reader's software relies on (poppler, qpdf).
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'notice-'));
after(() => fs.rmSync(workDir, { recursive: true, force: true }));

const REASON = 'Bản sao hộ chiếu bị mờ, đề nghị nộp lại bản rõ nét';

function base(): NoticeBase {
  return {
    agencyName: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
    parentAgencyName: 'Ủy ban nhân dân tỉnh Bắc Giang',
    placeName: 'Bắc Giang',
    code: '000.00.12.H10-261123-0001',
    procedureName: 'Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại khu công nghiệp',
    applicantName: 'Trần Thị Bình',
    // 25 November, 06:45 in Vietnam, is still 24 November in UTC.
    issuedAt: new Date('2026-11-24T23:45:00Z'),
    officerName: 'Nguyễn Văn Hùng',
    officerPosition: 'Công chức tiếp nhận hồ sơ',
  };
}

function supplementData(overrides: Partial<SupplementNoticeData> = {}): SupplementNoticeData {
  return {
    ...base(),
    reason: REASON,
    papers: [
      'Bản sao có chứng thực hộ chiếu còn giá trị sử dụng',
      'Giấy chứng nhận sức khỏe do cơ sở khám bệnh, chữa bệnh có thẩm quyền cấp',
    ],
    remainingWorkingHours: 20,
    ...overrides,
  };
}

function refusalData(overrides: Partial<RefusalNoticeData> = {}): RefusalNoticeData {
  return {
    ...base(),
    reason: 'Thủ tục không thuộc thẩm quyền giải quyết của Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
    officerPosition: 'Trưởng bộ phận Một cửa',
    ...overrides,
  };
}

function apologyData(overrides: Partial<ApologyNoticeData> = {}): ApologyNoticeData {
  return {
    ...base(),
    reason: 'Hồ sơ cần lấy ý kiến của cơ quan công an về lý lịch tư pháp của người lao động',
    // 1 December, 16:00 in Vietnam.
    previousDueAt: new Date('2026-12-01T09:00:00Z'),
    // 15 December, 06:30 in Vietnam, is still 14 December in UTC.
    newDueAt: new Date('2026-12-14T23:30:00Z'),
    officerName: 'Lê Minh Tuấn',
    officerPosition: 'Phó Trưởng ban',
    ...overrides,
  };
}

let fileCount = 0;
async function toFile(pdf: Promise<Buffer>): Promise<string> {
  fileCount += 1;
  const file = path.join(workDir, `notice-${fileCount}.pdf`);
  fs.writeFileSync(file, await pdf);
  return file;
}

function assertOnlyEmbeddedDejaVu(file: string): void {
  const lines = run('pdffonts', [file]).trim().split('\n').slice(2);
  assert.ok(lines.length > 0, 'the notice uses fonts');
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
}

function assertInfo(file: string, title: string): void {
  const info = run('pdfinfo', ['-isodates', file]);
  assert.match(info, new RegExp(`^Title:\\s+${title}$`, 'm'));
  assert.match(info, /^Author:\s+Ban Quản lý các khu công nghiệp tỉnh Bắc Giang$/m);
  assert.match(info, /^Subject:\s+000\.00\.12\.H10-261123-0001$/m);
  assert.match(info, /^CreationDate:\s+2026-11-24T23:45:00(Z|\+00)/m);
  assert.match(info, /^Page size:\s+595\.28 x 841\.89 pts \(A4\)$/m);
}

/** What every notice carries: the frame, the addressee, the dossier and the signer. */
function assertCommonText(text: string, title: string, position: string, officer: string): void {
  assertIncludes(text, title);
  assertIncludes(text, 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM');
  assertIncludes(text, 'Độc lập - Tự do - Hạnh phúc');
  assertIncludes(text, 'ỦY BAN NHÂN DÂN');
  assertIncludes(text, 'Mã hồ sơ: 000.00.12.H10-261123-0001');
  assertIncludes(text, 'Bắc Giang, ngày 25 tháng 11 năm 2026');
  assertIncludes(text, 'Kính gửi: Trần Thị Bình');
  assertIncludes(text, 'đã tiếp nhận hồ sơ mã số 000.00.12.H10-261123-0001 của Ông/Bà');
  assertIncludes(
    text,
    'Nội dung yêu cầu giải quyết: Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại khu công nghiệp',
  );
  assertIncludes(text, position);
  assertIncludes(text, '(Ký, ghi rõ họ tên)');
  assertIncludes(text, officer);
  assert.ok(!text.includes('24 tháng 11'), 'not the UTC date of issue');
}

/** Runs `body` with the machine's zone set far from Vietnam, so UTC and local readings both differ. */
async function inZone<T>(zone: string, body: () => Promise<T>): Promise<T> {
  const savedZone = process.env.TZ;
  process.env.TZ = zone;
  try {
    return await body();
  } finally {
    if (savedZone === undefined) delete process.env.TZ;
    else process.env.TZ = savedZone;
  }
}

describe('supplement notice PDF (mẫu 02)', () => {
  it('passes qpdf --check and carries the title, code, applicant, numbered papers and reason', async () => {
    const file = await toFile(renderSupplementNotice(supplementData()));
    assertQpdfClean(file);
    const text = extractText(file);
    assertCommonText(
      text,
      'PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ',
      'CÔNG CHỨC TIẾP NHẬN HỒ SƠ',
      'Nguyễn Văn Hùng',
    );
    assertIncludes(text, 'Đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:');
    assertIncludes(text, '1. Bản sao có chứng thực hộ chiếu còn giá trị sử dụng');
    assertIncludes(text, '2. Giấy chứng nhận sức khỏe do cơ sở khám bệnh, chữa bệnh có thẩm quyền cấp');
    assertIncludes(text, `Lý do: ${REASON}`);
    assertIncludes(text, 'được tạm dừng');
    assertIncludes(text, 'thời gian giải quyết còn lại là 20 giờ làm việc.');
    assert.equal(pageCount(file), 1, 'an ordinary notice fits on one page');
  });

  it('renders in Vietnam time whatever the zone of the machine', async () => {
    const file = await inZone('America/Los_Angeles', () => toFile(renderSupplementNotice(supplementData())));
    assertIncludes(extractText(file), 'Bắc Giang, ngày 25 tháng 11 năm 2026');
  });

  it('pads a small count of hours and writes a fraction with a decimal comma', async () => {
    const padded = extractText(
      await toFile(renderSupplementNotice(supplementData({ remainingWorkingHours: 4 }))),
    );
    assertIncludes(padded, 'còn lại là 04 giờ làm việc.');
    const fraction = extractText(
      await toFile(renderSupplementNotice(supplementData({ remainingWorkingHours: 12.5 }))),
    );
    assertIncludes(fraction, 'còn lại là 12,5 giờ làm việc.');
  });

  it('refuses a negative remaining time and an empty reason', async () => {
    await assert.rejects(renderSupplementNotice(supplementData({ remainingWorkingHours: -1 })), RangeError);
    await assert.rejects(renderSupplementNotice(supplementData({ remainingWorkingHours: NaN })), RangeError);
    await assert.rejects(renderSupplementNotice(supplementData({ reason: ' \n ' })), RangeError);
  });

  it('has the form title, agency, code and time of issue in its information', async () => {
    assertInfo(
      await toFile(renderSupplementNotice(supplementData())),
      'Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ',
    );
  });

  it('embeds subsets of the DejaVu Serif fonts and no other font', async () => {
    assertOnlyEmbeddedDejaVu(await toFile(renderSupplementNotice(supplementData())));
  });

  it('flows 30 papers and a very long reason onto further pages, numbered, and stays valid', async () => {
    const papers = Array.from(
      { length: 30 },
      (_, i) =>
        `Giấy tờ thứ ${i + 1}: bản sao có chứng thực văn bằng, chứng chỉ chuyên môn được hợp pháp hóa lãnh sự`,
    );
    const reason = `${REASON}. `.repeat(60).trim();
    const file = await toFile(renderSupplementNotice(supplementData({ papers, reason })));
    assertQpdfClean(file);
    const pages = pageCount(file);
    assert.ok(pages >= 2, `spans ${pages} pages`);
    const text = extractText(file);
    for (let i = 1; i <= papers.length; i += 1) assertIncludes(text, `${i}. Giấy tờ thứ ${i}: bản sao`);
    assertIncludes(text, `Lý do: ${REASON}. ${REASON}.`);
    assertIncludes(text, 'thời gian giải quyết còn lại là 20 giờ làm việc.');

    // Pages from the second carry their number; the last has body text above the signature.
    const lastPage = run('pdftotext', ['-layout', '-f', String(pages), '-l', String(pages), file, '-'])
      .normalize('NFC')
      .replace(/\s+/g, ' ')
      .trim();
    assert.ok(lastPage.startsWith(`${pages} `), `the last page is numbered: ${lastPage}`);
    assertIncludes(lastPage, 'để được hướng dẫn./.');
    assertIncludes(lastPage, 'CÔNG CHỨC TIẾP NHẬN HỒ SƠ');
    assertIncludes(lastPage, 'Nguyễn Văn Hùng');
  });

  it('still reads with no papers listed', async () => {
    const file = await toFile(renderSupplementNotice(supplementData({ papers: [] })));
    assertQpdfClean(file);
    const text = extractText(file);
    assertIncludes(text, `Lý do: ${REASON}`);
    assert.ok(!text.includes('gồm những nội dung sau'));
  });
});

describe('refusal notice PDF (mẫu 03)', () => {
  it('passes qpdf --check and carries the title, code, applicant and reason', async () => {
    const file = await toFile(
      renderRefusalNotice(refusalData({ reason: `${REASON}\n\nHộ chiếu đã hết hạn sử dụng.` })),
    );
    assertQpdfClean(file);
    const text = extractText(file);
    assertCommonText(
      text,
      'PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ',
      'TRƯỞNG BỘ PHẬN MỘT CỬA',
      'Nguyễn Văn Hùng',
    );
    assertIncludes(text, 'thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau:');
    // Each line the officer typed is its own paragraph, in order.
    assertIncludes(text, `${REASON} Hộ chiếu đã hết hạn sử dụng.`);
    assertIncludes(text, 'Xin thông báo để Ông/Bà được biết và thực hiện./.');
    assert.equal(pageCount(file), 1);
  });

  it('has the form title in its information and only embedded DejaVu subsets', async () => {
    const file = await toFile(renderRefusalNotice(refusalData()));
    assertInfo(file, 'Phiếu từ chối tiếp nhận giải quyết hồ sơ');
    assertOnlyEmbeddedDejaVu(file);
  });

  it('refuses an empty reason', async () => {
    await assert.rejects(renderRefusalNotice(refusalData({ reason: '' })), RangeError);
  });
});

describe('apology notice PDF (mẫu 04)', () => {
  it('passes qpdf --check and carries the apology, the reason and both appointments in Vietnam time', async () => {
    const file = await inZone('America/Los_Angeles', () => toFile(renderApologyNotice(apologyData())));
    assertQpdfClean(file);
    const text = extractText(file);
    assertCommonText(text, 'PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ', 'PHÓ TRƯỞNG BAN', 'Lê Minh Tuấn');
    assertIncludes(text, 'Thời gian hẹn trả kết quả: 16 giờ 00 phút, ngày 01/12/2026');
    assertIncludes(text, 'chưa trả được kết quả giải quyết hồ sơ cho Ông/Bà đúng thời hạn đã hẹn');
    assertIncludes(
      text,
      'Lý do: Hồ sơ cần lấy ý kiến của cơ quan công an về lý lịch tư pháp của người lao động',
    );
    assertIncludes(text, 'thành thật xin lỗi Ông/Bà');
    assertIncludes(text, 'Thời gian trả kết quả mới: 06 giờ 30 phút, ngày 15/12/2026');
    assert.ok(!text.includes('14/12/2026'), 'not the UTC date of the new appointment');
    assert.equal(pageCount(file), 1);
  });

  it('has the form title in its information and only embedded DejaVu subsets', async () => {
    const file = await toFile(renderApologyNotice(apologyData()));
    assertInfo(file, 'Phiếu xin lỗi và hẹn lại ngày trả kết quả');
    assertOnlyEmbeddedDejaVu(file);
  });

  it('refuses a new appointment that is not after the previous one', async () => {
    const previousDueAt = new Date('2026-12-01T09:00:00Z');
    await assert.rejects(
      renderApologyNotice(apologyData({ previousDueAt, newDueAt: previousDueAt })),
      RangeError,
    );
    await assert.rejects(
      renderApologyNotice(apologyData({ previousDueAt, newDueAt: new Date('2026-11-30T09:00:00Z') })),
      RangeError,
    );
  });
});
