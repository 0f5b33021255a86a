import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { samplePdf } from '../helpers/fixtures';
import { type Agent, csrfFrom, startTestApp, type TestApp } from '../helpers/testApp';
import {
  buildScenario,
  DEMO_DESK,
  EMAILS,
  enumerateRoutes,
  MONDAY_9AM,
  ROLES,
  type Role,
  type Scenario,
  type SignedInRole,
  signInAll,
} from './securityScenario';

// Every route of the app, pages and API, against every kind of person: anonymous, citizen, business,
// each officer role of the demo agency, the system administrator and an officer of another agency (the
// commune's reception). The routes are read from the app's own router, so a new route without a row in
// this table fails the first test. Dossier routes are checked on a dossier of the demo agency and on one
// of the commune, so that "allowed" is seen to depend on the agency and not only on the role.

/** What a request is expected to get: a status, or 'login' for a redirect (303) to the login page. A
 * plain 303 means a redirect elsewhere (the request was taken). 409 and 422 mean the request was
 * authorised and reached the rules of the action: too late for it, or the (deliberately empty) form is
 * refused, so that the matrix changes nothing. */
type Outcome = number | 'login';
type Expectations = Record<Role, Outcome>;

interface Ctx {
  s: Scenario;
  csrf: (role: Role) => string;
  holiday: string;
}

interface Case {
  /** 'METHOD /path' as the router declares it. */
  route: string;
  /** The concrete address. */
  url: (c: Ctx) => string;
  /** How the body is sent (web forms carry the session's CSRF token, as a browser would). */
  body?: (req: request.Test, c: Ctx, role: Role) => request.Test;
  expect: Expectations;
  note?: string;
}

const enc = encodeURIComponent;

/** The same outcome for everyone. */
const all = (o: Outcome): Expectations => Object.fromEntries(ROLES.map((r) => [r, o])) as Expectations;

/** A web page or form: anonymous people are sent to log in; the roles named get their outcome, every
 * other signed-in person `otherwise` (403 unless said). */
const web = (allowed: Partial<Record<Role, Outcome>>, otherwise: Outcome = 403): Expectations =>
  ({ ...all(otherwise), anonymous: 'login', ...allowed }) as Expectations;

/** An API call with a bearer token: no token is 401. */
const api = (allowed: Partial<Record<Role, Outcome>>, otherwise: Outcome = 404): Expectations =>
  ({ ...all(otherwise), anonymous: 401, ...allowed }) as Expectations;

const each = (roles: readonly Role[], o: Outcome): Partial<Record<Role, Outcome>> =>
  Object.fromEntries(roles.map((r) => [r, o]));

const signedIn = (o: Outcome) =>
  web(
    each(
      ROLES.filter((r) => r !== 'anonymous'),
      o,
    ),
  );
const admins = (o: Outcome) => web({ agencyAdmin: o, systemAdmin: o });
const applicants = (o: Outcome) => web({ citizen: o, business: o });
const deskRoles = (o: Outcome) => web({ ...each(DEMO_DESK, o), otherOfficer: o });
const allOfficers = (o: Outcome) => web({ ...each(DEMO_DESK, o), systemAdmin: o, otherOfficer: o });
/** Redirected away when signed in (the login and registration pages). */
const guestsOnly = (o: Outcome): Expectations => ({ ...all(303), anonymous: o });

const form =
  (fields: Record<string, string> = {}) =>
  (req: request.Test, c: Ctx, role: Role) =>
    req.type('form').send({ _csrf: c.csrf(role), ...fields });

const multipart =
  (fields: Record<string, string> = {}, files: { field: string; name: string }[] = []) =>
  (req: request.Test, c: Ctx, role: Role) => {
    req.field('_csrf', c.csrf(role));
    for (const [k, v] of Object.entries(fields)) req.field(k, v);
    for (const f of files) req.attach(f.field, samplePdf('x'), f.name);
    return req;
  };

const json =
  (body: Record<string, unknown> = {}) =>
  (req: request.Test) =>
    req.send(body);

/** Dossier pages of an applicant: the owner gets `ok`, the other applicant 404, officers 403. */
const ownerOnly = (owner: 'citizen' | 'business', ok: Outcome = 200): Expectations =>
  web({ [owner]: ok, [owner === 'citizen' ? 'business' : 'citizen']: 404 });

/** A dossier's desk pages: the officers of its agency. */
const demoDesk = (o: Outcome) => web(each(DEMO_DESK, o));
const communeDesk = (o: Outcome) => web({ otherOfficer: o });

