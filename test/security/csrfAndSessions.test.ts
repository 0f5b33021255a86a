import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { samplePdf } from '../helpers/fixtures';
import {
  type Agent,
  csrfFrom,
  DEMO_PASSWORD,
  formBody,
  login,
  sessionCookie,
  startTestApp,
  type TestApp,
  tokenFor,
} from '../helpers/testApp';
import {
  buildScenario,
  databaseFingerprint,
  EMAILS,
  enumerateRoutes,
  fileDemandByApi,
  MONDAY_9AM,
  type Scenario,
  storedFiles,
  WORK_DEMAND,
} from './securityScenario';

// Cross-site request forgery, session fixation, login throttling and cookie flags (README, Security).

type Fields = Record<string, string | string[]>;
interface FileField {
  field: string;
  name: string;
  content: Buffer;
}

/** One state-changing form: who may post it, and a body that does change something with a good token. */
interface Forgery {
  route: string;
  url: string;
  agent: () => Agent;
  fields: Fields;
  /** Multipart forms (their routes check the token themselves, before any file is stored). */
  files?: FileField[];
  /** The status of the same request with the session's own token: the token was all that stopped it. */
  control: number;
  /** The page whose form gives the session's own token for the control (default: the account page). */
  tokenPage?: string;
}

const enc = encodeURIComponent;

/** Sends a form as a browser would, with the given token (or none) and no other credential. */
function send(agent: Agent, f: Forgery, token: string | undefined, where: 'body' | 'header' = 'body') {
  const req = agent.post(f.url).redirects(0);
  if (where === 'header' && token) req.set('X-CSRF-Token', token);
  const withToken = where === 'body' && token ? { _csrf: token } : {};
  if (!f.files) return req.type('form').send(formBody({ ...withToken, ...f.fields }));
  for (const [k, v] of Object.entries({ ...withToken, ...f.fields })) req.field(k, v);
  for (const file of f.files) req.attach(file.field, file.content, file.name);
  return req;
}

/** 'POST /path' of every route that changes state outside the token-only API, from the app's router. */
function stateChangingRoutes(app: Express): string[] {
  return enumerateRoutes(app).filter((r) => {
    const [method, path] = r.split(' ') as [string, string];
    return !['GET', 'HEAD', 'OPTIONS'].includes(method) && !path.startsWith('/api/');
  });
}

