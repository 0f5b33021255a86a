import session from 'express-session';
import type { Db } from './db';

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * express-session store on the `sessions` table, so that several web processes behind a load
 * balancer share sessions and a restart logs nobody out. Errors go to the callback only: a database
 * that is away must give a 503 for that request, never an unhandled rejection that ends the process.
 */
export class DbSessionStore extends session.Store {
  private cleanupTimer: NodeJS.Timeout | undefined;

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
      .first('sess')
      .then((row: { sess: string } | undefined) =>
        cb(null, row ? (JSON.parse(row.sess) as session.SessionData) : null),
      )
      .catch((err: unknown) => cb(err));
  }

  override set(sid: string, sess: session.SessionData, cb: Callback = () => {}): void {
    this.db('sessions')
      .insert({ sid, sess: JSON.stringify(sess), expired: expiryOf(sess) })
      .onConflict('sid')
      .merge(['sess', 'expired'])
      .then(() => cb())
      .catch((err: unknown) => cb(err));
  }

  override touch(sid: string, sess: session.SessionData, cb: Callback = () => {}): void {
    this.db('sessions')
      .where({ sid })
      .update({ expired: expiryOf(sess) })
      .then(() => cb())
      .catch((err: unknown) => cb(err));
  }

  override destroy(sid: string, cb: Callback = () => {}): void {
    this.db('sessions')
      .where({ sid })
      .delete()
      .then(() => cb())
      .catch((err: unknown) => cb(err));
  }

  close(): void {
    clearInterval(this.cleanupTimer);
  }
}

function expiryOf(sess: session.SessionData): Date {
  const expires = sess.cookie?.expires;
  return expires ? new Date(expires) : new Date(Date.now() + 24 * 3600_000);
}
