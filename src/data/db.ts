import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from '../config';
import { migrationsDir } from '../paths';

export type Db = Knex;
export type Dialect = 'sqlite' | 'mysql';

export function dialectOf(db: Knex): Dialect {
  return db.client.config.client === 'mysql2' ? 'mysql' : 'sqlite';
}

interface SqliteConnection {
  pragma(s: string): unknown;
  prepare(sql: string): unknown;
}

/** Statements kept compiled per connection; the oldest unused one goes when there are more. */
const PREPARED_STATEMENTS_KEPT = 500;

/** The query builder prepares every query anew, and compiling the SQL is a good part of a short
 * query's cost. The same text gives back the statement compiled the first time (SQLite recompiles it
 * by itself after a schema change). Safe because every statement runs to its end synchronously, one
 * at a time on the one connection, and nothing changes a statement's modes. */
function reusePreparedStatements(conn: SqliteConnection): void {
  const compile = conn.prepare.bind(conn);
  const kept = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let statement = kept.get(sql);
    if (statement !== undefined) {
      kept.delete(sql);
    } else {
      statement = compile(sql);
      if (kept.size >= PREPARED_STATEMENTS_KEPT) kept.delete(kept.keys().next().value as string);
    }
    kept.set(sql, statement);
    return statement;
  };
}

/**
 * Bounds for the statements of a serving process on MySQL/MariaDB. Without them one statement that runs
 * or waits without end (a lock held by a stuck transaction, a metadata lock behind a long ALTER, whose
 * default wait is a day) holds its pooled connection, and with it a tenth of the portal, for as long.
 * Past the bound the statement fails, and the request gets the 503 of a busy database. Migrations and
 * the command line (a statistics rebuild over a million dossiers) run without them. SQLite has no such
 * waits: its one connection queues in the process, and a lock held by another process ends in
 * SQLITE_BUSY after the busy timeout.
 */
export interface StatementLimits {
  /** The longest a statement may run (on MySQL, which bounds only SELECTs, a SELECT). */
  statementSeconds: number;
  /** The longest a statement may wait for a row lock or a table's metadata lock. */
  lockWaitSeconds: number;
}

/** What a web process runs with: far above any page's statements (the yearly statistics of a province
 * at a million dossiers take half a second), far below a visitor's patience. */
export const SERVING_LIMITS: StatementLimits = { statementSeconds: 30, lockWaitSeconds: 15 };

interface MysqlConnection {
  query(sql: string, cb: (err: Error | null, rows?: unknown) => void): void;
}

/** Sets the limits on a new pooled connection; MariaDB and MySQL name the statement bound differently. */
function applyLimits(
  conn: MysqlConnection,
  limits: StatementLimits,
  done: (err: Error | null, conn: unknown) => void,
): void {
  const statement = Math.max(1, Math.round(limits.statementSeconds));
  const lockWait = Math.max(1, Math.round(limits.lockWaitSeconds));
  conn.query('SELECT VERSION() AS v', (err, rows) => {
    if (err) return done(err, conn);
    const version = String((rows as { v?: unknown }[] | undefined)?.[0]?.v ?? '');
    const bound = /mariadb/i.test(version)
      ? `max_statement_time = ${statement}`
      : `max_execution_time = ${statement * 1000}`;
    conn.query(
      `SET SESSION ${bound}, innodb_lock_wait_timeout = ${lockWait}, lock_wait_timeout = ${lockWait}`,
      (setErr) => done(setErr, conn),
    );
  });
}

export function createDb(config: DatabaseConfig, limits?: StatementLimits): Db {
  if (config.client === 'sqlite') {
    fs.mkdirSync(path.dirname(config.filename), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: config.filename },
      useNullAsDefault: true,
      // One connection: SQLite has a single writer, and one connection makes transactions queue
      // in order instead of failing with SQLITE_BUSY.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
          reusePreparedStatements(conn);
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          done(null, conn);
        },
      },
    });
  }
  return knexFactory({
    client: 'mysql2',
    connection: {
      uri: config.url,
      // Store and read UTC; show Asia/Ho_Chi_Minh only in the views.
      timezone: 'Z',
      charset: 'utf8mb4',
      supportBigNumbers: true,
      // DATE columns (birth dates) carry no time of day: keep them as 'YYYY-MM-DD'.
      dateStrings: ['DATE'],
      connectTimeout: 5000,
    } as unknown as Knex.MySql2ConnectionConfig,
    pool: {
      min: 0,
      max: 10,
      acquireTimeoutMillis: 10000,
      ...(limits
        ? {
            afterCreate: (conn: MysqlConnection, done: (err: Error | null, conn: unknown) => void) =>
              applyLimits(conn, limits, done),
          }
        : {}),
    },
    acquireConnectionTimeout: 10000,
  });
}

