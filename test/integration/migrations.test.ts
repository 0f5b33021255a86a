import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { migrateToLatest, rollbackLast } from '../../src/data/db';
import { applicantSearchKeys } from '../../src/data/searchText';
import { filePermitByApi } from '../helpers/fixtures';
import { DEMO_PASSWORD, startTestApp, type TestApp } from '../helpers/testApp';

describe('migrations on a database that holds dossiers', () => {
  let t: TestApp;
  let code: string;

  before(async () => {
    t = await startTestApp();
    const token = (
      await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'business@demo.gov.vn', password: DEMO_PASSWORD })
    ).body.token as string;
    code = await filePermitByApi(t.app, token);
  });
  after(async () => {
    await t.close();
  });

  const keysOf = async (dossierCode: string) => {
    const d = await t.deps.repos.dossiers.findByCode(dossierCode);
    const rows = (await t.deps
      .db('dossier_name_keys')
      .where({ dossier_id: d!.id })
      .orderBy('name_key')
      .select('agency_id', 'name_key')) as { agency_id: number; name_key: string }[];
    return { dossier: d!, rows };
  };

  it('gives the dossiers filed before the name search their keys, the same ones a filing writes', async () => {
    const filed = await keysOf(code);
    const expected = applicantSearchKeys(filed.dossier.applicant).sort();
    assert.deepEqual(
      filed.rows.map((r) => r.name_key),
      expected,
    );
    assert.ok(expected.includes('quang minh') && expected.includes('tran thi binh'));
    assert.ok(expected.includes('2400123458'), 'the tax code');

    await rollbackLast(t.deps.db); // the office hours
    await rollbackLast(t.deps.db);
    assert.equal(await t.deps.db.schema.hasTable('dossier_name_keys'), false);
    await migrateToLatest(t.deps.db);
    const backfilled = await keysOf(code);
    assert.deepEqual(backfilled.rows, filed.rows);
    assert.ok(backfilled.rows.every((r) => Number(r.agency_id) === filed.dossier.agencyId));
  });

  it('undoes the search indexes and the office hours and makes them again, more than once', async () => {
    for (let round = 0; round < 2; round++) {
      await rollbackLast(t.deps.db);
      assert.equal(await t.deps.db.schema.hasTable('working_time'), false);
      await rollbackLast(t.deps.db);
      assert.equal(await t.deps.db.schema.hasTable('dossier_name_keys'), false);
      assert.deepEqual(await migrateToLatest(t.deps.db), [
        '20261123180000_add_dossier_search_indexes',
        '20261124100000_create_working_time',
      ]);
    }
    // The office hours come back as the portal shipped them.
    assert.equal((await t.deps.repos.holidays.workingTime()).settings.morningStart, '07:30');
    assert.equal((await keysOf(code)).rows.length > 0, true);
  });
});
