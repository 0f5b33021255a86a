// The scale benchmark's database: a dedicated MariaDB/MySQL database holding the demo agencies,
// officers and catalogue (seeded the way `portal seed` seeds them), a catalogue widened to a realistic
// size, applicant accounts, and a million dossiers with their event log, loaded with multi-row INSERTs.
// A marker row records what was loaded, so later runs reuse it instead of loading again.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { bootstrap } from '../../src/bootstrap';
import { type Clock, FixedClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import type { Deps } from '../../src/container';
import type { Agency } from '../../src/data/agencyRepository';
import type { User } from '../../src/data/userRepository';
import { DAILY_COUNTS } from '../../src/domain/dossierFigures';
import type { ProcedureDefinition } from '../../src/domain/procedureDefinition';
import type { OfficerRole } from '../../src/domain/roles';
import { createLogger } from '../../src/logger';
import { projectRoot } from '../../src/paths';
import { SHIPPED_PROCEDURES } from '../../src/services/catalogue';
import { applicantSnapshot } from '../../src/services/dossierForm';
import {
  type AccountApplicant,
  companyName,
  DOSSIER_COLUMNS,
  EVENT_COLUMNS,
  personName,
  RATING_COLUMNS,
  Rng,
  ScaleGenerator,
  type SeedAgency,
  type SeedChunk,
  type SeedProcedure,
  type SeedTally,
  type StaffMember,
} from './scaleData';

/** The moment the benchmark lives in: the data ends here, and the portal's clock stands here. */
export const SCALE_NOW = new Date('2026-11-23T09:30:00+07:00');
/** Bumped whenever the generator changes what it writes, so an older load is not reused. */
const SEED_VERSION = 4;
const MARKER_TABLE = 'bench_seed';
/** Procedures per agency once the catalogue is widened: what a department or a commune offers. */
const PROCEDURES_PER_AGENCY = 24;
const CITIZEN_ACCOUNTS = 20_000;
const BUSINESS_ACCOUNTS = 4_000;
/** Dossiers generated and committed together; bounded so that memory stays flat. */
const CHUNK = 5_000;

/** Share of the dossiers per demo agency: the industrial-zones authority is by far the busiest. */
const AGENCY_WEIGHTS: Record<string, number> = {
  '000.00.00.H10': 0.05,
  '000.00.12.H10': 0.4,
  '000.00.15.H10': 0.15,
  '000.20.00.H10': 0.18,
  '000.20.21.H10': 0.22,
};

export interface ScaleTarget {
  url: string;
  serverUrl: string;
  database: string;
  storageDir: string;
}

export function scaleTarget(): ScaleTarget {
  const url = process.env.BENCH_SCALE_URL ?? 'mysql://root@127.0.0.1:3306/bench_scale';
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  // The database is dropped and made again on a reload: never let that be anything but a bench database.
  if (!/^bench_[A-Za-z0-9_]+$/.test(database))
    throw new Error(`BENCH_SCALE_URL must name a database called bench_…, not ${JSON.stringify(database)}`);
  parsed.pathname = '/';
  return {
    url,
    serverUrl: parsed.toString(),
    database,
    storageDir: path.join(projectRoot, 'storage', 'bench', 'scale'),
  };
}

export interface SeedMarker {
  version: number;
  dossiers: number;
  now: string;
  seededAt: string;
  seedMs: number;
  tally: SeedTally;
  /** Rows per table right after loading. */
  rows: Record<string, number>;
}

export interface PreparedScale {
  deps: Deps;
  clock: FixedClock;
  marker: SeedMarker;
  /** True when this run loaded the data (else an earlier run's load is reused). */
  seededNow: boolean;
}

type Log = (line: string) => void;

async function connect(url: string) {
  return mysql.createConnection({
    uri: url,
    timezone: 'Z',
    charset: 'utf8mb4',
    supportBigNumbers: true,
    dateStrings: ['DATE'],
  });
}

async function readMarker(target: ScaleTarget): Promise<SeedMarker | undefined> {
  const conn = await connect(target.url);
  try {
    const [rows] = (await conn.query(`SELECT info FROM ${MARKER_TABLE} WHERE name = 'scale'`)) as [
      { info: string }[],
      unknown,
    ];
    const info = rows[0]?.info;
    if (!info) return undefined;
    const marker = JSON.parse(info) as SeedMarker;
    // A load cut short leaves no marker; a count that no longer matches means the rows were changed since.
    const [count] = (await conn.query('SELECT COUNT(*) AS n FROM dossiers')) as [{ n: number }[], unknown];
    return Number(count[0]?.n) === marker.dossiers ? marker : undefined;
  } catch {
    return undefined;
  } finally {
    await conn.end();
  }
}

function buildConfig(target: ScaleTarget) {
  return loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: target.url,
    STORAGE_DIR: target.storageDir,
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'true',
  });
}

