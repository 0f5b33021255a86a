import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { type Agent, csrfFrom, formBody, postForm, startTestApp, type TestApp } from '../helpers/testApp';
import {
  bearer,
  buildScenario,
  fileDemandByApi,
  MONDAY_9AM,
  rowCounts,
  type Scenario,
  signInAll,
  type SignedInRole,
  WORK_DEMAND,
} from './securityScenario';

// SQL injection: hostile text in every query parameter, path parameter and form field the portal reads.
// The queries are parameterised (knex bindings, LIKE with an escape character), so each payload is only
// text: no server error, no database error in the answer, no row changed, nothing found that should not
// be, and text that is stored comes back exactly as typed.

const PAYLOADS = [
  "' OR 1=1 --",
  "' OR '1'='1",
  '" OR ""="',
  '1; DROP TABLE dossiers',
  "1'; DROP TABLE users; --",
  "%' UNION SELECT email, password_hash FROM users --",
  "x') UNION SELECT NULL,NULL,NULL --",
  "'; UPDATE users SET status='DISABLED' WHERE '1'='1",
  "1' AND SLEEP(3) --",
  '1 OR 1=1',
  '%',
  '_',
  "\\'; --",
  // Not numbers where ids are read as numbers: NaN and Infinity must not reach a query as such.
  'NaN',
  'Infinity',
  '-1e999',
];

/** What a database error would show: engine codes and messages, the query builder's name. */
const SQL_ERROR =
  /SQLITE_[A-Z]+|ER_[A-Z_]{4,}|syntax error|You have an error in your SQL|unrecognized token|no such (column|table)|knex|Unknown column|sql_mode/i;

const KEY_TABLES = [
  'users',
  'user_roles',
  'agencies',
  'procedures',
  'procedure_versions',
  'dossiers',
  'dossier_files',
  'dossier_events',
  'api_tokens',
  'holidays',
  'certificates',
  'results',
  'ratings',
  'notifications',
];

type Who = 'anonymous' | SignedInRole | 'api:business' | 'api:reception' | 'api:citizen';

