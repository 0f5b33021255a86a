import type { Knex } from 'knex';
import { type Db, isUniqueViolation, toDate, toDateOrNull } from './db';

export const OUTBOX_KINDS = ['EMAIL'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export interface EmailPayload {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface NewOutboxMessage {
  kind: OutboxKind;
  /** Unique for the whole life of the table: the same key never sends twice, even much later. */
  dedupeKey: string;
  payload: EmailPayload;
  /** Not before this time (default: at once). */
  availableAt?: Date;
}

export interface OutboxMessage {
  id: number;
  kind: OutboxKind;
  dedupeKey: string;
  payload: EmailPayload;
  attempts: number;
  createdAt: Date;
  availableAt: Date;
  lastError: string | null;
  lockedBy: string | null;
  lockedUntil: Date | null;
  sentAt: Date | null;
}

interface OutboxRow {
  id: number | string;
  kind: string;
  dedupe_key: string;
  payload: string;
  attempts: number | string;
  created_at: unknown;
  available_at: unknown;
  last_error: string | null;
  locked_by: string | null;
  locked_until: unknown;
  sent_at: unknown;
}

const toMessage = (r: OutboxRow): OutboxMessage => ({
  id: Number(r.id),
  kind: r.kind as OutboxKind,
  dedupeKey: r.dedupe_key,
  payload: JSON.parse(r.payload) as EmailPayload,
  attempts: Number(r.attempts),
  createdAt: toDate(r.created_at),
  availableAt: toDate(r.available_at),
  lastError: r.last_error,
  lockedBy: r.locked_by,
  lockedUntil: toDateOrNull(r.locked_until),
  sentAt: toDateOrNull(r.sent_at),
});

const ERROR_TEXT_MAX = 500;

/** The transactional outbox: messages are written in the transaction of the change they announce
 * and delivered by a worker after it commits, so a rolled-back change never sends anything. */
export class OutboxRepository {
  constructor(private readonly db: Db) {}

  /** Adds a message in the caller's transaction. Answers false when the dedupe key is already
   * there, so a retried command does not queue the same message twice. */
  async enqueue(trx: Db, m: NewOutboxMessage, now: Date): Promise<boolean> {
    try {
      await trx('outbox').insert({
        kind: m.kind,
        dedupe_key: m.dedupeKey,
        payload: JSON.stringify(m.payload),
        created_at: now,
        available_at: m.availableAt ?? now,
        attempts: 0,
      });
      return true;
    } catch (err) {
      // Both engines undo only the failed statement, so the caller's transaction goes on.
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /**
   * Claims up to `limit` due messages for one worker until `now + lockMs`. Each row is taken with
   * its own compare-and-set UPDATE, so of two workers racing for a row exactly one wins, on SQLite
   * and MySQL alike, without RETURNING or SKIP LOCKED. Messages that used up `maxAttempts` stay in
   * the table, unsent, for an operator (setting attempts back to 0 retries one).
   */
  async claim(
    workerId: string,
    now: Date,
    lockMs: number,
    limit: number,
    maxAttempts?: number,
  ): Promise<OutboxMessage[]> {
    const lockedUntil = new Date(now.getTime() + lockMs);
    const due = (q: Knex.QueryBuilder): Knex.QueryBuilder => {
      q.whereNull('sent_at')
        .where('available_at', '<=', now)
        .where((w) => w.whereNull('locked_until').orWhere('locked_until', '<', now));
      if (maxAttempts !== undefined) q.where('attempts', '<', maxAttempts);
      return q;
    };
    // Read a few more than needed: a worker racing us may take some of them.
    const candidates = (await due(this.db('outbox').select('id'))
      .orderBy('available_at')
      .orderBy('id')
      .limit(limit * 2)) as { id: number | string }[];
    const won: number[] = [];
    for (const c of candidates) {
      if (won.length >= limit) break;
      const id = Number(c.id);
      // The whole predicate again: between our read and this update the row may have been claimed,
      // sent, or failed and put off to later by another worker.
      const n = await due(this.db('outbox').where({ id })).update({
        locked_by: workerId,
        locked_until: lockedUntil,
      });
      if (n === 1) won.push(id);
    }
    if (won.length === 0) return [];
    const rows = (await this.db('outbox')
      .whereIn('id', won)
      .where({ locked_by: workerId })
      .whereNull('sent_at')
      .orderBy('id')) as OutboxRow[];
    return rows.map(toMessage);
  }

  /** Records a delivery; does nothing (answers false) if another worker has taken the message since. */
  async markSent(id: number, workerId: string, now: Date): Promise<boolean> {
    const n = await this.db('outbox')
      .where({ id, locked_by: workerId })
      .whereNull('sent_at')
      .update({ sent_at: now, locked_by: null, locked_until: null, last_error: null });
    return n === 1;
  }

  /** Counts a failed attempt and puts the message off until `nextAttemptAt`. */
  async markFailed(id: number, workerId: string, error: string, nextAttemptAt: Date): Promise<boolean> {
    const n = await this.db('outbox')
      .where({ id, locked_by: workerId })
      .whereNull('sent_at')
      .update({
        attempts: this.db.raw('attempts + 1'),
        last_error: error.slice(0, ERROR_TEXT_MAX),
        available_at: nextAttemptAt,
        locked_by: null,
        locked_until: null,
      });
    return n === 1;
  }

  /** Gives a claimed message back untried, for a worker that ran out of time on its lock. */
  async release(id: number, workerId: string): Promise<void> {
    await this.db('outbox')
      .where({ id, locked_by: workerId })
      .whereNull('sent_at')
      .update({ locked_by: null, locked_until: null });
  }

  /** Messages not sent yet, including those put off after a failure. */
  async pending(): Promise<number> {
    const row = (await this.db('outbox').whereNull('sent_at').count({ n: '*' }).first()) as {
      n: number | string;
    };
    return Number(row.n);
  }

  async findByDedupeKey(dedupeKey: string): Promise<OutboxMessage | undefined> {
    const row = (await this.db('outbox').where({ dedupe_key: dedupeKey }).first()) as OutboxRow | undefined;
    return row && toMessage(row);
  }
}
