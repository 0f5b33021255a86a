import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createDb, type Db, SERVING_LIMITS } from '../../src/data/db';
import { isDatabaseUnavailable } from '../../src/middleware/errorHandler';
import { DEMO_PASSWORD, startTestApp, type TestApp } from '../helpers/testApp';

const onMysql = Boolean(process.env.TEST_DATABASE_URL);

async function sessionValue(db: Db, variable: string): Promise<number> {
  const [rows] = (await db.raw(`SELECT @@SESSION.${variable} AS v`)) as [{ v: unknown }[]];
  return Number(rows[0]?.v);
}

describe(
  'statement limits of a serving process',
  { skip: onMysql ? false : 'MariaDB/MySQL only: set TEST_DATABASE_URL (SQLite has no such waits)' },
  () => {
    let t: TestApp;
    const opened: Db[] = [];
    const open = (limits?: Parameters<typeof createDb>[1]) => {
      const db = createDb(t.deps.config.database, limits);
      opened.push(db);
      return db;
    };
    before(async () => {
      // Lock waits end after one second here, so that the test does not wait fifteen.
      t = await startTestApp({ limits: { statementSeconds: 2, lockWaitSeconds: 1 } });
    });
    after(async () => {
      await Promise.all(opened.map((db) => db.destroy()));
      await t?.close();
    });

    it('bounds the serving pool, and not the connections of migrations and the command line', async () => {
      assert.equal(await sessionValue(t.deps.db, 'innodb_lock_wait_timeout'), 1);
      assert.equal(await sessionValue(t.deps.db, 'lock_wait_timeout'), 1);
      const serving = open(SERVING_LIMITS);
      assert.equal(await sessionValue(serving, 'innodb_lock_wait_timeout'), SERVING_LIMITS.lockWaitSeconds);
      assert.equal(await sessionValue(serving, 'lock_wait_timeout'), SERVING_LIMITS.lockWaitSeconds);
      const plain = open();
      assert.notEqual(await sessionValue(plain, 'innodb_lock_wait_timeout'), SERVING_LIMITS.lockWaitSeconds);
      assert.notEqual(await sessionValue(plain, 'lock_wait_timeout'), SERVING_LIMITS.lockWaitSeconds);
    });

    it('stops a statement that runs past the bound, as a busy database, and the connection serves on', async (ctx) => {
      const [rows] = (await t.deps.db.raw('SELECT VERSION() AS v')) as [{ v: string }[]];
      // MySQL's bound stops a SELECT without an error (SLEEP answers 1): only MariaDB's is tried here.
      if (!/mariadb/i.test(rows[0]?.v ?? '')) return ctx.skip('MySQL: SLEEP is stopped without an error');
      const started = Date.now();
      await assert.rejects(t.deps.db.raw('SELECT SLEEP(10)'), (err: unknown) => {
        // ER_STATEMENT_TIMEOUT, which the driver knows by number only.
        assert.equal((err as { errno?: number }).errno, 1969);
        assert.ok(isDatabaseUnavailable(err), 'answered as a busy database (503)');
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 1900 && took < 8000, `stopped at the two-second bound, not at the end (${took} ms)`);
      const [one] = (await t.deps.db.raw('SELECT 1 AS one')) as [{ one: number }[]];
      assert.equal(Number(one[0]?.one), 1);
    });

    it('gives up a row lock held by a stuck transaction and answers 503 with Retry-After', async () => {
      const holder = open();
      const user = (await holder('users').where({ email: 'business@demo.gov.vn' }).first('id')) as {
        id: number;
      };
      const trx = await holder.transaction();
      try {
        // Another process's transaction holds the account's row (a login writes its last login time).
        await trx('users').where({ id: user.id }).forUpdate().first('id');
        const started = Date.now();
        const res = await request(t.app)
          .post('/api/v1/tokens')
          .send({ email: 'business@demo.gov.vn', password: DEMO_PASSWORD });
        const took = Date.now() - started;
        assert.equal(res.status, 503, res.text);
        assert.equal(res.headers['retry-after'], '30');
        assert.doesNotMatch(res.text, /lock wait|ER_LOCK|SQL/i, 'no SQL message reaches the client');
        assert.ok(
          took < 8000,
          `answered at the one-second lock bound, not at the server's 50 s (${took} ms)`,
        );
      } finally {
        await trx.rollback();
      }
      // The lock gone, the same login goes through.
      const res = await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'business@demo.gov.vn', password: DEMO_PASSWORD });
      assert.equal(res.status, 201, res.text);
    });
  },
);
