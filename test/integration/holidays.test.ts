import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { filePermitByApi } from '../helpers/fixtures';
import { login, postForm, startTestApp, type TestApp, tokenFor } from '../helpers/testApp';

// Monday 9 March 2026, 09:00 in Vietnam: a week without any holiday.
const MONDAY_9AM = '2026-03-09T09:00:00+07:00';
const ONE_WORKING_DAY = { amount: 1, unit: 'WORKING_DAYS' } as const;

/** The Vietnam local time of an instant, 'YYYY-MM-DDTHH:MM', for readable assertions. */
const local = (d: Date): string => new Date(d.getTime() + 7 * 3_600_000).toISOString().slice(0, 16);

describe('system administrators edit the holiday table the deadlines are counted with', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
  });
  after(() => t.close());

  const row = (date: string) => t.deps.db('holidays').where({ date }).first();
  const auditOf = (date: string) =>
    t.deps.db('audit_log').where({ subject_type: 'holiday', subject_id: date }).orderBy('id');
  const dueFromNow = async () =>
    local((await t.deps.calendars.current()).dueDate(t.clock.now(), ONE_WORKING_DAY));

  it('shows the current year (in Vietnam time) with the seeded Tết days', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const res = await admin.get('/admin/holidays');
    assert.equal(res.status, 200);
    assert.match(res.text, /Ngày nghỉ và ngày làm bù năm 2026/);
    assert.match(res.text, /<time datetime="2026-02-16">16\/02\/2026<\/time><\/th>\s*<td>Thứ Hai<\/td>/);
    assert.match(res.text, /<time datetime="2026-02-20">20\/02\/2026<\/time><\/th>\s*<td>Thứ Sáu<\/td>/);
    assert.equal(res.text.match(/<td>Tết Nguyên đán<\/td>/g)?.length, 5);
    assert.match(res.text, /<td>Ngày làm bù<\/td>\s*<td>Làm bù cho ngày nghỉ thứ Sáu 2\/1\/2026<\/td>/);
    assert.doesNotMatch(res.text, /2025-01-01|2027-01-01/, 'only the year asked for');
    assert.match(res.text, /<a href="\/admin\/holidays" aria-current="page">Ngày nghỉ, ngày làm bù<\/a>/);
    assert.match(
      res.text,
      /Xoá<span class="visually-hidden"> ngày 16\/02\/2026<\/span><\/button>/,
      'each delete button names its date',
    );
    assert.match(res.text, /<input id="date" name="date" type="date"/);
    assert.match(res.text, /<select id="kind" name="kind"/);
    assert.doesNotMatch(res.text, /<script|style="/, 'no inline script or style');

    const other = await admin.get('/admin/holidays?year=2027');
    assert.match(other.text, /Tết Nguyên đán \(dự kiến\)/);
    assert.doesNotMatch(other.text, /2026-02-16/);

    const bad = await admin.get('/admin/holidays?year=1999');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="year-error">Vui lòng nhập năm từ 2000 đến 2100/);
    assert.match(bad.text, /value="1999"/);

    t.clock.set('2026-12-31T18:00:00Z'); // already 1 January 2027 in Vietnam
    try {
      assert.match((await admin.get('/admin/holidays')).text, /Ngày nghỉ và ngày làm bù năm 2027/);
    } finally {
      t.clock.set(MONDAY_9AM);
    }
  });

  it('shows the page in English with English week days', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    await admin.get('/language?to=en&next=/admin/holidays');
    const res = await admin.get('/admin/holidays?year=2026');
    assert.equal(res.status, 200);
    assert.match(res.text, /Holidays and make-up working days in 2026/);
    assert.match(res.text, /16\/02\/2026<\/time><\/th>\s*<td>Monday<\/td>\s*<td>Holiday<\/td>/);
    assert.match(res.text, /Delete<span class="visually-hidden"> 16\/02\/2026<\/span>/);
  });

  it('adds a holiday on a working day, and the next deadline moves at once', async () => {
    assert.equal(
      await dueFromNow(),
      '2026-03-10T09:00',
      'one working day from Monday 09:00 is Tuesday 09:00',
    );

    const admin = await login(t.app, 'admin@demo.gov.vn');
    const res = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      year: '2026',
      date: '2026-03-10',
      kind: 'HOLIDAY',
      name: '  Ngày nghỉ của tỉnh  ',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/holidays?year=2026');
    const saved = await row('2026-03-10');
    assert.equal(saved.kind, 'HOLIDAY');
    assert.equal(saved.name, 'Ngày nghỉ của tỉnh', 'the name is trimmed');

    assert.equal(await dueFromNow(), '2026-03-11T09:00', 'the Tuesday is a day off now');

    const page = await admin.get('/admin/holidays?year=2026');
    assert.match(page.text, /Đã thêm ngày 10\/03\/2026 \(Ngày nghỉ của tỉnh\) vào lịch\./);
    assert.match(page.text, /10\/03\/2026<\/time><\/th>\s*<td>Thứ Ba<\/td>/);

    const [audit] = await auditOf('2026-03-10');
    assert.equal(audit.action, 'HOLIDAY_SAVED');
    assert.equal(audit.actor_email, 'admin@demo.gov.vn');
    assert.deepEqual(JSON.parse(audit.details), {
      before: null,
      after: { kind: 'HOLIDAY', name: 'Ngày nghỉ của tỉnh' },
    });
  });

  it('changes the name of a day through the edit link, keeping one row per date', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const form = await admin.get('/admin/holidays?year=2026&edit=2026-03-10');
    assert.match(form.text, /<input id="date" name="date" type="date" value="2026-03-10"/);
    assert.match(form.text, /<option value="HOLIDAY" selected>/);
    assert.match(form.text, /id="name" name="name" type="text" value="Ngày nghỉ của tỉnh"/);

    const res = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      year: '2026',
      date: '2026-03-10',
      kind: 'HOLIDAY',
      name: 'Ngày giải phóng tỉnh',
    });
    assert.equal(res.status, 303);
    assert.equal((await row('2026-03-10')).name, 'Ngày giải phóng tỉnh');
    assert.equal((await t.deps.db('holidays').where({ date: '2026-03-10' })).length, 1);
    assert.match(
      (await admin.get('/admin/holidays?year=2026')).text,
      /Đã cập nhật ngày 10\/03\/2026 \(Ngày giải phóng tỉnh\)\./,
    );
    const records = await auditOf('2026-03-10');
    assert.equal(records.length, 2);
    assert.deepEqual(JSON.parse(records[1].details), {
      before: { kind: 'HOLIDAY', name: 'Ngày nghỉ của tỉnh' },
      after: { kind: 'HOLIDAY', name: 'Ngày giải phóng tỉnh' },
    });
  });

  it('adds a make-up working day on a weekend only', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const weekday = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      year: '2026',
      date: '2026-03-12',
      kind: 'WORKING_DAY',
      name: 'Làm bù',
    });
    assert.equal(weekday.status, 422);
    assert.match(
      weekday.text,
      /id="kind-error">Ngày làm bù phải là một ngày nghỉ hằng tuần \(thường là thứ Bảy hoặc Chủ nhật/,
    );
    assert.equal(await row('2026-03-12'), undefined);

    const saturday = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      year: '2026',
      date: '2026-03-14',
      kind: 'WORKING_DAY',
      name: 'Làm bù cho ngày nghỉ thứ Ba 10/3/2026',
    });
    assert.equal(saturday.status, 303);
    assert.equal((await row('2026-03-14')).kind, 'WORKING_DAY');
    assert.equal((await t.deps.calendars.current()).isWorkingDay('2026-03-14'), true);
  });

  it('deletes a day, and the deadline moves back', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const token = await tokenFor(admin, '/admin/holidays?year=2026');
    const res = await admin
      .post('/admin/holidays/2026-03-10/delete')
      .type('form')
      .send(new URLSearchParams({ _csrf: token }).toString());
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/holidays?year=2026');
    assert.equal(await row('2026-03-10'), undefined);
    assert.equal(await dueFromNow(), '2026-03-10T09:00');
    assert.match(
      (await admin.get('/admin/holidays?year=2026')).text,
      /Đã xoá ngày 10\/03\/2026 \(Ngày giải phóng tỉnh\) khỏi lịch\./,
    );
    const records = await auditOf('2026-03-10');
    assert.equal(records.at(-1).action, 'HOLIDAY_REMOVED');
    assert.deepEqual(JSON.parse(records.at(-1).details), {
      before: { kind: 'HOLIDAY', name: 'Ngày giải phóng tỉnh' },
      after: null,
    });

    for (const missing of ['2026-03-10', '2026-02-30', 'not-a-date']) {
      const again = await admin
        .post(`/admin/holidays/${missing}/delete`)
        .type('form')
        .send(new URLSearchParams({ _csrf: token }).toString());
      assert.equal(again.status, 404, missing);
    }
  });

  it('refuses an invalid date and a missing name with messages by field, changing nothing', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const rowsBefore = await t.deps.db('holidays').count({ n: '*' }).first();
    const auditBefore = await t.deps.db('audit_log').count({ n: '*' }).first();

    const res = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      year: '2026',
      date: '2026-02-30',
      kind: 'HOLIDAY',
      name: '   ',
    });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="date-error">Ngày không hợp lệ/);
    assert.match(res.text, /id="name-error">Vui lòng nhập thông tin này\./);
    assert.match(res.text, /<a href="#date">Ngày không hợp lệ/, 'the error summary links to the field');
    assert.match(res.text, /value="2026-02-30"/, 'what was typed is kept');
    assert.match(res.text, /Ngày nghỉ và ngày làm bù năm 2026/, 'the year being viewed is kept');

    const outOfRange = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      date: '1999-12-31',
      kind: 'SOMETIMES',
      name: 'Giao thừa',
    });
    assert.equal(outOfRange.status, 422);
    assert.match(outOfRange.text, /id="date-error">Ngày phải trong khoảng từ năm 2000 đến năm 2100\./);
    assert.match(outOfRange.text, /id="kind-error">Vui lòng chọn loại ngày/);
    assert.match(outOfRange.text, /value="Giao thừa"/);

    const tooLong = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      date: '2026-03-13',
      kind: 'HOLIDAY',
      name: 'x'.repeat(256),
    });
    assert.equal(tooLong.status, 422);
    assert.match(tooLong.text, /id="name-error">Nội dung quá dài\./);

    assert.deepEqual(await t.deps.db('holidays').count({ n: '*' }).first(), rowsBefore);
    assert.deepEqual(await t.deps.db('audit_log').count({ n: '*' }).first(), auditBefore);
  });

  it('lets an agency administrator view the table but not change it', async () => {
    const agencyAdmin = await login(t.app, 'agencyadmin@demo.gov.vn');
    const page = await agencyAdmin.get('/admin/holidays?year=2026');
    assert.equal(page.status, 200);
    assert.match(page.text, /16\/02\/2026/);
    assert.match(page.text, /Chỉ quản trị hệ thống được thay đổi lịch này\./);
    assert.doesNotMatch(page.text, /method="post" action="\/admin\/holidays/, 'no change forms');

    const token = await tokenFor(agencyAdmin, '/admin/officers/new');
    const add = await agencyAdmin
      .post('/admin/holidays')
      .type('form')
      .send(
        new URLSearchParams({
          _csrf: token,
          date: '2026-03-12',
          kind: 'HOLIDAY',
          name: 'Ngày nghỉ riêng',
        }).toString(),
      );
    assert.equal(add.status, 403);
    assert.equal(await row('2026-03-12'), undefined);
    const remove = await agencyAdmin
      .post('/admin/holidays/2026-02-16/delete')
      .type('form')
      .send(new URLSearchParams({ _csrf: token }).toString());
    assert.equal(remove.status, 403);
    assert.notEqual(await row('2026-02-16'), undefined);
  });

  it('refuses citizens, other officers and anonymous visitors', async () => {
    for (const email of ['citizen@demo.gov.vn', 'reception@demo.gov.vn']) {
      const agent = await login(t.app, email);
      const res = await agent.get('/admin/holidays');
      assert.equal(res.status, 403, email);
      assert.match(res.text, /Không có quyền truy cập/);
    }
    const anonymous = await request(t.app).get('/admin/holidays');
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.location, '/login?next=%2Fadmin%2Fholidays');
  });

  it('records every change in the audit log, whose chain stays intact', async () => {
    const records = await t.deps.db('audit_log').where({ subject_type: 'holiday' }).orderBy('id');
    assert.deepEqual(
      records.map((r: { action: string; subject_id: string }) => `${r.action} ${r.subject_id}`),
      [
        'HOLIDAY_SAVED 2026-03-10',
        'HOLIDAY_SAVED 2026-03-10',
        'HOLIDAY_SAVED 2026-03-14',
        'HOLIDAY_REMOVED 2026-03-10',
      ],
    );
    const check = await t.deps.repos.audit.verifyChain();
    assert.equal(check.ok, true, JSON.stringify(check));

    const admin = await login(t.app, 'admin@demo.gov.vn');
    const page = await admin.get('/admin/audit');
    assert.match(page.text, /Lưu ngày nghỉ, ngày làm bù/);
    assert.match(page.text, /Xoá ngày nghỉ, ngày làm bù/);
  });
});