describe('CSRF: every state-changing form refuses a missing or foreign token and changes nothing', () => {
  let t: TestApp;
  let s: Scenario;
  const agents: Record<string, Agent> = {};
  let forgeries: Forgery[];
  /** A valid token of another session (an attacker's own session on the portal). */
  let foreign: string;

  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    for (const who of ['citizen', 'business', 'reception', 'approver', 'systemAdmin'] as const)
      agents[who] = await login(t.app, EMAILS[who]);
    agents.logout = await login(t.app, 'specialist.tp@demo.gov.vn');
    agents.password = await login(t.app, 'clerk.tp@demo.gov.vn');
    agents.anonymous = request.agent(t.app);
    await agents.anonymous.get('/login');
    s = await buildScenario(t, agents.business);
    const toAccept = await fileDemandByApi(t.app, s.tokens.business);
    const toAcceptByMultipart = await fileDemandByApi(t.app, s.tokens.business);
    foreign = await tokenFor(request.agent(t.app), '/login');
    const holiday = (await t.deps
      .db('holidays')
      .where('date', '>=', '2027-01-01')
      .orderBy('date')
      .first()) as {
      date: string;
    };
    const demandFields = { intent: 'submit', ...WORK_DEMAND };
    const demandReport = [{ field: 'demand-report', name: 'bao-cao.pdf', content: samplePdf('Bao cao') }];
    const permit = enc(s.permit.code);
    forgeries = [
      {
        route: 'POST /login',
        url: '/login',
        agent: () => agents.anonymous!,
        fields: { email: EMAILS.citizen, password: DEMO_PASSWORD },
        control: 303,
        tokenPage: '/login',
      },
      {
        route: 'POST /register/citizen',
        url: '/register/citizen',
        agent: () => request.agent(t.app),
        fields: {
          fullName: 'Trần Thị Ánh Dương',
          citizenId: '001301012345',
          dateOfBirth: '2001-03-04',
          email: 'anh.duong@example.vn',
          phone: '0987654321',
          password: 'Hoa-Sen@2026',
          passwordConfirm: 'Hoa-Sen@2026',
          acceptTerms: 'yes',
        },
        control: 303,
        tokenPage: '/register/citizen',
      },
      {
        route: 'POST /register/business',
        url: '/register/business',
        agent: () => request.agent(t.app),
        fields: {
          companyName: 'Công ty Cổ phần Cơ khí Việt Đức',
          taxCode: '0300588569',
          representativeName: 'Phan Quốc Việt',
          email: 'ketoan@vietduc.example.vn',
          password: 'Co-Khi#2026',
          passwordConfirm: 'Co-Khi#2026',
          acceptTerms: 'yes',
        },
        control: 303,
        tokenPage: '/register/business',
      },
      {
        route: 'POST /account/contact',
        url: '/account/contact',
        agent: () => agents.citizen!,
        fields: { phone: '0911222333' },
        control: 303,
      },
      {
        route: 'POST /account/password',
        url: '/account/password',
        agent: () => agents.password!,
        fields: {
          currentPassword: DEMO_PASSWORD,
          password: 'Moi-Mat@2027x',
          passwordConfirm: 'Moi-Mat@2027x',
        },
        control: 303,
      },
      {
        route: 'POST /account/notifications/read',
        url: '/account/notifications/read',
        agent: () => agents.business!,
        fields: {},
        control: 303,
      },
      {
        route: 'POST /account/tokens',
        url: '/account/tokens',
        agent: () => agents.citizen!,
        fields: { name: 'Do ke tan cong dat' },
        control: 201,
      },
      {
        route: 'POST /account/tokens/:id/revoke',
        url: `/account/tokens/${s.citizenSpareTokenId}/revoke`,
        agent: () => agents.citizen!,
        fields: {},
        control: 303,
      },
      {
        route: 'POST /admin/officers',
        url: '/admin/officers',
        agent: () => agents.systemAdmin!,
        fields: {
          fullName: 'Lê Văn Giả',
          email: 'gia@demo.gov.vn',
          position: 'Chuyên viên',
          agencyId: String(
            ((await t.deps.db('agencies').where({ code: '000.00.12.H10' }).first()) as { id: number }).id,
          ),
          roles: 'SYSTEM_ADMIN',
          password: 'Gia-Mao@2026x',
          passwordConfirm: 'Gia-Mao@2026x',
        },
        control: 303,
      },
      {
        route: 'POST /admin/officers/:id',
        url: `/admin/officers/${s.specialistId}`,
        agent: () => agents.systemAdmin!,
        fields: { fullName: 'Phạm Minh Đức', position: 'Bị đổi', status: 'ACTIVE', roles: 'SPECIALIST' },
        control: 303,
      },
      {
        route: 'POST /admin/holidays',
        url: '/admin/holidays',
        agent: () => agents.systemAdmin!,
        fields: { date: '2027-03-15', kind: 'HOLIDAY', name: 'Ngày nghỉ giả' },
        control: 303,
      },
      {
        route: 'POST /admin/working-time',
        url: '/admin/working-time',
        agent: () => agents.systemAdmin!,
        // The installed hours again: the control is saved (and on record) without moving any deadline.
        fields: {
          morningStart: '07:30',
          morningEnd: '11:30',
          afternoonStart: '13:00',
          afternoonEnd: '17:00',
          cutoff: '16:00',
          weekendDays: ['6', '0'],
        },
        control: 303,
      },
      {
        route: 'POST /admin/holidays/:date/delete',
        url: `/admin/holidays/${holiday.date}/delete`,
        agent: () => agents.systemAdmin!,
        fields: {},
        control: 303,
      },
      {
        route: 'POST /admin/certificates/import',
        url: '/admin/certificates/import',
        agent: () => agents.systemAdmin!,
        fields: { holder: `agency:1`, password: 'x', pin: '123456', pinConfirm: '123456' },
        files: [{ field: 'file', name: 'khoa.p12', content: Buffer.from('not a pkcs12 file') }],
        control: 422,
      },
      {
        route: 'POST /admin/certificates/:id/revoke',
        url: `/admin/certificates/${s.communeSealId}/revoke`,
        agent: () => agents.systemAdmin!,
        fields: { reason: 'Giả mạo', confirm: 'yes' },
        control: 303,
      },
      {
        route: 'POST /verify',
        url: '/verify',
        agent: () => agents.anonymous!,
        fields: {},
        files: [{ field: 'file', name: 'a.pdf', content: samplePdf() }],
        control: 200,
        tokenPage: '/verify',
      },
      {
        route: 'POST /procedures/:code/file',
        url: '/procedures/BQL-LD-01/file',
        agent: () => agents.business!,
        fields: demandFields,
        files: demandReport,
        control: 303,
      },
      {
        route: 'POST /my/drafts/:id',
        url: `/my/drafts/${s.draft.id}`,
        agent: () => agents.business!,
        fields: demandFields,
        files: [],
        control: 303,
      },
      {
        route: 'POST /my/claim',
        url: '/my/claim',
        agent: () => agents.citizen!,
        fields: { code: s.extract.code, secret: s.extract.secret },
        control: 422,
      },
      {
        route: 'POST /my/dossiers/:code/actions/withdraw',
        url: `/my/dossiers/${enc(s.demand.code)}/actions/withdraw`,
        agent: () => agents.business!,
        fields: { reason: 'Rút hồ sơ giả' },
        control: 303,
      },
      {
        route: 'POST /my/dossiers/:code/resubmit',
        url: `/my/dossiers/${enc(s.extract.code)}/resubmit`,
        agent: () => agents.citizen!,
        fields: {},
        files: [{ field: 'authorisation', name: 'uy-quyen.pdf', content: samplePdf('Uy quyen moi') }],
        control: 303,
      },
      {
        route: 'POST /my/dossiers/:code/rating',
        url: `/my/dossiers/${permit}/rating`,
        agent: () => agents.business!,
        fields: { score: '1', comment: 'Đánh giá giả' },
        control: 303,
      },
      {
        route: 'POST /desk/dossiers/:code/result/revoke',
        url: `/desk/dossiers/${permit}/result/revoke`,
        agent: () => agents.approver!,
        fields: { reason: 'Thu hồi giả' },
        control: 303,
      },
      {
        route: 'POST /desk/intake/:code',
        url: '/desk/intake/BQL-LD-01',
        agent: () => agents.reception!,
        fields: {
          applicantKind: 'BUSINESS',
          applicantName: 'Công ty Cổ phần Cơ khí Việt Đức',
          applicantIdNumber: '0300588569',
          ...WORK_DEMAND,
        },
        files: demandReport,
        control: 303,
      },
      {
        route: 'POST /desk/dossiers/:code/actions/:action',
        url: `/desk/dossiers/${enc(toAccept)}/actions/accept`,
        agent: () => agents.reception!,
        fields: {},
        control: 303,
      },
      {
        route: 'POST /desk/dossiers/:code/actions/:action',
        url: `/desk/dossiers/${enc(toAcceptByMultipart)}/actions/accept`,
        agent: () => agents.reception!,
        fields: { version: '1' },
        files: [],
        control: 303,
      },
      {
        route: 'POST /logout',
        url: '/logout',
        agent: () => agents.logout!,
        fields: {},
        control: 303,
      },
    ];
  });
  after(() => t.close());

  it('has a forgery attempt for every state-changing route outside the API', () => {
    assert.deepEqual(
      [...new Set(forgeries.map((f) => f.route))].sort(),
      stateChangingRoutes(t.app),
      'every POST/PUT/PATCH/DELETE route outside /api/v1',
    );
  });

  it('answers 403 without a token, with a foreign token (in the body or the header), and stores nothing', async () => {
    const refusedWrongly: string[] = [];
    for (const f of forgeries) {
      const agent = f.agent();
      const attempts: [string, () => request.Test][] = [
        ['no token', () => send(agent, f, undefined)],
        ['a foreign token', () => send(agent, f, foreign)],
        ['a foreign token in the header', () => send(agent, f, foreign, 'header')],
      ];
      if (f.files) {
        // The token after the file: the file would already be on disk if the check waited for it.
        attempts.push([
          'the token after the file',
          () => {
            const req = agent.post(f.url).redirects(0);
            for (const [k, v] of Object.entries(f.fields)) req.field(k, v);
            for (const file of f.files!) req.attach(file.field, file.content, file.name);
            return req.field('_csrf', foreign);
          },
        ]);
        // The same fields urlencoded reach csrf-sync instead of the route's own check.
        attempts.push([
          'urlencoded',
          () => agent.post(f.url).redirects(0).type('form').send(formBody(f.fields)),
        ]);
      }
      for (const [label, attempt] of attempts) {
        const db = await databaseFingerprint(t);
        const files = storedFiles(t);
        const res = await attempt();
        if (res.status !== 403) refusedWrongly.push(`${f.route} with ${label}: ${res.status}`);
        else assert.match(res.text, /Biểu mẫu đã hết hạn|form has expired/i, `${f.route}: the message`);
        assert.deepEqual(await databaseFingerprint(t), db, `${f.route} with ${label} changed the database`);
        assert.deepEqual(storedFiles(t), files, `${f.route} with ${label} stored a file`);
      }
    }
    assert.deepEqual(refusedWrongly, []);
  });

  it('takes the same requests with the session’s own token (the token was all that stopped them)', async () => {
    const outcomes: string[] = [];
    for (const f of forgeries) {
      const agent = f.agent();
      const own = csrfFrom((await agent.get(f.tokenPage ?? '/account')).text);
      const res = await send(agent, f, own);
      outcomes.push(`${f.route}: ${res.status}`);
      assert.equal(res.status, f.control, `${f.route}: ${res.text.slice(0, 300)}`);
    }
    assert.equal(outcomes.length, forgeries.length);
  });
});

