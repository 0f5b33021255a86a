import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  DEMO_PASSWORD,
  formBody,
  login,
  sessionCookie,
  startTestApp,
  type TestApp,
  tokenFor,
} from '../helpers/testApp';

describe('login, logout and throttling', () => {
  let t: TestApp;
  before(async () => {
    // The tests speak for many client addresses through X-Forwarded-For, as a proxy would.
    t = await startTestApp({ env: { TRUST_PROXY: 'loopback' } });
  });
  after(() => t.close());

  const tryLogin = async (email: string, password: string, ip = '10.1.1.1') => {
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/login');
    return agent
      .post('/login')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send(formBody({ _csrf: token, email, password }));
  };

  it('logs a citizen in through the form on a new session id, and shows who is logged in', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const before = sessionCookie(page);
    assert.ok(before, 'the login page starts a session for its CSRF token');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await agent
      .post('/login')
      .type('form')
      .send(
        formBody({ _csrf: token, email: 'citizen@demo.gov.vn', password: DEMO_PASSWORD, next: '/account' }),
      );
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/account');
    const after = sessionCookie(res);
    assert.ok(after && after !== before, 'the session id changes at login');
    const cookieLine = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('portal.sid='),
    )!;
    assert.match(cookieLine, /HttpOnly/i);
    assert.match(cookieLine, /SameSite=Lax/i);
    const account = await agent.get('/account');
    assert.equal(account.status, 200);
    assert.match(account.text, /Nguyễn Văn An/);
    assert.match(account.text, /Công dân/);
    assert.match(account.text, /024090001234/);
  });

  it('answers a wrong password and an unknown email with the same words', async () => {
    const wrong = await tryLogin('citizen@demo.gov.vn', 'Wrong@12345', '10.2.0.1');
    const unknown = await tryLogin('nobody@demo.gov.vn', 'Wrong@12345', '10.2.0.2');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const message = (html: string) => /<div class="error-summary"[^>]*><p>([^<]+)<\/p>/.exec(html)?.[1];
    assert.equal(message(wrong.text), 'Thư điện tử hoặc mật khẩu không đúng.');
    assert.equal(message(unknown.text), message(wrong.text));
    assert.match(wrong.text, /value="citizen@demo.gov.vn"/, 'the email typed is kept');
    assert.doesNotMatch(wrong.text, /Wrong@12345/, 'the password is never echoed');
  });

  it('does not send a logged-in person to another site after login', async () => {
    const agent = request.agent(t.app);
    const token = await tokenFor(agent, '/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send(
        formBody({
          _csrf: token,
          email: 'business@demo.gov.vn',
          password: DEMO_PASSWORD,
          next: '//evil.example/x',
        }),
      );
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/');
  });

  it('locks an account after five failures, even for the right password, until the lock ends', async () => {
    const email = 'specialist@demo.gov.vn';
    for (let i = 0; i < 5; i++) {
      const res = await tryLogin(email, `Wrong@${i}2345`, `10.3.0.${i}`);
      assert.equal(res.status, 401);
    }
    const locked = await tryLogin(email, DEMO_PASSWORD, '10.3.1.1');
    assert.equal(locked.status, 429);
    assert.match(locked.text, /tạm thời bị khoá/);
    assert.ok(Number(locked.headers['retry-after']) > 0);
    // An email that does not exist locks the same way: the lock says nothing about accounts.
    for (let i = 0; i < 5; i++) await tryLogin('ghost@demo.gov.vn', 'Wrong@12345', `10.4.0.${i}`);
    assert.equal((await tryLogin('ghost@demo.gov.vn', 'Wrong@12345', '10.4.1.1')).status, 429);

    t.clock.advance(16 * 60_000);
    const again = await tryLogin(email, DEMO_PASSWORD, '10.3.1.1');
    assert.equal(again.status, 303, 'the lock ends after 15 minutes');
  });

  it('blocks an address that tries many accounts', async () => {
    const ip = '10.9.9.9';
    for (let i = 0; i < 30; i++) await tryLogin(`user${i}@example.vn`, 'Wrong@12345', ip);
    assert.equal((await tryLogin('citizen@demo.gov.vn', DEMO_PASSWORD, ip)).status, 429);
    assert.equal((await tryLogin('citizen@demo.gov.vn', DEMO_PASSWORD, '10.9.9.10')).status, 303);
  });

  it("refuses a form without its CSRF token, or with another session's token", async () => {
    const noToken = await request(t.app)
      .post('/login')
      .type('form')
      .send(formBody({ email: 'citizen@demo.gov.vn', password: DEMO_PASSWORD }));
    assert.equal(noToken.status, 403);
    assert.match(noToken.text, /Biểu mẫu đã hết hạn/);

    const other = request.agent(t.app);
    const foreignToken = await tokenFor(other, '/login');
    const agent = request.agent(t.app);
    await agent.get('/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send(formBody({ _csrf: foreignToken, email: 'citizen@demo.gov.vn', password: DEMO_PASSWORD }));
    assert.equal(res.status, 403);
  });

  it('logs out with a POST and ends the session', async () => {
    const agent = await login(t.app, 'business@demo.gov.vn');
    assert.equal((await agent.get('/account')).status, 200);
    const token = await tokenFor(agent, '/account');
    const out = await agent
      .post('/logout')
      .type('form')
      .send(formBody({ _csrf: token }));
    assert.equal(out.status, 303);
    const res = await agent.get('/account');
    assert.equal(res.status, 303);
    assert.match(res.headers.location!, /^\/login\?next=/);
  });

  it('records logins, failures and logouts in the audit chain with who, when and where', async () => {
    const actions = (await t.deps.db('audit_log').select('action', 'actor_email', 'ip')) as {
      action: string;
      actor_email: string;
      ip: string;
    }[];
    const has = (action: string, email: string) =>
      actions.some((a) => a.action === action && a.actor_email === email);
    assert.ok(has('LOGIN', 'citizen@demo.gov.vn'));
    assert.ok(has('LOGIN_FAILED', 'citizen@demo.gov.vn'));
    assert.ok(has('LOGIN_REFUSED_LOCKED', 'specialist@demo.gov.vn'));
    assert.ok(has('LOGOUT', 'business@demo.gov.vn'));
    assert.ok(
      actions.every((a) => a.ip),
      'every record has an address',
    );
    assert.deepEqual(await t.deps.repos.audit.verifyChain(), { ok: true, records: actions.length });
  });
});
