import { type Db, isUniqueViolation, toDate } from './db';

export interface Lease {
  name: string;
  holder: string;
  expiresAt: Date;
}

/** Named leases in the database, so that of several web processes one at a time runs a periodic job.
 * Everything is a single-statement compare-and-set: no in-process lock can see the other processes. */
export class LeaseRepository {
  constructor(private readonly db: Db) {}

  /** Takes the lease if it is free or expired, or renews it for its holder, until `now + ttlMs`.
   * Answers whether `holder` has the lease now. */
  async acquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    const updated = await this.db('job_leases')
      .where({ name })
      .where((w) => w.where({ holder }).orWhere('expires_at', '<', now))
      .update({ holder, expires_at: expiresAt });
    if (updated === 1) return true;
    try {
      await this.db('job_leases').insert({ name, holder, expires_at: expiresAt });
      return true;
    } catch (err) {
      // Someone else holds it, or inserted it a moment before us.
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Gives the lease up at once (on shutdown), so another process need not wait for it to expire. */
  async release(name: string, holder: string): Promise<void> {
    await this.db('job_leases').where({ name, holder }).delete();
  }

  async find(name: string): Promise<Lease | undefined> {
    const row = (await this.db('job_leases').where({ name }).first()) as
      { name: string; holder: string; expires_at: unknown } | undefined;
    return row && { name: row.name, holder: row.holder, expiresAt: toDate(row.expires_at) };
  }
}
