import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  csrfFrom,
  DEMO_PASSWORD,
  formBody,
  login,
  sessionCookie,
  startTestApp,
  tokenFor,
  type TestApp,
} from '../helpers/testApp';

describe('sessions are made when a visit needs one', () => {
  let t: TestApp;
  const sessions = async () =>
    Number(((await t.deps.db('sessions').count({ n: '*' }).first()) as { n: unknown }).n);
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('reads the catalogue, a procedure and the home page without making a session', async () => {
    const before = await sessions();
    for (const path of ['/', '/procedures', '/procedures/BQL-LD-02', '/stats', '/nowhere']) {
      const res = await request(t.app).get(path);
      assert.ok([200, 404].includes(res.status), path);
      assert.equal(sessionCookie(res), undefined, path);
    }
    assert.equal(await sessions(), before);
  });

  it('makes one for a form: the login page’s token then logs in', async () => {
    const page = await request(t.app).get('/login');
    const cookie = sessionCookie(page);
    assert.ok(cookie, 'the login form’s CSRF token lives in a new session');
    const res = await request(t.app)
      .post('/login')
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: 'citizen@demo.gov.vn', password: DEMO_PASSWORD });
    assert.equal(res.status, 303);
    const loggedIn = sessionCookie(res) ?? cookie;
    const account = await request(t.app).get('/account').set('Cookie', loggedIn);
    assert.equal(account.status, 200);
  });

  it('makes one to say where to come back to, and shows its message after login', async () => {
    const res = await request(t.app).get('/desk');
    assert.equal(res.status, 303);
    const cookie = sessionCookie(res);
    assert.ok(cookie, 'the message asking to log in is kept in a new session');
    const login = await request(t.app).get(res.headers.location!).set('Cookie', cookie);
    assert.match(login.text, /Vui lòng đăng nhập/);
  });

  it('sends a form posted after the session ended back to its page after login, saying it was not done', async () => {
    const code = '000.00.12.H10-261123-0001';
    const res = await request(t.app)
      .post(`/desk/dossiers/${code}/actions/refuse`)
      .set('Host', 'dichvucong.example')
      .set('Referer', `https://dichvucong.example/desk/dossiers/${code}?tab=papers`)
      .field('reason', 'Thiếu giấy tờ.')
      .redirects(0);
    assert.equal(res.status, 303);
    assert.equal(
      res.headers.location,
      `/login?next=${encodeURIComponent(`/desk/dossiers/${code}?tab=papers`)}`,
    );
    const login = await request(t.app).get(res.headers.location!).set('Cookie', sessionCookie(res)!);
    assert.match(login.text, /thao tác vừa gửi chưa được thực hiện/);
    // A page of another site is never where login leads.
    const foreign = await request(t.app)
      .post(`/desk/dossiers/${code}/actions/refuse`)
      .set('Host', 'dichvucong.example')
      .set('Referer', `https://elsewhere.example/desk/dossiers/${code}`)
      .field('reason', 'x')
      .redirects(0);
    assert.equal(foreign.headers.location, '/login?next=%2F');
  });

  it('keeps a logged-in visitor logged in on every page, HEAD and GET', async () => {
    const page = await request(t.app).get('/login');
    const cookie = sessionCookie(page)!;
    const res = await request(t.app)
      .post('/login')
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: 'reception@demo.gov.vn', password: DEMO_PASSWORD });
    const loggedIn = sessionCookie(res) ?? cookie;
    assert.equal((await request(t.app).get('/desk').set('Cookie', loggedIn)).status, 200);
    assert.equal((await request(t.app).head('/desk').set('Cookie', loggedIn)).status, 200);
    assert.match((await request(t.app).get('/procedures').set('Cookie', loggedIn)).text, /Đăng xuất/);
  });
});

