import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { Db } from './db';

/** Sessions live in the database (table `sessions`, made by a migration) so that several web
 * processes behind a load balancer share them. */
export function createSessionStore(db: Db, cleanupIntervalMs = 10 * 60_000): ConnectSessionKnexStore {
  return new ConnectSessionKnexStore({
    knex: db,
    tableName: 'sessions',
    createTable: false,
    cleanupInterval: cleanupIntervalMs,
    onDbCleanupError: () => {
      // Expired rows are removed at the next run; a database that is away is reported by /readyz.
    },
  });
}

export function closeSessionStore(store: ConnectSessionKnexStore): void {
  clearTimeout(store.nextDbCleanup);
}
