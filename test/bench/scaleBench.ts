// The portal at a province's scale: a million dossiers over three years on MariaDB/MySQL. Times what
// gets slower as the data grows (the yearly statistics, the officers' inbox page, the public lookup,
// the recount of the statistics from the event log) by calling the services the routes call, and
// explains the slowest query of anything that misses its target.
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { shutdownDeps } from '../../src/bootstrap';
import type { Deps } from '../../src/container';
import type { Agency } from '../../src/data/agencyRepository';
import type { InboxFilter } from '../../src/data/dossierRepository';
import type { User } from '../../src/data/userRepository';
import type { OfficerRole } from '../../src/domain/roles';
import { resultSummary } from '../../src/routes/documentResponses';
import type { BenchRow } from './benchTypes';
import { personName, Rng } from './scaleData';
import { COUNTED_TABLES, prepareScale, SCALE_NOW, scaleTarget, type SeedMarker } from './scaleSeed';
import { percentile, timeOnce, timeRuns } from './timing';

const HOUR = 3_600_000;
const DESK_ROLES: readonly OfficerRole[] = ['RECEPTION', 'SPECIALIST', 'APPROVER', 'CLERK', 'AGENCY_ADMIN'];
/** The desk asks for one more than a page, to know whether there is a next one. */
const INBOX_FETCH = 26;
const STATS_TARGET_MS = 1000;
const PAGE_TARGET_MS = 50;

export interface ScaleResult {
  rows: BenchRow[];
  summary: Record<string, unknown>;
}

interface TracedQuery {
  sql: string;
  bindings: readonly unknown[];
  ms: number;
}

type KnexQueryEvent = { __knexQueryUid: string; sql: string; bindings?: unknown[] };

/** The queries one call sends, slowest first, with how long each took. */
async function traceQueries(db: Knex, work: () => Promise<unknown>): Promise<TracedQuery[]> {
  const open = new Map<string, { sql: string; bindings: unknown[]; start: number }>();
  const done: TracedQuery[] = [];
  const onQuery = (q: KnexQueryEvent) =>
    open.set(q.__knexQueryUid, { sql: q.sql, bindings: q.bindings ?? [], start: performance.now() });
  const onResponse = (_r: unknown, q: KnexQueryEvent) => {
    const o = open.get(q.__knexQueryUid);
    if (o) done.push({ sql: o.sql, bindings: o.bindings, ms: performance.now() - o.start });
  };
  db.on('query', onQuery);
  db.on('query-response', onResponse);
  try {
    await work();
  } finally {
    db.removeListener('query', onQuery);
    db.removeListener('query-response', onResponse);
  }
  return done.sort((a, b) => b.ms - a.ms);
}

async function plan(db: Knex, verb: 'EXPLAIN' | 'ANALYZE', q: TracedQuery) {
  try {
    const [rows] = (await db.raw(`${verb} ${q.sql}`, q.bindings as Knex.RawBinding[])) as [
      Record<string, unknown>[],
      unknown,
    ];
    return rows;
  } catch (err) {
    // MySQL has no ANALYZE statement (it has EXPLAIN ANALYZE): the plan alone is still worth printing.
    return [{ error: (err as Error).message }];
  }
}

function latencyRow(name: string, samples: number[], targetMs: number | null): BenchRow {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  return {
    name,
    median_ms: p50,
    per_second: 1000 / p50,
    target: targetMs === null ? null : `p99 < ${targetMs} ms`,
    ok: targetMs === null ? null : p99 < targetMs,
    p99_ms: p99,
    runs: samples.length,
  };
}

async function count(db: Knex, table: string): Promise<number> {
  const row = (await db(table).count({ n: '*' }).first()) as { n: unknown } | undefined;
  return Number(row?.n ?? 0);
}

export async function scaleBench(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<ScaleResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const total = Number(process.env.BENCH_SCALE_DOSSIERS ?? 1_000_000);
  if (!Number.isInteger(total) || total < 1000)
    throw new Error('BENCH_SCALE_DOSSIERS must be a whole number >= 1000');
  const prepared = await prepareScale({ total, reseed: process.env.BENCH_RESEED === '1', log });
  const { deps } = prepared;
  try {
    return await measure(deps, prepared.marker, prepared.seededNow, opts.quick, log);
  } finally {
    await shutdownDeps(deps);
  }
}

