import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { createSmtpMailer } from '../../src/services/mailer';
import { OutboxWorker } from '../../src/services/outboxWorker';
import { SmtpCapture } from '../helpers/smtpCapture';
import { TestDatabase } from '../helpers/testApp';
import { assertConsecutiveCodes, assertPapersIntact, dossierCount, inspect } from './checks';
import { actAt, apiToken, filePermitAt, permitPapers, PortalProcess } from './portalProcess';

const FILINGS = 100;
/** Filings answered in peace before the storm: the kill comes after some have answered. */
const EARLY = 25;
const MINUTE = 60_000;

type Outcome =
  | { kind: 'answered'; status: number; body: Record<string, unknown> }
  /** The connection ended without an answer: the process died under the request. */
  | { kind: 'lost' };

const answeredWith = (res: { status: number; body: unknown }): Outcome => ({
  kind: 'answered',
  status: res.status,
  body: res.body as Record<string, unknown>,
});

/**
 * Sends the requests all at once and SIGKILLs the portal as soon as `due` says so (asked every few
 * milliseconds and at each answer), while requests are still in flight. Answers what each one got.
 */
async function killDuring(
  portal: PortalProcess,
  requests: (() => PromiseLike<{ status: number; body: unknown }>)[],
  due: (answered: number) => boolean | Promise<boolean>,
): Promise<Outcome[]> {
  let answered = 0;
  let done = false;
  let killed: Promise<void> | undefined;
  const all = Promise.all(
    requests.map(async (send): Promise<Outcome> => {
      try {
        const res = await send();
        answered += 1;
        return answeredWith(res);
      } catch {
        return { kind: 'lost' };
      }
    }),
  ).finally(() => {
    done = true;
  });
  const watch = async () => {
    while (!done) {
      if (await due(answered)) {
        killed = portal.kill('SIGKILL');
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const [outcomes] = await Promise.all([all, watch()]);
  await killed;
  assert.ok(killed, 'the portal was killed while requests were in flight');
  return outcomes;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tally = (outcomes: readonly Outcome[]) => ({
  answered: outcomes.filter((o) => o.kind === 'answered').length,
  lost: outcomes.filter((o) => o.kind === 'lost').length,
});

describe('a portal killed (SIGKILL) while filings and transitions are being written', () => {
  let database: TestDatabase;
  let smtp: SmtpCapture;
  let portal: PortalProcess;
  before(async () => {
    database = await TestDatabase.create();
    smtp = await SmtpCapture.start();
    portal = await PortalProcess.start({ database, smtpUrl: smtp.url });
  });
  after(async () => {
    await portal?.kill('SIGKILL');
    await smtp?.close();
    await database?.drop();
  });

  const keys = Array.from({ length: FILINGS }, (_, i) => `crash-${String(i).padStart(3, '0')}`);
  /** Dossier code by idempotency key, once known. */
  const codes = new Map<string, string>();

  it('keeps every answered filing whole, shows nothing half-written, and retries make one dossier per key', async (t) => {
    const business = await apiToken(portal.url, 'business@demo.gov.vn');
    const url = portal.url;
    const early = await Promise.all(keys.slice(0, EARLY).map((key) => filePermitAt(url, business, key)));
    // The rest all at once; the kill comes once the portal has committed a few of them, while the
    // others are being uploaded, synced to disk or written to the database.
    const watcher = await inspect(database);
    let storm: Outcome[];
    try {
      storm = await killDuring(
        portal,
        keys.slice(EARLY).map((key) => () => filePermitAt(url, business, key)),
        async () => (await dossierCount(watcher)) >= EARLY + 5,
      );
    } finally {
      await watcher.close();
    }
    const outcomes = [...early.map(answeredWith), ...storm];
    const { answered: created, lost } = tally(outcomes);
    assert.deepEqual(
      outcomes.filter((o) => o.kind === 'answered' && o.status !== 201),
      [],
      'every answer before the kill was a 201',
    );
    assert.ok(lost > 0, `requests were in flight at the kill (${created} answered)`);
    t.diagnostic(
      `killed with ${created} filings answered 201 (${created - EARLY} of the ${FILINGS - EARLY} sent at once) ` +
        `and ${lost} in flight`,
    );

    portal = await portal.restart();
    const deps = await inspect(database);
    try {
      const businessId = (await deps.repos.users.findByEmail('business@demo.gov.vn'))!.id;
      // Every 201 is a complete dossier: its row, its code, each paper on disk with the SHA-256 sent.
      for (const [i, o] of outcomes.entries()) {
        if (o.kind !== 'answered') continue;
        const code = o.body.code as string;
        const d = await deps.repos.dossiers.findByCode(code);
        assert.ok(d, `dossier ${code} answered 201 exists after the restart`);
        assert.equal(d.status, 'SUBMITTED');
        assert.equal(d.secret, o.body.secret);
        const files = await deps.repos.dossiers.files(d.id);
        assert.deepEqual(
          files.map((f) => [f.paperCode, f.sha256]).sort(),
          permitPapers(keys[i]!)
            .map((p) => [p.field, p.sha256])
            .sort(),
          `papers of ${code}`,
        );
        codes.set(keys[i]!, code);
      }
      // Nothing half-written: every dossier has all its papers, its event and its audit record, and
      // every file row has its file.
      const intact = await assertPapersIntact(deps);
      const all = (await deps.db('dossiers').select('id', 'code')) as { id: number; code: string }[];
      for (const d of all) {
        assert.equal((await deps.repos.dossiers.files(d.id)).length, 7, `papers of ${d.code}`);
        assert.deepEqual(
          (await deps.repos.dossiers.events(d.id)).map((e) => e.action),
          ['SUBMIT'],
        );
        const audit = await deps.db('audit_log').where({ action: 'DOSSIER_SUBMITTED', subject_id: d.code });
        assert.equal(audit.length, 1, `audit of ${d.code}`);
      }
      assert.ok(all.length >= created && all.length <= created + lost);
      t.diagnostic(
        `after the restart: ${all.length} dossiers (${all.length - created} committed without an answer, ` +
          `${created + lost - all.length} rolled back), ` +
          `${intact.rows} file rows all intact, ${intact.orphans.length} files on disk without a row`,
      );
      // Files of requests that died before their commit: no row names them, so no page, API call or
      // download can reach them (papers are served through their rows only). Nothing sweeps them away.
      assert.ok(intact.orphans.length <= lost * 7, `${intact.orphans.length} stray files`);

      // Each filing again with its own key: the committed ones replay, the others file once.
      const again = await Promise.all(keys.map((key) => filePermitAt(portal.url, business, key)));
      let replayed = 0;
      for (const [i, res] of again.entries()) {
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const known = codes.get(keys[i]!);
        if (known) assert.equal(res.body.code, known, `the retry of ${keys[i]} finds its dossier`);
        if (res.headers['idempotent-replayed'] === 'true') replayed += 1;
        codes.set(keys[i]!, res.body.code as string);
      }
      t.diagnostic(`retries: ${replayed} replayed an existing dossier, ${FILINGS - replayed} filed anew`);
      for (const key of keys) {
        const rows = await deps.db('dossiers').where({ idempotency_key: `user:${businessId}:${key}` });
        assert.equal(rows.length, 1, `one dossier for ${key}`);
        assert.equal(rows[0].code, codes.get(key));
      }
      const final = (await deps.db('dossiers').pluck('code')) as string[];
      assert.equal(final.length, FILINGS);
      assert.equal(new Set(codes.values()).size, FILINGS);
      // A transaction killed before its commit gave its counter value back.
      assertConsecutiveCodes(final);
      const afterRetries = await assertPapersIntact(deps);
      assert.equal(afterRetries.rows, FILINGS * 7);
      assert.equal(afterRetries.orphans.length, intact.orphans.length, 'the replays left no file behind');
      assert.equal((await deps.repos.audit.verifyChain()).ok, true);
      assert.deepEqual(await deps.statistics.check(), []);
    } finally {
      await deps.close();
    }
  });

  it('records each transition once and the outbox delivers each notice once across a kill', async (t) => {
    const reception = await apiToken(portal.url, 'reception@demo.gov.vn');
    const url = portal.url;
    // A first half accepted in peace, so that the portal's outbox worker is busy mailing their notices
    // when the kill comes during the second half.
    const half = FILINGS / 2;
    for (const res of await Promise.all(
      keys.slice(0, half).map((key) => actAt(url, reception, codes.get(key)!, 'accept')),
    )) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    await waitFor(() => smtp.messages.length >= 5, 'the portal mails the first notices');
    const second = await killDuring(
      portal,
      keys.slice(half).map((key) => () => actAt(url, reception, codes.get(key)!, 'accept')),
      (answered) => answered >= 10,
    );
    const outcomes: Outcome[] = [
      ...keys.slice(0, half).map((): Outcome => ({ kind: 'answered', status: 200, body: {} })),
      ...second,
    ];
    assert.deepEqual(
      second.filter((o) => o.kind === 'answered' && o.status !== 200),
      [],
      'every answer before the kill was a 200',
    );
    const { answered, lost } = tally(second);
    const deadPid = portal.pid;
    t.diagnostic(
      `killed with ${smtp.messages.length} notices mailed, ${answered} acceptances of the second half ` +
        `answered, ${lost} in flight`,
    );
    assert.ok(lost > 0, 'acceptances were in flight at the kill');

    portal = await portal.restart();
    const deps = await inspect(database);
    try {
      // The messages the dead process had claimed and not recorded as sent: its lock holds them. Its
      // worker id names its pid (see defaultWorkerId).
      const heldByTheDead = new Set(
        (
          (await deps
            .db('outbox')
            .whereNull('sent_at')
            .where('locked_by', 'like', `%:${deadPid}:%`)
            .select('dedupe_key')) as { dedupe_key: string }[]
        ).map((r) => r.dedupe_key),
      );
      // The officer tries again where no answer came: done already (409) or done now (200).
      const retried = { 200: 0, 409: 0 };
      for (const [i, o] of outcomes.entries()) {
        if (o.kind === 'answered') continue;
        const code = codes.get(keys[i]!)!;
        const res = await actAt(portal.url, reception, code, 'accept');
        assert.ok(
          res.status === 200 || res.status === 409,
          `${code}: ${res.status} ${JSON.stringify(res.body)}`,
        );
        retried[res.status as 200 | 409] += 1;
      }
      t.diagnostic(
        `retries: ${retried[409]} had committed without an answer (409), ${retried[200]} accepted now`,
      );
      // Stop cleanly (the worker finishes its run), then deliver what is left once the dead
      // process's locks have expired, as the next worker would ten minutes later.
      await portal.stop();
      const later = new FixedClock(new Date(Date.now() + 11 * MINUTE));
      const mailer = createSmtpMailer(smtp.url);
      const worker = new OutboxWorker(deps.outbox, mailer, later, createLogger('silent'), {
        workerId: 'reliability-test',
        batch: 50,
      });
      for (let round = 0; round < 20 && (await deps.outbox.pending()) > 0; round += 1) await worker.runOnce();
      mailer.close();
      assert.equal(await deps.outbox.pending(), 0, 'the outbox was delivered to the end');

      const businessId = (await deps.repos.users.findByEmail('business@demo.gov.vn'))!.id;
      const duplicates: string[] = [];
      for (const key of keys) {
        const code = codes.get(key)!;
        const d = (await deps.repos.dossiers.findByCode(code))!;
        assert.equal(d.status, 'ACCEPTED', code);
        assert.equal(d.version, 2, code);
        assert.deepEqual(
          (await deps.repos.dossiers.events(d.id)).map((e) => e.action),
          ['SUBMIT', 'accept'],
        );
        assert.equal(
          (await deps.db('audit_log').where({ action: 'DOSSIER_ACCEPT', subject_id: code })).length,
          1,
        );
        assert.equal(
          (await deps.db('notifications').where({ dossier_id: d.id, message_key: 'notice.accept' })).length,
          1,
        );
        const dedupeKey = `dossier:${d.id}:v2:${businessId}`;
        assert.ok(await deps.outbox.findByDedupeKey(dedupeKey), `notice of ${code} queued`);
        const mails = smtp.withSubject(`Hồ sơ ${code} đã được tiếp nhận`);
        assert.ok(mails.length >= 1, `notice of ${code} delivered`);
        for (const m of mails) assert.deepEqual(m.envelopeTo, ['business@demo.gov.vn']);
        if (mails.length > 1) duplicates.push(`${code} x${mails.length} (${dedupeKey})`);
        // At least once by design (see OutboxWorker): only a message the dead process was sending
        // when it died can go twice, if the mail server took it before the process recorded it.
        if (mails.length > 1) assert.ok(heldByTheDead.has(dedupeKey), `${code} sent twice: ${mails.length}`);
        // A copy is the same message to the mail systems: the same Message-ID.
        assert.equal(new Set(mails.map((m) => m.messageId)).size, 1, `${code}: one Message-ID`);
        assert.match(mails[0]!.messageId, /^<[0-9a-f]{32}@[^>]+>$/);
      }
      assert.ok(duplicates.length <= 1, duplicates.join(', '));
      assert.equal(new Set(smtp.messages.map((m) => m.messageId)).size, FILINGS, 'one Message-ID per notice');
      assert.equal(smtp.messages.length, FILINGS + duplicates.length);
      t.diagnostic(
        `outbox: ${heldByTheDead.size} messages held by the dead process's lock, ` +
          `${smtp.messages.length} delivered for ${FILINGS} notices` +
          (duplicates.length ? `; sent twice: ${duplicates.join(', ')}` : ''),
      );
      assert.equal((await deps.repos.audit.verifyChain()).ok, true);
      assert.deepEqual(await deps.statistics.check(), []);
    } finally {
      await deps.close();
    }
  });
});
