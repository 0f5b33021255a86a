import session from 'express-session';
import { type Db, toDate } from './db';

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * express-session store on the `sessions` table, so that several web processes behind a load
 * balancer share sessions and a restart logs nobody out. Errors go to the callback only: a database
 * that is away must give a 503 for that request, never an unhandled rejection that ends the process.
 *
 * A destroyed session (logout, the new id at login) leaves a tombstone for a while instead of going at
 * once. express-session saves the whole session at the end of each request that changed it, so a
 * request still running in another tab when its user logged out would otherwise write the session back,
 * logged in, and its cookie with it. A save never replaces a tombstone, and a tombstone is read as no
 * session.
 */
const TOMBSTONE = 'null';
/** How long a tombstone stays: longer than any request runs. */
const TOMBSTONE_MS = 10 * 60_000;
/**
 * With a rolling idle timeout every request would write its session's new expiry: a commit (and on
 * MySQL a log flush) per page view. A touch that moves the stored expiry by less than this is skipped,
 * so a session may end up to this much before its full idle time, never after.
 */
const TOUCH_GRANULARITY_MS = 60_000;
/** Stored expiries remembered for skipping touches; beyond this many sessions the oldest are forgotten
 * (a forgotten one is simply written). */
const REMEMBERED_EXPIRIES = 10_000;

export class DbSessionStore extends session.Store {
  private cleanupTimer: NodeJS.Timeout | undefined;
  /** sid -> the expiry last read or written by this process (others may have moved it further). */
  private readonly storedExpiry = new Map<string, number>();

  constructor(
    private readonly db: Db,
    cleanupIntervalMs = 10 * 60_000,
  ) {
    super();
    if (cleanupIntervalMs > 0) {
      this.cleanupTimer = setInterval(() => {
        this.db('sessions')
          .where('expired', '<', new Date())
          .delete()
          .catch(() => {
            // Expired rows go at the next run; an unreachable database is reported by /readyz.
          });
      }, cleanupIntervalMs).unref();
    }
  }

  override get(sid: string, cb: Callback<session.SessionData | null>): void {
    this.db('sessions')
      .where({ sid })
      .andWhere('expired', '>', new Date())
      .first('sess', 'expired')
      .then((row: { sess: string; expired: unknown } | undefined) => {
        if (!row || row.sess === TOMBSTONE) return cb(null, null);
        this.remember(sid, toDate(row.expired).getTime());
        cb(null, JSON.parse(row.sess) as session.SessionData);
      })
      .catch((err: unknown) => cb(err));
  }

  override set(sid: string, sess: session.SessionData, cb: Callback = () => {}): void {
    const row = { sess: JSON.stringify(sess), expired: expiryOf(sess) };
    // An existing session is updated; a new one inserted. A tombstone is neither: the update passes it
    // by, and the insert of its id is ignored, so a destroyed session stays destroyed.
    this.db('sessions')
      .where({ sid })
      .whereNot('sess', TOMBSTONE)
      .update(row)
      .then(async (updated: number) => {
        if (updated === 0)
          await this.db('sessions')
            .insert({ sid, ...row })
            .onConflict('sid')
            .ignore();
        this.remember(sid, row.expired.getTime());
        cb();
      })
      .catch((err: unknown) => cb(err));
  }

  override touch(sid: string, sess: session.SessionData, cb: Callback = () => {}): void {
    const expired = expiryOf(sess);
    const stored = this.storedExpiry.get(sid);
    if (stored !== undefined && expired.getTime() - stored < TOUCH_GRANULARITY_MS) {
      cb();
      return;
    }
    this.db('sessions')
      .where({ sid })
      .whereNot('sess', TOMBSTONE)
      .update({ expired })
      .then(() => {
        this.remember(sid, expired.getTime());
        cb();
      })
      .catch((err: unknown) => cb(err));
  }

  override destroy(sid: string, cb: Callback = () => {}): void {
    this.storedExpiry.delete(sid);
    this.db('sessions')
      .where({ sid })
      .update({ sess: TOMBSTONE, expired: new Date(Date.now() + TOMBSTONE_MS) })
      .then(() => cb())
      .catch((err: unknown) => cb(err));
  }

  private remember(sid: string, expiry: number): void {
    this.storedExpiry.delete(sid);
    this.storedExpiry.set(sid, expiry);
    if (this.storedExpiry.size > REMEMBERED_EXPIRIES) {
      this.storedExpiry.delete(this.storedExpiry.keys().next().value!);
    }
  }

  close(): void {
    clearInterval(this.cleanupTimer);
  }
}

function expiryOf(sess: session.SessionData): Date {
  const expires = sess.cookie?.expires;
  return expires ? new Date(expires) : new Date(Date.now() + 24 * 3600_000);
}
