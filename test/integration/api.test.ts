import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { samplePdf, WORK_DEMAND } from '../helpers/fixtures';
import { DEMO_PASSWORD, login, postForm, startTestApp, type TestApp } from '../helpers/testApp';

describe('API v1', () => {
  let t: TestApp;
  let businessToken: string;
  let citizenToken: string;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock('2026-11-23T02:00:00.000Z') });
  });
  after(() => t.close());

  const token = async (email: string, password = DEMO_PASSWORD) => {
    const res = await request(t.app).post('/api/v1/tokens').send({ email, password });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.token as string;
  };

  const file = (tok: string, key?: string) => {
    const req = request(t.app)
      .post('/api/v1/dossiers')
      .set('Authorization', `Bearer ${tok}`)
      .field('procedure', 'BQL-LD-01');
    if (key) req.set('Idempotency-Key', key);
    for (const [k, v] of Object.entries(WORK_DEMAND)) req.field(k, v);
    return req.attach('demand-report', samplePdf(), 'bao-cao.pdf');
  };

  it('gives a token for good credentials, and one answer for every bad one', async () => {
    businessToken = await token('business@demo.gov.vn');
    assert.match(businessToken, /^dvc_[\w-]{43}$/);
    citizenToken = await token('citizen@demo.gov.vn');
    const wrong = await request(t.app)
      .post('/api/v1/tokens')
      .send({ email: 'business@demo.gov.vn', password: 'x' });
    const unknown = await request(t.app)
      .post('/api/v1/tokens')
      .send({ email: 'no@demo.gov.vn', password: 'x' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    const missing = await request(t.app).post('/api/v1/tokens').send({});
    assert.equal(missing.status, 422);
    assert.deepEqual(Object.keys(missing.body.error.fields).sort(), ['email', 'password']);
    const stored = (await t.deps.db('api_tokens').select('token_hash')) as { token_hash: string }[];
    assert.ok(
      stored.every((r) => !r.token_hash.includes(businessToken)),
      'only hashes are stored',
    );
  });

  it('describes itself at /api/v1/openapi.json', async () => {
    const res = await request(t.app).get('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, '3.1.0');
    for (const p of [
      '/tokens',
      '/procedures',
      '/dossiers',
      '/dossiers/{code}',
      '/dossiers/{code}/actions/{action}',
    ])
      assert.ok(res.body.paths[p], p);
  });

  it('lists the catalogue with fields and papers', async () => {
    const res = await request(t.app).get('/api/v1/procedures');
    assert.equal(res.status, 200);
    const permit = (
      res.body as {
        code: string;
        fields: unknown[];
        papers: { code: string }[];
        timeLimit: unknown;
        fee: { amount: number };
      }[]
    ).find((p) => p.code === 'BQL-LD-02')!;
    assert.deepEqual(permit.timeLimit, { amount: 5, unit: 'WORKING_DAYS' });
    assert.equal(permit.fee.amount, 600000);
    assert.ok(permit.papers.some((p) => p.code === 'passport'));
    const en = await request(t.app).get('/api/v1/procedures').set('Accept-Language', 'en');
    assert.match(JSON.stringify(en.body), /Work permit for a foreign worker/);
  });

  it('files a dossier by multipart, idempotently, and reads it back', async () => {
    const res = await file(businessToken, 'erp-order-7781');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.code, '000.00.12.H10-261123-0001');
    assert.equal(res.body.status, 'SUBMITTED');
    assert.match(res.body.secret, /^[A-Z2-9]{8}$/);
    assert.equal(res.body.dueAt, '2026-12-07T02:00:00.000Z', 'ten working days from Monday 09:00');
    const again = await file(businessToken, 'erp-order-7781');
    assert.equal(again.status, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.body.code, res.body.code);
    assert.equal(Number(((await t.deps.db('dossiers').count({ n: '*' }).first()) as { n: number }).n), 1);

    const read = await request(t.app)
      .get(`/api/v1/dossiers/${encodeURIComponent(res.body.code)}`)
      .set('Authorization', `Bearer ${businessToken}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'SUBMITTED');
    assert.equal(read.body.history[0].action, 'SUBMIT');
    assert.equal(read.body.papers[0].paper, 'demand-report');
  });

  it('checks the form by the same rules as the pages, by field', async () => {
    const res = await request(t.app)
      .post('/api/v1/dossiers')
      .set('Authorization', `Bearer ${businessToken}`)
      .field('procedure', 'BQL-LD-02')
      .field('passportNumber', 'abc');
    assert.equal(res.status, 422);
    assert.equal(
      res.body.error.fields.passportNumber,
      'Số hộ chiếu gồm 6 đến 12 chữ cái in hoa hoặc chữ số.',
    );
    assert.equal(res.body.error.fields['paper-passport'], 'Vui lòng đính kèm giấy tờ này.');
    const none = await request(t.app)
      .post('/api/v1/dossiers')
      .set('Authorization', `Bearer ${businessToken}`)
      .field('x', 'y');
    assert.equal(none.status, 422);
    assert.ok(none.body.error.fields.procedure);
  });

  it("lets only the applicant and the agency's officers read a dossier", async () => {
    const code = '000.00.12.H10-261123-0001';
    const asCitizen = await request(t.app)
      .get(`/api/v1/dossiers/${code}`)
      .set('Authorization', `Bearer ${citizenToken}`);
    assert.equal(asCitizen.status, 404);
    const reception = await token('reception@demo.gov.vn');
    assert.equal(
      (await request(t.app).get(`/api/v1/dossiers/${code}`).set('Authorization', `Bearer ${reception}`))
        .status,
      200,
    );
    const otherAgency = await token('reception.tp@demo.gov.vn');
    assert.equal(
      (await request(t.app).get(`/api/v1/dossiers/${code}`).set('Authorization', `Bearer ${otherAgency}`))
        .status,
      404,
    );
    assert.equal((await request(t.app).get(`/api/v1/dossiers/${code}`)).status, 401);
    assert.equal(
      (await request(t.app).get(`/api/v1/dossiers/${code}`).set('Authorization', 'Bearer dvc_nope')).status,
      401,
    );
    assert.equal((await file(citizenToken)).status, 403, 'a citizen may not file a business procedure');
  });

  it('ignores session cookies: a logged-in browser cannot call the API without a token', async () => {
    const agent = await login(t.app, 'business@demo.gov.vn');
    assert.equal((await agent.get('/api/v1/dossiers/000.00.12.H10-261123-0001')).status, 401);
  });

  it('makes and revokes tokens on the account page', async () => {
    const agent = await login(t.app, 'citizen@demo.gov.vn');
    const made = await postForm(agent, '/account/tokens', '/account/tokens', { name: 'Máy tính ở nhà' });
    assert.equal(made.status, 201);
    const tok = /<code class="token">([^<]+)<\/code>/.exec(made.text)![1]!;
    assert.equal(
      (await request(t.app).get('/api/v1/procedures').set('Authorization', `Bearer ${tok}`)).status,
      200,
    );
    const readable = await request(t.app).get('/api/v1/dossiers/none').set('Authorization', `Bearer ${tok}`);
    assert.equal(readable.status, 404);
    const row = (await t.deps.db('api_tokens').where({ name: 'Máy tính ở nhà' }).first()) as { id: number };
    const revoked = await postForm(agent, '/account/tokens', `/account/tokens/${row.id}/revoke`, {});
    assert.equal(revoked.status, 303);
    assert.equal(
      (await request(t.app).get('/api/v1/dossiers/none').set('Authorization', `Bearer ${tok}`)).status,
      401,
    );
    const page = await agent.get('/account/tokens');
    assert.doesNotMatch(page.text, new RegExp(tok), 'a token is shown only once');
  });
});
