import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { FixedClock } from '../../src/clock';
import { createDb, type Db } from '../../src/data/db';
import { type EmailPayload, OutboxRepository } from '../../src/data/outboxRepository';
import {
  createLogMailer,
  createSmtpMailer,
  DEFAULT_FROM,
  messageIdFor,
  type ClosableMailer,
} from '../../src/services/mailer';
import { OutboxWorker, type OutboxWorkerOptions } from '../../src/services/outboxWorker';
import { SmtpCapture } from '../helpers/smtpCapture';
import { startTestApp, type TestApp } from '../helpers/testApp';

// Monday 23 November 2026, 09:00 in Vietnam.
const MONDAY_9AM = '2026-11-23T02:00:00.000Z';
const MINUTE = 60_000;

const email = (subject: string, text = `Hồ sơ đã được tiếp nhận.\nTrạng thái: Đang giải quyết.`) =>
  ({ to: 'citizen@demo.gov.vn', subject, text }) satisfies EmailPayload;

describe('the outbox and its email worker', () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  let mailer: ClosableMailer;
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM), seed: false });
    smtp = await SmtpCapture.start();
    mailer = createSmtpMailer(smtp.url);
  });
  after(async () => {
    mailer.close();
    await smtp.close();
    await t.close();
  });

  const worker = (workerId: string, opts: OutboxWorkerOptions = {}, outbox = t.deps.outbox) =>
    new OutboxWorker(outbox, mailer, t.clock, t.deps.logger, { workerId, ...opts });

  const enqueueCommitted = (dedupeKey: string, payload: EmailPayload) =>
    t.deps.db.transaction((trx) =>
      t.deps.outbox.enqueue(trx, { kind: 'EMAIL', dedupeKey, payload }, t.clock.now()),
    );

  it('delivers a message of a committed transaction exactly once, Vietnamese intact', async () => {
    const subject = 'Hồ sơ 000.00.12.H10-261123-0001 đã quá hạn giải quyết';
    const text = 'Kính gửi Hoàng Văn Thắng,\n\nHồ sơ 000.00.12.H10-261123-0001 đã quá hạn giải quyết.';
    assert.equal(await enqueueCommitted('committed:1', email(subject, text)), true);
    assert.equal(await t.deps.outbox.pending(), 1);

    const w = worker('web-1');
    assert.equal(await w.runOnce(), 1);
    assert.equal(await w.runOnce(), 0);

    const got = smtp.withSubject(subject);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.text.trimEnd(), text);
    assert.deepEqual(got[0]!.envelopeTo, ['citizen@demo.gov.vn']);
    // The header went through as RFC 2047 encoded words, not raw UTF-8.
    assert.match(got[0]!.raw, /^Subject: =\?UTF-8\?[BQ]\?/im);
    assert.equal(got[0]!.from, 'Cổng Dịch vụ công <no-reply@dichvucong.example.vn>');
    const row = await t.deps.outbox.findByDedupeKey('committed:1');
    assert.ok(row?.sentAt);
    assert.equal(row.lockedBy, null);
    assert.equal(await t.deps.outbox.pending(), 0);
  });

  it('never sends a message whose transaction rolled back', async () => {
    const subject = 'Thư của một giao dịch đã hủy';
    await assert.rejects(
      t.deps.db.transaction(async (trx) => {
        await t.deps.outbox.enqueue(
          trx,
          { kind: 'EMAIL', dedupeKey: 'rolled-back:1', payload: email(subject) },
          t.clock.now(),
        );
        throw new Error('the command failed after queueing its mail');
      }),
      /the command failed/,
    );
    assert.equal(await worker('web-1').runOnce(), 0);
    assert.equal(await t.deps.outbox.findByDedupeKey('rolled-back:1'), undefined);
    assert.equal(smtp.withSubject(subject).length, 0);
  });

  it('queues a dedupe key once, however often a retried command enqueues it', async () => {
    const subject = 'Hồ sơ đã được tiếp nhận (gửi một lần)';
    assert.equal(await enqueueCommitted('dedupe:1', email(subject)), true);
    assert.equal(await enqueueCommitted('dedupe:1', email(subject)), false);
    // The duplicate leaves the rest of the caller's transaction intact.
    await t.deps.db.transaction(async (trx) => {
      assert.equal(
        await t.deps.outbox.enqueue(
          trx,
          { kind: 'EMAIL', dedupeKey: 'dedupe:1', payload: email(subject) },
          t.clock.now(),
        ),
        false,
      );
      assert.equal(
        await t.deps.outbox.enqueue(
          trx,
          { kind: 'EMAIL', dedupeKey: 'dedupe:2', payload: email(`${subject} (2)`) },
          t.clock.now(),
        ),
        true,
      );
    });
    const rows = (await t.deps.db('outbox').whereIn('dedupe_key', ['dedupe:1', 'dedupe:2'])) as unknown[];
    assert.equal(rows.length, 2);
    assert.equal(await worker('web-1').runOnce(), 2);
    assert.equal(smtp.withSubject(subject).length, 1);
    // Sent already: queueing it again later still sends nothing.
    assert.equal(await enqueueCommitted('dedupe:1', email(subject)), false);
    assert.equal(await worker('web-1').runOnce(), 0);
    assert.equal(smtp.withSubject(subject).length, 1);
  });

  it('retries after the backoff when the mail server answers 451, and delivers once', async () => {
    const subject = 'Yêu cầu bổ sung hồ sơ';
    await enqueueCommitted('retry:1', email(subject));
    smtp.failNext = 1;
    const w = worker('web-1');
    assert.equal(await w.runOnce(), 0);
    assert.equal(smtp.refused, 1);
    const failed = await t.deps.outbox.findByDedupeKey('retry:1');
    assert.ok(failed);
    assert.equal(failed.attempts, 1);
    assert.match(failed.lastError ?? '', /451/);
    assert.equal(failed.lockedBy, null);
    assert.equal(failed.availableAt.getTime(), t.clock.now().getTime() + MINUTE);

    // Not due yet: the server is not asked again.
    t.clock.advance(MINUTE - 1000);
    assert.equal(await w.runOnce(), 0);
    assert.equal(smtp.refused, 1);
    assert.equal(smtp.withSubject(subject).length, 0);

    t.clock.advance(1000);
    assert.equal(await w.runOnce(), 1);
    assert.equal(await w.runOnce(), 0);
    assert.equal(smtp.withSubject(subject).length, 1);
    assert.equal((await t.deps.outbox.findByDedupeKey('retry:1'))?.attempts, 1);
    // Named by its outbox row: had the first attempt reached the reader, this one is the same message.
    assert.equal(
      smtp.withSubject(subject)[0]!.messageId,
      messageIdFor(`outbox:${failed.id}:${failed.createdAt.getTime()}:retry:1`, DEFAULT_FROM),
    );
  });

  it('doubles the wait after each failure and gives up after maxAttempts', async () => {
    const subject = 'Thư không gửi được';
    await enqueueCommitted('give-up:1', email(subject));
    smtp.failNext = 3;
    const w = worker('web-1', { maxAttempts: 3 });
    const waits: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      assert.equal(await w.runOnce(), 0);
      const m = await t.deps.outbox.findByDedupeKey('give-up:1');
      waits.push(m!.availableAt.getTime() - t.clock.now().getTime());
      t.clock.advance(waits[i]!);
    }
    assert.deepEqual(waits, [MINUTE, 2 * MINUTE, 4 * MINUTE]);
    // Left in the table, failed, for an operator; the worker no longer tries it.
    t.clock.advance(24 * 60 * MINUTE);
    assert.equal(await w.runOnce(), 0);
    assert.equal(smtp.refused, 4);
    assert.equal((await t.deps.outbox.findByDedupeKey('give-up:1'))?.attempts, 3);
    assert.equal(await t.deps.outbox.pending(), 1);
    await t.deps.db('outbox').where({ dedupe_key: 'give-up:1' }).delete();
  });

  describe('with two worker processes on one database', () => {
    let otherDb: Db;
    let otherOutbox: OutboxRepository;
    before(() => {
      // A connection of its own, as a second web process would have.
      otherDb = createDb(t.deps.config.database);
      otherOutbox = new OutboxRepository(otherDb);
    });
    after(() => otherDb.destroy());

    it('lets exactly one of two racing claims take each message', async () => {
      for (let i = 0; i < 10; i += 1) await enqueueCommitted(`race:${i}`, email(`Thư tranh chấp ${i}`));
      const now = t.clock.now();
      const [a, b] = await Promise.all([
        t.deps.outbox.claim('web-1', now, 10 * MINUTE, 10),
        otherOutbox.claim('web-2', now, 10 * MINUTE, 10),
      ]);
      const ids = [...a, ...b].map((m) => m.id);
      assert.equal(ids.length, 10);
      assert.equal(new Set(ids).size, 10);
      for (const m of a) assert.equal(m.lockedBy, 'web-1');
      for (const m of b) assert.equal(m.lockedBy, 'web-2');
      // A worker cannot record a message the other one holds.
      if (a[0]) assert.equal(await otherOutbox.markSent(a[0].id, 'web-2', now), false);
      for (const m of a) await t.deps.outbox.release(m.id, 'web-1');
      for (const m of b) await otherOutbox.release(m.id, 'web-2');
    });

    it('delivers each message once when both workers run at the same time', async () => {
      for (let i = 10; i < 40; i += 1) await enqueueCommitted(`race:${i}`, email(`Thư tranh chấp ${i}`));
      const a = worker('web-1', { batch: 4 });
      const b = worker('web-2', { batch: 4 }, otherOutbox);
      let delivered = 0;
      for (let round = 0; round < 40 && (await t.deps.outbox.pending()) > 0; round += 1) {
        const [x, y] = await Promise.all([a.runOnce(), b.runOnce()]);
        delivered += x + y;
      }
      assert.equal(delivered, 40);
      assert.equal(await t.deps.outbox.pending(), 0);
      for (let i = 0; i < 40; i += 1)
        assert.equal(smtp.withSubject(`Thư tranh chấp ${i}`).length, 1, `#${i}`);
    });
  });

  it('delivers a message queued before a crash once after the restart', async () => {
    const queued = 'Hồ sơ đã có kết quả';
    const inFlight = 'Hồ sơ bị từ chối tiếp nhận';
    await enqueueCommitted('crash:in-flight', email(inFlight));
    await enqueueCommitted('crash:queued', email(queued));
    // The old process had claimed one of them and died before sending it.
    const claimed = await t.deps.outbox.claim('dead-process', t.clock.now(), 10 * MINUTE, 1);
    assert.equal(claimed.length, 1);
    assert.equal(claimed[0]!.dedupeKey, 'crash:in-flight');

    t = await t.restart();
    const fresh = worker('web-1-restarted');
    assert.equal(await fresh.runOnce(), 1);
    assert.equal(smtp.withSubject(queued).length, 1);
    // The dead process's lock holds until it expires; then the message goes, once.
    assert.equal(smtp.withSubject(inFlight).length, 0);
    t.clock.advance(10 * MINUTE + 1);
    assert.equal(await fresh.runOnce(), 1);
    assert.equal(await fresh.runOnce(), 0);
    assert.equal(smtp.withSubject(queued).length, 1);
    assert.equal(smtp.withSubject(inFlight).length, 1);
  });

  it('polls in the background once started and stops cleanly', async () => {
    const subject = 'Thư gửi từ vòng lặp nền';
    const w = worker('web-1', { pollMs: 10 });
    w.start();
    w.start();
    await enqueueCommitted('loop:1', email(subject));
    const deadline = Date.now() + 5000;
    while (smtp.withSubject(subject).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await w.stop();
    assert.equal(smtp.withSubject(subject).length, 1);
    assert.ok((await t.deps.outbox.findByDedupeKey('loop:1'))?.sentAt);
  });
});

describe('the development mailer', () => {
  it('logs the recipient and subject, never the body', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString('utf8');
        cb();
      },
    });
    const mailer = createLogMailer(pino({ level: 'info' }, sink));
    await mailer.send({ to: 'approver@demo.gov.vn', subject: 'Hồ sơ quá hạn', text: 'mã tra cứu: 8F3K2Q' });
    assert.match(out, /approver@demo\.gov\.vn/);
    assert.match(out, /Hồ sơ quá hạn/);
    assert.doesNotMatch(out, /8F3K2Q/);
  });
});