/**
 * Opens the scale database and builds the portal's dependencies on it, with the clock at SCALE_NOW.
 * Loads the data first when there is no complete load of this size and generator version, or when
 * `reseed` asks for a fresh one.
 */
export async function prepareScale(opts: {
  total: number;
  reseed: boolean;
  log: Log;
}): Promise<PreparedScale> {
  const target = scaleTarget();
  const clock = new FixedClock(SCALE_NOW);
  const logger = createLogger('warn');
  const admin = await connect(target.serverUrl);
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.end();
  }
  const existing = opts.reseed ? undefined : await readMarker(target);
  if (
    existing &&
    existing.version === SEED_VERSION &&
    existing.dossiers === opts.total &&
    existing.now === SCALE_NOW.toISOString()
  ) {
    opts.log(
      `scale: reusing the load of ${existing.seededAt} in ${target.database} (BENCH_RESEED=1 loads it again)`,
    );
    const deps = await bootstrap(buildConfig(target), { clock: clock as Clock, logger });
    return { deps, clock, marker: existing, seededNow: false };
  }

  opts.log(`scale: loading ${opts.total.toLocaleString('en')} dossiers into ${target.database}`);
  const admin2 = await connect(target.serverUrl);
  try {
    await admin2.query(`DROP DATABASE IF EXISTS \`${target.database}\``);
    await admin2.query(
      `CREATE DATABASE \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin2.end();
  }
  const started = Date.now();
  // The demo agencies, officers, catalogue and certificates, exactly as `portal seed` makes them.
  const deps = await bootstrap(buildConfig(target), { clock: clock as Clock, logger });
  try {
    const marker = await load(deps, target, opts.total, opts.log, started);
    return { deps, clock, marker, seededNow: true };
  } catch (err) {
    await deps.db.destroy();
    throw err;
  }
}

/** A shipped definition republished as another procedure of an agency, with its own code and limit. */
function variant(
  base: ProcedureDefinition,
  agency: Agency,
  n: number,
  commune: boolean,
): ProcedureDefinition {
  const days = commune ? [1, 2, 3, 5][n % 4]! : [5, 10, 3, 15, 7, 20, 2, 12][n % 8]!;
  return {
    ...base,
    code: `SC${agency.id}-${String(n).padStart(2, '0')}`,
    agencyCode: agency.code,
    name: { vi: `${base.name.vi} (loại ${n})`, en: `${base.name.en} (kind ${n})` },
    onlineLevel: n % 3 === 0 ? 'PARTIAL' : 'FULL',
    timeLimit: { amount: days, unit: 'WORKING_DAYS' },
    workflow: commune ? 'commune-simple' : 'one-stop-default',
  };
}

async function widenCatalogue(deps: Deps, agencies: Agency[]): Promise<void> {
  const byCode = new Map(SHIPPED_PROCEDURES.map((p) => [p.code, p]));
  const civil = byCode.get('XA-HT-01') ?? SHIPPED_PROCEDURES[0]!;
  const business = SHIPPED_PROCEDURES.filter((p) => p.applicantKinds.includes('BUSINESS'));
  for (const agency of agencies) {
    const have = (await deps.procedures.list({ agencyId: agency.id })).length;
    const commune = agency.level === 'COMMUNE';
    for (let n = have + 1; n <= PROCEDURES_PER_AGENCY; n++) {
      const bases = commune
        ? [civil]
        : agency.code === '000.00.12.H10'
          ? business
          : [civil, ...business.slice(0, 1)];
      await deps.procedures.publish(variant(bases[n % bases.length] ?? civil, agency, n, commune), null);
    }
  }
}

const DESK_ROLES: readonly OfficerRole[] = ['RECEPTION', 'SPECIALIST', 'APPROVER', 'CLERK'];

/** Every agency gets the desk a one-stop office has: reception, three specialists, approver, clerk. */
async function staffAgencies(deps: Deps, agencies: Agency[], passwordHash: string): Promise<void> {
  const rng = new Rng(7);
  const now = deps.clock.now();
  for (const agency of agencies) {
    for (const role of DESK_ROLES) {
      const want = role === 'SPECIALIST' ? 3 : 1;
      const have = (await deps.repos.users.activeOfficersWithRole(agency.id, [role])).length;
      for (let i = have; i < want; i++) {
        await deps.repos.users.insert(
          {
            kind: 'OFFICER',
            email: `${role.toLowerCase()}.${i + 1}.a${agency.id}@bench.example.vn`,
            fullName: personName(rng),
            position: role === 'APPROVER' ? 'Phó Thủ trưởng cơ quan' : 'Chuyên viên',
            roles: [role],
            agencyId: agency.id,
            passwordHash,
          },
          now,
        );
      }
    }
  }
}

/** Applicant accounts, inserted in bulk: nobody logs in with them, they only own dossiers. */
async function createApplicants(deps: Deps, passwordHash: string): Promise<void> {
  const rng = new Rng(11);
  const now = deps.clock.now();
  const rows: Record<string, unknown>[] = [];
  for (let i = 1; i <= CITIZEN_ACCOUNTS; i++) {
    rows.push({
      email: `citizen${i}@bench.example.vn`,
      password_hash: passwordHash,
      kind: 'CITIZEN',
      full_name: personName(rng),
      phone: `09${String(10_000_000 + i).slice(-8)}`,
      citizen_id: `079${String(i).padStart(9, '0')}`,
      date_of_birth: `${1955 + rng.int(50)}-0${1 + rng.int(9)}-1${rng.int(9)}`,
      status: 'ACTIVE',
      created_at: now,
      updated_at: now,
      password_changed_at: now,
    });
  }
  for (let i = 1; i <= BUSINESS_ACCOUNTS; i++) {
    rows.push({
      email: `business${i}@bench.example.vn`,
      password_hash: passwordHash,
      kind: 'BUSINESS',
      full_name: personName(rng),
      phone: `02${String(40_000_000 + i).slice(-8)}`,
      company_name: companyName(rng, i),
      tax_code: `0109${String(i).padStart(6, '0')}`,
      status: 'ACTIVE',
      created_at: now,
      updated_at: now,
      password_changed_at: now,
    });
  }
  for (let i = 0; i < rows.length; i += 1000) await deps.db('users').insert(rows.slice(i, i + 1000));
}

async function applicantPools(
  deps: Deps,
): Promise<{ citizens: AccountApplicant[]; businesses: AccountApplicant[] }> {
  const rows = (await deps
    .db('users')
    .whereIn('kind', ['CITIZEN', 'BUSINESS'])
    .orderBy('id')
    .select('id', 'email', 'kind', 'full_name', 'phone', 'citizen_id', 'company_name', 'tax_code')) as {
    id: number;
    email: string;
    kind: 'CITIZEN' | 'BUSINESS';
    full_name: string;
    phone: string | null;
    citizen_id: string | null;
    company_name: string | null;
    tax_code: string | null;
  }[];
  const pools = { citizens: [] as AccountApplicant[], businesses: [] as AccountApplicant[] };
  for (const r of rows) {
    const user = {
      id: Number(r.id),
      email: r.email,
      kind: r.kind,
      fullName: r.full_name,
      phone: r.phone,
      citizenId: r.citizen_id,
      companyName: r.company_name,
      taxCode: r.tax_code,
    } as User;
    (r.kind === 'BUSINESS' ? pools.businesses : pools.citizens).push({
      id: user.id,
      snapshot: applicantSnapshot(user),
    });
  }
  return pools;
}

async function seedAgencies(deps: Deps, agencies: Agency[]): Promise<SeedAgency[]> {
  const out: SeedAgency[] = [];
  for (const agency of agencies) {
    const versions = await deps.procedures.list({ agencyId: agency.id });
    // Shipped procedures first: they take the largest share of the agency's dossiers.
    versions.sort((a, b) => Number(a.code.startsWith('SC')) - Number(b.code.startsWith('SC')));
    const procedures: SeedProcedure[] = versions.map((v) => {
      const workflow = deps.workflows.get(v.definition.workflow);
      if (!workflow) throw new Error(`procedure ${v.code} names unknown workflow ${v.definition.workflow}`);
      return {
        procedureId: v.procedureId,
        versionId: v.versionId,
        version: v.version,
        code: v.code,
        def: v.definition,
        workflow,
      };
    });
    const staffOf = async (role: OfficerRole): Promise<StaffMember[]> =>
      (await deps.repos.users.activeOfficersWithRole(agency.id, [role])).map((u) => ({
        id: u.id,
        name: u.fullName,
      }));
    out.push({
      id: agency.id,
      code: agency.code,
      weight: AGENCY_WEIGHTS[agency.code] ?? 0.05,
      procedures,
      staff: {
        reception: await staffOf('RECEPTION'),
        specialist: await staffOf('SPECIALIST'),
        approver: await staffOf('APPROVER'),
        clerk: await staffOf('CLERK'),
      },
    });
  }
  return out;
}

/** Refuses to load into a table that has gained a required column the generator does not write. */
async function checkColumns(conn: mysql.Connection, database: string): Promise<void> {
  const [rows] = (await conn.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('dossiers', 'dossier_events', 'ratings')
        AND IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL AND EXTRA NOT LIKE '%auto_increment%'`,
    [database],
  )) as [{ t: string; c: string }[], unknown];
  const written: Record<string, readonly string[]> = {
    dossiers: DOSSIER_COLUMNS,
    dossier_events: EVENT_COLUMNS,
    ratings: RATING_COLUMNS,
  };
  const missing = rows.filter((r) => !written[r.t]?.includes(r.c)).map((r) => `${r.t}.${r.c}`);
  if (missing.length > 0)
    throw new Error(
      `required columns the scale seed does not fill: ${missing.join(', ')}; update scaleData.ts`,
    );
}

