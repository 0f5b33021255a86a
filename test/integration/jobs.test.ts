import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../../src/clock';
import { insertedId } from '../../src/data/db';
import type { EmailPayload } from '../../src/data/outboxRepository';
import type { DossierStatus } from '../../src/domain/dossierStatus';
import { JobScheduler } from '../../src/services/jobScheduler';
import { startTestApp, type TestApp } from '../helpers/testApp';

// Monday 23 November 2026, 09:00 in Vietnam.
const MONDAY_9AM = '2026-11-23T02:00:00.000Z';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('periodic jobs', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
  });
  after(() => t.close());

  describe('the job lease', () => {
    const schedulers: JobScheduler[] = [];
    const scheduler = (holder: string) => {
      const s = new JobScheduler(t.deps.leases, t.clock, t.deps.logger, holder);
      schedulers.push(s);
      return s;
    };
    after(async () => {
      for (const s of schedulers) await s.stop();
    });

    it('runs the job in one of two processes per interval, and hands over after expiry', async () => {
      const runs: string[] = [];
      const web1 = scheduler('web-1');
      const web2 = scheduler('web-2');
      for (const s of [web1, web2]) {
        s.every('lease-test', 5 * MINUTE, async () => void runs.push(s.holderId), { runAtStart: false });
      }

      // Both tick at the same moment: one runs.
      const first = await Promise.all([web1.tick('lease-test'), web2.tick('lease-test')]);
      assert.equal(first.filter(Boolean).length, 1);
      assert.equal(runs.length, 1);
      const holder = runs[0]!;
      const [h, other] = holder === 'web-1' ? [web1, web2] : [web2, web1];
      assert.equal((await t.deps.leases.find('lease-test'))?.holder, holder);

      // One interval later the holder renews and runs again; the other still does not.
      t.clock.advance(5 * MINUTE);
      assert.equal(await other.tick('lease-test'), false);
      assert.equal(await h.tick('lease-test'), true);
      assert.deepEqual(runs, [holder, holder]);

      // Within the interval nobody runs it twice.
      t.clock.advance(MINUTE);
      assert.equal(await other.tick('lease-test'), false);

      // The holder dies (no more ticks): once its lease expires the other process takes over.
      t.clock.advance(4 * MINUTE + 1);
      assert.equal(await other.tick('lease-test'), true);
      assert.equal(await h.tick('lease-test'), false);
      assert.deepEqual(runs, [holder, holder, other.holderId]);
      assert.equal((await t.deps.leases.find('lease-test'))?.holder, other.holderId);

      // A clean stop gives the lease up at once, without waiting for it to expire.
      await other.stop();
      assert.equal(await t.deps.leases.find('lease-test'), undefined);
      assert.equal(await h.tick('lease-test'), true);
    });

    it('never overlaps two runs of a job in one process', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let runs = 0;
      const s = scheduler('web-3');
      s.every(
        'slow-job',
        MINUTE,
        async () => {
          runs += 1;
          await gate;
        },
        { runAtStart: false },
      );
      const firstTick = s.tick('slow-job');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await s.tick('slow-job'), false);
      release();
      assert.equal(await firstTick, true);
      assert.equal(runs, 1);
    });

    it('keeps ticking on its timer in the lease holder only, until stopped', async () => {
      const runs = new Map<string, number>();
      const a = scheduler('web-4');
      const b = scheduler('web-5');
      for (const s of [a, b]) {
        s.every('timer-test', 20, async () => void runs.set(s.holderId, (runs.get(s.holderId) ?? 0) + 1));
      }
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([a.stop(), b.stop()]);
      const counts = [...runs.values()];
      assert.equal(counts.length, 1, `ran in ${[...runs.keys()].join(', ')}`);
      assert.ok(counts[0]! >= 3, `ran ${counts[0]} times`);
      const after = counts[0];
      await new Promise((r) => setTimeout(r, 60));
      assert.equal([...runs.values()][0], after);
    });
  });

  describe('the overdue job', () => {
    let procedure: { procedureId: number; versionId: number; agencyId: number };
    let specialistId: number;
    let approverId: number;
    let otherApproverId: number;
    before(async () => {
      const p = await t.deps.repos.procedures.findCurrent('BQL-LD-02');
      assert.ok(p);
      procedure = p;
      specialistId = (await t.deps.repos.users.findByEmail('specialist@demo.gov.vn'))!.id;
      approverId = (await t.deps.repos.users.findByEmail('approver@demo.gov.vn'))!.id;
      otherApproverId = (await t.deps.repos.users.findByEmail('approver.tp@demo.gov.vn'))!.id;
    });

    let seq = 0;
    const insertDossier = async (status: DossierStatus, dueAt: Date, assignee: number | null) => {
      seq += 1;
      const code = `000.00.12.H10-261123-${String(900 + seq).padStart(4, '0')}`;
      const now = t.clock.now();
      const id = insertedId(
        await t.deps.db('dossiers').insert({
          code,
          secret: 'ABCD2345',
          procedure_id: procedure.procedureId,
          procedure_version_id: procedure.versionId,
          agency_id: procedure.agencyId,
          applicant_user_id: null,
          applicant: JSON.stringify({ kind: 'CITIZEN', name: 'Nguyễn Văn An', idLabel: 'CCCD' }),
          form_data: '{}',
          status,
          version: 3,
          channel: 'ONLINE',
          submitted_at: new Date(now.getTime() - 30 * 24 * HOUR),
          counting_from: new Date(now.getTime() - 30 * 24 * HOUR),
          due_at: dueAt,
          assignee_user_id: assignee,
          created_at: now,
          updated_at: now,
        }),
      );
      return { id, code };
    };

    const overdueMail = async (dossierId: number) =>
      (
        (await t.deps
          .db('outbox')
          .where('dedupe_key', 'like', `overdue:${dossierId}:%`)
          .orderBy('dedupe_key')) as { dedupe_key: string; payload: string }[]
      ).map((r) => ({ key: r.dedupe_key, payload: JSON.parse(r.payload) as EmailPayload }));

    const overdueAudit = async (code: string) =>
      (await t.deps.db('audit_log').where({ action: 'DOSSIER_OVERDUE', subject_id: code })) as {
        subject_type: string;
        agency_id: number;
      }[];

    it('marks a dossier past its due date once, and mails its assignee and the agency approver', async () => {
      const now = t.clock.now();
      // 08:00 on Monday in Vietnam, an hour or more before the clock.
      const late = await insertDossier('IN_REVIEW', new Date('2026-11-23T01:00:00.000Z'), specialistId);
      const notYet = await insertDossier('IN_REVIEW', new Date(now.getTime() + HOUR), specialistId);
      const paused = await insertDossier(
        'SUPPLEMENT_REQUESTED',
        new Date(now.getTime() - HOUR),
        specialistId,
      );
      const done = await insertDossier('RESULT_READY', new Date(now.getTime() - HOUR), specialistId);

      assert.equal(await t.deps.jobs.markOverdue(), 1);

      const rows = (await t.deps
        .db('dossiers')
        .whereIn('id', [late.id, notYet.id, paused.id, done.id])
        .orderBy('id')) as { id: number; overdue_at: unknown; version: number; status: string }[];
      assert.ok(rows[0]!.overdue_at);
      assert.deepEqual(
        rows.slice(1).map((r) => r.overdue_at),
        [null, null, null],
      );
      // The mark is not a change of state: an officer's command in flight must not conflict with it.
      assert.equal(Number(rows[0]!.version), 3);
      assert.equal(rows[0]!.status, 'IN_REVIEW');

      const audit = await overdueAudit(late.code);
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.subject_type, 'dossier');
      assert.equal(Number(audit[0]!.agency_id), procedure.agencyId);
      assert.equal((await t.deps.repos.audit.verifyChain()).ok, true);

      const mail = await overdueMail(late.id);
      // One key per lapse of this due date and person.
      assert.deepEqual(
        mail.map((m) => m.key.replace(/:\d+:(\d+)$/, ':DUE:$1')).sort(),
        [`overdue:${late.id}:DUE:${approverId}`, `overdue:${late.id}:DUE:${specialistId}`].sort(),
      );
      assert.deepEqual(mail.map((m) => m.payload.to).sort(), [
        'approver@demo.gov.vn',
        'specialist@demo.gov.vn',
      ]);
      for (const m of mail) {
        assert.equal(m.payload.subject, `Hồ sơ ${late.code} đã quá hạn giải quyết`);
        assert.match(m.payload.text, /đã quá hạn giải quyết/);
        assert.match(m.payload.text, /thủ tục: Cấp giấy phép lao động cho người lao động nước ngoài/);
        // Shown in Vietnam time.
        assert.match(m.payload.text, /08:00, 23\/11\/2026/);
      }
      assert.ok(!mail.some((m) => m.key.endsWith(`:${otherApproverId}`)));

      // Run again, now and later: nothing new.
      assert.equal(await t.deps.jobs.markOverdue(), 0);
      t.clock.advance(10 * MINUTE);
      assert.equal(await t.deps.jobs.markOverdue(), 0);
      assert.equal((await overdueAudit(late.code)).length, 1);
      assert.equal((await overdueMail(late.id)).length, 2);
    });

    it('mails only the approvers when nobody is assigned, and marks once when two runs race', async () => {
      const now = t.clock.now();
      const unassigned = await insertDossier('SUBMITTED', new Date(now.getTime() - MINUTE), null);
      const counts = await Promise.all([t.deps.jobs.markOverdue(), t.deps.jobs.markOverdue()]);
      assert.equal(counts[0]! + counts[1]!, 1);
      assert.equal((await overdueAudit(unassigned.code)).length, 1);
      const mail = await overdueMail(unassigned.id);
      assert.deepEqual(
        mail.map((m) => m.key.replace(/:\d+:(\d+)$/, ':DUE:$1')),
        [`overdue:${unassigned.id}:DUE:${approverId}`],
      );
    });
  });
});
