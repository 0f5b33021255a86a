import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { filePermitByApi } from '../helpers/fixtures';
import { DEMO_PASSWORD, startTestApp, type TestApp } from '../helpers/testApp';

const DAY = 86_400_000;

describe('stray files: stored files no row names are removed a day after they were written', () => {
  let t: TestApp;
  const clock = new FixedClock('2026-11-23T02:00:00.000Z');
  before(async () => {
    t = await startTestApp({ clock });
  });
  after(async () => {
    await t.close();
  });

  it('removes old files no row names, and keeps named files and files too young to judge', async () => {
    const token = (
      await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'business@demo.gov.vn', password: DEMO_PASSWORD })
    ).body.token as string;
    const code = await filePermitByApi(t.app, token);
    const named = (await t.deps.db('dossier_files').select('stored_path')).map(
      (r: { stored_path: string }) => r.stored_path,
    );
    assert.ok(named.length >= 7, `the filing's papers are on record (${named.length})`);
    const papers = t.deps.files.papers;
    // As a process killed between writing a paper and committing its row leaves them.
    const write = async () =>
      (await papers.write(Readable.from([Buffer.from('%PDF-1.4 left behind')]), 1 << 20, clock.now()))
        .relPath;
    const oldStray = await write();
    const youngStray = await write();
    const full = (p: string) => path.join(papers.root, p);
    const aged = new Date(Date.now() - 2 * DAY);
    for (const p of [oldStray, ...named]) fs.utimesSync(full(p), aged, aged);
    clock.set(new Date(Date.now()));

    const dry = await t.deps.jobs.sweepStrayFiles.sweep({ dryRun: true });
    assert.deepEqual(dry, { examined: named.length + 1, removed: 1 });
    assert.ok(fs.existsSync(full(oldStray)), 'a dry run removes nothing');

    const swept = await t.deps.jobs.sweepStrayFiles.sweep();
    assert.deepEqual(swept, { examined: named.length + 1, removed: 1 });
    assert.equal(fs.existsSync(full(oldStray)), false);
    assert.ok(
      fs.existsSync(full(youngStray)),
      'a file written within the day may belong to a transaction still running',
    );
    for (const p of named) assert.ok(fs.existsSync(full(p)), `${p} is a paper of ${code}`);
    // The dossier's papers still download.
    const dossier = await request(t.app)
      .get(`/api/v1/dossiers/${encodeURIComponent(code)}`)
      .set('Authorization', `Bearer ${token}`);
    assert.equal(dossier.status, 200);
  });
});