async function insertRows(
  conn: mysql.Connection,
  table: string,
  columns: readonly string[],
  rows: unknown[][],
  perStatement: number,
): Promise<void> {
  const sql = `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`;
  for (let i = 0; i < rows.length; i += perStatement)
    await conn.query(sql, [rows.slice(i, i + perStatement)]);
}

async function insertChunk(conn: mysql.Connection, chunk: SeedChunk): Promise<void> {
  await conn.beginTransaction();
  try {
    await insertRows(conn, 'dossiers', DOSSIER_COLUMNS, chunk.dossiers, 2_500);
    await insertRows(conn, 'dossier_events', EVENT_COLUMNS, chunk.events, 5_000);
    await insertRows(conn, 'ratings', RATING_COLUMNS, chunk.ratings, 5_000);
    await insertRows(
      conn,
      'dossier_name_keys',
      ['agency_id', 'name_key', 'dossier_id'],
      chunk.nameKeys,
      5_000,
    );
    await conn.commit();
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  }
}

/** Generates the next chunk in slices, giving the event loop back between them so the previous
 * chunk's INSERTs keep flowing while this one is made. */
async function nextChunk(gen: ScaleGenerator, size: number): Promise<SeedChunk> {
  const out: SeedChunk = { dossiers: [], events: [], ratings: [], nameKeys: [] };
  while (out.dossiers.length < size && !gen.done) {
    const part = gen.chunk(Math.min(250, size - out.dossiers.length));
    out.dossiers.push(...part.dossiers);
    out.events.push(...part.events);
    out.ratings.push(...part.ratings);
    out.nameKeys.push(...part.nameKeys);
    await yieldToIo();
  }
  return out;
}