async function measure(
  deps: Deps,
  marker: SeedMarker,
  seededNow: boolean,
  quick: boolean,
  log: (line: string) => void,
): Promise<ScaleResult> {
  const { db } = deps;
  const rows: BenchRow[] = [];
  const probes = new Map<string, () => Promise<unknown>>();
  const summary: Record<string, unknown> = {
    database: scaleTarget().database,
    now: SCALE_NOW.toISOString(),
    seed: {
      seededNow,
      seededAt: marker.seededAt,
      seedMs: marker.seedMs,
      tally: marker.tally,
      rows: marker.rows,
    },
  };
  const [version] = (await db.raw('SELECT VERSION() AS v, @@innodb_buffer_pool_size AS pool')) as [
    { v: string; pool: number }[],
  ];
  summary.server = { version: version[0]?.v, innodbBufferPoolBytes: Number(version[0]?.pool) };

  const t = marker.tally;
  const pct = (n: number) => `${((100 * n) / t.dossiers).toFixed(1)}%`;
  log(
    `scale: ${seededNow ? 'loaded' : 'loaded earlier'} in ${(marker.seedMs / 1000).toFixed(0)} s (${(t.dossiers / (marker.seedMs / 1000)).toFixed(0)} dossiers/s overall)`,
  );
  log(
    `scale: ${t.dossiers.toLocaleString('en')} dossiers, ${t.events.toLocaleString('en')} events (${(t.events / t.dossiers).toFixed(2)} per dossier), ${t.ratings.toLocaleString('en')} ratings; online ${pct(t.online)}`,
  );
  log(
    `scale: resolved early ${pct(t.resolved.EARLY)}, on time ${pct(t.resolved.ON_TIME)}, late ${pct(t.resolved.LATE)} (refused ${pct(t.refused)}); withdrawn ${pct(t.withdrawn)}; open ${pct(t.openNow)} (paused ${t.openPaused}, overdue ${t.openOverdue}); supplement requests ${pct(t.supplementRequests)}`,
  );
  log(`scale: final statuses ${JSON.stringify(t.byStatus)}`);
  if (seededNow) {
    rows.push({
      name: `scale seed: ${t.dossiers.toLocaleString('en')} dossiers + ${t.events.toLocaleString('en')} events (multi-row INSERT)`,
      median_ms: marker.seedMs,
      per_second: t.dossiers / (marker.seedMs / 1000),
      target: null,
      ok: null,
      runs: 1,
    });
  }

  // The recount from the event log. After a fresh load the daily counts are what the generator
  // added event by event, as the workflow commands do; a check against the recount then tests that the
  // seeded history is consistent. Then the rebuild and a second check are timed.
  if (seededNow) {
    const first = await timeOnce(() => deps.statistics.check());
    summary.seedConsistency = { differences: first.value.length, sample: first.value.slice(0, 20) };
    log(
      `scale: seeded daily counts vs recount from the log: ${first.value.length === 0 ? 'no differences' : `${first.value.length} DIFFERENCES`} (${(first.ms / 1000).toFixed(1)} s)`,
    );
    if (first.value.length > 0) console.table(first.value.slice(0, 10));
  }
  const rebuilt = await timeOnce(() => deps.statistics.rebuild());
  await db.raw('ANALYZE TABLE statistics_daily');
  const checked = await timeOnce(() => deps.statistics.check());
  summary.rebuild = {
    ms: rebuilt.ms,
    dailyRows: rebuilt.value.rows,
    reclassified: rebuilt.value.reclassified,
  };
  summary.check = { ms: checked.ms, differences: checked.value.length, sample: checked.value.slice(0, 20) };
  log(
    `scale: rebuild ${(rebuilt.ms / 1000).toFixed(1)} s (${rebuilt.value.rows} daily rows, ${rebuilt.value.reclassified} dossiers reclassified); check ${(checked.ms / 1000).toFixed(1)} s: ${checked.value.length === 0 ? 'no differences' : `${checked.value.length} DIFFERENCES`}`,
  );
  if (checked.value.length > 0) console.table(checked.value.slice(0, 10));
  rows.push({
    name: `statistics rebuild (recount ${t.dossiers.toLocaleString('en')} dossiers + replace)`,
    median_ms: rebuilt.ms,
    per_second: t.dossiers / (rebuilt.ms / 1000),
    target: null,
    ok: null,
    runs: 1,
  });
  rows.push({
    name: `statistics check (recount + compare): ${checked.value.length} differences`,
    median_ms: checked.ms,
    per_second: t.dossiers / (checked.ms / 1000),
    target: null,
    ok: null,
    runs: 1,
  });

  const counts: Record<string, number> = {};
  for (const table of COUNTED_TABLES) counts[table] = await count(db, table);
  summary.rowCounts = counts;
  log(`scale: rows ${JSON.stringify(counts)}`);

  // The yearly statistics: the province with everything below it, and the busiest agency alone.
  const agencies = await deps.repos.agencies.listAll();
  const province = await deps.statistics.defaultAgency();
  if (!province) throw new Error('no agency to report on');
  const [byAgency] = (await db.raw(
    'SELECT agency_id, SUM(received_online + received_counter) AS n FROM statistics_daily GROUP BY agency_id ORDER BY n DESC',
  )) as [{ agency_id: number; n: number }[]];
  const busiest = agencies.find((a) => a.id === Number(byAgency[0]?.agency_id))!;
  const received = Object.fromEntries(
    byAgency.map((r) => [
      agencies.find((a) => a.id === Number(r.agency_id))?.code ?? r.agency_id,
      Number(r.n),
    ]),
  );
  summary.receivedByAgency = received;
  log(`scale: dossiers received per agency ${JSON.stringify(received)}`);
  const statRuns = quick ? 8 : 30;
  const reports: Record<string, unknown> = {};
  for (const [label, agency] of [
    ['province, all agencies', province],
    ['busiest agency alone', busiest],
  ] as [string, Agency][]) {
    for (const year of [2026, 2025]) {
      const raw = { agency: agency.code, from: `${year}-01-01`, to: `${year}-12-31` };
      const run = async () => deps.statistics.report(await deps.statistics.resolveQuery(raw));
      const warm = await run();
      await run();
      const samples = await timeRuns(statRuns, run);
      const name = `statistics report ${year} (${label}: ${agency.code})${year === 2026 ? ' to date' : ''}`;
      rows.push(latencyRow(name, samples, STATS_TARGET_MS));
      probes.set(name, run);
      reports[name] = {
        received: warm.total.received.total,
        resolved: warm.total.resolved.total,
        onTimeRate: warm.total.onTimeRate,
        inProgress: warm.total.inProgress,
        ratings: warm.total.ratings.count,
      };
    }
  }
  summary.reportFigures = reports;
  log(`scale: report figures ${JSON.stringify(reports)}`);

  // The desk's inbox page, as GET /desk asks for it, and the public lookup, as GET /lookup does.
  const rng = new Rng(42);
  const officers = new Map<number, User[]>();
  for (const a of agencies) {
    const list = await deps.repos.users.activeOfficersWithRole(a.id, DESK_ROLES);
    if (list.length > 0) officers.set(a.id, list);
  }
  const deskAgencies = [...officers.keys()];
  const officerOf = (agencyId?: number) => rng.pick(officers.get(agencyId ?? rng.pick(deskAgencies))!);
  const calendar = await deps.calendars.current();
  const now = deps.clock.now();
  const soon = calendar.addWorkingMillis(calendar.nextWorkingInstant(now), calendar.hoursPerDay * HOUR);
  const maxId = Number(((await db('dossiers').max({ m: 'id' }).first()) as { m: unknown }).m);
  const sampleDossiers = async (n: number) => {
    const ids = Array.from({ length: n }, () => 1 + rng.int(maxId));
    return (await db('dossiers').whereIn('id', ids).select('id', 'code', 'secret', 'agency_id')) as {
      id: number;
      code: string;
      secret: string;
      agency_id: number;
    }[];
  };

  const pageRuns = quick ? 40 : 200;
  const variantRuns = quick ? 10 : 50;
  const inboxRow = async (
    name: string,
    runs: number,
    pick: () => { officer: User; filter: Omit<InboxFilter, 'agencyId'> },
  ) => {
    const call = () => {
      const { officer, filter } = pick();
      return deps.dossiers.inbox(officer, filter, null, INBOX_FETCH);
    };
    // A variant that takes seconds is reported from a handful of runs rather than holding the bench up.
    const first = await timeOnce(call);
    await call();
    const samples = await timeRuns(first.ms > 1000 ? 5 : runs, call);
    rows.push(latencyRow(name, samples, PAGE_TARGET_MS));
    probes.set(name, call);
  };
  await inboxRow('inbox page 1 (GET /desk), random agency', pageRuns, () => ({
    officer: officerOf(),
    filter: {},
  }));
  await inboxRow('inbox page 1, busiest agency', variantRuns, () => ({
    officer: officerOf(busiest.id),
    filter: {},
  }));
  {
    // The next page: keyset after the last row of page one, as the "next" link carries it.
    const samples: number[] = [];
    let probe: () => Promise<unknown> = async () => undefined;
    for (let i = 0; i < variantRuns + 2; i++) {
      const officer = officerOf();
      const page = await deps.dossiers.inbox(officer, {}, null, INBOX_FETCH);
      const last = page[24];
      if (!last?.dueAt) continue;
      const after = { dueAt: last.dueAt, id: last.id };
      probe = () => deps.dossiers.inbox(officer, {}, after, INBOX_FETCH);
      const { ms } = await timeOnce(probe);
      if (i >= 2) samples.push(ms);
    }
    if (samples.length > 0) {
      const name = 'inbox page 2 (keyset), random agency';
      rows.push(latencyRow(name, samples, PAGE_TARGET_MS));
      probes.set(name, probe);
    }
  }
  await inboxRow('inbox filter: overdue', variantRuns, () => ({
    officer: officerOf(),
    filter: { dueBefore: now },
  }));
  await inboxRow('inbox filter: due within a working day', variantRuns, () => ({
    officer: officerOf(),
    filter: { dueBefore: soon },
  }));
  await inboxRow('inbox filter: status SUPPLEMENT_REQUESTED', variantRuns, () => ({
    officer: officerOf(),
    filter: { status: 'SUPPLEMENT_REQUESTED' },
  }));
  const specialists = [...officers.values()].flat().filter((u) => u.roles.includes('SPECIALIST'));
  await inboxRow('inbox filter: mine (a specialist)', variantRuns, () => {
    const officer = rng.pick(specialists);
    return { officer, filter: { assigneeUserId: officer.id } };
  });
  const procedureCodes = new Map<number, string[]>();
  for (const a of deskAgencies)
    procedureCodes.set(
      a,
      (await deps.procedures.list({ agencyId: a })).map((p) => p.code),
    );
  await inboxRow('inbox filter: one procedure', variantRuns, () => {
    const officer = officerOf();
    return {
      officer,
      filter: { procedureCode: rng.pick(procedureCodes.get(officer.agencyId!) ?? ['none']) },
    };
  });
  const codeSample = await sampleDossiers(500);
  await inboxRow('inbox search: a dossier code', variantRuns, () => {
    const d = rng.pick(codeSample);
    return { officer: officerOf(d.agency_id), filter: { q: d.code } };
  });
  await inboxRow('inbox search: an applicant name', variantRuns, () => ({
    officer: officerOf(),
    filter: { q: personName(rng) },
  }));

  const lookups = await sampleDossiers(pageRuns + 10);
  let missing = 0;
  const lookup = async (i: number) => {
    const d = lookups[i % lookups.length]!;
    const view = await deps.dossiers.lookup(d.code, d.secret.toLowerCase());
    if (!view) missing += 1;
    return view;
  };
  await lookup(0);
  const lookupSamples = await timeRuns(pageRuns, (i) => lookup(i + 1));
  if (missing > 0) throw new Error(`${missing} seeded dossiers were not found by their code and secret`);
  rows.push(
    latencyRow('public lookup: code + secret (GET /lookup service call)', lookupSamples, PAGE_TARGET_MS),
  );
  probes.set('public lookup: code + secret (GET /lookup service call)', () => lookup(0));
  const pageData = async (i: number) => {
    const view = await lookup(i);
    if (!view) return;
    await deps.repos.agencies.findById(view.dossier.agencyId);
    await resultSummary(deps, view.dossier.id);
  };
  const pageSamples = await timeRuns(pageRuns, (i) => pageData(i + 3));
  rows.push(latencyRow('public lookup page data (lookup + agency + result)', pageSamples, PAGE_TARGET_MS));
  probes.set('public lookup page data (lookup + agency + result)', () => pageData(0));

  // Anything that missed its target: its slowest query, the plan, and what the plan did.
  const explained: Record<string, unknown>[] = [];
  for (const row of rows.filter((r) => r.ok === false)) {
    const probe = probes.get(row.name);
    if (!probe) continue;
    const traced = await traceQueries(db, probe);
    const slowest = traced[0];
    if (!slowest) continue;
    const explain = await plan(db, 'EXPLAIN', slowest);
    const analyze = await plan(db, 'ANALYZE', slowest);
    log(
      `\nscale: ${row.name} missed "${row.target}" (p99 ${row.p99_ms?.toFixed(1)} ms); slowest query ${slowest.ms.toFixed(1)} ms:`,
    );
    log(`  ${slowest.sql}`);
    log(`  bindings ${JSON.stringify(slowest.bindings)}`);
    console.table(analyze);
    explained.push({
      row: row.name,
      queries: traced.map((q) => ({ sql: q.sql, ms: Math.round(q.ms * 10) / 10 })),
      slowest: { sql: slowest.sql, bindings: slowest.bindings, ms: slowest.ms },
      explain,
      analyze,
    });
  }
  summary.explained = explained;
  return { rows, summary };
}
