import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { createSmtpMailer } from '../../src/services/mailer';
import { OutboxWorker } from '../../src/services/outboxWorker';
import { filePermitByApi, samplePdf, samplePng } from '../helpers/fixtures';
import { downloadPdfText } from '../helpers/pdfTools';
import { SmtpCapture } from '../helpers/smtpCapture';
import { DEMO_PASSWORD, login, postForm, startTestApp, type TestApp } from '../helpers/testApp';

// Monday 23 November 2026, 09:00 in Vietnam.
const MONDAY_9AM = '2026-11-23T02:00:00.000Z';

describe('the workflow: receiving, review, approval, with the legal clock', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    for (const who of [
      'business',
      'reception',
      'specialist',
      'approver',
      'clerk',
      'agencyadmin',
      'reception.tp',
      'citizen',
    ]) {
      const res = await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: `${who}@demo.gov.vn`, password: DEMO_PASSWORD });
      tokens[who] = res.body.token;
    }
  });
  after(() => t.close());

  const file = () => filePermitByApi(t.app, tokens.business!);
  const act = (who: string, code: string, action: string, body: Record<string, unknown> = {}) =>
    request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/${action}`)
      .set('Authorization', `Bearer ${tokens[who]}`)
      .send(body);
  const specialistId = async () =>
    ((await t.deps.db('users').where({ email: 'specialist@demo.gov.vn' }).first()) as { id: number }).id;
  const dossier = async (code: string) => (await t.deps.repos.dossiers.findByCode(code))!;

  it('goes the whole way with four officers of the right roles, through the desk pages', async () => {
    const code = await file();
    const reception = await login(t.app, 'reception@demo.gov.vn');
    const inbox = await reception.get('/desk');
    assert.equal(inbox.status, 200);
    assert.match(inbox.text, new RegExp(code.replace(/\./g, '\\.')));
    assert.match(inbox.text, /Công ty TNHH Điện tử Quang Minh/);
    const page = `/desk/dossiers/${encodeURIComponent(code)}`;
    const accepted = await postForm(reception, page, `${page}/actions/accept`, { version: '1' });
    assert.equal(accepted.status, 303);
    const assigned = await postForm(reception, page, `${page}/actions/assign`, {
      assignee: String(await specialistId()),
    });
    assert.equal(assigned.status, 303);

    const specialist = await login(t.app, 'specialist@demo.gov.vn');
    assert.match((await specialist.get('/desk?mine=1')).text, new RegExp(code.replace(/\./g, '\\.')));
    // The proposal carries the specialist's memo as a PDF, through the multipart action form.
    const propose = (file: Buffer, name: string) =>
      specialist.get(page).then((p) =>
        specialist
          .post(`${page}/actions/propose_approval`)
          .field('_csrf', /name="_csrf" value="([^"]+)"/.exec(p.text)![1]!)
          .field('reason', 'Đủ điều kiện cấp giấy phép.')
          .attach('attachment', file, name),
      );
    const notPdf = await propose(samplePng(), 'to-trinh.png');
    assert.equal(notPdf.status, 422);
    assert.match(notPdf.text, /Tệp đính kèm phải là PDF/);
    assert.equal((await propose(samplePdf('To trinh'), 'to-trinh.pdf')).status, 303);
    const memo = (await t.deps.repos.dossiers.files((await dossier(code)).id)).find(
      (f) => f.paperCode === 'attachment:propose_approval',
    );
    assert.equal(memo?.originalName, 'to-trinh.pdf');
    assert.match((await specialist.get(page)).text, /Tệp kèm theo: Trình phê duyệt/);
    assert.equal(
      (
        await request(t.app)
          .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/approve`)
          .set('Authorization', `Bearer ${tokens.approver}`)
          .attach('attachment', samplePdf(), 'x.pdf')
      ).status,
      422,
      'approving takes no attachment',
    );
    const approver = await login(t.app, 'approver@demo.gov.vn');
    assert.equal((await postForm(approver, page, `${page}/actions/approve`, { pin: '123456' })).status, 303);
    const clerk = await login(t.app, 'clerk@demo.gov.vn');
    assert.equal((await postForm(clerk, page, `${page}/actions/release`, { pin: '123456' })).status, 303);
    assert.equal((await postForm(clerk, page, `${page}/actions/return_result`, {})).status, 303);

    const d = await dossier(code);
    assert.equal(d.status, 'RETURNED');
    assert.ok(d.completedAt && d.decidedAt);
    const events = await t.deps.repos.dossiers.events(d.id);
    assert.deepEqual(
      events.map((e) => `${e.action}:${e.fromStatus}>${e.toStatus}:${e.actorRole}`),
      [
        'SUBMIT:null>SUBMITTED:BUSINESS',
        'accept:SUBMITTED>ACCEPTED:RECEPTION',
        'assign:ACCEPTED>IN_REVIEW:RECEPTION',
        'propose_approval:IN_REVIEW>PROPOSED_APPROVAL:SPECIALIST',
        'approve:PROPOSED_APPROVAL>APPROVED:APPROVER',
        'release:APPROVED>RESULT_READY:CLERK',
        'return_result:RESULT_READY>RETURNED:CLERK',
      ],
    );
    const audit = (await t.deps.db('audit_log').where({ subject_id: code }).orderBy('id')).map(
      (r: { action: string }) => r.action,
    );
    assert.deepEqual(audit.slice(1), [
      'DOSSIER_ACCEPT',
      'DOSSIER_ASSIGN',
      'DOSSIER_PROPOSE_APPROVAL',
      'DOSSIER_APPROVE',
      'DOSSIER_RELEASE',
      'DOSSIER_RETURN_RESULT',
    ]);
    const business = (await t.deps.db('users').where({ email: 'business@demo.gov.vn' }).first()) as {
      id: number;
    };
    const notes = (await t.deps.repos.notifications.listForUser(business.id)).map((n) => n.messageKey);
    assert.ok(notes.includes('notice.accept') && notes.includes('notice.release'));
    const noticesPage = await (await login(t.app, 'business@demo.gov.vn')).get('/account/notifications');
    assert.match(noticesPage.text, new RegExp(`Hồ sơ ${code.replace(/\./g, '\\.')} đã được tiếp nhận`));
    const timeline = await (
      await login(t.app, 'business@demo.gov.vn')
    ).get(`/my/dossiers/${encodeURIComponent(code)}`);
    assert.match(timeline.text, /Phê duyệt/);
    assert.match(timeline.text, /Đã trả kết quả/);
    assert.deepEqual(await t.deps.repos.audit.verifyChain(), {
      ok: true,
      records: Number(((await t.deps.db('audit_log').count({ n: '*' }).first()) as { n: number }).n),
    });
  });

  it('pauses the clock for a supplement and moves the due date by the paused time', async () => {
    const code = await file();
    assert.equal((await act('reception', code, 'accept')).status, 200);
    assert.equal((await act('reception', code, 'assign', { assignee: await specialistId() })).status, 200);
    const before = await dossier(code);
    assert.equal(before.dueAt!.toISOString(), '2026-11-30T02:00:00.000Z');

    t.clock.set('2026-11-24T02:00:00.000Z'); // Tuesday 09:00: four working days left
    const missing = await act('specialist', code, 'request_supplement', { reason: 'Thiếu hộ chiếu' });
    assert.equal(missing.status, 422, 'the papers to supplement must be named');
    const asked = await act('specialist', code, 'request_supplement', {
      reason: 'Bản sao hộ chiếu bị mờ, đề nghị nộp lại.',
      papers: ['passport', 'application'],
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    assert.equal(asked.body.status, 'SUPPLEMENT_REQUESTED');
    assert.equal(asked.body.paused, true);
    const paused = await dossier(code);
    assert.equal(paused.remainingMs, 32 * 3_600_000);

    const applicant = await login(t.app, 'business@demo.gov.vn');
    const page = await applicant.get(`/my/dossiers/${encodeURIComponent(code)}`);
    assert.match(page.text, /Bản sao hộ chiếu bị mờ/);
    assert.match(page.text, /32 giờ làm việc còn lại/);
    // The due date on record is the one before the pause: the page says the clock stands instead.
    assert.match(
      page.text,
      /<dt>Ngày hẹn trả kết quả<\/dt><dd>Tạm dừng chờ bổ sung hồ sơ; còn 32 giờ làm việc, tính tiếp từ khi nộp bổ sung/,
    );
    const lookup = await request(t.app).get(
      `/lookup?code=${encodeURIComponent(code)}&secret=${paused.secret!}`,
    );
    assert.match(lookup.text, /<dd>Tạm dừng chờ bổ sung hồ sơ; còn 32 giờ làm việc/);
    assert.doesNotMatch(lookup.text, /<dd>09:00, 30\/11\/2026<\/dd>/, 'not the old date');
    const notice = await downloadPdfText(
      applicant,
      `/my/dossiers/${encodeURIComponent(code)}/notices/supplement.pdf`,
    );
    assert.match(notice, /PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ/);
    assert.match(notice, /Bản sao hộ chiếu bị mờ, đề nghị nộp lại\./);
    assert.match(notice, /Bản sao hộ chiếu còn giá trị/);
    assert.match(notice, /Phạm Minh Đức/);

    t.clock.set('2026-11-27T02:00:00.000Z'); // Friday 09:00
    const pageToken = /name="_csrf" value="([^"]+)"/.exec(
      (await applicant.get(`/my/dossiers/${encodeURIComponent(code)}`)).text,
    )![1]!;
    const wrongPaper = await applicant
      .post(`/my/dossiers/${encodeURIComponent(code)}/resubmit`)
      .field('_csrf', pageToken)
      .attach('photo', samplePng(), 'anh-moi.png');
    assert.equal(wrongPaper.status, 303);
    assert.equal((await dossier(code)).status, 'SUPPLEMENT_REQUESTED', 'only the papers asked for');
    const resubmitted = await applicant
      .post(`/my/dossiers/${encodeURIComponent(code)}/resubmit`)
      .field('_csrf', pageToken)
      .attach('passport', samplePdf('Ho chieu ro net'), 'ho-chieu-moi.pdf')
      .attach('application', samplePdf('Don moi'), 'don-moi.pdf');
    assert.equal(resubmitted.status, 303);
    const resumed = await dossier(code);
    assert.equal(resumed.status, 'IN_REVIEW', 'back to the officer and step that asked');
    assert.equal(
      resumed.dueAt!.toISOString(),
      '2026-12-03T02:00:00.000Z',
      'Friday 09:00 plus 32 working hours',
    );
    assert.equal(resumed.pausedAt, null);
    // The same form sent again (a double click): the page says nothing more was done, and keeps nothing.
    const papers = (await t.deps.repos.dossiers.files(resumed.id)).length;
    const again = await applicant
      .post(`/my/dossiers/${encodeURIComponent(code)}/resubmit`)
      .field('_csrf', pageToken)
      .attach('passport', samplePdf('Ho chieu ro net'), 'ho-chieu-moi.pdf')
      .redirects(1);
    assert.equal(again.status, 200);
    assert.match(again.text, /Thao tác này không thực hiện được ở trạng thái hiện tại của hồ sơ\./);
    assert.equal((await t.deps.repos.dossiers.files(resumed.id)).length, papers);
    const files = await t.deps.repos.dossiers.files(resumed.id);
    assert.equal(files.filter((f) => f.paperCode === 'passport').length, 2, 'the old file stays on record');
    assert.equal(
      files.filter((f) => f.paperCode === 'application').length,
      2,
      'a one-file paper is replaced',
    );
    const specialist = (await t.deps.db('users').where({ email: 'specialist@demo.gov.vn' }).first()) as {
      id: number;
    };
    assert.ok(
      (await t.deps.repos.notifications.listForUser(specialist.id)).some(
        (n) => n.messageKey === 'notice.resubmit',
      ),
    );
    t.clock.set(MONDAY_9AM);
  });

  it('leaves the whole time limit to a dossier asked for a supplement before its clock began', async () => {
    // Filed Monday 16:10, after the cut-off: counted from Tuesday 07:30, due five working days later.
    t.clock.set('2026-11-23T09:10:00.000Z');
    const code = await file();
    const filed = await dossier(code);
    assert.equal(filed.countingFrom!.toISOString(), '2026-11-24T00:30:00.000Z');
    t.clock.set('2026-11-23T09:15:00.000Z');
    assert.equal((await act('reception', code, 'accept')).status, 200);
    assert.equal((await act('reception', code, 'assign', { assignee: await specialistId() })).status, 200);
    // Asked the same evening, 16:20: the clock has not begun, so all 40 working hours are left.
    t.clock.set('2026-11-23T09:20:00.000Z');
    const asked = await act('specialist', code, 'request_supplement', {
      reason: 'Thiếu bản sao hộ chiếu.',
      papers: ['passport'],
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    assert.equal((await dossier(code)).remainingMs, 40 * 3_600_000);
    t.clock.set(MONDAY_9AM);
  });

  it('refuses with a reason, and lets the applicant withdraw before a decision', async () => {
    const a = await file();
    assert.equal((await act('reception', a, 'refuse')).status, 422, 'a refusal needs a reason');
    const refused = await act('reception', a, 'refuse', {
      reason: 'Doanh nghiệp không thuộc khu công nghiệp.',
    });
    assert.equal(refused.body.status, 'REFUSED');
    assert.equal((await act('reception', a, 'accept')).status, 409, 'nothing moves a closed dossier');
    const refusal = await downloadPdfText(
      await login(t.app, 'reception@demo.gov.vn'),
      `/desk/dossiers/${encodeURIComponent(a)}/notices/refusal.pdf`,
    );
    assert.match(refusal, /PHIẾU TỪ CHỐI TIẾP NHẬN/);
    assert.match(refusal, /Doanh nghiệp không thuộc khu công nghiệp\./);

    const b = await file();
    const applicant = await login(t.app, 'business@demo.gov.vn');
    const page = `/my/dossiers/${encodeURIComponent(b)}`;
    const noReason = await postForm(applicant, page, `${page}/actions/withdraw`, { reason: '' });
    assert.equal(noReason.status, 303);
    assert.match((await applicant.get(page)).text, /Vui lòng nhập thông tin này/);
    assert.equal((await dossier(b)).status, 'SUBMITTED', 'a withdrawal needs a reason');
    const res = await postForm(
      applicant,
      `/my/dossiers/${encodeURIComponent(b)}`,
      `/my/dossiers/${encodeURIComponent(b)}/actions/withdraw`,
      {
        reason: 'Người lao động không sang Việt Nam nữa.',
      },
    );
    assert.equal(res.status, 303);
    assert.equal((await dossier(b)).status, 'WITHDRAWN');
  });

  it('lets 20 approvers clicking at once make exactly one transition', async () => {
    const code = await file();
    await act('reception', code, 'accept');
    await act('reception', code, 'assign', { assignee: await specialistId() });
    await act('specialist', code, 'propose_approval');
    // Each approver saw the same version of the dossier and clicks.
    const version = (await dossier(code)).version;
    const byReception = await act('reception', code, 'refuse', { reason: 'Không đồng ý.', version });
    assert.equal(byReception.status, 403, 'only the approver decides a reviewed dossier');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => act('approver', code, 'approve', { version, pin: '123456' })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
    assert.ok(
      statuses.every((s) => s === 200 || s === 409),
      statuses.join(','),
    );
    const d = await dossier(code);
    assert.equal((await t.deps.repos.dossiers.events(d.id)).filter((e) => e.action === 'approve').length, 1);
    assert.ok(results.some((r) => r.status === 409 && /người khác thay đổi/.test(r.body.error.message)));
  });

  it('refuses every action to an officer of another agency, and to an unassigned specialist', async () => {
    const code = await file();
    for (const action of [
      'accept',
      'refuse',
      'request_supplement',
      'assign',
      'propose_approval',
      'approve',
      'release',
      'extend',
    ]) {
      const res = await act('reception.tp', code, action, { reason: 'x', papers: ['passport'] });
      assert.equal(res.status, 403, action);
    }
    await act('reception', code, 'accept');
    await act('reception', code, 'assign', { assignee: await specialistId() });
    const other = await t.deps.officers.createOfficer(
      (await t.deps.accounts.activeUser(
        ((await t.deps.db('users').where({ email: 'admin@demo.gov.vn' }).first()) as { id: number }).id,
      ))!,
      {
        fullName: 'Chu Văn Sơn',
        email: 'son@bql.example.vn',
        agencyId: (await dossier(code)).agencyId,
        roles: ['SPECIALIST'],
        password: 'Chuyen-Vien@1',
        passwordConfirm: 'Chuyen-Vien@1',
      },
      { ip: '127.0.0.1', userAgent: null },
    );
    const tok = (
      await request(t.app).post('/api/v1/tokens').send({ email: other.email, password: 'Chuyen-Vien@1' })
    ).body.token;
    const res = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/propose_approval`)
      .set('Authorization', `Bearer ${tok}`)
      .send({});
    assert.equal(res.status, 403, 'a specialist acts only on dossiers assigned to them');
    assert.equal((await act('citizen', code, 'withdraw', { reason: 'x' })).status, 403);
    assert.equal((await act('reception', code, 'fly')).status, 404);
  });

  it('extends an overdue dossier with a new appointment date, on record', async () => {
    const code = await file();
    t.clock.set('2026-12-01T02:00:00.000Z'); // past the due date
    const bad = await act('approver', code, 'extend', {
      reason: 'Chờ ý kiến cơ quan công an.',
      newDueDate: '2026-12-05',
    });
    assert.equal(bad.status, 422, 'a Saturday is not a working day');
    const ok = await act('approver', code, 'extend', {
      reason: 'Chờ ý kiến cơ quan công an.',
      newDueDate: '2026-12-04',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.dueAt, '2026-12-04T10:00:00.000Z', '17:00 Vietnam time on the new day');
    const d = await dossier(code);
    const ev = (await t.deps.repos.dossiers.events(d.id)).pop()!;
    assert.equal(ev.action, 'extend');
    assert.equal(ev.details.previousDueAt, '2026-11-30T02:00:00.000Z');
    const apology = await downloadPdfText(
      await login(t.app, 'business@demo.gov.vn'),
      `/my/dossiers/${encodeURIComponent(code)}/notices/apology.pdf`,
    );
    assert.match(apology, /PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ/);
    assert.match(apology, /17 giờ 00 phút, ngày 04\/12\/2026/);
    assert.equal(
      (
        await (
          await login(t.app, 'business@demo.gov.vn')
        ).get(`/my/dossiers/${encodeURIComponent(code)}/notices/refusal.pdf`)
      ).status,
      404,
    );
    t.clock.set(MONDAY_9AM);
  });

  it('shows the desk only to officers and each officer only their agency', async () => {
    const citizen = await login(t.app, 'citizen@demo.gov.vn');
    assert.equal((await citizen.get('/desk')).status, 403);
    const tp = await login(t.app, 'reception.tp@demo.gov.vn');
    const inbox = await tp.get('/desk');
    assert.doesNotMatch(inbox.text, /000\.00\.12\.H10-/);
    const code = (await t.deps.db('dossiers').whereNotNull('code').first()).code as string;
    assert.equal((await tp.get(`/desk/dossiers/${encodeURIComponent(code)}`)).status, 403);
  });

  it('takes a walk-in dossier at the counter, prints its receipt, and lets the applicant claim it later', async () => {
    const reception = await login(t.app, 'reception.xa@demo.gov.vn');
    const form = await reception.get('/desk/intake/XA-HT-01');
    assert.equal(form.status, 200);
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const fields: Record<string, string> = {
      _csrf: token,
      idempotencyKey: 'counter-001',
      applicantKind: 'CITIZEN',
      applicantName: 'Nguyễn Văn An',
      applicantIdNumber: '024090001234',
      applicantPhone: '0912345678',
      extractType: 'BIRTH',
      subjectName: 'Nguyễn Văn An',
      subjectBirthDate: '1990-05-12',
      relationship: 'SELF',
      copies: '1',
      intent: 'submit',
    };
    const send = (over: Record<string, string> = {}) => {
      const req = reception.post('/desk/intake/XA-HT-01');
      for (const [k, v] of Object.entries({ ...fields, ...over })) req.field(k, v);
      return req;
    };
    // A paper the portal refuses (an empty file): what was typed at the counter comes back.
    const refused = await send({ idempotencyKey: 'counter-00x' }).attach(
      'authorisation',
      Buffer.alloc(0),
      'giay-uy-quyen.pdf',
    );
    assert.equal(refused.status, 422);
    assert.match(refused.text, /không có nội dung/);
    assert.match(refused.text, /value="024090001234"/);
    assert.match(refused.text, /value="Nguyễn Văn An"/);
    const bad = await send({ applicantIdNumber: '123', idempotencyKey: 'counter-000' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="applicantIdNumber-error">Số định danh cá nhân phải gồm đúng 12 chữ số/);
    const res = await send();
    assert.equal(res.status, 303, res.text.slice(0, 1500));
    const code = decodeURIComponent(/\/desk\/dossiers\/(.+)$/.exec(res.headers.location!)![1]!);
    assert.match(code, /^000\.20\.21\.H10-261123-\d{4}$/);
    assert.equal((await send()).headers.location, res.headers.location, 'a double click makes one dossier');
    const d = await dossier(code);
    assert.equal(d.channel, 'COUNTER');
    assert.equal(d.applicantUserId, null);
    const receipt = await reception.get(`/desk/dossiers/${encodeURIComponent(code)}/receipt.pdf`);
    assert.equal(receipt.status, 200);
    assert.equal(receipt.headers['content-type'], 'application/pdf');
    assert.equal(
      (await (await login(t.app, 'reception@demo.gov.vn')).get('/desk/intake/XA-HT-01')).status,
      403,
      'another agency’s procedure',
    );

    const citizen = await login(t.app, 'citizen@demo.gov.vn');
    const wrong = await postForm(citizen, '/my/claim', '/my/claim', { code, secret: 'AAAAAAAA' });
    assert.equal(wrong.status, 422);
    const claimed = await postForm(citizen, '/my/claim', '/my/claim', { code, secret: d.secret! });
    assert.equal(claimed.status, 303);
    assert.equal(
      (await dossier(code)).applicantUserId,
      ((await t.deps.db('users').where({ email: 'citizen@demo.gov.vn' }).first()) as { id: number }).id,
    );
    assert.equal((await citizen.get(`/my/dossiers/${encodeURIComponent(code)}`)).status, 200);
  });

  it('emails the applicant through the outbox and a real SMTP server, once', async () => {
    const smtp = await SmtpCapture.start();
    const mailer = createSmtpMailer(smtp.url);
    try {
      const code = await file();
      assert.equal((await act('reception', code, 'accept')).status, 200);
      const worker = new OutboxWorker(t.deps.outbox, mailer, t.deps.clock, t.deps.logger, {
        workerId: 'test-worker',
      });
      await worker.runOnce();
      await worker.runOnce();
      const mails = smtp.withSubject(`Hồ sơ ${code} đã được tiếp nhận`);
      assert.equal(mails.length, 1);
      assert.deepEqual(mails[0]!.envelopeTo, ['business@demo.gov.vn']);
      assert.match(mails[0]!.text, /Trạng thái: Đã tiếp nhận/);
      assert.match(mails[0]!.text, /Hạn trả kết quả: 09:00, 30\/11\/2026/);
    } finally {
      mailer.close();
      await smtp.close();
    }
  });
});
