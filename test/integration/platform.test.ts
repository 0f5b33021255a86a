import { toDate } from '../../src/data/db';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { projectRoot } from '../../src/paths';
import { login, postForm, startTestApp, type TestApp, TestDatabase } from '../helpers/testApp';

const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'src/cli/portal.ts'), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });

describe('the platform', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('answers /healthz and /readyz while the database is up', async () => {
    const health = await request(t.app).get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await request(t.app).get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.database, 'up');
  });

  it('sends a strict Content-Security-Policy and the usual security headers, and a request id', async () => {
    const res = await request(t.app).get('/');
    const csp = res.headers['content-security-policy']!;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.match(res.headers['x-request-id']!, /^[\w-]{8,}$/);
    assert.equal(res.headers['set-cookie'], undefined, 'an anonymous page view makes no session');
  });

  it('shows a Vietnamese page by default and English after the switch, remembered in a cookie', async () => {
    const agent = request.agent(t.app);
    const vi = await agent.get('/login');
    assert.match(vi.text, /<html lang="vi">/);
    assert.match(vi.text, /<h1>Đăng nhập<\/h1>/);
    const sw = await agent.get('/language?to=en&next=%2Flogin');
    assert.equal(sw.status, 303);
    assert.equal(sw.headers.location, '/login');
    const en = await agent.get('/login');
    assert.match(en.text, /<html lang="en">/);
    assert.match(en.text, /<h1>Log in<\/h1>/);
    const offsite = await agent.get('/language?to=vi&next=https%3A%2F%2Fevil.example');
    assert.equal(offsite.headers.location, '/');
  });

  it('shows a friendly 404 page, and JSON under /api', async () => {
    const page = await request(t.app).get('/khong-co-trang-nay');
    assert.equal(page.status, 404);
    assert.match(page.text, /Không tìm thấy trang/);
    const api = await request(t.app).get('/api/v1/nothing');
    assert.equal(api.status, 404);
    assert.equal(api.body.error.code, 'NOT_FOUND');
  });

  it('keeps a session across a restart of the app, because sessions live in the database', async () => {
    const agent = await login(t.app, 'citizen@demo.gov.vn');
    const cookie = (await agent.get('/account')).request.cookies;
    t = await t.restart();
    const res = await request(t.app).get('/account').set('Cookie', cookie);
    assert.equal(res.status, 200);
    assert.match(res.text, /Nguyễn Văn An/);
  });

  it('ends a session after the idle timeout', async () => {
    const agent = await login(t.app, 'business@demo.gov.vn');
    // As if the idle time had passed: every session's expiry is in the past.
    await t.deps.db('sessions').update({ expired: new Date('2000-01-01T00:00:00Z') });
    const res = await agent.get('/account');
    assert.equal(res.status, 303);
  });

  it('moves an active session’s expiry forward without a write on every page view', async () => {
    const agent = await login(t.app, 'specialist@demo.gov.vn');
    const expiry = async () =>
      toDate(
        ((await t.deps.db('sessions').orderBy('expired', 'desc').first('expired')) as { expired: unknown })
          .expired,
      ).getTime();
    assert.equal((await agent.get('/account')).status, 200);
    const first = await expiry();
    // A page view moments later would move the expiry by less than a minute: nothing is written.
    assert.equal((await agent.get('/account')).status, 200);
    assert.equal(await expiry(), first);
    // Five minutes of the idle time used up (as stored): the next page view gives them back.
    await t.deps.db('sessions').update({ expired: new Date(first - 5 * 60_000) });
    assert.equal((await agent.get('/account')).status, 200);
    assert.ok((await expiry()) >= first, 'the full idle time again');
  });

  it('changes a password: the old one stops working, the new one works, and it is on record', async () => {
    const agent = await login(t.app, 'reception.xa@demo.gov.vn');
    const wrong = await postForm(agent, '/account/password', '/account/password', {
      currentPassword: 'Nope@123456',
      password: 'Moi-Hon@2026',
      passwordConfirm: 'Moi-Hon@2026',
    });
    assert.equal(wrong.status, 422);
    assert.match(wrong.text, /Mật khẩu hiện tại không đúng/);
    const ok = await postForm(agent, '/account/password', '/account/password', {
      currentPassword: 'Demo@12345',
      password: 'Moi-Hon@2026',
      passwordConfirm: 'Moi-Hon@2026',
    });
    assert.equal(ok.status, 303);
    await assert.rejects(login(t.app, 'reception.xa@demo.gov.vn', 'Demo@12345'));
    await login(t.app, 'reception.xa@demo.gov.vn', 'Moi-Hon@2026');
    const audit = await t.deps
      .db('audit_log')
      .where({ action: 'PASSWORD_CHANGED', actor_email: 'reception.xa@demo.gov.vn' });
    assert.equal(audit.length, 1);
  });

  it('ends every other session and every API token of an account whose password changes', async () => {
    const elsewhere = await login(t.app, 'approver.tp@demo.gov.vn');
    const here = await login(t.app, 'approver.tp@demo.gov.vn');
    const token = (
      await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'approver.tp@demo.gov.vn', password: 'Demo@12345' })
    ).body.token as string;
    t.clock.advance(1000);
    const res = await postForm(here, '/account/password', '/account/password', {
      currentPassword: 'Demo@12345',
      password: 'Doi-Mat-Khau@26',
      passwordConfirm: 'Doi-Mat-Khau@26',
    });
    assert.equal(res.status, 303);
    assert.equal((await here.get('/account')).status, 200, 'the session that changed it stays');
    assert.equal((await elsewhere.get('/account')).status, 303, 'another session ends');
    assert.equal(
      (await request(t.app).get('/api/v1/dossiers/x').set('Authorization', `Bearer ${token}`)).status,
      401,
    );
  });

  it('refuses a state change sent as multipart without a token, on routes that do not take files', async () => {
    const agent = await login(t.app, 'admin@demo.gov.vn');
    for (const url of ['/logout', '/admin/holidays/2026-01-01/delete', '/account/notifications/read']) {
      const res = await agent.post(url).field('x', '1');
      assert.equal(res.status, 403, url);
    }
    assert.ok(await t.deps.db('holidays').where({ date: '2026-01-01' }).first(), 'nothing was deleted');
  });

  it('updates contact details and shows the recent activity', async () => {
    const agent = await login(t.app, 'business@demo.gov.vn');
    const bad = await postForm(agent, '/account', '/account/contact', { phone: '12ab' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="phone-error">Số điện thoại phải có 10 chữ số/);
    const ok = await postForm(agent, '/account', '/account/contact', { phone: '+84 912 000 111' });
    assert.equal(ok.status, 303);
    const page = await agent.get('/account');
    assert.match(page.text, /value="0912000111"/);
    assert.match(page.text, /Cập nhật thông tin liên hệ/);
  });

  it('detects a tampered audit record with the verify command, naming the first broken link', async () => {
    const env = t.database.env();
    const good = cli(['verify-audit'], env);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Audit chain intact/);
    const victim = (await t.deps.db('audit_log').where({ action: 'LOGIN' }).orderBy('id').first()) as {
      id: number;
    };
    await t.deps.db('audit_log').where({ id: victim.id }).update({ ip: '203.0.113.66' });
    const broken = cli(['verify-audit'], env);
    assert.equal(broken.status, 1);
    assert.match(
      broken.stderr,
      new RegExp(`BROKEN at record #${victim.id}: content does not match its hash`),
    );
  });
});

describe('readiness without a database', () => {
  it('answers 503 on /readyz and on pages when the database is gone, and 200 on /healthz', async () => {
    const t = await startTestApp();
    try {
      const agent = await login(t.app, 'citizen@demo.gov.vn');
      await t.deps.db.destroy();
      const ready = await request(t.app).get('/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.database, 'down');
      assert.equal((await request(t.app).get('/healthz')).status, 200);
      const page = await agent.get('/account');
      assert.equal(page.status, 503);
      assert.equal(page.headers['retry-after'], '30');
      assert.match(page.text, /tạm thời gián đoạn/);
      assert.doesNotMatch(page.text, /at .*\.ts:\d+/, 'no stack trace is shown');
    } finally {
      await t.database.drop();
    }
  });
});

describe('the server process', () => {
  it('migrates, seeds, serves, and stops cleanly on SIGTERM', async () => {
    const database = await TestDatabase.create();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'src/server.ts')], {
        env: { ...process.env, ...database.env({ PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'development' }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /"port":(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(res.status, 200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(out, /demo data seeded/);
      assert.match(out, /"msg":"stopped"/);
    } finally {
      await database.drop();
    }
  });
});
