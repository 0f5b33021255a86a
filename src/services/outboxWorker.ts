import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Clock } from '../clock';
import type { OutboxMessage, OutboxRepository } from '../data/outboxRepository';
import type { Logger } from '../logger';
import type { Mailer } from './mailer';

export interface OutboxWorkerOptions {
  /** Unique per process; a restarted process must not reuse the id of the one before. */
  workerId?: string;
  pollMs?: number;
  batch?: number;
  /** How long a claimed message stays this worker's; longer than any one send can take. */
  lockMs?: number;
  maxAttempts?: number;
}

const MINUTE = 60_000;
const BACKOFF_BASE_MS = MINUTE;
const BACKOFF_CAP_MS = 6 * 60 * MINUTE;

/** 1, 2, 4 ... minutes after the 1st, 2nd, 3rd ... failure, never more than 6 hours. */
export function backoffMs(failuresSoFar: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, failuresSoFar - 1), BACKOFF_CAP_MS);
}

/** Host, process and a random part: unique across machines and across restarts of one process. */
export function defaultWorkerId(): string {
  return `${os.hostname().slice(0, 40)}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Delivers the outbox after the transactions that wrote it have committed.
 *
 * Delivery is at least once. A process that dies after the SMTP server accepted a message but before
 * markSent leaves it unsent, and it goes again once the lock expires; the same happens if a send
 * outlasts its lock. Exactly once would need the mail server to take part in our transaction, which
 * SMTP cannot. For a notification a rare duplicate is harmless, while a lost one can cost a citizen a
 * deadline, so we accept the duplicate. Duplicates from our own side (a retried command) are stopped
 * earlier, by the unique dedupe key at enqueue.
 */
export class OutboxWorker {
  readonly workerId: string;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly lockMs: number;
  private readonly maxAttempts: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private started = false;

  constructor(
    private readonly repo: OutboxRepository,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly logger: Logger,
    opts: OutboxWorkerOptions = {},
  ) {
    this.workerId = opts.workerId ?? defaultWorkerId();
    this.pollMs = opts.pollMs ?? 5_000;
    this.batch = opts.batch ?? 20;
    this.lockMs = opts.lockMs ?? 10 * MINUTE;
    this.maxAttempts = opts.maxAttempts ?? 10;
  }

  /** Claims one batch of due messages and tries each once; answers how many were delivered. */
  runOnce(): Promise<number> {
    // A second caller joins the run in flight rather than starting one beside it.
    if (!this.running) {
      this.running = this.deliverBatch().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Polls until stop(); a run never starts while the previous one is still going. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops polling and waits for a run in flight, so the database can be closed after it. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce()
        .catch((err: unknown) => {
          this.logger.error({ err }, 'outbox run failed');
          return 0;
        })
        // A full batch suggests more are waiting: go again at once instead of after the poll interval.
        .then((delivered) => this.schedule(delivered >= this.batch ? 0 : this.pollMs));
    }, delayMs);
    // Mail must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private async deliverBatch(): Promise<number> {
    const messages = await this.repo.claim(
      this.workerId,
      this.clock.now(),
      this.lockMs,
      this.batch,
      this.maxAttempts,
    );
    let delivered = 0;
    for (const [i, m] of messages.entries()) {
      if (this.lockRunningOut(m)) {
        // Hand the rest back rather than send on a lock another worker may soon take over.
        for (const rest of messages.slice(i)) await this.repo.release(rest.id, this.workerId);
        break;
      }
      if (await this.deliver(m)) delivered += 1;
    }
    return delivered;
  }

  private lockRunningOut(m: OutboxMessage): boolean {
    return m.lockedUntil !== null && this.clock.now().getTime() > m.lockedUntil.getTime() - this.lockMs / 2;
  }

  private async deliver(m: OutboxMessage): Promise<boolean> {
    try {
      // The same message whatever the attempt: its Message-ID comes from the outbox row (the moment it
      // was queued tells apart rows of the same number in another installation or a rebuilt database).
      await this.mailer.send(m.payload, `outbox:${m.id}:${m.createdAt.getTime()}:${m.dedupeKey}`);
    } catch (err) {
      const failures = m.attempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      const next = new Date(this.clock.now().getTime() + backoffMs(failures));
      await this.repo.markFailed(m.id, this.workerId, message, next);
      const log = { outboxId: m.id, dedupeKey: m.dedupeKey, attempts: failures, error: message };
      if (failures >= this.maxAttempts) {
        this.logger.error(log, 'email could not be delivered; giving up');
      } else {
        this.logger.warn({ ...log, nextAttemptAt: next }, 'email delivery failed; will retry');
      }
      return false;
    }
    if (!(await this.repo.markSent(m.id, this.workerId, this.clock.now()))) {
      this.logger.warn({ outboxId: m.id }, 'email sent after this worker had lost its lock on it');
    }
    return true;
  }
}
