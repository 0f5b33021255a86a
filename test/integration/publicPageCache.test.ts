import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { PAGE_CACHE_HEADER } from '../../src/middleware/publicPageCache';
import { workPermit } from '../../src/services/catalogue/workPermit';
import { login, sessionCookie, startTestApp, type TestApp } from '../helpers/testApp';

const cacheOf = (res: { headers: Record<string, unknown> }) => res.headers[PAGE_CACHE_HEADER.toLowerCase()];

describe('public pages kept for visitors without a session', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('serves home, the catalogue and a procedure again without reading them anew', async () => {
    for (const path of [
      '/',
      '/procedures',
      '/procedures?q=lao%20%C4%91%E1%BB%99ng',
      '/procedures/BQL-LD-02',
    ]) {
      const first = await request(t.app).get(path);
      assert.equal(first.status, 200, path);
      assert.equal(cacheOf(first), 'miss', path);
      let queries = 0;
      const count = () => queries++;
      t.deps.db.on('query', count);
      const again = await request(t.app).get(path);
      t.deps.db.off('query', count);
      assert.equal(cacheOf(again), 'hit', path);
      assert.equal(again.text, first.text, path);
      assert.equal(queries, 0, `${path} is served without the database`);
      assert.equal(sessionCookie(again), undefined, path);
      assert.ok(again.headers['content-security-policy'], 'the usual headers still go with it');
    }
  });

  it('keeps the English page apart from the Vietnamese one', async () => {
    const vi = await request(t.app).get('/procedures/BQL-LD-02');
    const en = await request(t.app).get('/procedures/BQL-LD-02').set('Cookie', 'lang=en');
    assert.match(vi.text, /<html lang="vi"/);
    assert.match(en.text, /<html lang="en"/);
  });

  it('never serves a kept page to someone logged in, nor keeps theirs', async () => {
    const business = await login(t.app, 'business@demo.gov.vn');
    const mine = await business.get('/procedures/BQL-LD-02');
    assert.equal(cacheOf(mine), undefined);
    assert.match(mine.text, /Đăng xuất/);
    const anonymous = await request(t.app).get('/procedures/BQL-LD-02');
    assert.doesNotMatch(anonymous.text, /Đăng xuất/);
  });

  it('does not keep a procedure that does not exist', async () => {
    const first = await request(t.app).get('/procedures/NOPE');
    const again = await request(t.app).get('/procedures/NOPE');
    assert.equal(again.status, 404);
    assert.notEqual(cacheOf(first), 'hit');
    assert.notEqual(cacheOf(again), 'hit');
  });

  it('shows a newly published version at once', async () => {
    await request(t.app).get('/procedures/BQL-LD-02');
    assert.equal(cacheOf(await request(t.app).get('/procedures/BQL-LD-02')), 'hit');
    await t.deps.procedures.publish({ ...workPermit, timeLimit: { amount: 9, unit: 'WORKING_DAYS' } }, null);
    const after = await request(t.app).get('/procedures/BQL-LD-02');
    assert.equal(cacheOf(after), 'miss');
    assert.match(after.text, /9 ngày làm việc/);
  });
});
