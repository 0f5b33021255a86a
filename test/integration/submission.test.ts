import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { workPermit } from '../../src/services/catalogue/workPermit';
import { downloadPdfText } from '../helpers/pdfTools';
import { type FileSpec, samplePdf, samplePng, sampleExe, sendDossierForm } from '../helpers/fixtures';
import { type Agent, csrfFrom, login, startTestApp, type TestApp } from '../helpers/testApp';

// Monday 23 November 2026, 09:00 in Vietnam.
const MONDAY_9AM = '2026-11-23T02:00:00.000Z';

const permitFields = {
  companyName: 'Công ty TNHH Điện tử Quang Minh',
  taxCode: '2400123458',
  workerName: 'KIM MIN JUN',
  workerBirthDate: '1988-04-02',
  sex: 'M',
  nationality: 'Hàn Quốc',
  passportNumber: 'M12345678',
  position: 'EXPERT',
  jobTitle: 'Kỹ sư quy trình sản xuất',
  workplace: 'Khu công nghiệp Quang Châu, tỉnh Bắc Giang',
  periodFrom: '2027-01-01',
  periodTo: '2028-12-31',
  approvalReference: '125/BQL-QLLĐ',
};

const permitFiles = (): FileSpec[] => [
  { field: 'application', name: 'don-de-nghi.pdf', content: samplePdf('Mau 11/PLI') },
  { field: 'health-certificate', name: 'suc-khoe.pdf', content: samplePdf('Giay kham suc khoe') },
  { field: 'criminal-record', name: 'ly-lich.pdf', content: samplePdf('Ly lich tu phap') },
  { field: 'qualification', name: 'bang-cap.pdf', content: samplePdf('Bang ky su') },
  { field: 'photo', name: 'anh-4x6.png', content: samplePng() },
  { field: 'passport', name: 'ho-chieu.pdf', content: samplePdf('Ho chieu') },
  { field: 'demand-approval', name: 'chap-thuan.pdf', content: samplePdf('Van ban chap thuan') },
];

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('filing dossiers online', () => {
  let t: TestApp;
  let business: Agent;
  let citizen: Agent;
  let papersDir: string;
  before(async () => {
    t = await startTestApp({
      clock: new FixedClock(MONDAY_9AM),
      env: { UPLOAD_MAX_FILE_MB: '1', UPLOAD_MAX_DOSSIER_MB: '2', UPLOAD_MAX_FILES: '12' },
    });
    business = await login(t.app, 'business@demo.gov.vn');
    citizen = await login(t.app, 'citizen@demo.gov.vn');
    papersDir = path.join(t.database.storageDir, 'papers');
  });
  after(() => t.close());

  const dossierCount = async () =>
    Number(((await t.deps.db('dossiers').count({ n: '*' }).first()) as { n: number }).n);

  it('lists the catalogue, searches without diacritics and filters by agency and level', async () => {
    const all = await request(t.app).get('/procedures');
    assert.equal(all.status, 200);
    for (const code of ['BQL-LD-01', 'BQL-LD-02', 'XA-HT-01']) assert.match(all.text, new RegExp(code));
    const search = await request(t.app).get('/procedures?q=giay+phep+lao+dong');
    assert.match(search.text, /BQL-LD-02/);
    assert.doesNotMatch(search.text, /XA-HT-01/);
    const commune = await t.deps.repos.agencies.findByCode('000.20.21.H10');
    const byAgency = await request(t.app).get(`/procedures?agency=${commune!.id}`);
    assert.match(byAgency.text, /XA-HT-01/);
    assert.doesNotMatch(byAgency.text, /BQL-LD-02/);
    const partial = await request(t.app).get('/procedures?level=PARTIAL');
    assert.match(partial.text, /Không có thủ tục nào phù hợp/);
    const hostile = await request(t.app).get("/procedures?q=%25'%20OR%201=1--&agency=abc&level=X");
    assert.equal(hostile.status, 200);
  });

  it('shows a procedure: papers, time limit, fee and who decides', async () => {
    const res = await request(t.app).get('/procedures/BQL-LD-02');
    assert.equal(res.status, 200);
    assert.match(res.text, /Cấp giấy phép lao động cho người lao động nước ngoài/);
    assert.match(res.text, /5 ngày làm việc/);
    assert.match(res.text, /600\.000 đồng/);
    assert.match(res.text, /Trưởng ban Ban Quản lý các khu công nghiệp/);
    assert.match(res.text, /Phiếu lý lịch tư pháp/);
    assert.equal((await request(t.app).get('/procedures/NOPE')).status, 404);
  });

  it('files the work permit end to end: code, due date, papers with their hashes, receipt', async () => {
    const res = await sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, permitFiles());
    assert.equal(res.status, 303, res.text.slice(0, 3000));
    const m = /^\/my\/dossiers\/([^/]+)\/submitted$/.exec(res.headers.location!);
    assert.ok(m);
    const code = decodeURIComponent(m[1]!);
    assert.equal(code, '000.00.12.H10-261123-0001');

    const row = await t.deps.db('dossiers').where({ code }).first();
    assert.equal(row.status, 'SUBMITTED');
    assert.equal(row.channel, 'ONLINE');
    assert.match(row.secret, /^[A-HJ-NP-Z2-9]{8}$/);
    const dossier = (await t.deps.repos.dossiers.findByCode(code))!;
    // 5 working days of 8 hours from Monday 09:00: the next Monday 09:00 (Vietnam time).
    assert.equal(dossier.dueAt!.toISOString(), '2026-11-30T02:00:00.000Z');
    assert.equal(dossier.formData.workerName, 'KIM MIN JUN');

    const files = await t.deps.repos.dossiers.files(dossier.id);
    assert.equal(files.length, 7);
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(papersDir, f.storedPath));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256);
      assert.equal(bytes.length, f.size);
    }
    assert.equal(files.find((f) => f.paperCode === 'photo')!.contentType, 'image/png');
    const events = await t.deps.repos.dossiers.events(dossier.id);
    assert.deepEqual(
      events.map((e) => [e.action, e.toStatus]),
      [['SUBMIT', 'SUBMITTED']],
    );
    assert.equal(
      (await t.deps.db('audit_log').where({ action: 'DOSSIER_SUBMITTED', subject_id: code })).length,
      1,
    );

    const confirmation = await business.get(res.headers.location!);
    assert.match(confirmation.text, /Nộp hồ sơ thành công/);
    assert.match(confirmation.text, new RegExp(row.secret));
    assert.match(confirmation.text, /30\/11\/2026/);
    const list = await business.get('/my/dossiers');
    assert.match(list.text, new RegExp(code.replace(/\./g, '\\.')));
    assert.match(list.text, /Đã nộp, chờ tiếp nhận/);

    const text = await downloadPdfText(business, `/my/dossiers/${encodeURIComponent(code)}/receipt.pdf`);
    assert.match(text, new RegExp(code.replace(/\./g, '\\.')));
    assert.match(text, /Công ty TNHH Điện tử Quang Minh/);
    assert.match(text, new RegExp(row.secret));
  });

  it("files the foreign-worker demand approval and the commune extract, each with its agency's code", async () => {
    const demand = await sendDossierForm(
      business,
      '/procedures/BQL-LD-01/file',
      {
        companyName: 'Công ty TNHH Điện tử Quang Minh',
        taxCode: '2400123458',
        industrialZone: 'Khu công nghiệp Quang Châu',
        position: 'TECHNICIAN',
        jobTitle: 'Kỹ thuật viên bảo trì',
        workerCount: '3',
        periodFrom: '2027-01-01',
        periodTo: '2027-12-31',
        explanation: 'Dây chuyền mới cần kỹ thuật viên đã vận hành thiết bị của hãng.',
        contactPhone: '0204 385 678',
      },
      [{ field: 'demand-report', name: 'bao-cao-01-PLI.pdf', content: samplePdf() }],
    );
    assert.equal(demand.status, 303, demand.text.slice(0, 2000));
    assert.match(decodeURIComponent(demand.headers.location!), /000\.00\.12\.H10-261123-0002/);

    const extract = await sendDossierForm(
      citizen,
      '/procedures/XA-HT-01/file',
      {
        extractType: 'BIRTH',
        subjectName: 'Nguyễn Văn An',
        subjectBirthDate: '1990-05-12',
        relationship: 'SELF',
        copies: '2',
      },
      [],
    );
    assert.equal(extract.status, 303, extract.text.slice(0, 2000));
    const code = decodeURIComponent(
      /\/my\/dossiers\/([^/]+)\/submitted/.exec(extract.headers.location!)![1]!,
    );
    assert.equal(code, '000.20.21.H10-261123-0001');
    const d = (await t.deps.repos.dossiers.findByCode(code))!;
    assert.equal(d.dueAt!.toISOString(), '2026-11-24T02:00:00.000Z', 'one working day: Tuesday 09:00');
    assert.equal(d.formData.copies, 2);
  });

  it('refuses a form with missing and wrong fields and papers: clear messages, no row, no file', async () => {
    const before = await dossierCount();
    const res = await sendDossierForm(
      business,
      '/procedures/BQL-LD-02/file',
      { ...permitFields, passportNumber: 'abc', periodTo: '2026-01-01', workerName: '' },
      [{ field: 'application', name: 'don.pdf', content: samplePdf() }],
    );
    assert.equal(res.status, 422);
    assert.match(res.text, /id="workerName-error">Vui lòng nhập thông tin này/);
    assert.match(res.text, /id="passportNumber-error">Số hộ chiếu gồm 6 đến 12 chữ cái/);
    assert.match(res.text, /id="periodTo-error">Ngày này không được trước “Thời hạn làm việc từ ngày”/);
    assert.match(res.text, /id="paper-passport-error">Vui lòng đính kèm giấy tờ này/);
    assert.match(res.text, /value="Kỹ sư quy trình sản xuất"/, 'what was typed is kept');
    assert.equal(await dossierCount(), before);
    assert.equal(filesUnder(papersDir).length, 7 + 1, 'only the files of the dossiers filed before');
  });

  it('refuses a program renamed .pdf, by its content, and keeps nothing of it', async () => {
    const before = filesUnder(papersDir).length;
    const files = permitFiles().map((f) =>
      f.field === 'passport' ? { ...f, name: 'ho-chieu.pdf', content: sampleExe() } : f,
    );
    const res = await sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, files);
    assert.equal(res.status, 422);
    assert.match(res.text, /id="paper-passport-error">Tệp ho-chieu\.pdf không phải định dạng được chấp nhận/);
    assert.equal(filesUnder(papersDir).length, before);
  });

  it('refuses an oversized file, an empty file and too many files with a clear error, keeping nothing', async () => {
    const before = filesUnder(papersDir).length;
    const rows = await dossierCount();
    const big = Buffer.concat([samplePdf(), Buffer.alloc(1024 * 1024 + 10, 0x20)]);
    const tooBig = await sendDossierForm(
      business,
      '/procedures/BQL-LD-02/file',
      permitFields,
      permitFiles().map((f) =>
        f.field === 'qualification' ? { ...f, name: 'bang-cap-scan.pdf', content: big } : f,
      ),
    );
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.text, /Tệp bang-cap-scan\.pdf vượt quá dung lượng cho phép \(1 MB mỗi tệp\)/);
    // What was typed comes back: only the papers have to be chosen again.
    assert.match(tooBig.text, new RegExp(`value="${permitFields.workerName}"`));
    assert.match(tooBig.text, new RegExp(`value="${permitFields.passportNumber}"`));

    const almost = Buffer.concat([samplePdf(), Buffer.alloc(900 * 1024, 0x20)]);
    const tooMuch = await sendDossierForm(
      business,
      '/procedures/BQL-LD-02/file',
      permitFields,
      permitFiles().map((f) =>
        ['qualification', 'passport', 'criminal-record'].includes(f.field) ? { ...f, content: almost } : f,
      ),
    );
    assert.equal(tooMuch.status, 413, 'three files under the per-file limit but over the dossier limit');
    assert.match(tooMuch.text, /Tổng dung lượng hồ sơ vượt quá 2 MB/);

    const empty = await sendDossierForm(
      business,
      '/procedures/BQL-LD-02/file',
      permitFields,
      permitFiles().map((f) => (f.field === 'photo' ? { ...f, content: Buffer.alloc(0) } : f)),
    );
    assert.equal(empty.status, 422);
    assert.match(empty.text, /không có nội dung/);

    const many = await sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, [
      ...permitFiles(),
      ...Array.from({ length: 6 }, (_, i) => ({
        field: 'qualification',
        name: `them-${i}.pdf`,
        content: samplePdf(),
      })),
    ]);
    assert.equal(many.status, 413);
    assert.match(many.text, /Quá nhiều tệp đính kèm: tối đa 12 tệp/);
    assert.equal(filesUnder(papersDir).length, before);
    assert.equal(await dossierCount(), rows);
  });

  it('makes one dossier from a double submit with the same idempotency key', async () => {
    const rows = await dossierCount();
    const key = 'double-click-key-0001';
    const [a, b] = await Promise.all([
      sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, permitFiles(), {
        idempotencyKey: key,
      }),
      sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, permitFiles(), {
        idempotencyKey: key,
      }),
    ]);
    assert.equal(a.status, 303);
    assert.equal(b.status, 303);
    assert.equal(a.headers.location, b.headers.location);
    const again = await sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, permitFiles(), {
      idempotencyKey: key,
    });
    assert.equal(again.headers.location, a.headers.location);
    assert.equal(await dossierCount(), rows + 1);
    const id = (await t.deps.db('dossiers').where('idempotency_key', 'like', `%:${key}`).first()).id;
    assert.equal((await t.deps.db('dossier_files').where({ dossier_id: id })).length, 7);
    const referenced = new Set(
      (await t.deps.db('dossier_files').select('stored_path')).map(
        (r: { stored_path: string }) => r.stored_path,
      ),
    );
    assert.equal(filesUnder(papersDir).length, referenced.size, 'the replays left no stray file');
  });

  it('gives 50 concurrent submissions to one agency 50 distinct consecutive codes', async () => {
    const send = () =>
      sendDossierForm(
        business,
        '/procedures/BQL-LD-01/file',
        {
          companyName: 'Công ty TNHH Điện tử Quang Minh',
          taxCode: '2400123458',
          industrialZone: 'Khu công nghiệp Vân Trung',
          position: 'EXPERT',
          jobTitle: 'Chuyên gia chất lượng',
          workerCount: '1',
          periodFrom: '2027-02-01',
          periodTo: '2027-08-01',
          explanation: 'Cần chuyên gia kiểm soát chất lượng.',
          contactPhone: '0912345678',
        },
        [{ field: 'demand-report', name: 'bao-cao.pdf', content: samplePdf() }],
      );
    const results = await Promise.all(Array.from({ length: 50 }, send));
    assert.ok(
      results.every((r) => r.status === 303),
      results.map((r) => r.status).join(','),
    );
    const codes = results.map((r) =>
      decodeURIComponent(/\/my\/dossiers\/([^/]+)\/submitted/.exec(r.headers.location!)![1]!),
    );
    assert.equal(new Set(codes).size, 50);
    const all = (
      (await t.deps.db('dossiers').where('code', 'like', '000.00.12.H10-261123-%').select('code')) as {
        code: string;
      }[]
    )
      .map((r) => Number(r.code.slice(-4)))
      .sort((x, y) => x - y);
    assert.deepEqual(
      all,
      Array.from({ length: all.length }, (_, i) => i + 1),
      'no gap, no repeat',
    );
  });

  it('saves a draft, comes back to it, and submits it', async () => {
    const partial = { ...permitFields, workerName: 'LEE SO YEON', passportNumber: '' };
    const saved = await sendDossierForm(
      business,
      '/procedures/BQL-LD-02/file',
      partial,
      [permitFiles()[0]!],
      { intent: 'draft' },
    );
    assert.equal(saved.status, 303);
    const draftUrl = saved.headers.location!;
    assert.match(draftUrl, /^\/my\/drafts\/\d+$/);
    const page = await business.get(draftUrl);
    assert.match(page.text, /Đã lưu nháp/);
    assert.match(page.text, /value="LEE SO YEON"/);
    assert.match(page.text, /don-de-nghi\.pdf/);
    const list = await business.get('/my/dossiers');
    assert.match(list.text, /Nháp \(chưa có mã\)/);

    const rest = permitFiles().slice(1);
    const submitted = await sendDossierForm(
      business,
      draftUrl,
      { ...partial, passportNumber: 'M99887766' },
      rest,
    );
    assert.equal(submitted.status, 303, submitted.text.slice(0, 2000));
    const code = decodeURIComponent(
      /\/my\/dossiers\/([^/]+)\/submitted/.exec(submitted.headers.location!)![1]!,
    );
    const d = (await t.deps.repos.dossiers.findByCode(code))!;
    assert.equal(d.id, Number(draftUrl.split('/').pop()));
    assert.equal(d.status, 'SUBMITTED');
    assert.equal((await t.deps.repos.dossiers.files(d.id)).length, 7);
    assert.equal((await business.get(draftUrl)).status, 404, 'a submitted draft is no longer a draft');
  });

  it('answers a draft sent twice, one after the other or at once, with the one dossier it became', async () => {
    const dossiers = await dossierCount();
    const files = filesUnder(papersDir).length;
    const save = async () => {
      const saved = await sendDossierForm(
        business,
        '/procedures/BQL-LD-02/file',
        permitFields,
        permitFiles(),
        {
          intent: 'draft',
        },
      );
      assert.equal(saved.status, 303);
      return saved.headers.location!;
    };
    // A double click: both clicks sent the same page, the second after the first was done.
    const draftUrl = await save();
    const page = await business.get(draftUrl);
    const send = () => {
      const key = /name="idempotencyKey" value="([^"]+)"/.exec(page.text)![1]!;
      const req = business.post(draftUrl).field('_csrf', csrfFrom(page.text)).field('idempotencyKey', key);
      for (const [k, v] of Object.entries(permitFields)) req.field(k, v);
      req.field('intent', 'submit');
      return req;
    };
    const first = await send();
    assert.equal(first.status, 303);
    assert.match(first.headers.location!, /\/submitted$/);
    const second = await send();
    assert.equal(second.status, 303, second.text.slice(0, 500));
    assert.equal(second.headers.location, first.headers.location);
    const shown = await business.get(second.headers.location!);
    assert.match(shown.text, /Hồ sơ này đã được nộp trước đó/);

    // Two tabs at once.
    const other = await save();
    const otherPage = await business.get(other);
    const owner = (await t.deps.db('users').where({ email: 'business@demo.gov.vn' }).first()) as {
      id: number;
    };
    const draftView = await t.deps.dossiers.myDraft(
      (await t.deps.accounts.activeUser(owner.id))!,
      Number(other.split('/').pop()),
    );
    const tabs = await Promise.all([
      sendDossierForm(business, other, permitFields, []),
      sendDossierForm(business, other, permitFields, []),
    ]);
    assert.deepEqual(
      tabs.map((r) => r.status),
      [303, 303],
      tabs.map((r) => r.text.slice(0, 300)).join('\n'),
    );
    assert.equal(tabs[0]!.headers.location, tabs[1]!.headers.location);
    // A save of the draft whose page was checked (still a draft) just before the other tab's submit
    // committed, and which finds it submitted once its upload is read.
    const service = t.deps.dossiers;
    const check = service.submittedDraft.bind(service);
    const read = service.myDraft.bind(service);
    service.submittedDraft = async () => {
      service.submittedDraft = check;
      return null;
    };
    service.myDraft = async () => {
      service.myDraft = read;
      return draftView;
    };
    const late = await business
      .post(other)
      .field('_csrf', csrfFrom(otherPage.text))
      .field('idempotencyKey', 'a-save-after-the-submit')
      .field('companyName', permitFields.companyName!)
      .field('intent', 'draft');
    assert.equal(late.status, 303, late.text.slice(0, 300));
    assert.equal(late.headers.location, tabs[0]!.headers.location);
    assert.equal(await dossierCount(), dossiers + 2);
    assert.equal(
      filesUnder(papersDir).length,
      files + 2 * permitFiles().length,
      'the papers of the two dossiers, nothing of the sends that came second',
    );
  });

  it('keeps a saved draft whole when a paper it let go cannot be removed from the disk', async () => {
    const saved = await sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, permitFiles(), {
      intent: 'draft',
    });
    const draftUrl = saved.headers.location!;
    const id = Number(draftUrl.split('/').pop());
    const photo = (await t.deps.repos.dossiers.files(id)).find((f) => f.paperCode === 'photo')!;
    // The disk refuses to remove anything (busy, read-only): the draft is saved all the same.
    const store = t.deps.files.papers;
    const remove = store.remove.bind(store);
    store.remove = () => Promise.reject(Object.assign(new Error('resource busy'), { code: 'EBUSY' }));
    try {
      const res = await sendDossierForm(
        business,
        draftUrl,
        permitFields,
        [{ field: 'photo', name: 'anh-moi.png', content: samplePng() }],
        { intent: 'draft', removeFile: [photo.id] },
      );
      assert.equal(res.status, 303, res.text.slice(0, 500));
    } finally {
      store.remove = remove;
    }
    const files = await t.deps.repos.dossiers.files(id);
    assert.deepEqual(
      files.filter((f) => f.paperCode === 'photo').map((f) => f.originalName),
      ['anh-moi.png'],
    );
    for (const f of files) assert.ok(fs.existsSync(path.join(papersDir, f.storedPath)), f.storedPath);
  });

  it('keeps a dossier on the procedure version it was filed under', async () => {
    const first = (await t.deps.db('dossiers').where({ code: '000.00.12.H10-261123-0001' }).first()) as {
      procedure_version_id: number;
    };
    await t.deps.procedures.publish({ ...workPermit, timeLimit: { amount: 7, unit: 'WORKING_DAYS' } }, null);
    const res = await sendDossierForm(business, '/procedures/BQL-LD-02/file', permitFields, permitFiles());
    const code = decodeURIComponent(/\/my\/dossiers\/([^/]+)\/submitted/.exec(res.headers.location!)![1]!);
    const d = (await t.deps.repos.dossiers.findByCode(code))!;
    assert.notEqual(d.procedureVersionId, first.procedure_version_id);
    assert.equal(
      d.dueAt!.toISOString(),
      '2026-12-02T02:00:00.000Z',
      'seven working days under the new version',
    );
    const old = (await t.deps.repos.dossiers.findByCode('000.00.12.H10-261123-0001'))!;
    assert.equal(old.procedureVersionId, first.procedure_version_id);
    assert.equal(old.dueAt!.toISOString(), '2026-11-30T02:00:00.000Z');
    assert.match((await request(t.app).get('/procedures/BQL-LD-02')).text, /7 ngày làm việc/);
  });

  it('lets nobody else read a dossier, its papers, its receipt or a draft', async () => {
    const code = '000.00.12.H10-261123-0001';
    const d = (await t.deps.repos.dossiers.findByCode(code))!;
    const file = (await t.deps.repos.dossiers.files(d.id))[0]!;
    const enc = encodeURIComponent(code);
    for (const url of [
      `/my/dossiers/${enc}`,
      `/my/dossiers/${enc}/receipt.pdf`,
      `/my/dossiers/${enc}/files/${file.id}`,
    ]) {
      assert.equal((await citizen.get(url)).status, 404, url);
      assert.equal((await business.get(url)).status, 200, url);
    }
    const draft = (await t.deps.db('dossiers').where({ status: 'DRAFT' }).first()) as
      { id: number } | undefined;
    const draftId =
      draft?.id ??
      (await t.deps.dossiers.saveDraft((await t.deps.accounts.activeUser(d.applicantUserId!))!, {
        procedureCode: 'BQL-LD-02',
        fields: {},
        uploads: [],
      }));
    assert.equal((await citizen.get(`/my/drafts/${draftId}`)).status, 404);
    const officer = await login(t.app, 'reception@demo.gov.vn');
    assert.equal((await officer.get('/procedures/BQL-LD-02/file')).status, 403);
    assert.equal((await request(t.app).get('/my/dossiers')).status, 303);
    const wrongKind = await citizen.get('/procedures/BQL-LD-02/file');
    assert.equal(wrongKind.status, 403);
  });

  it('answers a public lookup with code and secret, and says nothing for a wrong secret', async () => {
    const code = '000.00.12.H10-261123-0001';
    const d = (await t.deps.repos.dossiers.findByCode(code))!;
    const ok = await request(t.app).get(
      `/lookup?code=${encodeURIComponent(code)}&secret=${d.secret!.toLowerCase()}`,
    );
    assert.equal(ok.status, 200);
    assert.match(ok.text, /Đã nộp, chờ tiếp nhận/);
    assert.match(ok.text, /Nộp hồ sơ trực tuyến/);
    assert.equal(ok.headers['cache-control'], 'no-store');
    const wrong = await request(t.app).get(`/lookup?code=${encodeURIComponent(code)}&secret=AAAAAAAA`);
    const unknown = await request(t.app).get('/lookup?code=000.00.12.H10-261123-9999&secret=AAAAAAAA');
    for (const r of [wrong, unknown]) {
      assert.equal(r.status, 404);
      assert.match(r.text, /Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập/);
      assert.doesNotMatch(r.text, /giấy phép lao động/i);
    }
  });

  it('refuses a multipart form without its CSRF token before storing any file', async () => {
    const before = filesUnder(papersDir).length;
    const res = await business
      .post('/procedures/BQL-LD-02/file')
      .field('workerName', 'X')
      .attach('application', samplePdf(), 'a.pdf');
    assert.equal(res.status, 403);
    assert.equal(filesUnder(papersDir).length, before);
  });
});
