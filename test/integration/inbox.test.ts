import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import type { InboxFilter } from '../../src/data/dossierRepository';
import { filePermitByApi } from '../helpers/fixtures';
import { DEMO_PASSWORD, login, startTestApp, type TestApp } from '../helpers/testApp';

const HOUR = 3_600_000;

describe('the desk inbox: open dossiers in due order, a page at a time', () => {
  let t: TestApp;
  const codes: Record<string, string> = {};
  let agencyId: number;
  const base = new Date('2026-11-25T10:00:00.000Z');

  before(async () => {
    t = await startTestApp({ clock: new FixedClock('2026-11-23T02:00:00.000Z') });
    const token = (
      await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'business@demo.gov.vn', password: DEMO_PASSWORD })
    ).body.token as string;
    // Where each dossier stands and when it is due, set on the rows: this is about the read, not the moves.
    const shapes: [string, string, number, boolean][] = [
      ['submitted', 'SUBMITTED', 3, false],
      ['review', 'IN_REVIEW', 1, false],
      ['ready', 'RESULT_READY', 2, true],
      ['returned', 'RETURNED', 0, true],
      ['refused', 'REFUSED', 0, true],
      ['paused', 'SUPPLEMENT_REQUESTED', 4, false],
      ['sameDue', 'ACCEPTED', 3, false],
    ];
    for (const [name, status, hours, completed] of shapes) {
      codes[name] = await filePermitByApi(t.app, token);
      await t.deps
        .db('dossiers')
        .where({ code: codes[name] })
        .update({
          status,
          due_at: new Date(base.getTime() + hours * HOUR),
          completed_at: completed ? new Date(base.getTime() - HOUR) : null,
        });
    }
    agencyId = (await t.deps.repos.dossiers.findByCode(codes.submitted!))!.agencyId;
  });
  after(async () => {
    await t.close();
  });

  const inbox = async (filter: Partial<InboxFilter>, limit = 50, from?: { dueAt: Date; id: number }) =>
    t.deps.repos.dossiers.inbox({ agencyId, ...filter }, from ?? null, limit);
  const names = (items: { code: string | null }[]) =>
    items.map((i) => Object.keys(codes).find((k) => codes[k] === i.code));

  it('lists the unfinished dossiers and the results waiting to be handed over, by due date then id', async () => {
    assert.deepEqual(names(await inbox({})), ['review', 'ready', 'submitted', 'sameDue', 'paused']);
  });

  it('pages across both kinds with the (due date, id) key and loses or repeats nothing', async () => {
    const seen: string[] = [];
    let from: { dueAt: Date; id: number } | undefined;
    for (;;) {
      const page = await inbox({}, 2, from);
      if (page.length === 0) break;
      seen.push(...(names(page) as string[]));
      const last = page[page.length - 1]!;
      from = { dueAt: last.dueAt!, id: last.id };
    }
    assert.deepEqual(seen, ['review', 'ready', 'submitted', 'sameDue', 'paused']);
  });

  it('keeps the filters: a status, closed ones on demand, due before a moment', async () => {
    assert.deepEqual(names(await inbox({ status: 'RESULT_READY' })), ['ready']);
    assert.deepEqual(names(await inbox({ includeClosed: true })), [
      'returned',
      'refused',
      'review',
      'ready',
      'submitted',
      'sameDue',
      'paused',
    ]);
    // Due before a moment counts only the dossiers whose clock runs: not the result waiting to be
    // handed over (resolved), not the one paused for a supplement, not a closed one even on demand.
    assert.deepEqual(names(await inbox({ dueBefore: new Date(base.getTime() + 2.5 * HOUR) })), ['review']);
    assert.deepEqual(names(await inbox({ dueBefore: new Date(base.getTime() + 5 * HOUR) })), [
      'review',
      'submitted',
      'sameDue',
    ]);
    assert.deepEqual(
      names(await inbox({ dueBefore: new Date(base.getTime() + 5 * HOUR), includeClosed: true })),
      ['review', 'submitted', 'sameDue'],
    );
  });

  it('shows an officer the overdue ones only, and a ready result as resolved, never as overdue', async () => {
    t.clock.set(new Date(base.getTime() + 5 * HOUR));
    try {
      const officer = await login(t.app, 'reception@demo.gov.vn');
      const overdue = await officer.get('/desk?due=overdue');
      assert.equal(overdue.status, 200);
      const listed = (html: string) =>
        Object.keys(codes).filter((k) => html.includes(`/desk/dossiers/${encodeURIComponent(codes[k]!)}"`));
      assert.deepEqual(listed(overdue.text).sort(), ['review', 'sameDue', 'submitted']);
      const all = await officer.get('/desk');
      assert.deepEqual(listed(all.text).sort(), ['paused', 'ready', 'review', 'sameDue', 'submitted']);
      const rowOf = (name: string) =>
        new RegExp(
          `<tr class="urgency-(\\w+)">\\s*<td><a href="/desk/dossiers/${encodeURIComponent(codes[name]!).replace(/\./g, '\\.')}"`,
        ).exec(all.text)?.[1];
      assert.deepEqual(['ready', 'paused', 'review'].map(rowOf), ['resolved', 'paused', 'overdue']);
      assert.match(all.text, /Đã giải quyết, chờ trả kết quả/);
    } finally {
      t.clock.set('2026-11-23T02:00:00.000Z');
    }
  });

  it('finds an open dossier by its code, and a closed one only on demand', async () => {
    assert.deepEqual(names(await inbox({ q: codes.ready! })), ['ready']);
    assert.deepEqual(names(await inbox({ q: codes.returned! })), []);
    assert.deepEqual(names(await inbox({ q: codes.returned!, includeClosed: true })), ['returned']);
    // The agency's code alone: every open dossier, in due order.
    const prefix = codes.ready!.split('-')[0]!;
    assert.deepEqual(names(await inbox({ q: prefix })), [
      'review',
      'ready',
      'submitted',
      'sameDue',
      'paused',
    ]);
  });

  it("finds an applicant from the start of any word of the name or the representative's, diacritics or not", async () => {
    const count = async (q: string) => (await inbox({ q })).length;
    assert.equal(await count('Quang Minh'), 5);
    assert.equal(await count('quang   minh'), 5);
    assert.equal(await count('Công ty TNHH Điện tử'), 5);
    assert.equal(await count('cong ty tnhh dien tu quang minh'), 5);
    assert.equal(await count('ĐIỆN TỬ'), 5);
    assert.equal(await count('tran thi binh'), 5);
    assert.equal(await count('Bình'), 5);
    // Not from the middle of a word, not past the end of the name, and a wildcard is a character.
    assert.equal(await count('uang minh'), 0);
    assert.equal(await count('Quang Minh Hùng'), 0);
    assert.equal(await count('%'), 0);
    assert.equal(await count('_uang'), 0);
    // The identity number (tax code) and the phone, by their digits however they are typed.
    const snapshot = (await t.deps.repos.dossiers.findByCode(codes.review!))!.applicant;
    assert.equal(await count(snapshot.idNumber), 5);
    assert.equal(await count(snapshot.idNumber.slice(0, 6)), 5);
    assert.ok(snapshot.phone);
    const spaced = `${snapshot.phone!.slice(0, 4)} ${snapshot.phone!.slice(4, 7)} ${snapshot.phone!.slice(7)}`;
    assert.equal(await count(spaced), 5);
    assert.equal(await count('999999999999'), 0);
    // The search keeps the other filters: closed dossiers only on demand.
    assert.equal((await inbox({ q: 'quang minh', includeClosed: true })).length, 7);
  });

  it("lists one procedure's open dossiers in due order", async () => {
    assert.deepEqual(names(await inbox({ procedureCode: 'BQL-LD-02' })), [
      'review',
      'ready',
      'submitted',
      'sameDue',
      'paused',
    ]);
    assert.deepEqual(await inbox({ procedureCode: 'NO-SUCH-CODE' }), []);
  });
});
