import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { projectRoot } from '../../src/paths';
import { login, postForm, startTestApp, type TestApp } from '../helpers/testApp';

describe('officers are created and managed by administrators only', () => {
  let t: TestApp;
  let bqlId: number;
  let stpId: number;
  before(async () => {
    t = await startTestApp();
    bqlId = (await t.deps.repos.agencies.findByCode('000.00.12.H10'))!.id;
    stpId = (await t.deps.repos.agencies.findByCode('000.00.15.H10'))!.id;
  });
  after(() => t.close());

  const officer = (over: Record<string, string | string[]> = {}) => ({
    fullName: 'Nguyễn Thị Thu Hà',
    email: 'thuha@bqlkcn.example.vn',
    position: 'Chuyên viên',
    phone: '',
    agencyId: String(bqlId),
    roles: ['RECEPTION', 'SPECIALIST'],
    password: 'Mot-Cua@2026',
    passwordConfirm: 'Mot-Cua@2026',
    ...over,
  });

  it('sends anonymous visitors to the login page', async () => {
    const res = await request(t.app).get('/admin/officers');
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/login?next=%2Fadmin%2Fofficers');
  });

  it('refuses citizens, businesses and officers without an admin role (403)', async () => {
    for (const email of [
      'citizen@demo.gov.vn',
      'business@demo.gov.vn',
      'reception@demo.gov.vn',
      'approver@demo.gov.vn',
    ]) {
      const agent = await login(t.app, email);
      for (const page of ['/admin/officers', '/admin/officers/new', '/admin/agencies', '/admin/audit']) {
        const res = await agent.get(page);
        assert.equal(res.status, 403, `${email} ${page}`);
        assert.match(res.text, /Không có quyền truy cập/);
      }
    }
  });

  it('lets a system administrator create an officer of any agency, who can then log in', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const res = await postForm(
      admin,
      '/admin/officers/new',
      '/admin/officers',
      officer({ agencyId: String(stpId), email: 'a1@stp.example.vn' }),
    );
    assert.equal(res.status, 303);
    const list = await admin.get('/admin/officers');
    assert.match(list.text, /a1@stp.example.vn/);
    assert.match(list.text, /Đã tạo tài khoản cán bộ a1@stp.example.vn/);
    const agent = await login(t.app, 'a1@stp.example.vn', 'Mot-Cua@2026');
    const home = await agent.get('/');
    assert.match(home.text, /Cán bộ một cửa, Chuyên viên thụ lý/);
    const audit = await t.deps
      .db('audit_log')
      .where({ action: 'OFFICER_CREATED', actor_email: 'admin@demo.gov.vn' });
    assert.equal(audit.length, 1);
  });

  it('lets an agency administrator manage officers of their own agency only', async () => {
    const agent = await login(t.app, 'agencyadmin@demo.gov.vn');
    const ok = await postForm(agent, '/admin/officers/new', '/admin/officers', officer());
    assert.equal(ok.status, 303);

    const other = await postForm(
      agent,
      '/admin/officers/new',
      '/admin/officers',
      officer({ agencyId: String(stpId), email: 'a2@stp.example.vn' }),
    );
    assert.equal(other.status, 403);
    assert.equal(await t.deps.db('users').where({ email: 'a2@stp.example.vn' }).first(), undefined);

    const sysadmin = await postForm(
      agent,
      '/admin/officers/new',
      '/admin/officers',
      officer({ email: 'a3@bql.example.vn', roles: ['SYSTEM_ADMIN'] }),
    );
    assert.equal(sysadmin.status, 403, 'cannot grant the system administrator role');

    const list = await agent.get('/admin/officers');
    assert.match(list.text, /reception@demo.gov.vn/);
    assert.doesNotMatch(list.text, /reception.tp@demo.gov.vn/, "another agency's officers are not listed");

    const stpOfficer = await t.deps.db('users').where({ email: 'reception.tp@demo.gov.vn' }).first();
    assert.equal((await agent.get(`/admin/officers/${stpOfficer.id}`)).status, 403);
    const token = /name="_csrf" value="([^"]+)"/.exec((await agent.get('/admin/officers')).text)![1]!;
    const edit = await agent
      .post(`/admin/officers/${stpOfficer.id}`)
      .type('form')
      .send(
        new URLSearchParams({
          _csrf: token,
          fullName: 'Đổi Tên',
          status: 'DISABLED',
          roles: 'CLERK',
        }).toString(),
      );
    assert.equal(edit.status, 403);
    const after = await t.deps.db('users').where({ id: stpOfficer.id }).first();
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after.full_name, 'Ngô Thị Lan');
  });

  it('disables an officer and changes roles, and a disabled officer is logged out at once', async () => {
    const clerk = await login(t.app, 'clerk@demo.gov.vn');
    assert.equal((await clerk.get('/account')).status, 200);
    const admin = await login(t.app, 'agencyadmin@demo.gov.vn');
    const row = await t.deps.db('users').where({ email: 'clerk@demo.gov.vn' }).first();
    const res = await postForm(admin, `/admin/officers/${row.id}`, `/admin/officers/${row.id}`, {
      fullName: 'Đỗ Thu Trang',
      position: 'Văn thư',
      status: 'DISABLED',
      roles: ['CLERK'],
    });
    assert.equal(res.status, 303);
    const after = await clerk.get('/account');
    assert.equal(after.status, 303, "the disabled officer's session no longer works");
    const relogin = request.agent(t.app);
    const page = await relogin.get('/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const attempt = await relogin
      .post('/login')
      .type('form')
      .send(
        new URLSearchParams({ _csrf: token, email: 'clerk@demo.gov.vn', password: 'Demo@12345' }).toString(),
      );
    assert.equal(attempt.status, 401);
  });

  it('validates the officer form with messages by field', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const res = await postForm(
      admin,
      '/admin/officers/new',
      '/admin/officers',
      officer({ email: 'reception@demo.gov.vn', roles: [], agencyId: '' }),
    );
    assert.equal(res.status, 422);
    assert.match(res.text, /id="email-error">Thư điện tử này đã được dùng/);
    assert.match(res.text, /id="roles-error">Vui lòng chọn ít nhất một vai trò/);
    assert.match(res.text, /id="agencyId-error">Vui lòng chọn cơ quan/);
  });

  it('creates an officer from the command line, for scripts', async () => {
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(projectRoot, 'src/cli/portal.ts'),
        'create-officer',
        '--email',
        'cli.officer@bqlkcn.example.vn',
        '--name',
        'Lương Văn Cường',
        '--agency',
        '000.00.12.H10',
        '--role',
        'APPROVER',
        '--role',
        'CLERK',
        '--position',
        'Phó Trưởng ban',
      ],
      { env: { ...process.env, ...t.database.env({ OFFICER_PASSWORD: 'Ky-So@20260' }) }, encoding: 'utf8' },
    );
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /Created officer/);
    const row = await t.deps.db('users').where({ email: 'cli.officer@bqlkcn.example.vn' }).first();
    assert.equal(row.full_name, 'Lương Văn Cường');
    const roles = (await t.deps.db('user_roles').where({ user_id: row.id }).orderBy('role')).map(
      (r: { role: string }) => r.role,
    );
    assert.deepEqual(roles, ['APPROVER', 'CLERK']);
    await login(t.app, 'cli.officer@bqlkcn.example.vn', 'Ky-So@20260');

    const bad = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(projectRoot, 'src/cli/portal.ts'),
        'create-officer',
        '--email',
        'x@y.vn',
        '--name',
        'X',
        '--agency',
        'NOPE',
        '--role',
        'CLERK',
      ],
      { env: { ...process.env, ...t.database.env({ OFFICER_PASSWORD: 'Ky-So@20260' }) }, encoding: 'utf8' },
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Unknown agency code: NOPE/);
  });
});