describe('system administrators set the office hours the deadlines are counted in', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
  });
  after(() => t.close());

  const hours = async () => (await t.deps.repos.holidays.workingTime()).settings;
  const PROVINCE_HOURS = {
    morningStart: '07:00',
    morningEnd: '11:30',
    afternoonStart: '13:30',
    afternoonEnd: '17:00',
    cutoff: '17:00',
    weekendDays: ['6', '0'],
  };

  it('shows the hours the portal was installed with', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const res = await admin.get('/admin/working-time');
    assert.equal(res.status, 200);
    assert.match(res.text, /<dt>Buổi sáng<\/dt><dd>07:30–11:30<\/dd>/);
    assert.match(res.text, /<dt>Buổi chiều<\/dt><dd>13:00–17:00<\/dd>/);
    assert.match(res.text, /<dt>Ngày nghỉ hằng tuần<\/dt><dd>Chủ nhật, Thứ Bảy<\/dd>/);
    assert.match(res.text, /<dt>Số giờ làm việc một ngày<\/dt><dd>8 giờ<\/dd>/);
    assert.match(res.text, /Chưa thay đổi/);
    assert.match(res.text, /<input id="morningStart" name="morningStart" type="time" value="07:30"/);
    assert.match(res.text, /<input type="checkbox" id="weekend-6" name="weekendDays" value="6" checked>/);
    assert.match(res.text, /<input type="checkbox" id="weekend-1" name="weekendDays" value="1">/);
    assert.doesNotMatch(res.text, /<script|style="/, 'no inline script or style');
  });

  it('refuses hours out of order and a week without a working day, with messages by field, changing nothing', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const before = await hours();
    const res = await postForm(admin, '/admin/working-time', '/admin/working-time', {
      ...PROVINCE_HOURS,
      morningStart: '7h30',
      afternoonStart: '11:00',
      afternoonEnd: '12:00',
      cutoff: '18:00',
      weekendDays: ['0', '1', '2', '3', '4', '5', '6'],
    });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="morningStart-error">Nhập giờ theo dạng giờ:phút, ví dụ 07:30\./);
    assert.match(res.text, /id="weekendDays-error">Phải còn ít nhất một ngày làm việc trong tuần\./);
    assert.match(res.text, /value="7h30"/, 'what was typed comes back');
    const order = await postForm(admin, '/admin/working-time', '/admin/working-time', {
      ...PROVINCE_HOURS,
      afternoonStart: '11:00',
      afternoonEnd: '10:00',
      cutoff: '18:00',
    });
    assert.equal(order.status, 422);
    assert.match(
      order.text,
      /id="afternoonStart-error">Giờ bắt đầu buổi chiều không được sớm hơn giờ kết thúc buổi sáng\./,
    );
    assert.match(
      order.text,
      /id="afternoonEnd-error">Giờ kết thúc buổi chiều phải sau giờ bắt đầu buổi chiều\./,
    );
    assert.match(order.text, /id="cutoff-error">Giờ chốt tiếp nhận phải sau giờ bắt đầu buổi sáng/);
    // In order, but seven and a half hours a day.
    const short = await postForm(admin, '/admin/working-time', '/admin/working-time', {
      ...PROVINCE_HOURS,
      afternoonEnd: '16:30',
      cutoff: '16:30',
    });
    assert.equal(short.status, 422);
    assert.match(short.text, /id="afternoonEnd-error">Buổi sáng và buổi chiều cộng lại phải đúng 8 giờ/);
    assert.deepEqual(await hours(), before);
  });

  it('sets the province’s hours: the next deadline is counted in them, on record', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    // Monday 13:10: under the installed hours the afternoon has begun; in the province's, not until 13:30.
    t.clock.set('2026-03-09T13:10:00+07:00');
    const limit = { amount: 1, unit: 'WORKING_DAYS' } as const;
    const dueBefore = local((await t.deps.calendars.current()).dueDate(t.clock.now(), limit));
    assert.equal(dueBefore, '2026-03-10T13:10');
    const res = await postForm(admin, '/admin/working-time', '/admin/working-time', PROVINCE_HOURS);
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const page = await admin.get('/admin/working-time');
    assert.match(page.text, /Đã lưu giờ làm việc/);
    assert.match(page.text, /<dt>Buổi sáng<\/dt><dd>07:00–11:30<\/dd>/);
    assert.match(page.text, /<dt>Buổi chiều<\/dt><dd>13:30–17:00<\/dd>/);
    assert.match(page.text, /<dt>Lần thay đổi gần nhất<\/dt><dd>13:10, 09\/03\/2026, [^<]+<\/dd>/);
    assert.deepEqual(await hours(), {
      morningStart: '07:00',
      morningEnd: '11:30',
      afternoonStart: '13:30',
      afternoonEnd: '17:00',
      cutoff: '17:00',
      weekendDays: [0, 6],
      utcOffsetMinutes: 420,
    });
    // Counted from 13:30, eight working hours: 3½ on Monday afternoon and 4½ on Tuesday morning.
    assert.equal(local((await t.deps.calendars.current()).dueDate(t.clock.now(), limit)), '2026-03-10T11:30');
    // A dossier filed now gets it on its receipt.
    const token = (
      await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'business@demo.gov.vn', password: 'Demo@12345' })
    ).body.token as string;
    const code = await filePermitByApi(t.app, token);
    const d = (await t.deps.repos.dossiers.findByCode(code))!;
    assert.equal(local(d.countingFrom!), '2026-03-09T13:30');
    const audit = await t.deps.db('audit_log').where({ action: 'WORKING_TIME_SAVED' });
    assert.equal(audit.length, 1);
    assert.deepEqual(JSON.parse(audit[0].details), {
      before: { morning: '07:30-11:30', afternoon: '13:00-17:00', cutoff: '16:00', weekendDays: [0, 6] },
      after: { morning: '07:00-11:30', afternoon: '13:30-17:00', cutoff: '17:00', weekendDays: [0, 6] },
    });
    assert.equal((await t.deps.repos.audit.verifyChain()).ok, true);
  });

  it('lets an agency administrator read the hours but not change them; nobody else sees them', async () => {
    const agencyAdmin = await login(t.app, 'agencyadmin@demo.gov.vn');
    const page = await agencyAdmin.get('/admin/working-time');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /<form method="post" action="\/admin\/working-time"/);
    const token = await tokenFor(agencyAdmin, '/admin/holidays');
    const res = await agencyAdmin
      .post('/admin/working-time')
      .type('form')
      .send({ _csrf: token, ...PROVINCE_HOURS, morningStart: '06:00' });
    assert.equal(res.status, 403);
    assert.equal((await hours()).morningStart, '07:00');
    const citizen = await login(t.app, 'citizen@demo.gov.vn');
    assert.equal((await citizen.get('/admin/working-time')).status, 403);
  });
});