describe('sessions: fixation, brute force, cookie flags', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
  });
  after(() => t.close());

  const loginWith = async (agent: Agent, email: string, password: string) => {
    const token = await tokenFor(agent, '/login');
    return agent
      .post('/login')
      .type('form')
      .send(formBody({ _csrf: token, email, password }));
  };

  it('gives a new session id at login; the cookie from before login is not signed in afterwards', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const before = sessionCookie(page);
    assert.ok(before, 'the login page starts a session for its token');
    const res = await agent
      .post('/login')
      .type('form')
      .send(formBody({ _csrf: csrfFrom(page.text), email: EMAILS.citizen, password: DEMO_PASSWORD }));
    assert.equal(res.status, 303);
    const afterLogin = sessionCookie(res);
    assert.ok(afterLogin && afterLogin !== before, 'a new session id');
    // An attacker who planted or read the pre-login cookie holds nothing.
    const planted = await request(t.app).get('/account').set('Cookie', before).redirects(0);
    assert.equal(planted.status, 303);
    assert.match(planted.headers.location ?? '', /^\/login\?next=/);
    const own = await request(t.app).get('/account').set('Cookie', afterLogin).redirects(0);
    assert.equal(own.status, 200);
    // The old session holds nothing in the store (a tombstone, so that nothing can write it back).
    const sid = decodeURIComponent(before.split('=')[1]!).slice(2).split('.')[0]!;
    const old = (await t.deps.db('sessions').where({ sid }).first()) as { sess: string } | undefined;
    assert.ok(old === undefined || old.sess === 'null', JSON.stringify(old));

    // After logout the signed-in cookie is worth nothing either.
    const token = await tokenFor(agent, '/account');
    assert.equal(
      (
        await agent
          .post('/logout')
          .type('form')
          .send(formBody({ _csrf: token }))
      ).status,
      303,
    );
    const replay = await request(t.app).get('/account').set('Cookie', afterLogin).redirects(0);
    assert.equal(replay.status, 303);
  });

  it('ignores a session id the client makes up', async () => {
    const forged = 'portal.sid=s%3Aattacker-chosen-id.bm90LWEtc2lnbmF0dXJl';
    const agent = request.agent(t.app);
    const page = await agent.get('/login').set('Cookie', forged);
    const issued = sessionCookie(page);
    assert.ok(issued && issued !== forged);
    assert.doesNotMatch(issued, /attacker-chosen-id/);
    const res = await request(t.app).get('/account').set('Cookie', forged).redirects(0);
    assert.equal(res.status, 303);
  });

  it('refuses the 6th attempt for an email even with the right password, whatever the email’s case', async () => {
    // A success clears the count, and the citizen logged in above at this very instant of the fixed clock.
    t.clock.advance(60_000);
    for (const [i, email] of [
      'Citizen@demo.gov.vn',
      ' citizen@demo.gov.vn',
      'CITIZEN@DEMO.GOV.VN',
    ].entries()) {
      const res = await loginWith(request.agent(t.app), email, `Wrong@${i}2345`);
      assert.equal(res.status, 401, email);
    }
    for (let i = 0; i < 2; i++) {
      const res = await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: EMAILS.citizen, password: `Sai@${i}2345x` });
      assert.equal(res.status, 401);
    }
    const agent = request.agent(t.app);
    const right = await loginWith(agent, EMAILS.citizen, DEMO_PASSWORD);
    assert.equal(right.status, 429, 'the sixth attempt, with the right password');
    assert.ok(Number(right.headers['retry-after']) > 0);
    assert.equal((await agent.get('/account').redirects(0)).status, 303, 'not signed in');
    const viaApi = await request(t.app)
      .post('/api/v1/tokens')
      .send({ email: EMAILS.citizen, password: DEMO_PASSWORD });
    assert.equal(viaApi.status, 429, 'the API honours the same lock');
    // Another account from the same address is not locked by it.
    assert.equal((await loginWith(request.agent(t.app), EMAILS.business, DEMO_PASSWORD)).status, 303);
    // The lock ends after 15 minutes.
    t.clock.advance(16 * 60_000);
    assert.equal((await loginWith(request.agent(t.app), EMAILS.citizen, DEMO_PASSWORD)).status, 303);
  });

  it('sets HttpOnly and SameSite=Lax on its cookies, and no Secure flag on plain HTTP in development', async () => {
    const page = await request(t.app).get('/login');
    const sid = (page.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('portal.sid='))!;
    assert.match(sid, /; HttpOnly/i);
    assert.match(sid, /; SameSite=Lax/i);
    assert.doesNotMatch(sid, /; Secure/i);
    const lang = await request(t.app).get('/language?to=en&next=/');
    const langCookie = (lang.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('lang='),
    )!;
    assert.match(langCookie, /; HttpOnly/i);
    assert.match(langCookie, /; SameSite=Lax/i);
  });

  for (const [label, env] of [
    ['SECURE_COOKIES=true', { SECURE_COOKIES: 'true' }],
    ['NODE_ENV=production', { NODE_ENV: 'production', SESSION_SECRET: 'a'.repeat(48), LOG_LEVEL: 'silent' }],
  ] as const) {
    it(`sets Secure on every cookie with ${label}, and never sends the session cookie over plain HTTP`, async () => {
      const secure = await startTestApp({ seed: false, env: { ...env, TRUST_PROXY: 'loopback' } });
      try {
        const overTls = await request(secure.app).get('/login').set('X-Forwarded-Proto', 'https');
        assert.equal(overTls.status, 200);
        const cookies = overTls.headers['set-cookie'] as unknown as string[];
        const sid = cookies.find((c) => c.startsWith('portal.sid='));
        assert.ok(sid, 'the session cookie over HTTPS');
        assert.match(sid, /; Secure/i);
        assert.match(sid, /; HttpOnly/i);
        assert.match(sid, /; SameSite=Lax/i);
        assert.match(String(overTls.headers['strict-transport-security']), /max-age=\d+/);
        const lang = await request(secure.app)
          .get('/language?to=en&next=/')
          .set('X-Forwarded-Proto', 'https');
        const langCookie = (lang.headers['set-cookie'] as unknown as string[]).find((c) =>
          c.startsWith('lang='),
        )!;
        assert.match(langCookie, /; Secure/i);
        const plain = await request(secure.app).get('/login');
        const plainCookies = (plain.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
        assert.equal(
          plainCookies.find((c) => c.startsWith('portal.sid=')),
          undefined,
          'a Secure session cookie is not sent over plain HTTP',
        );
      } finally {
        await secure.close();
      }
    });
  }
});