const permitCode = (c: Ctx) => enc(c.s.permit.code);
const extractCode = (c: Ctx) => enc(c.s.extract.code);

const CASES: Case[] = [
  // Operations and the public pages.
  { route: 'GET /healthz', url: () => '/healthz', expect: all(200) },
  { route: 'GET /readyz', url: () => '/readyz', expect: all(200) },
  { route: 'GET /', url: () => '/', expect: all(200) },
  { route: 'GET /language', url: () => '/language?next=/procedures', expect: all(303) },
  { route: 'GET /procedures', url: () => '/procedures?q=lao+dong', expect: all(200) },
  { route: 'GET /procedures/:code', url: () => '/procedures/BQL-LD-02', expect: all(200) },
  { route: 'GET /procedures/:code', url: () => '/procedures/XA-HT-01', expect: all(200) },
  {
    route: 'GET /lookup',
    url: (c) => `/lookup?code=${permitCode(c)}&secret=${c.s.permit.secret}`,
    expect: all(200),
  },
  {
    route: 'GET /lookup/result.pdf',
    url: (c) => `/lookup/result.pdf?code=${permitCode(c)}&secret=${c.s.permit.secret}`,
    expect: all(200),
  },
  {
    route: 'GET /lookup/result.pdf',
    note: 'wrong secret',
    url: (c) => `/lookup/result.pdf?code=${permitCode(c)}&secret=ABCDEFGH`,
    expect: all(404),
  },
  { route: 'GET /verify', url: () => '/verify', expect: all(200) },
  {
    route: 'POST /verify',
    url: () => '/verify',
    body: multipart({ note: 'no file' }),
    expect: all(422),
  },
  { route: 'GET /verify/trusted-roots.pem', url: () => '/verify/trusted-roots.pem', expect: all(200) },
  { route: 'GET /verify/r/:publicId', url: (c) => `/verify/r/${c.s.permit.publicId}`, expect: all(200) },
  {
    route: 'GET /verify/r/:publicId/file.pdf',
    url: (c) => `/verify/r/${c.s.permit.publicId}/file.pdf`,
    expect: all(200),
  },
  { route: 'GET /stats', url: () => '/stats', expect: all(200) },
  { route: 'GET /stats/report.csv', url: () => '/stats/report.csv', expect: all(200) },
  { route: 'GET /stats/report.pdf', url: () => '/stats/report.pdf', expect: all(200) },

  // Login and registration.
  { route: 'GET /login', url: () => '/login', expect: guestsOnly(200) },
  {
    route: 'POST /login',
    url: () => '/login',
    // A different unknown email per role, so that the five-failure lock of one email is not reached.
    body: (req, c, role) =>
      req
        .type('form')
        .send({ _csrf: c.csrf(role), email: `nobody.${role}@example.vn`, password: 'Wrong@12345' }),
    expect: all(401),
  },
  { route: 'GET /register', url: () => '/register', expect: all(200) },
  { route: 'GET /register/citizen', url: () => '/register/citizen', expect: guestsOnly(200) },
  { route: 'GET /register/business', url: () => '/register/business', expect: guestsOnly(200) },
  { route: 'POST /register/citizen', url: () => '/register/citizen', body: form(), expect: all(422) },
  { route: 'POST /register/business', url: () => '/register/business', body: form(), expect: all(422) },

  // The account: anyone signed in, each their own.
  { route: 'GET /account', url: () => '/account', expect: signedIn(200) },
  {
    route: 'POST /account/contact',
    url: () => '/account/contact',
    body: form({ phone: 'abc' }),
    expect: signedIn(422),
  },
  { route: 'GET /account/password', url: () => '/account/password', expect: signedIn(200) },
  { route: 'POST /account/password', url: () => '/account/password', body: form(), expect: signedIn(422) },
  { route: 'GET /account/notifications', url: () => '/account/notifications', expect: signedIn(200) },
  {
    route: 'POST /account/notifications/read',
    url: () => '/account/notifications/read',
    body: form(),
    expect: signedIn(303),
  },
  { route: 'GET /account/tokens', url: () => '/account/tokens', expect: signedIn(200) },
  {
    route: 'POST /account/tokens',
    url: () => '/account/tokens',
    body: form({ name: '' }),
    expect: signedIn(422),
  },
  {
    route: 'POST /account/tokens/:id/revoke',
    note: "the citizen's token",
    url: (c) => `/account/tokens/${c.s.citizenSpareTokenId}/revoke`,
    body: form(),
    expect: web({ citizen: 303 }, 404),
  },

  // Administration: system administrator everywhere, agency administrator in their agency.
  { route: 'GET /admin', url: () => '/admin', expect: admins(303) },
  { route: 'GET /admin/officers', url: () => '/admin/officers', expect: admins(200) },
  { route: 'GET /admin/officers/new', url: () => '/admin/officers/new', expect: admins(200) },
  { route: 'POST /admin/officers', url: () => '/admin/officers', body: form(), expect: admins(422) },
  {
    route: 'GET /admin/officers/:id',
    note: 'an officer of the demo agency',
    url: (c) => `/admin/officers/${c.s.specialistId}`,
    expect: admins(200),
  },
  {
    route: 'GET /admin/officers/:id',
    note: "an officer of the commune: not the agency administrator's",
    url: (c) => `/admin/officers/${c.s.communeOfficerId}`,
    expect: web({ systemAdmin: 200 }),
  },
  {
    route: 'POST /admin/officers/:id',
    url: (c) => `/admin/officers/${c.s.specialistId}`,
    body: form(),
    expect: admins(422),
  },
  {
    route: 'POST /admin/officers/:id',
    note: 'an officer of the commune',
    url: (c) => `/admin/officers/${c.s.communeOfficerId}`,
    body: form(),
    expect: web({ systemAdmin: 422 }),
  },
  { route: 'GET /admin/agencies', url: () => '/admin/agencies', expect: admins(200) },
  { route: 'GET /admin/holidays', url: () => '/admin/holidays', expect: admins(200) },
  {
    route: 'POST /admin/holidays',
    note: 'the holiday table is the system administrator’s',
    url: () => '/admin/holidays',
    body: form(),
    expect: web({ systemAdmin: 422 }),
  },
  {
    route: 'POST /admin/holidays/:date/delete',
    url: (c) => `/admin/holidays/${c.holiday}/delete`,
    body: form(),
    expect: web({ systemAdmin: 303 }),
  },
  { route: 'GET /admin/working-time', url: () => '/admin/working-time', expect: admins(200) },
  {
    route: 'POST /admin/working-time',
    note: 'the office hours are the system administrator’s, like the holiday table',
    url: () => '/admin/working-time',
    body: form(),
    expect: web({ systemAdmin: 422 }),
  },
  { route: 'GET /admin/audit', url: () => '/admin/audit', expect: admins(200) },
  { route: 'GET /admin/certificates', url: () => '/admin/certificates', expect: admins(200) },
  { route: 'GET /admin/certificates/import', url: () => '/admin/certificates/import', expect: admins(200) },
  {
    route: 'POST /admin/certificates/import',
    url: () => '/admin/certificates/import',
    body: multipart({ holder: '' }),
    expect: admins(422),
  },
  {
    route: 'GET /admin/certificates/:id',
    note: "the demo agency's seal",
    url: (c) => `/admin/certificates/${c.s.demoSealId}`,
    expect: admins(200),
  },
  {
    route: 'GET /admin/certificates/:id',
    note: "the commune's seal",
    url: (c) => `/admin/certificates/${c.s.communeSealId}`,
    expect: web({ agencyAdmin: 404, systemAdmin: 200 }),
  },
  {
    route: 'POST /admin/certificates/:id/revoke',
    url: (c) => `/admin/certificates/${c.s.demoSealId}/revoke`,
    body: form(),
    expect: admins(422),
  },
  {
    route: 'POST /admin/certificates/:id/revoke',
    note: "the commune's seal",
    url: (c) => `/admin/certificates/${c.s.communeSealId}/revoke`,
    body: form(),
    expect: web({ agencyAdmin: 404, systemAdmin: 422 }),
  },

  // Applicants' pages.
  {
    route: 'GET /procedures/:code/file',
    url: () => '/procedures/BQL-LD-02/file',
    expect: web({ business: 200 }),
  },
  {
    route: 'GET /procedures/:code/file',
    url: () => '/procedures/XA-HT-01/file',
    expect: web({ citizen: 200 }),
  },
  {
    route: 'POST /procedures/:code/file',
    url: () => '/procedures/BQL-LD-02/file',
    body: multipart({ intent: 'submit' }),
    expect: web({ business: 422 }),
  },
  {
    route: 'POST /procedures/:code/file',
    url: () => '/procedures/XA-HT-01/file',
    body: multipart({ intent: 'submit' }),
    expect: web({ citizen: 422 }),
  },
  { route: 'GET /my/drafts/:id', url: (c) => `/my/drafts/${c.s.draft.id}`, expect: ownerOnly('business') },
  {
    route: 'POST /my/drafts/:id',
    url: (c) => `/my/drafts/${c.s.draft.id}`,
    body: multipart({ intent: 'submit' }),
    expect: ownerOnly('business', 422),
  },
  {
    route: 'GET /my/drafts/:id/files/:fileId',
    url: (c) => `/my/drafts/${c.s.draft.id}/files/${c.s.draft.fileId}`,
    expect: ownerOnly('business'),
  },
  { route: 'GET /my/claim', url: () => '/my/claim', expect: applicants(200) },
  {
    route: 'POST /my/claim',
    url: () => '/my/claim',
    body: form({ code: 'x', secret: 'y' }),
    expect: applicants(422),
  },
  { route: 'GET /my/dossiers', url: () => '/my/dossiers', expect: applicants(200) },
  { route: 'GET /my/results', url: () => '/my/results', expect: applicants(200) },
  ...(
    [
      ['permit', 'business'],
      ['extract', 'citizen'],
    ] as const
  ).flatMap(([which, owner]): Case[] => {
    const code = (c: Ctx) => enc(c.s[which].code);
    const other = owner === 'citizen' ? 'business' : 'citizen';
    return [
      { route: 'GET /my/dossiers/:code', url: (c) => `/my/dossiers/${code(c)}`, expect: ownerOnly(owner) },
      {
        route: 'GET /my/dossiers/:code/submitted',
        url: (c) => `/my/dossiers/${code(c)}/submitted`,
        expect: ownerOnly(owner),
      },
      {
        route: 'GET /my/dossiers/:code/notices/:kind.pdf',
        url: (c) => `/my/dossiers/${code(c)}/notices/supplement.pdf`,
        expect: ownerOnly(owner),
      },
      {
        route: 'GET /my/dossiers/:code/receipt.pdf',
        url: (c) => `/my/dossiers/${code(c)}/receipt.pdf`,
        expect: ownerOnly(owner),
      },
      {
        route: 'GET /my/dossiers/:code/files/:fileId',
        url: (c) => `/my/dossiers/${code(c)}/files/${c.s[which].fileId}`,
        expect: ownerOnly(owner),
      },
      {
        route: 'GET /my/dossiers/:code/result.pdf',
        note: 'only the permit has a result',
        url: (c) => `/my/dossiers/${code(c)}/result.pdf`,
        expect: ownerOnly(owner, which === 'permit' ? 200 : 404),
      },
      {
        // The owner is sent back to the dossier page with the reason nothing was done: the permit is
        // released, too late to withdraw; the extract's reason is missing. Anyone else's dossier: not
        // theirs to act on (403).
        route: 'POST /my/dossiers/:code/actions/withdraw',
        url: (c) => `/my/dossiers/${code(c)}/actions/withdraw`,
        body: form({ reason: '' }),
        expect: web({ [owner]: 303, [other]: 403 }),
      },
      {
        // A paper nobody asked for (the extract), or too late (the permit): refused with a message on
        // the dossier page.
        route: 'POST /my/dossiers/:code/resubmit',
        url: (c) => `/my/dossiers/${code(c)}/resubmit`,
        body: multipart({}, [{ field: 'not-asked', name: 'x.pdf' }]),
        expect: web({ [owner]: 303, [other]: 403 }),
      },
      {
        // The permit's owner sends an empty rating (422); the extract is not finished (409). Another
        // applicant is refused (403, as the statistics tests fix it).
        route: 'POST /my/dossiers/:code/rating',
        url: (c) => `/my/dossiers/${code(c)}/rating`,
        body: form({ score: '' }),
        expect: web({ [owner]: which === 'permit' ? 422 : 409, [other]: 403 }),
      },
    ];
  }),

  // The officers' desk.
  { route: 'GET /desk', url: () => '/desk', expect: deskRoles(200) },
  { route: 'GET /desk/stats', url: () => '/desk/stats', expect: allOfficers(200) },
  {
    route: 'GET /desk/stats/dossiers',
    url: () => '/desk/stats/dossiers?figure=received',
    expect: allOfficers(200),
  },
  {
    route: 'GET /desk/intake',
    url: () => '/desk/intake',
    expect: web({ reception: 200, otherOfficer: 200 }),
  },
  { route: 'GET /desk/intake/:code', url: () => '/desk/intake/BQL-LD-02', expect: web({ reception: 200 }) },
  { route: 'GET /desk/intake/:code', url: () => '/desk/intake/XA-HT-01', expect: web({ otherOfficer: 200 }) },
  {
    route: 'POST /desk/intake/:code',
    url: () => '/desk/intake/BQL-LD-02',
    body: multipart(),
    expect: web({ reception: 422 }),
  },
  {
    route: 'POST /desk/intake/:code',
    url: () => '/desk/intake/XA-HT-01',
    body: multipart(),
    expect: web({ otherOfficer: 422 }),
  },
  ...(
    [
      ['permit', demoDesk],
      ['extract', communeDesk],
    ] as const
  ).flatMap(([which, desk]): Case[] => {
    const code = (c: Ctx) => enc(c.s[which].code);
    return [
      { route: 'GET /desk/dossiers/:code', url: (c) => `/desk/dossiers/${code(c)}`, expect: desk(200) },
      {
        route: 'GET /desk/dossiers/:code/files/:fileId',
        url: (c) => `/desk/dossiers/${code(c)}/files/${c.s[which].fileId}`,
        expect: desk(200),
      },
      {
        route: 'GET /desk/dossiers/:code/notices/:kind.pdf',
        url: (c) => `/desk/dossiers/${code(c)}/notices/supplement.pdf`,
        expect: desk(200),
      },
      {
        route: 'GET /desk/dossiers/:code/receipt.pdf',
        url: (c) => `/desk/dossiers/${code(c)}/receipt.pdf`,
        expect: desk(200),
      },
      {
        route: 'GET /desk/dossiers/:code/result.pdf',
        url: (c) => `/desk/dossiers/${code(c)}/result.pdf`,
        expect: desk(which === 'permit' ? 200 : 404),
      },
    ];
  }),
  {
    // Only the approver and the agency administrator withdraw a result; an empty reason is refused with
    // a message on the dossier page (a redirect), so nothing is withdrawn here.
    route: 'POST /desk/dossiers/:code/result/revoke',
    url: (c) => `/desk/dossiers/${permitCode(c)}/result/revoke`,
    body: form({ reason: '' }),
    expect: web({ approver: 303, agencyAdmin: 303 }),
  },
  {
    route: 'POST /desk/dossiers/:code/result/revoke',
    url: (c) => `/desk/dossiers/${extractCode(c)}/result/revoke`,
    body: form({ reason: '' }),
    expect: web({}),
  },
  {
    // "accept" with a stale version: the reception officer of the dossier's agency is allowed and told
    // that it changed meanwhile (409); nobody else may take it (403).
    route: 'POST /desk/dossiers/:code/actions/:action',
    url: (c) => `/desk/dossiers/${enc(c.s.demand.code)}/actions/accept`,
    body: form({ version: '999' }),
    expect: web({ reception: 409 }),
  },
  {
    route: 'POST /desk/dossiers/:code/actions/:action',
    url: (c) => `/desk/dossiers/${extractCode(c)}/actions/accept`,
    body: form({ version: '999' }),
    expect: web({ otherOfficer: 409 }),
  },

  // API v1: bearer tokens only.
  { route: 'GET /api/v1/openapi.json', url: () => '/api/v1/openapi.json', expect: all(200) },
  { route: 'GET /api/v1/procedures', url: () => '/api/v1/procedures', expect: all(200) },
  { route: 'GET /api/v1/stats/', url: () => '/api/v1/stats', expect: all(200) },
  { route: 'POST /api/v1/tokens', url: () => '/api/v1/tokens', body: json(), expect: all(422) },
  {
    route: 'POST /api/v1/verify',
    url: () => '/api/v1/verify',
    body: (req) => req.field('note', 'no file'),
    expect: all(422),
  },
  {
    route: 'POST /api/v1/dossiers',
    url: () => '/api/v1/dossiers',
    body: (req) => req.field('procedure', 'BQL-LD-02'),
    expect: api({ business: 422 }, 403),
  },
  {
    route: 'POST /api/v1/dossiers',
    url: () => '/api/v1/dossiers',
    body: (req) => req.field('procedure', 'XA-HT-01'),
    expect: api({ citizen: 422 }, 403),
  },
  {
    route: 'GET /api/v1/dossiers/:code',
    url: (c) => `/api/v1/dossiers/${permitCode(c)}`,
    expect: api({ business: 200, ...each(DEMO_DESK, 200) }),
  },
  {
    route: 'GET /api/v1/dossiers/:code',
    url: (c) => `/api/v1/dossiers/${extractCode(c)}`,
    expect: api({ citizen: 200, otherOfficer: 200 }),
  },
  {
    route: 'GET /api/v1/dossiers/:code/result',
    url: (c) => `/api/v1/dossiers/${permitCode(c)}/result`,
    expect: api({ business: 200, ...each(DEMO_DESK, 200) }),
  },
  {
    route: 'GET /api/v1/dossiers/:code/result',
    note: 'no result yet, for anyone',
    url: (c) => `/api/v1/dossiers/${extractCode(c)}/result`,
    expect: api({}),
  },
  {
    route: 'POST /api/v1/dossiers/:code/actions/:action',
    url: (c) => `/api/v1/dossiers/${enc(c.s.demand.code)}/actions/accept`,
    body: json({ version: 999 }),
    expect: api({ reception: 409 }, 403),
  },
  {
    route: 'POST /api/v1/dossiers/:code/actions/:action',
    url: (c) => `/api/v1/dossiers/${extractCode(c)}/actions/accept`,
    body: json({ version: 999 }),
    expect: api({ otherOfficer: 409 }, 403),
  },

  // Last: it ends each session.
  { route: 'POST /logout', url: () => '/logout', body: form(), expect: signedIn(303) },
];