async function countRows(conn: mysql.Connection, tables: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [rows] = (await conn.query(`SELECT COUNT(*) AS n FROM \`${t}\``)) as [{ n: number }[], unknown];
    out[t] = Number(rows[0]?.n ?? 0);
  }
  return out;
}

export const COUNTED_TABLES = [
  'agencies',
  'users',
  'procedures',
  'procedure_versions',
  'dossiers',
  'dossier_events',
  'dossier_name_keys',
  'dossier_counters',
  'ratings',
  'statistics_daily',
] as const;

async function load(
  deps: Deps,
  target: ScaleTarget,
  total: number,
  log: Log,
  started: number,
): Promise<SeedMarker> {
  const agencies = await deps.repos.agencies.listAll();
  const passwordHash = await deps.hasher.hash(randomBytes(18).toString('base64'));
  await widenCatalogue(deps, agencies);
  await staffAgencies(deps, agencies, passwordHash);
  await createApplicants(deps, passwordHash);
  const pools = await applicantPools(deps);
  const calendar = await deps.calendars.current();
  const firstDay = new Date(SCALE_NOW.getTime() + 7 * 3600_000);
  firstDay.setUTCFullYear(firstDay.getUTCFullYear() - 3);
  firstDay.setUTCDate(firstDay.getUTCDate() + 1);
  const gen = new ScaleGenerator(
    {
      calendar,
      now: SCALE_NOW,
      firstDay: firstDay.toISOString().slice(0, 10),
      agencies: await seedAgencies(deps, agencies),
      ...pools,
    },
    total,
  );
  log(`scale: demo data, catalogue and ${pools.citizens.length + pools.businesses.length} accounts ready`);

  const conn = await connect(target.url);
  try {
    await checkColumns(conn, target.database);
    const loadStart = Date.now();
    let reported = 0;
    let pending: Promise<void> = Promise.resolve();
    while (!gen.done) {
      const chunk = await nextChunk(gen, CHUNK);
      await pending;
      pending = insertChunk(conn, chunk);
      // Awaited on the next turn; until then a failure must not count as unhandled.
      pending.catch(() => undefined);
      if (gen.tally.dossiers - reported >= 100_000 || gen.done) {
        reported = gen.tally.dossiers;
        const s = (Date.now() - loadStart) / 1000;
        log(
          `scale:   ${reported.toLocaleString('en')} dossiers, ${gen.tally.events.toLocaleString('en')} events generated (${s.toFixed(0)} s, ${(reported / s).toFixed(0)} dossiers/s)`,
        );
      }
    }
    await pending;

    await insertRows(
      conn,
      'dossier_counters',
      ['agency_id', 'day', 'last_value'],
      [...gen.counters.values()].map((c) => [c.agencyId, c.day, c.last]),
      5_000,
    );
    // The daily counts the workflow commands would have kept, event by event: checked against the
    // recount afterwards, which makes the check a test of the seed's consistency.
    const columns = [...DAILY_COUNTS, 'working_ms'] as const;
    await conn.query('DELETE FROM statistics_daily');
    await insertRows(
      conn,
      'statistics_daily',
      ['agency_id', 'day', 'procedure_id', ...columns],
      [...gen.daily.values()].map((r) => [
        r.agencyId,
        r.day,
        r.procedureId,
        ...columns.map((c) => r.inc[c] ?? 0),
      ]),
      2_000,
    );
    log('scale: ANALYZE TABLE');
    await conn.query(
      'ANALYZE TABLE dossiers, dossier_events, dossier_name_keys, ratings, statistics_daily, dossier_counters, users, procedures, procedure_versions',
    );
    const marker: SeedMarker = {
      version: SEED_VERSION,
      dossiers: total,
      now: SCALE_NOW.toISOString(),
      seededAt: new Date().toISOString(),
      seedMs: Date.now() - started,
      tally: gen.tally,
      rows: await countRows(conn, COUNTED_TABLES),
    };
    await conn.query(
      `CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (name VARCHAR(32) PRIMARY KEY, info MEDIUMTEXT NOT NULL)`,
    );
    await conn.query(`REPLACE INTO ${MARKER_TABLE} (name, info) VALUES ('scale', ?)`, [
      JSON.stringify(marker),
    ]);
    return marker;
  } finally {
    await conn.end();
  }
}