/** Knex migration source that names migrations without their extension, so the same database can
 * be migrated from TypeScript sources (tsx) and from the compiled JavaScript (npm start). */
class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<string[]> {
    const files = await fs.promises.readdir(this.dir);
    const names = new Set(
      files
        .filter((f) => /^\d{14}_[a-z0-9_]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
        .map((f) => f.replace(/\.(ts|js)$/, '')),
    );
    return [...names].sort();
  }
  getMigrationName(migration: string): string {
    return migration;
  }
  async getMigration(migration: string): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(this.dir, migration)) as Knex.Migration;
  }
}

const migratorConfig = (): Knex.MigratorConfig => ({
  migrationSource: new DirectoryMigrationSource(migrationsDir),
  tableName: 'knex_migrations',
});

async function ensureUtf8mb4(db: Db): Promise<void> {
  if (dialectOf(db) !== 'mysql') return;
  const [rows] = (await db.raw(
    'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()',
  )) as [{ cs: string; name: string }[]];
  const row = rows[0];
  if (row && row.cs !== 'utf8mb4') {
    // Vietnamese names need four-byte-safe UTF-8; tables created later inherit the default.
    await db.raw('ALTER DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [row.name]);
  }
}

const MIGRATION_LOCK_WAIT_MS = 120_000;

const isMigrationLocked = (err: unknown) => (err as Error).name === 'MigrationLocked';

/** Two processes starting on an empty database both find knex's own tables missing and both create
 * them: the second fails before it takes the lock or applies anything, and simply tries again. */
const isMigrationTableRace = (err: unknown) =>
  /knex_migrations(_lock)?\W.*already exists|already exists.*knex_migrations/i.test(
    (err as Error).message ?? '',
  );

/** Applies the pending migrations. Several web processes starting together (a deploy) race for knex's
 * migration lock: the losers wait for the winner to finish instead of failing to start, then find
 * nothing left to apply. A lock left by a process that died mid-migration still stops the start, once
 * the wait is over. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  await ensureUtf8mb4(db);
  const deadline = Date.now() + MIGRATION_LOCK_WAIT_MS;
  for (;;) {
    try {
      const [, applied] = (await db.migrate.latest(migratorConfig())) as [number, string[]];
      return applied;
    } catch (err) {
      if (!(isMigrationLocked(err) || isMigrationTableRace(err)) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Undoes the newest migration. */
export async function rollbackLast(db: Db): Promise<void> {
  await db.migrate.down(migratorConfig());
}

export async function pingDb(db: Db, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('database ping timed out')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** SQLite returns epoch milliseconds for DATETIME columns written by knex, MySQL returns Date. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  if (typeof value === 'string') return new Date(/^\d+$/.test(value) ? Number(value) : value);
  throw new TypeError(`not a date: ${String(value)}`);
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/**
 * Whether a transaction that failed with this error may have committed all the same: its connection
 * broke while it ran (the driver calls such errors fatal), so the COMMIT may have reached the server
 * and only the answer got lost. Files written for such a transaction must stay, since a row may name
 * them: a stray file is harmless, a row without its file is not. A connection that never opened ran
 * nothing, and SQLite, in the process, always knows.
 */
export function mayHaveCommitted(err: unknown): boolean {
  const e = err as { fatal?: unknown; syscall?: unknown } | null;
  return e?.fatal === true && e.syscall !== 'connect';
}

/** Rows from a unique-key violation, for both engines. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return (
    e.code === 'ER_DUP_ENTRY' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Id of a row just inserted (no RETURNING: MySQL has none). */
export function insertedId(result: unknown): number {
  const id = Array.isArray(result) ? result[0] : result;
  const n = Number(typeof id === 'object' && id !== null && 'id' in id ? (id as { id: unknown }).id : id);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error('insert did not return an id');
  return n;
}
