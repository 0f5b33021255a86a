import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { login, postForm, startTestApp, type TestApp } from '../helpers/testApp';

const citizen = (over: Record<string, string> = {}) => ({
  fullName: 'Trần Thị Ánh Dương',
  citizenId: '001301012345',
  dateOfBirth: '2001-03-04',
  email: 'anh.duong@example.vn',
  phone: '0987 654 321',
  password: 'Hoa-Sen@2026',
  passwordConfirm: 'Hoa-Sen@2026',
  acceptTerms: 'yes',
  ...over,
});

const business = (over: Record<string, string> = {}) => ({
  companyName: 'Công ty Cổ phần Cơ khí Việt Đức',
  taxCode: '0300588569',
  representativeName: 'Phan Quốc Việt',
  email: 'ketoan@vietduc.example.vn',
  phone: '',
  password: 'Co-Khi#2026',
  passwordConfirm: 'Co-Khi#2026',
  acceptTerms: 'yes',
  ...over,
});

describe('registration of citizens and businesses', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const register = (kind: 'citizen' | 'business', fields: Record<string, string>) => {
    const agent = request.agent(t.app);
    return { agent, res: postForm(agent, `/register/${kind}`, `/register/${kind}`, fields) };
  };
  const errorFor = (html: string, field: string) =>
    new RegExp(`<p class="error-message" id="${field}-error">([^<]+)</p>`).exec(html)?.[1];

  it('registers a citizen, logs them in and shows the profile; the account can log in again', async () => {
    const { agent, res } = register('citizen', citizen());
    const r = await res;
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/account');
    const profile = await agent.get('/account');
    assert.match(profile.text, /Trần Thị Ánh Dương/);
    assert.match(profile.text, /001301012345/);
    assert.match(profile.text, /04\/03\/2001/);
    assert.match(profile.text, /Đăng ký thành công/);
    const row = await t.deps.db('users').where({ email: 'anh.duong@example.vn' }).first();
    assert.equal(row.kind, 'CITIZEN');
    assert.equal(row.phone, '0987654321');
    assert.match(row.password_hash, /^\$argon2id\$/);
    await login(t.app, 'anh.duong@example.vn', 'Hoa-Sen@2026');
    const audit = await t.deps
      .db('audit_log')
      .where({ action: 'ACCOUNT_REGISTERED', actor_email: 'anh.duong@example.vn' });
    assert.equal(audit.length, 1);
  });

  it('refuses a bad citizen ID with a message by the field and in the summary, keeping what was typed', async () => {
    const { res } = register('citizen', citizen({ citizenId: '12345', email: 'x1@example.vn' }));
    const r = await res;
    assert.equal(r.status, 422);
    assert.equal(errorFor(r.text, 'citizenId'), 'Số định danh cá nhân phải gồm đúng 12 chữ số.');
    assert.match(r.text, /<div class="error-summary"[\s\S]*href="#citizenId"/);
    assert.match(r.text, /value="Trần Thị Ánh Dương"/);
    assert.match(r.text, /value="x1@example.vn"/);
    assert.doesNotMatch(r.text, /Hoa-Sen@2026/, 'passwords are not sent back');
    assert.equal(await t.deps.db('users').where({ email: 'x1@example.vn' }).first(), undefined);
  });

  it('refuses an ID number that does not match the year of birth, and an unknown province', async () => {
    const year = await register(
      'citizen',
      citizen({ citizenId: '024090001234', dateOfBirth: '1985-01-01', email: 'x2@example.vn' }),
    ).res;
    assert.equal(year.status, 422);
    assert.match(errorFor(year.text, 'citizenId')!, /không khớp với năm sinh/);
    const province = await register(
      'citizen',
      citizen({ citizenId: '003085001234', dateOfBirth: '1985-01-01', email: 'x3@example.vn' }),
    ).res;
    assert.match(errorFor(province.text, 'citizenId')!, /mã tỉnh/);
  });

  it('refuses a duplicate email and a duplicate citizen ID', async () => {
    const r = await register(
      'citizen',
      citizen({ email: 'CITIZEN@demo.gov.vn', citizenId: '024090001234', dateOfBirth: '1990-05-12' }),
    ).res;
    assert.equal(r.status, 422);
    assert.equal(errorFor(r.text, 'email'), 'Thư điện tử này đã được dùng cho một tài khoản khác.');
    assert.equal(errorFor(r.text, 'citizenId'), 'Số định danh cá nhân này đã được đăng ký.');
  });

  it('refuses weak and mismatched passwords', async () => {
    const weak = await register(
      'citizen',
      citizen({ email: 'x4@example.vn', password: '12345678', passwordConfirm: '12345678' }),
    ).res;
    assert.equal(weak.status, 422);
    assert.equal(errorFor(weak.text, 'password'), 'Mật khẩu cần ít nhất 10 ký tự.');
    const simple = await register(
      'citizen',
      citizen({ email: 'x5@example.vn', password: 'abcdefghijk', passwordConfirm: 'abcdefghijk' }),
    ).res;
    assert.match(errorFor(simple.text, 'password')!, /ba trong bốn loại/);
    const mismatch = await register(
      'citizen',
      citizen({ email: 'x6@example.vn', passwordConfirm: 'Hoa-Sen@2027' }),
    ).res;
    assert.equal(errorFor(mismatch.text, 'passwordConfirm'), 'Hai mật khẩu không khớp nhau.');
  });

  it('reports every missing field at once, with an error summary at the top', async () => {
    const r = await register('citizen', {}).res;
    assert.equal(r.status, 422);
    for (const field of [
      'fullName',
      'citizenId',
      'dateOfBirth',
      'email',
      'phone',
      'password',
      'acceptTerms',
    ]) {
      assert.ok(errorFor(r.text, field), `an error for ${field}`);
    }
    const summary = /<div class="error-summary"[\s\S]*?<\/ul>/.exec(r.text)![0];
    assert.ok(summary.indexOf('#fullName') < summary.indexOf('#email'), 'the summary follows the form order');
  });

  it('registers a business with a valid tax code and shows the company', async () => {
    const { agent, res } = register('business', business());
    assert.equal((await res).status, 303);
    const profile = await agent.get('/account');
    assert.match(profile.text, /Công ty Cổ phần Cơ khí Việt Đức/);
    assert.match(profile.text, /0300588569/);
    assert.match(profile.text, /Doanh nghiệp/);
  });

  it('refuses a bad tax code and a tax code already registered', async () => {
    const bad = await register('business', business({ taxCode: '0300588568', email: 'b1@example.vn' })).res;
    assert.equal(bad.status, 422);
    assert.match(errorFor(bad.text, 'taxCode')!, /Mã số thuế không hợp lệ/);
    const dup = await register('business', business({ taxCode: '2400123458', email: 'b2@example.vn' })).res;
    assert.equal(errorFor(dup.text, 'taxCode'), 'Mã số thuế này đã được đăng ký.');
  });

  it('escapes what people type when the form comes back', async () => {
    const r = await register(
      'citizen',
      citizen({ fullName: '<script>alert(1)</script>', email: 'x7@example.vn' }),
    ).res;
    assert.equal(r.status, 422);
    assert.doesNotMatch(r.text, /<script>alert\(1\)<\/script>/);
    assert.match(r.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  it('offers no registration for officers', async () => {
    assert.equal((await request(t.app).get('/register/officer')).status, 404);
    const r = await register(
      'citizen',
      citizen({ email: 'x8@example.vn', citizenId: '001301099999', kind: 'OFFICER', roles: 'SYSTEM_ADMIN' }),
    ).res;
    assert.equal(r.status, 303);
    const row = await t.deps.db('users').where({ email: 'x8@example.vn' }).first();
    assert.equal(row.kind, 'CITIZEN');
    assert.equal((await t.deps.db('user_roles').where({ user_id: row.id })).length, 0);
  });
});