describe('SQL injection in query parameters, path parameters and form fields', () => {
  let t: TestApp;
  let s: Scenario;
  let agents: Record<SignedInRole, Agent>;

  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    agents = await signInAll(t.app);
    s = await buildScenario(t, agents.business);
  });
  after(() => t.close());

  const get = (who: Who, url: string) => {
    if (who === 'anonymous') return request(t.app).get(url);
    if (who.startsWith('api:')) {
      const role = who.slice(4) as SignedInRole;
      return request(t.app).get(url).set(bearer(s.tokens[role]));
    }
    return agents[who as SignedInRole].get(url);
  };

  /** Each place a payload goes, as a function of the (URL-encoded) payload. */
  const targets = (): [Who, (p: string) => string][] => {
    const permit = encodeURIComponent(s.permit.code);
    return [
      ['anonymous', (p) => `/lookup?code=${p}&secret=${p}`],
      ['anonymous', (p) => `/lookup?code=${permit}&secret=${p}`],
      ['anonymous', (p) => `/lookup/result.pdf?code=${p}&secret=${p}`],
      ['anonymous', (p) => `/procedures?q=${p}`],
      ['anonymous', (p) => `/procedures?q=lao&agency=${p}&sector=${p}&level=${p}`],
      ['anonymous', (p) => `/procedures/${p}`],
      ['anonymous', (p) => `/stats?agency=${p}&from=${p}&to=${p}`],
      ['anonymous', (p) => `/stats?agency=000.00.12.H10&from=2026-01-01&to=${p}`],
      ['anonymous', (p) => `/stats?month=${p}`],
      ['anonymous', (p) => `/stats/report.csv?agency=${p}&from=${p}&to=${p}`],
      ['anonymous', (p) => `/stats/report.pdf?agency=${p}`],
      ['anonymous', (p) => `/api/v1/stats?agency=${p}&from=${p}&to=${p}`],
      ['anonymous', (p) => `/verify/r/${p}`],
      ['anonymous', (p) => `/verify/r/${p}/file.pdf`],
      ['anonymous', (p) => `/language?to=${p}&next=${p}`],
      ['anonymous', (p) => `/login?next=${p}`],
      ['reception', (p) => `/desk?q=${p}`],
      ['reception', (p) => `/desk?status=${p}&procedure=${p}&due=${p}&mine=${p}&after=${p}`],
      ['reception', (p) => `/desk?procedure=${p}&after=1-${p}`],
      ['reception', (p) => `/desk?q=${p}&after=99999999999999999999999-1`],
      ['reception', (p) => `/desk/stats?agency=${p}&from=${p}&to=${p}`],
      ['reception', (p) => `/desk/stats/dossiers?figure=${p}&agency=${p}`],
      ['reception', (p) => `/desk/stats/dossiers?figure=received&from=${p}`],
      ['reception', (p) => `/desk/dossiers/${p}`],
      ['reception', (p) => `/desk/dossiers/${permit}/files/${p}`],
      ['reception', (p) => `/desk/dossiers/${permit}/notices/${p}.pdf`],
      ['reception', (p) => `/desk/intake/${p}`],
      ['business', (p) => `/my/dossiers/${p}`],
      ['business', (p) => `/my/dossiers/${permit}/files/${p}`],
      ['business', (p) => `/my/drafts/${p}`],
      ['business', (p) => `/my/drafts/${s.draft.id}/files/${p}`],
      ['business', (p) => `/procedures/${p}/file`],
      ['systemAdmin', (p) => `/admin/holidays?year=${p}&edit=${p}`],
      ['systemAdmin', (p) => `/admin/officers/${p}`],
      ['systemAdmin', (p) => `/admin/certificates/${p}`],
      ['systemAdmin', (p) => `/admin/certificates/import?holder=${p}`],
      ['api:business', (p) => `/api/v1/dossiers/${p}`],
      ['api:business', (p) => `/api/v1/dossiers/${p}/result`],
      ['api:citizen', (p) => `/api/v1/procedures?q=${p}`],
    ];
  };

  const checkAnswer = (label: string, res: { status: number; text?: string; body?: unknown }) => {
    assert.ok(res.status < 500, `${label}: ${res.status}`);
    const text = typeof res.text === 'string' ? res.text : JSON.stringify(res.body ?? '');
    assert.doesNotMatch(text, SQL_ERROR, `${label}: a database error in the answer`);
  };

  it('answers every payload in every query and path parameter without an error, changing nothing', async (tc) => {
    const before = await rowCounts(t, KEY_TABLES);
    let requests = 0;
    for (const [who, url] of targets()) {
      for (const payload of PAYLOADS) {
        const address = url(encodeURIComponent(payload));
        const started = Date.now();
        const res = await get(who, address).redirects(0);
        requests += 1;
        checkAnswer(`${who} GET ${address}`, res);
        assert.ok(Date.now() - started < 2500, `${address} took ${Date.now() - started} ms`);
      }
    }
    assert.deepEqual(await rowCounts(t, KEY_TABLES), before);
    tc.diagnostic(`${targets().length} places x ${PAYLOADS.length} payloads = ${requests} requests`);
  });

  it('finds nothing with a payload where a real code and secret are needed', async () => {
    // The lookup page shows a found dossier's procedure; its hint happens to show a code like the permit's.
    const permitName = (await t.deps.procedures.get('BQL-LD-02')).definition.name.vi;
    const found = await request(t.app).get(
      `/lookup?code=${encodeURIComponent(s.permit.code)}&secret=${s.permit.secret}`,
    );
    assert.ok(found.text.includes(permitName), 'the real code and secret find the permit');
    for (const payload of PAYLOADS) {
      const q = encodeURIComponent(payload);
      const lookup = await request(t.app).get(`/lookup?code=${q}&secret=${q}`);
      assert.equal(lookup.status, 404, payload);
      assert.ok(!lookup.text.includes(permitName), `${payload}: no dossier shown`);
      const withCode = await request(t.app).get(
        `/lookup?code=${encodeURIComponent(s.permit.code)}&secret=${q}`,
      );
      assert.equal(withCode.status, 404, `${payload} as the secret of a real code`);
      assert.ok(!withCode.text.includes(permitName));
      assert.equal((await request(t.app).get(`/lookup/result.pdf?code=${q}&secret=${q}`)).status, 404);
      const api = await request(t.app).get(`/api/v1/dossiers/${q}`).set(bearer(s.tokens.business));
      assert.equal(api.status, 404, payload);
    }
  });

  it('treats LIKE wildcards in searches as plain characters', async () => {
    const rows = (html: string) =>
      (html.match(/href="\/procedures\/[A-Z]{2,3}-[A-Z]{2}-\d{2}"/g) ?? []).length;
    assert.ok(rows((await request(t.app).get('/procedures')).text) >= 3, 'the catalogue lists procedures');
    for (const wildcard of ['%', '_', '%%', "%' OR '1'='1"]) {
      const res = await request(t.app).get(`/procedures?q=${encodeURIComponent(wildcard)}`);
      assert.equal(res.status, 200);
      assert.equal(rows(res.text), 0, `no procedure name contains ${wildcard}`);
      const desk = await agents.reception.get(`/desk?q=${encodeURIComponent(wildcard)}`);
      assert.equal(desk.status, 200);
      assert.doesNotMatch(desk.text, /000\.00\.12\.H10-\d{6}-\d{4}/, `no dossier matches ${wildcard}`);
    }
    const real = await agents.reception.get(`/desk?q=${encodeURIComponent(s.permit.code)}`);
    assert.match(real.text, new RegExp(s.permit.code.replace(/\./g, '\\.')), 'a real code is found');
  });

  it('answers payloads in login, token, claim and registration forms without an error, changing nothing', async () => {
    const before = await rowCounts(t, KEY_TABLES);
    for (const [i, payload] of PAYLOADS.slice(0, 8).entries()) {
      const anonymous = request.agent(t.app);
      const page = await anonymous.get('/login');
      const login = await anonymous
        .post('/login')
        .type('form')
        .send(formBody({ _csrf: csrfFrom(page.text), email: payload, password: payload }));
      checkAnswer(`login ${payload}`, login);
      assert.equal(login.status, 401);
      const admin = await anonymous
        .post('/login')
        .type('form')
        .send(formBody({ _csrf: csrfFrom(page.text), email: `admin@demo.gov.vn' --`, password: payload }));
      assert.equal(admin.status, i < 5 ? 401 : 429, 'no way round the password; the lock counts the email');
      const token = await request(t.app).post('/api/v1/tokens').send({ email: payload, password: payload });
      checkAnswer(`token ${payload}`, token);
      assert.equal(token.status, 401);
      const claim = await postForm(agents.citizen, '/my/claim', '/my/claim', {
        code: payload,
        secret: payload,
      });
      checkAnswer(`claim ${payload}`, claim);
      assert.equal(claim.status, 422);
      const register = await postForm(request.agent(t.app), '/register/citizen', '/register/citizen', {
        fullName: payload,
        citizenId: payload,
        dateOfBirth: payload,
        email: payload,
        phone: payload,
        password: payload,
        passwordConfirm: payload,
        acceptTerms: 'yes',
      });
      checkAnswer(`register ${payload}`, register);
      assert.equal(register.status, 422);
    }
    // JSON that is not text where text is expected.
    for (const body of [
      { email: { $gt: '' }, password: { $gt: '' } },
      { email: ['a', 'b'], password: 1 },
    ]) {
      const res = await request(t.app).post('/api/v1/tokens').send(body);
      assert.equal(res.status, 422);
    }
    for (const id of [...PAYLOADS.slice(0, 4), 'NaN', 'Infinity']) {
      const res = await postForm(
        agents.citizen,
        '/account/tokens',
        `/account/tokens/${encodeURIComponent(id)}/revoke`,
        {},
      );
      checkAnswer(`token revoke ${id}`, res);
      assert.equal(res.status, 404, id);
    }
    for (const action of PAYLOADS.slice(0, 4)) {
      const res = await request(t.app)
        .post(`/api/v1/dossiers/${encodeURIComponent(s.demand.code)}/actions/${encodeURIComponent(action)}`)
        .set(bearer(s.tokens.reception))
        .send({});
      checkAnswer(`action ${action}`, res);
      assert.equal(res.status, 404);
    }
    assert.deepEqual(await rowCounts(t, KEY_TABLES), before);
    const disabled = (await t.deps.db('users').whereNot({ status: 'ACTIVE' }).count({ n: '*' }).first()) as {
      n: number | string;
    };
    assert.equal(Number(disabled.n), 0, 'no account was disabled');
  });

  it('stores text typed into form fields exactly as typed, and nothing else', async () => {
    const payload = PAYLOADS.filter((p) => p.length > 2)
      .join(' | ')
      .slice(0, 200);
    const before = await rowCounts(t, KEY_TABLES);

    // A dossier's free-text fields, through the API.
    const code = await fileDemandByApi(t.app, s.tokens.business, {
      ...WORK_DEMAND,
      companyName: payload,
      industrialZone: payload,
      jobTitle: payload,
      explanation: payload,
    });
    const stored = (await t.deps.repos.dossiers.findByCode(code))!;
    assert.equal(stored.formData.companyName, payload);
    assert.equal(stored.formData.explanation, payload);

    // A workflow reason, a token name, a holiday name.
    const extend = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/extend`)
      .set(bearer(s.tokens.reception))
      .send({ reason: payload, newDueDate: '2026-12-18' });
    assert.equal(extend.status, 200, JSON.stringify(extend.body));
    const event = (await t.deps.repos.dossiers.events(stored.id)).pop()!;
    assert.equal(event.note, payload);
    const made = await postForm(agents.citizen, '/account/tokens', '/account/tokens', {
      name: payload.slice(0, 100),
    });
    assert.equal(made.status, 201);
    const tokenRow = (await t.deps.db('api_tokens').orderBy('id', 'desc').first()) as { name: string };
    assert.equal(tokenRow.name, payload.slice(0, 100));
    const holiday = await postForm(agents.systemAdmin, '/admin/holidays', '/admin/holidays', {
      date: '2027-03-16',
      kind: 'HOLIDAY',
      name: payload.slice(0, 100),
    });
    assert.equal(holiday.status, 303, holiday.text.slice(0, 500));
    const day = (await t.deps.db('holidays').where({ date: '2027-03-16' }).first()) as { name: string };
    assert.equal(day.name, payload.slice(0, 100));

    const after = await rowCounts(t, KEY_TABLES);
    const grown = Object.fromEntries(
      Object.entries(after)
        .filter(([table, n]) => n !== before[table])
        .map(([table, n]) => [table, n - before[table]!]),
    );
    delete grown.notifications; // the applicant is told of the extension
    assert.deepEqual(
      grown,
      { dossiers: 1, dossier_files: 1, dossier_events: 2, api_tokens: 1, holidays: 1 },
      'only the rows these forms add',
    );
    assert.ok(Number(after.users) > 0 && Number(after.dossiers) > 0, 'the tables are all still there');
  });
});
