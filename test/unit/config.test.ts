import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';

describe('config', () => {
  it('has development defaults: SQLite under ./storage, port 3000, demo data', () => {
    const c = loadConfig({});
    assert.equal(c.env, 'development');
    assert.equal(c.port, 3000);
    assert.equal(c.database.client, 'sqlite');
    assert.ok(
      c.database.client === 'sqlite' && c.database.filename.endsWith(path.join('storage', 'portal.sqlite')),
    );
    assert.equal(c.seedDemoData, true);
    assert.equal(c.secureCookies, false);
  });
  it('picks MySQL from DATABASE_URL', () => {
    const c = loadConfig({ DATABASE_URL: 'mysql://root@127.0.0.1:3306/portal' });
    assert.deepEqual(c.database, { client: 'mysql', url: 'mysql://root@127.0.0.1:3306/portal' });
  });
  it('stops in production without a session secret, naming it', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production' }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /SESSION_SECRET/);
        return true;
      },
    );
  });
  it('never seeds demo data in production and uses secure cookies there', () => {
    const c = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), SEED_DEMO_DATA: 'true' });
    assert.equal(c.seedDemoData, false);
    assert.equal(c.secureCookies, true);
  });
  it('names every bad variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'postgres://x', SESSION_SECRET: 'short' }),
      (err: Error) =>
        /PORT/.test(err.message) && /DATABASE_URL/.test(err.message) && /SESSION_SECRET/.test(err.message),
    );
  });
});
