import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { type Agent, DEMO_PASSWORD, formBody, TestDatabase, tokenFor } from '../helpers/testApp';
import { assertConsecutiveCodes, assertPapersIntact, dossierCount, inspect } from './checks';
import { apiToken, filePermitAt, loginAt, PortalProcess } from './portalProcess';
import { TcpProxy } from './tcpProxy';

/** How long a request may take to say the database is away: a few seconds, never a hang. */
const PROMPT_MS = 5000;

const onMysql = Boolean(process.env.TEST_DATABASE_URL);

/** What a user must never see: a stack, a driver's error, SQL. */
const LEAKS = /\bat [\w.<>]+ \(|node_modules|ECONNREFUSED|ECONNRESET|PROTOCOL_|knex|mysql|SELECT |Error:/i;

describe(
  'the database going away under a running portal, and coming back',
  { skip: onMysql ? false : 'MariaDB only: set TEST_DATABASE_URL (SQLite lives inside the process)' },
  () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let portal: PortalProcess;
    let citizen: Agent;
    let visitor: Agent;
    let loginToken: string;
    let business: string;
    before(async () => {
      database = await TestDatabase.create();
      const direct = new URL(database.databaseUrl!);
      proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 3306) });
      const proxied = new URL(direct);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      portal = await PortalProcess.start({ database, databaseUrl: proxied.toString() });
      citizen = await loginAt(portal.url, 'citizen@demo.gov.vn');
      business = await apiToken(portal.url, 'business@demo.gov.vn');
      // Someone with the login form open when the database goes.
      visitor = request.agent(portal.url);
      loginToken = await tokenFor(visitor, '/login');
    });
    after(async () => {
      await portal?.kill('SIGKILL');
      await proxy?.close();
      await database?.drop();
    });

    /** Waits until the same process answers /readyz with 200 again. */
    const readyAgain = async () => {
      const deadline = Date.now() + 15_000;
      while ((await request(portal.url).get('/readyz')).status !== 200) {
        assert.ok(Date.now() < deadline, 'ready again within 15 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    /** Sends a request and answers it with how long it took. */
    const timed = async <T>(send: () => PromiseLike<T>): Promise<{ res: T; ms: number }> => {
      const started = Date.now();
      const res = await send();
      return { res, ms: Date.now() - started };
    };

    const assertUnavailablePage = (res: request.Response, ms: number, what: string) => {
      assert.equal(res.status, 503, `${what}: ${res.status} ${res.text.slice(0, 500)}`);
      assert.ok(ms < PROMPT_MS, `${what} answered after ${ms} ms`);
      assert.match(res.headers['content-type'] ?? '', /text\/html/, what);
      assert.match(res.text, /Hệ thống tạm gián đoạn/, what);
      assert.doesNotMatch(res.text, LEAKS, what);
      assert.equal(res.headers['retry-after'], '30', what);
    };
    const assertUnavailableJson = (res: request.Response, ms: number, what: string) => {
      assert.equal(res.status, 503, `${what}: ${res.status} ${res.text.slice(0, 500)}`);
      assert.ok(ms < PROMPT_MS, `${what} answered after ${ms} ms`);
      assert.equal(res.body.error?.code, 'SERVICE_UNAVAILABLE', what);
      assert.doesNotMatch(res.text, LEAKS, what);
    };

    it('answers 503 promptly while the database is away, and recovers without a restart', async () => {
      // Up: the pool holds connections through the proxy.
      assert.equal((await request(portal.url).get('/readyz')).status, 200);
      assert.equal((await citizen.get('/my/dossiers')).status, 200);

      await proxy.close();
      // Twice over: the first requests meet the cut connections, the later ones a refused connect.
      for (let round = 1; round <= 2; round += 1) {
        const health = await timed(() => request(portal.url).get('/healthz'));
        assert.equal(health.res.status, 200, 'the process itself is alive');

        const ready = await timed(() => request(portal.url).get('/readyz'));
        assert.equal(ready.res.status, 503);
        assert.ok(ready.ms < PROMPT_MS, `/readyz answered after ${ready.ms} ms`);
        assert.deepEqual(ready.res.body, { status: 'unavailable', database: 'down' });

        const catalogue = await timed(() => request(portal.url).get('/procedures'));
        assertUnavailablePage(catalogue.res, catalogue.ms, `round ${round}: the catalogue`);
        // A logged-in page: the session itself cannot be read.
        const mine = await timed(() => citizen.get('/my/dossiers'));
        assertUnavailablePage(mine.res, mine.ms, `round ${round}: my dossiers`);
        const login = await timed(() =>
          visitor
            .post('/login')
            .type('form')
            .send(formBody({ _csrf: loginToken, email: 'business@demo.gov.vn', password: DEMO_PASSWORD })),
        );
        assertUnavailablePage(login.res, login.ms, `round ${round}: logging in`);

        const api = await timed(() =>
          request(portal.url).get('/api/v1/procedures').set('Authorization', `Bearer ${business}`),
        );
        assertUnavailableJson(api.res, api.ms, `round ${round}: the API catalogue`);
        const filing = await timed(() => filePermitAt(portal.url, business, `outage-${round}`));
        assertUnavailableJson(filing.res, filing.ms, `round ${round}: a filing`);
      }
      assert.ok(portal.running, 'the portal kept running');

      const before = proxy.connections;
      await proxy.open();
      await readyAgain();
      assert.ok(proxy.connections > before, 'the portal opened new connections');
      assert.equal((await request(portal.url).get('/procedures')).status, 200);
      // The session survived the outage: it lives in the database.
      const mine = await citizen.get('/my/dossiers');
      assert.equal(mine.status, 200);
      assert.match(mine.text, /Nguyễn Văn An/);
      const filed = await filePermitAt(portal.url, business, 'after-outage');
      assert.equal(filed.status, 201, JSON.stringify(filed.body));
      assert.equal((await request(portal.url).get('/api/v1/procedures')).status, 200);
      // The login form opened before the outage still works: its session was kept.
      const login = await visitor
        .post('/login')
        .type('form')
        .send(formBody({ _csrf: loginToken, email: 'business@demo.gov.vn', password: DEMO_PASSWORD }));
      assert.equal(login.status, 303);
      assert.ok(portal.running);
    });

    it('leaves each filing cut off mid-transaction whole or absent, and a retry makes it once', async (t) => {
      const inspector = await inspect(database);
      try {
        const count = () => dossierCount(inspector);
        const start = await count();
        const keys = Array.from({ length: 30 }, (_, i) => `cut-${i}`);
        // All at once; the database goes while the portal is committing them.
        let cut: Promise<void> | undefined;
        const sending = Promise.all(keys.map((key) => filePermitAt(portal.url, business, key)));
        while (!cut) {
          if ((await count()) >= start + 3) cut = proxy.close();
          else await new Promise((r) => setTimeout(r, 2));
        }
        const answers = await sending;
        await cut;
        const statuses = answers.map((r) => r.status);
        for (const res of answers) {
          assert.ok(res.status === 201 || res.status === 503, `${res.status} ${JSON.stringify(res.body)}`);
        }
        await proxy.open();
        await readyAgain();

        // No dossier lost a paper, whatever its answer was.
        const intact = await assertPapersIntact(inspector);
        const committed = (await count()) - start;
        const created = statuses.filter((s) => s === 201).length;
        t.diagnostic(
          `${created} answered 201 and ${statuses.length - created} answered 503; ${committed} committed; ` +
            `${intact.orphans.length} files on disk without a row`,
        );
        for (const res of answers.filter((r) => r.status === 201)) {
          const d = await inspector.repos.dossiers.findByCode(res.body.code as string);
          assert.equal((await inspector.repos.dossiers.files(d!.id)).length, 7);
        }
        // The applicant's system retries each with its key: one dossier each, the codes without a gap.
        const again = await Promise.all(keys.map((key) => filePermitAt(portal.url, business, key)));
        for (const [i, res] of again.entries()) {
          assert.equal(res.status, 201, JSON.stringify(res.body));
          if (answers[i]!.status === 201) assert.equal(res.body.code, answers[i]!.body.code);
        }
        assert.equal((await count()) - start, keys.length);
        assert.equal(new Set(again.map((r) => r.body.code as string)).size, keys.length);
        for (const d of (await inspector.db('dossiers').select('id', 'code')) as {
          id: number;
          code: string;
        }[]) {
          assert.equal((await inspector.repos.dossiers.files(d.id)).length, 7, `papers of ${d.code}`);
        }
        assertConsecutiveCodes((await inspector.db('dossiers').pluck('code')) as string[]);
        await assertPapersIntact(inspector);
        assert.equal((await inspector.repos.audit.verifyChain()).ok, true);
        assert.deepEqual(await inspector.statistics.check(), []);
      } finally {
        await inspector.close();
      }
    });
  },
);
