import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { requestLog } from '../../src/middleware/requestLog';

function appLogging(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const app = express();
  app.use(requestLog(pino({ level }, sink)));
  app.get('/healthz', (_req, res) => res.send('ok'));
  app.get('/lookup', (req, res) => res.send(`id ${req.id}`));
  app.get('/boom', (_req, res) => res.status(500).send('no'));
  return { app, lines };
}

describe('request log', () => {
  it('answers each request with an id, the caller’s own when it looks like one', async () => {
    const { app } = appLogging('info');
    const mine = await request(app).get('/lookup').set('X-Request-Id', 'lb-1234567890');
    assert.equal(mine.headers['x-request-id'], 'lb-1234567890');
    assert.equal(mine.text, 'id lb-1234567890');
    for (const hostile of ['short', 'a'.repeat(65), 'evil\u0000id-123456', '<script>alert(1)</script>']) {
      const res = await request(app).get('/lookup').set('X-Request-Id', encodeURIComponent(hostile));
      assert.match(res.headers['x-request-id']!, /^[0-9a-f-]{36}$/, hostile);
    }
  });

  it('logs one line per request with method, path, status and time, without secrets or headers', async () => {
    const { app, lines } = appLogging('info');
    await request(app)
      .get('/lookup?code=000.00.12.H10-261123-0001&secret=ABCD2345&token=t0k')
      .set('Cookie', 'portal.sid=s%3Asecret-session')
      .set('Authorization', 'Bearer pat_secret');
    await request(app).get('/boom');
    await request(app).get('/healthz');
    assert.equal(lines.length, 2, 'the health checks are not logged');
    const [lookup, boom] = lines as { req: Record<string, string>; res: { status: number }; msg: string }[];
    assert.equal(lookup!.req.method, 'GET');
    assert.equal(
      lookup!.req.url,
      '/lookup?code=000.00.12.H10-261123-0001&secret=[redacted]&token=[redacted]',
    );
    assert.equal(lookup!.res.status, 200);
    assert.equal(typeof (lookup as unknown as { responseTime: number }).responseTime, 'number');
    assert.equal(boom!.res.status, 500);
    assert.equal(boom!.msg, 'request errored');
    const text = JSON.stringify(lines);
    assert.doesNotMatch(text, /ABCD2345|t0k|secret-session|pat_secret/);
  });

  it('writes nothing when the level is off', async () => {
    const { app, lines } = appLogging('silent');
    const res = await request(app).get('/lookup');
    assert.match(res.headers['x-request-id']!, /^[0-9a-f-]{36}$/);
    assert.equal(lines.length, 0);
  });
});