describe('a redirect leaves after the session it changed is saved', () => {
  let t: TestApp;
  let delayMs = 0;
  const sessions = async () =>
    Number(((await t.deps.db('sessions').count({ n: '*' }).first()) as { n: unknown }).n);
  before(async () => {
    t = await startTestApp();
    // A store that answers slowly, as a busy database does. The response's headers used to leave before
    // the store had answered, and a client that follows the redirect at once read the old session.
    const store = t.deps.sessionStore;
    const set = store.set.bind(store);
    store.set = (sid, sess, cb) => {
      setTimeout(() => set(sid, sess, cb), delayMs);
    };
  });
  after(() => t.close());

  it('shows the message of an action on the page it leads to', async () => {
    const agent = await login(t.app, 'citizen@demo.gov.vn');
    const token = await tokenFor(agent, '/account');
    delayMs = 300;
    try {
      const res = await agent
        .post('/account/contact')
        .type('form')
        .send(formBody({ _csrf: token, phone: '0912345679' }))
        .redirects(1);
      assert.equal(res.status, 200);
      assert.match(res.text, /Đã lưu thông tin liên hệ\./);
    } finally {
      delayMs = 0;
    }
  });

  it('moves the idle expiry forward before that save, so the next page still finds the session', async () => {
    const agent = await login(t.app, 'citizen@demo.gov.vn');
    const token = await tokenFor(agent, '/account');
    // As after half an hour of reading: the stored session still carries the expiry of its last full
    // write, now past, while each page view only moved the row's expiry on.
    const now = Date.now();
    for (const row of (await t.deps.db('sessions').select('sid', 'sess')) as {
      sid: string;
      sess: string;
    }[]) {
      const sess = JSON.parse(row.sess) as { cookie: { expires?: string }; passport?: unknown } | null;
      if (!sess?.passport) continue;
      sess.cookie.expires = new Date(now - 10 * 60_000).toISOString();
      await t.deps
        .db('sessions')
        .where({ sid: row.sid })
        .update({ sess: JSON.stringify(sess), expired: new Date(now + 20 * 60_000) });
    }
    // The end of the response moves the expiry too, but after the redirect has left: late here.
    const store = t.deps.sessionStore;
    const touch = store.touch.bind(store);
    store.touch = (sid, sess, cb) => {
      setTimeout(() => touch(sid, sess, cb), 300);
    };
    try {
      const res = await agent
        .post('/account/contact')
        .type('form')
        .send(formBody({ _csrf: token, phone: '0912345670' }))
        .redirects(1);
      assert.equal(res.status, 200, 'still logged in');
      assert.match(res.text, /Đã lưu thông tin liên hệ\./);
    } finally {
      store.touch = touch;
    }
  });

  it('shows the logout message in the new session', async () => {
    const agent = await login(t.app, 'citizen@demo.gov.vn');
    const token = await tokenFor(agent, '/account');
    delayMs = 300;
    try {
      const res = await agent
        .post('/logout')
        .type('form')
        .send(formBody({ _csrf: token }))
        .redirects(1);
      assert.equal(res.status, 200);
      assert.match(res.text, /Bạn đã đăng xuất\./);
    } finally {
      delayMs = 0;
    }
  });

  it('keeps a logged-out session out, even when a request of it that began before ends after', async () => {
    const agent = await login(t.app, 'citizen@demo.gov.vn');
    const token = await tokenFor(agent, '/account');
    // The save of one request (its message in the session) waits until the logout is done.
    const store = t.deps.sessionStore;
    const set = store.set.bind(store);
    let release!: () => void;
    const loggedOut = new Promise<void>((resolve) => (release = resolve));
    store.set = (sid, sess, cb) => {
      if (JSON.stringify(sess).includes('account.contactSaved'))
        void loggedOut.then(() => set(sid, sess, cb));
      else set(sid, sess, cb);
    };
    try {
      const slow = agent
        .post('/account/contact')
        .type('form')
        .send(formBody({ _csrf: token, phone: '0912345671' }))
        .redirects(0)
        .then((r) => r);
      // Its session is loaded and changed before the logout.
      while (
        !(await t.deps.db('users').where({ email: 'citizen@demo.gov.vn' }).first('phone')).phone?.endsWith(
          '671',
        )
      )
        await new Promise((r) => setTimeout(r, 10));
      const out = await agent
        .post('/logout')
        .type('form')
        .send(formBody({ _csrf: token }));
      assert.equal(out.status, 303);
      release();
      assert.equal((await slow).status, 303);
      const after = await agent.get('/account').redirects(0);
      assert.equal(after.status, 303, 'logged out stays logged out');
      assert.match(after.headers.location ?? '', /^\/login/);
    } finally {
      store.set = set;
    }
  });

  it('stores no session for a redirect that needed none', async () => {
    const before = await sessions();
    const res = await request(t.app).get('/language?to=en&next=%2Fprocedures');
    assert.equal(res.status, 303);
    assert.equal(sessionCookie(res), undefined);
    assert.equal(await sessions(), before);
  });
});
