import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express, { Router } from 'express';
import request from 'supertest';
import { only } from '../../src/middleware/only';

describe('a group of routes that runs only for its paths', () => {
  const seen: string[] = [];
  const group = Router();
  group.use((req, _res, next) => {
    seen.push(req.path);
    next();
  });
  group.get('/desk', (_req, res) => res.send('desk'));
  group.get('/desk/dossiers/:code', (req, res) => res.send(`dossier ${req.params.code}`));
  group.get('/language', (_req, res) => res.send('language'));
  const app = express();
  app.use(only(['/desk/*', '/language'], group));
  app.use((_req, res) => res.status(404).send('elsewhere'));

  it('serves its paths as express would match them: any case, a trailing slash', async () => {
    for (const [path, text] of [
      ['/desk', 'desk'],
      ['/desk/', 'desk'],
      ['/DESK', 'desk'],
      ['/desk/dossiers/A-1', 'dossier A-1'],
      ['/Desk/Dossiers/A-1/', 'dossier A-1'],
      ['/language', 'language'],
      ['/language/', 'language'],
    ]) {
      const res = await request(app).get(path!);
      assert.equal(res.text, text, path);
    }
  });

  it('lets every other path go on without running the group', async () => {
    seen.length = 0;
    for (const path of ['/', '/desktop', '/language/x', '/my/desk', '/lookup?next=/desk']) {
      assert.equal((await request(app).get(path)).text, 'elsewhere', path);
    }
    assert.deepEqual(seen, []);
  });

  it('keeps the routes listable', () => {
    const handler = only(['/desk/*'], group) as unknown as { stack: unknown[] };
    assert.equal(handler.stack, (group as unknown as { stack: unknown[] }).stack);
  });
});
