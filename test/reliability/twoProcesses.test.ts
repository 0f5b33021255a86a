import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { csrfFrom, DEMO_PASSWORD, formBody, sessionCookie, TestDatabase } from '../helpers/testApp';
import { assertConsecutiveCodes, inspect } from './checks';
import { actAt, apiToken, filePermitAt, PortalProcess } from './portalProcess';

const onMysql = Boolean(process.env.TEST_DATABASE_URL);
const PIN = '123456';
const HOUR = 3_600_000;

/** Logs in through the form of one process; answers the session cookie. */
async function loginCookie(baseUrl: string, email: string): Promise<string> {
  const page = await request(baseUrl).get('/login');
  const anonymous = sessionCookie(page);
  assert.ok(anonymous, 'the login page starts a session for its CSRF token');
  const res = await request(baseUrl)
    .post('/login')
    .set('Cookie', anonymous)
    .type('form')
    .send(formBody({ _csrf: csrfFrom(page.text), email, password: DEMO_PASSWORD }));
  assert.equal(res.status, 303, `login of ${email}`);
  // The session id is regenerated at login.
  return sessionCookie(res) ?? anonymous;
}

describe(
  'two portal processes sharing one MariaDB database',
  { skip: onMysql ? false : 'MariaDB only: set TEST_DATABASE_URL (SQLite serves one process)' },
  () => {
    let database: TestDatabase;
    let a: PortalProcess;
    let b: PortalProcess;
    let inspector: Awaited<ReturnType<typeof inspect>>;
    const tokens: Record<string, string> = {};
    before(async () => {
      database = await TestDatabase.create();
      // The first migrates and seeds; the second finds both done.
      a = await PortalProcess.start({ database });
      b = await PortalProcess.start({ database });
      inspector = await inspect(database);
      for (const who of ['business', 'citizen', 'reception', 'specialist', 'approver', 'clerk']) {
        tokens[who] = await apiToken(a.url, `${who}@demo.gov.vn`);
      }
    });
    after(async () => {
      await inspector?.close();
      await Promise.all([a?.kill('SIGKILL'), b?.kill('SIGKILL')]);
      await database?.drop();
    });
    /** Alternates between the two processes, as a load balancer would. */
    const either = (i: number) => (i % 2 === 0 ? a : b).url;

    it('starts two processes at once on a database that needs migrating: one migrates, the other waits', async () => {
      const fresh = await TestDatabase.create();
      try {
        // A deploy: both processes come up together. (Without demo data: seeding is for development,
        // and two processes seeding one empty database at once is not a case the seed handles.)
        const both = await Promise.all(
          [1, 2].map(() => PortalProcess.start({ database: fresh, env: { SEED_DEMO_DATA: 'false' } })),
        );
        await Promise.all(both.map((p) => p.stop()));
        const db = await inspect(fresh);
        try {
          const names = (await db.db('knex_migrations').pluck('name')) as string[];
          assert.equal(new Set(names).size, names.length, 'each migration applied once');
          assert.ok(names.length > 0);
        } finally {
          await db.close();
        }
      } finally {
        await fresh.drop();
      }
    });

    it('keeps a session made on one process valid on the other, CSRF token included', async () => {
      const cookie = await loginCookie(a.url, 'citizen@demo.gov.vn');
      const onB = await request(b.url).get('/my/dossiers').set('Cookie', cookie);
      assert.equal(onB.status, 200);
      assert.match(onB.text, /Nguyễn Văn An/);
      // A form served by A, posted to B: the CSRF secret is in the shared session.
      const page = await request(a.url).get('/my/dossiers').set('Cookie', cookie);
      const logout = await request(b.url)
        .post('/logout')
        .set('Cookie', cookie)
        .type('form')
        .send(formBody({ _csrf: csrfFrom(page.text) }));
      assert.equal(logout.status, 303);
      // Logged out on B is logged out on A.
      const afterwards = await request(a.url).get('/my/dossiers').set('Cookie', cookie);
      assert.equal(afterwards.status, 303);
      assert.match(afterwards.headers.location ?? '', /^\/login/);
    });

    it('gives concurrent filings on both processes unique, consecutive codes per agency and day', async () => {
      const permits = Array.from({ length: 40 }, (_, i) =>
        filePermitAt(either(i), tokens.business!, `two-permit-${i}`),
      );
      const extracts = Array.from({ length: 20 }, (_, i) => {
        const req = request(either(i + 1))
          .post('/api/v1/dossiers')
          .set('Authorization', `Bearer ${tokens.citizen}`)
          .set('Idempotency-Key', `two-extract-${i}`)
          .field('procedure', 'XA-HT-01');
        const fields = {
          extractType: 'BIRTH',
          subjectName: 'Nguyễn Văn An',
          subjectBirthDate: '1990-05-12',
          relationship: 'SELF',
          copies: '1',
        };
        for (const [k, v] of Object.entries(fields)) req.field(k, v);
        return req;
      });
      const answers = await Promise.all([...permits, ...extracts]);
      for (const res of answers) assert.equal(res.status, 201, JSON.stringify(res.body));
      const codes = answers.map((r) => r.body.code as string);
      assert.equal(new Set(codes).size, codes.length);
      assert.equal(codes.filter((c) => c.startsWith('000.00.12.H10-')).length, 40);
      assert.equal(codes.filter((c) => c.startsWith('000.20.21.H10-')).length, 20);
      assertConsecutiveCodes((await inspector.db('dossiers').whereNotNull('code').pluck('code')) as string[]);
    });

    it('numbers concurrent releases on both processes uniquely and consecutively', async () => {
      const specialist = (await inspector.repos.users.findByEmail('specialist@demo.gov.vn'))!.id;
      const codes: string[] = [];
      for (let i = 0; i < 8; i += 1) {
        const filed = await filePermitAt(either(i), tokens.business!, `two-release-${i}`);
        assert.equal(filed.status, 201);
        const code = filed.body.code as string;
        const steps: [string, string, object][] = [
          ['reception', 'accept', {}],
          ['reception', 'assign', { assignee: specialist }],
          ['specialist', 'propose_approval', {}],
          ['approver', 'approve', { pin: PIN }],
        ];
        for (const [j, [who, action, body]] of steps.entries()) {
          const res = await actAt(either(i + j), tokens[who]!, code, action, body);
          assert.equal(res.status, 200, `${action} ${code}: ${JSON.stringify(res.body)}`);
        }
        codes.push(code);
      }
      // All at once, spread over both processes. A seal key checks at most five PINs at a time
      // (see PkiService.openSigner): a release refused as busy leaves the dossier approved, and the
      // clerk sends it again, as the page tells them to.
      let waiting = [...codes];
      let busy = 0;
      for (let round = 0; waiting.length > 0; round += 1) {
        assert.ok(round < 10, `still not released: ${waiting.join(', ')}`);
        const answers = await Promise.all(
          waiting.map((code, i) => actAt(either(i + round), tokens.clerk!, code, 'release', { pin: PIN })),
        );
        const next: string[] = [];
        for (const [i, res] of answers.entries()) {
          if (res.status === 200) continue;
          assert.equal(res.status, 409, JSON.stringify(res.body));
          const d = await inspector.repos.dossiers.findByCode(waiting[i]!);
          assert.equal(d?.status, 'APPROVED', 'a refused release left the dossier as it was');
          busy += 1;
          next.push(waiting[i]!);
        }
        waiting = next;
      }
      const numbers: number[] = [];
      for (const code of codes) {
        const d = (await inspector.repos.dossiers.findByCode(code))!;
        assert.equal(d.status, 'RESULT_READY');
        const events = (await inspector.repos.dossiers.events(d.id)).filter((e) => e.action === 'release');
        assert.equal(events.length, 1, `one release of ${code}`);
        const result = (await inspector.repos.results.latestForDossier(d.id))!;
        assert.equal(result.status, 'ISSUED');
        assert.equal(result.symbol, `${result.number}/GP-BQL`);
        numbers.push(result.number!);
      }
      assert.deepEqual(
        [...numbers].sort((x, y) => x - y),
        codes.map((_, i) => i + 1),
        `register numbers ${numbers.join(', ')} (${busy} releases refused as busy and sent again)`,
      );
    });

    it('runs the overdue job in one process when both find it due', async () => {
      // Both processes stop; a few dossiers pass their due date meanwhile.
      await Promise.all([a.stop(), b.stop()]);
      assert.equal(
        (await inspector.db('job_leases').where({ name: 'overdue-dossiers' })).length,
        0,
        'a clean stop gave the lease back',
      );
      const late = (await inspector
        .db('dossiers')
        .where({ status: 'SUBMITTED' })
        .where('code', 'like', '000.00.12.H10-%')
        .orderBy('id')
        .limit(10)
        .pluck('id')) as number[];
      assert.equal(late.length, 10);
      await inspector
        .db('dossiers')
        .whereIn('id', late)
        .update({ due_at: new Date(Date.now() - HOUR) });

      // Both start at once, and each runs its jobs at start: the job is due in both.
      [a, b] = await Promise.all([
        PortalProcess.start({ database, port: a.port, logLevel: 'info' }),
        PortalProcess.start({ database, port: b.port, logLevel: 'info' }),
      ]);
      const marked = () => inspector.db('dossiers').whereIn('id', late).whereNotNull('overdue_at');
      const deadline = Date.now() + 20_000;
      while ((await marked()).length < late.length) {
        assert.ok(Date.now() < deadline, 'the overdue job ran');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Time for a second run to do harm, had one started.
      await new Promise((r) => setTimeout(r, 1500));

      const codes = (await marked().pluck('code')) as string[];
      for (const code of codes) {
        const audit = await inspector.db('audit_log').where({ action: 'DOSSIER_OVERDUE', subject_id: code });
        assert.equal(audit.length, 1, `one overdue record of ${code}`);
      }
      const approver = (await inspector.repos.users.findByEmail('approver@demo.gov.vn'))!.id;
      for (const id of late) {
        const mail = (await inspector.db('outbox').where('dedupe_key', 'like', `overdue:${id}:%`)) as {
          dedupe_key: string;
        }[];
        // Unassigned: the agency's approver alone hears of it, once.
        assert.deepEqual(
          mail.map((m) => m.dedupe_key.replace(/:\d+:(\d+)$/, ':DUE:$1')),
          [`overdue:${id}:DUE:${approver}`],
        );
      }
      assert.equal((await inspector.repos.audit.verifyChain()).ok, true);
      // One process holds the lease and did the work; the other did nothing.
      const lease = (await inspector.leases.find('overdue-dossiers'))!;
      const holder = [a, b].find((p) => lease.holder.includes(`:${p.pid}:`));
      assert.ok(holder, `the lease is held by one of the two (${lease.holder})`);
      const ran = [a, b].map((p) => (p.logs().match(/"msg":"dossiers marked overdue"/g) ?? []).length);
      assert.deepEqual(ran, holder === a ? [1, 0] : [0, 1], 'the job marked dossiers in one process');
      assert.match(holder.logs(), /"marked":10,"msg":"dossiers marked overdue"/);
    });
  },
);