describe('authorisation: every route against every role', () => {
  let t: TestApp;
  let ctx: Ctx;
  const agents = {} as Record<Role, Agent>;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    Object.assign(agents, await signInAll(t.app));
    agents.anonymous = request.agent(t.app);
    const s = await buildScenario(t, agents.business);
    // Each session's own CSRF token, from a page with a form, as a browser would have it.
    const tokens = {} as Record<Role, string>;
    tokens.anonymous = csrfFrom((await agents.anonymous.get('/login')).text);
    for (const role of Object.keys(EMAILS) as SignedInRole[])
      tokens[role] = csrfFrom((await agents[role].get('/account')).text);
    const holiday = (await t.deps
      .db('holidays')
      .where('date', '>=', '2027-01-01')
      .orderBy('date')
      .first()) as {
      date: string;
    };
    ctx = { s, csrf: (role) => tokens[role], holiday: holiday.date };
  });
  after(() => t.close());

  it('has a row for every route the app declares, and no row for a route it does not', () => {
    const declared = enumerateRoutes(t.app);
    const covered = [...new Set(CASES.map((c) => c.route))].sort();
    assert.deepEqual(
      declared.filter((r) => !covered.includes(r)),
      [],
      'routes without an expected outcome per role',
    );
    assert.deepEqual(
      covered.filter((r) => !declared.includes(r)),
      [],
      'rows for routes the app does not have',
    );
    assert.ok(declared.length > 80, `${declared.length} routes`);
  });

  it('gives each role exactly the intended outcome on each route', async (tc) => {
    const mismatches: string[] = [];
    let checks = 0;
    for (const c of CASES) {
      const [method, pattern] = c.route.split(' ') as [string, string];
      const url = c.url(ctx);
      const isApi = pattern.startsWith('/api/');
      for (const role of ROLES) {
        // The API is called as a client system does, with the role's bearer token; pages with its session.
        let req: request.Test;
        if (isApi) {
          const base = request(t.app);
          req = method === 'GET' ? base.get(url) : base.post(url);
          if (role !== 'anonymous') req.set('Authorization', `Bearer ${ctx.s.tokens[role]}`);
        } else {
          req = method === 'GET' ? agents[role].get(url) : agents[role].post(url);
        }
        if (c.body) req = c.body(req, ctx, role);
        const res = await req.redirects(0);
        const location = res.headers.location ?? '';
        const got: Outcome = res.status === 303 && location.startsWith('/login?next=') ? 'login' : res.status;
        const expected = c.expect[role];
        checks += 1;
        if (got !== expected) {
          mismatches.push(
            `${c.route}${c.note ? ` (${c.note})` : ''} as ${role}: expected ${expected}, got ${got} (${url})`,
          );
        }
        if (typeof got === 'number' && got >= 500) mismatches.push(`${c.route} as ${role}: server error`);
      }
    }
    assert.deepEqual(mismatches, []);
    assert.equal(checks, CASES.length * ROLES.length);
    tc.diagnostic(
      `${new Set(CASES.map((c) => c.route)).size} routes in ${CASES.length} cases x ${ROLES.length} roles = ${checks} checks`,
    );
  });
});
