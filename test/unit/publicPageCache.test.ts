import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { lazySession } from '../../src/middleware/lazySession';
import { PAGE_CACHE_HEADER, publicPageCache } from '../../src/middleware/publicPageCache';

/** An app whose pages count their renderings; `/with-session` stands for a page that made a session
 * (a form with a CSRF token). */
function appWith(opts: { now: () => number; generation?: () => number; maxEntries?: number }) {
  const rendered = new Map<string, number>();
  const app = express();
  app.use((req, _res, next) => {
    req.lang = req.headers['accept-language'] === 'en' ? 'en' : 'vi';
    next();
  });
  // A session store that makes an empty session, behind the portal's lazySession.
  app.use(
    lazySession((req, _res, next) => {
      (req as unknown as { session: object }).session = {};
      next();
    }, 'portal.sid'),
  );
  app.use(
    publicPageCache({
      paths: /^\/(?:page|missing|big|cookie|no-store|with-session)$/,
      ttlMs: 5000,
      maxEntries: opts.maxEntries ?? 100,
      maxLength: 1000,
      generation: opts.generation ?? (() => 0),
      now: opts.now,
    }),
  );
  const count = (key: string) => {
    const n = (rendered.get(key) ?? 0) + 1;
    rendered.set(key, n);
    return n;
  };
  app.get('/with-session', (req, res) => {
    (req.session as unknown as { seen?: boolean }).seen = true;
    res.send(`with a session ${count('with-session')}`);
  });
  app.get('/page', (req, res) => {
    res.send(`${req.lang} ${String(req.query.q ?? '')} rendering ${count(`${req.lang}${req.originalUrl}`)}`);
  });
  app.get('/missing', (req, res) => res.status(404).send(`not here ${count('missing')}`));
  app.get('/big', (_req, res) => res.send('x'.repeat(2000) + count('big')));
  app.get('/cookie', (_req, res) => res.cookie('a', 'b').send(`cookie ${count('cookie')}`));
  app.get('/no-store', (_req, res) => res.set('Cache-Control', 'no-store').send(`ns ${count('ns')}`));
  app.get('/elsewhere', (_req, res) => res.send(`elsewhere ${count('elsewhere')}`));
  return app;
}

describe('the cache of public pages seen without a session', () => {
  it('serves a page again until it is older than its time, then renders it anew', async () => {
    let now = 1000;
    const app = appWith({ now: () => now });
    const first = await request(app).get('/page');
    assert.equal(first.text, 'vi  rendering 1');
    assert.equal(first.headers[PAGE_CACHE_HEADER.toLowerCase()], 'miss');
    now += 4999;
    const again = await request(app).get('/page');
    assert.equal(again.text, 'vi  rendering 1');
    assert.equal(again.headers[PAGE_CACHE_HEADER.toLowerCase()], 'hit');
    assert.match(String(again.headers['content-type']), /text\/html/);
    now += 1;
    assert.equal((await request(app).get('/page')).text, 'vi  rendering 2');
  });

  it('keeps each language and each address apart', async () => {
    const app = appWith({ now: () => 0 });
    assert.equal((await request(app).get('/page?q=a')).text, 'vi a rendering 1');
    assert.equal((await request(app).get('/page?q=b')).text, 'vi b rendering 1');
    assert.equal((await request(app).get('/page?q=a').set('Accept-Language', 'en')).text, 'en a rendering 1');
    assert.equal((await request(app).get('/page?q=a')).text, 'vi a rendering 1');
    assert.equal((await request(app).get('/page?q=a').set('Accept-Language', 'en')).text, 'en a rendering 1');
  });

  it('neither serves nor keeps a page for a visitor with a session', async () => {
    const app = appWith({ now: () => 0 });
    await request(app).get('/page');
    const withSession = await request(app).get('/page').set('Cookie', 'portal.sid=s%3Aabc');
    assert.equal(withSession.text, 'vi  rendering 2');
    assert.equal(withSession.headers[PAGE_CACHE_HEADER.toLowerCase()], undefined);
    assert.equal((await request(app).get('/page')).text, 'vi  rendering 1');
  });

  it('keeps no error page, no page that set a cookie or said no-store, nothing too long, nothing elsewhere', async () => {
    const app = appWith({ now: () => 0 });
    for (const [path, first, second] of [
      ['/missing', 'not here 1', 'not here 2'],
      ['/cookie', 'cookie 1', 'cookie 2'],
      ['/no-store', 'ns 1', 'ns 2'],
      ['/with-session', 'with a session 1', 'with a session 2'],
      ['/elsewhere', 'elsewhere 1', 'elsewhere 2'],
    ] as const) {
      assert.equal((await request(app).get(path)).text, first, path);
      assert.equal((await request(app).get(path)).text, second, path);
    }
    assert.match((await request(app).get('/big')).text, /1$/);
    assert.match((await request(app).get('/big')).text, /2$/);
    assert.equal((await request(app).post('/page')).status, 404, 'only GET and HEAD');
  });

  it('renders anew once the generation moved, even a page kept just before', async () => {
    let generation = 0;
    const app = appWith({ now: () => 0, generation: () => generation });
    await request(app).get('/page');
    assert.equal((await request(app).get('/page')).text, 'vi  rendering 1');
    generation++;
    assert.equal((await request(app).get('/page')).text, 'vi  rendering 2');
    assert.equal((await request(app).get('/page')).text, 'vi  rendering 2');
  });

  it('keeps at most so many pages, letting the oldest go', async () => {
    const app = appWith({ now: () => 0, maxEntries: 2 });
    for (const q of ['a', 'b', 'c']) await request(app).get(`/page?q=${q}`);
    assert.equal((await request(app).get('/page?q=c')).text, 'vi c rendering 1');
    assert.equal((await request(app).get('/page?q=b')).text, 'vi b rendering 1');
    assert.equal((await request(app).get('/page?q=a')).text, 'vi a rendering 2', 'the oldest went');
  });

  it('answers a conditional request with 304 from the kept page', async () => {
    const app = appWith({ now: () => 0 });
    const first = await request(app).get('/page');
    const etag = first.headers.etag as string;
    assert.ok(etag);
    const second = await request(app).get('/page').set('If-None-Match', etag);
    assert.equal(second.status, 304);
  });
});
