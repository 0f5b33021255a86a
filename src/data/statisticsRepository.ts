import type { Knex } from 'knex';
import {
  CLOSING_ACTIONS,
  DAILY_COUNTS,
  type DailyIncrement,
  DUE_SETTING_ACTIONS,
  type HistoryEvent,
  PAUSE_ACTIONS,
  type Timeliness,
} from '../domain/dossierFigures';
import type { Channel } from '../domain/dossierStatus';
import { type Db, toDate, toDateOrNull } from './db';

/** A half-open span of time [start, end). */
export interface Span {
  start: Date;
  end: Date;
}

/** Inclusive Vietnam-time days 'YYYY-MM-DD', as the daily counts are kept. */
export interface DaySpan {
  fromDay: string;
  toDay: string;
}

/** One agency's (or procedure's, or day's) sums of the daily counts. */
export type DailySums = Record<(typeof DAILY_COUNTS)[number] | 'working_ms', number>;

/** A dossier that may still have been open at a moment (closed after it, or not at all). */
export interface OpenCandidateRow {
  dossierId: number;
  agencyId: number;
  dueAt: Date | null;
}

/** Dossiers open at the moment of reading, per agency, from their current state. */
export interface OpenNowCounts {
  agencyId: number;
  total: number;
  paused: number;
  overdue: number;
}

/** One line of a drill-down list: a dossier and the moment that put it in the figure. */
export interface FigureDossierRow {
  code: string;
  agencyId: number;
  at: Date | null;
  dueAt: Date | null;
}

/** The first lines of a drill-down list and how many there are in all. */
export interface FigurePage {
  total: number;
  rows: FigureDossierRow[];
}

export interface CertificateCounts {
  agencyId: number;
  holderKind: 'PERSONAL' | 'AGENCY';
  inUse: number;
  expiringSoon: number;
}

/** A dossier with the events the figures count, for the recount from the log. */
export interface LoggedDossier {
  id: number;
  code: string;
  agencyId: number;
  procedureId: number;
  channel: string;
  countingFrom: Date | null;
  /** The classification the dossier carries (null until it is resolved). */
  timeliness: string | null;
  workingMs: number | null;
  events: { action: string; occurredAt: Date; details: Record<string, unknown> }[];
}

/** A resolved dossier's classification, as a recount from the log gives it. */
export interface Classification {
  dossierId: number;
  timeliness: string;
  workingMs: number;
}

/** One row of the daily counts. */
export interface DailyRow {
  agencyId: number;
  day: string;
  procedureId: number;
  counts: DailySums;
}

/** Large IN lists are sent in slices, well under every engine's limit on bound parameters. */
const SLICE = 500;

function slices<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += SLICE) out.push(items.slice(i, i + SLICE));
  return out;
}

const n = (v: unknown): number => Number(v ?? 0);

/** Slices of histories read at once: well under the connection pool, so requests still get a connection. */
const HISTORY_READERS = 4;

/** An engine-neutral sum: `SUM(CASE WHEN <condition> THEN 1 ELSE 0 END)`. */
const countIf = (condition: string) => `SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;

const COLUMNS = [...DAILY_COUNTS, 'working_ms'] as const;

function sumsOf(r: Record<string, unknown>): DailySums {
  return Object.fromEntries(COLUMNS.map((c) => [c, n(r[c])])) as DailySums;
}

type ListRow = { code: string; agency_id: number; at: unknown; due_at: unknown };
const toFigureRow = (r: ListRow): FigureDossierRow => ({
  code: r.code,
  agencyId: n(r.agency_id),
  at: toDateOrNull(r.at),
  dueAt: toDateOrNull(r.due_at),
});

/**
 * The reads and writes behind the statistics. Period figures are sums of the daily counts, which the
 * workflow commands keep in the transaction that records each event; lists of dossiers and the recount
 * read the dossiers and the event log. Times are compared as bound instants only (no date functions), so
 * the same SQL runs on SQLite (epoch milliseconds) and on MySQL/MariaDB (UTC DATETIME(3)).
 */
export class StatisticsRepository {
  constructor(private readonly db: Db) {}

  /** Adds an event's (or a rating's) counts to its day, inside the caller's transaction. */
  async addDaily(
    trx: Db,
    key: { agencyId: number; procedureId: number; day: string },
    inc: DailyIncrement,
  ): Promise<void> {
    const entries = Object.entries(inc).filter(([, v]) => v !== undefined && v !== 0) as [string, number][];
    if (entries.length === 0) return;
    await trx('statistics_daily')
      .insert({
        agency_id: key.agencyId,
        day: key.day,
        procedure_id: key.procedureId,
        ...Object.fromEntries(entries),
      })
      .onConflict(['agency_id', 'day', 'procedure_id'])
      .merge(
        Object.fromEntries(entries.map(([c, v]) => [c, trx.raw('?? + ?', [`statistics_daily.${c}`, v])])),
      );
  }

  private daily(agencyIds: readonly number[], days: DaySpan) {
    return this.db('statistics_daily')
      .whereIn('agency_id', agencyIds)
      .where('day', '>=', days.fromDay)
      .where('day', '<=', days.toDay);
  }

  private sums() {
    return COLUMNS.map((c) => this.db.raw('SUM(??) AS ??', [c, c]));
  }

  /** The daily counts of the days, summed per agency. */
  async sumsByAgency(agencyIds: readonly number[], days: DaySpan): Promise<Map<number, DailySums>> {
    if (agencyIds.length === 0) return new Map();
    const rows = (await this.daily(agencyIds, days)
      .groupBy('agency_id')
      .select('agency_id', ...this.sums())) as Record<string, unknown>[];
    return new Map(rows.map((r) => [n(r.agency_id), sumsOf(r)]));
  }

  /** The daily counts of the days, summed per agency and procedure (for the ratings of each procedure). */
  async sumsByProcedure(
    agencyIds: readonly number[],
    days: DaySpan,
  ): Promise<{ agencyId: number; procedureId: number; sums: DailySums }[]> {
    if (agencyIds.length === 0) return [];
    const rows = (await this.daily(agencyIds, days)
      .groupBy('agency_id', 'procedure_id')
      .select('agency_id', 'procedure_id', ...this.sums())) as Record<string, unknown>[];
    return rows.map((r) => ({ agencyId: n(r.agency_id), procedureId: n(r.procedure_id), sums: sumsOf(r) }));
  }

  /** The daily counts of the days, summed per day (for the monthly chart). */
  async sumsByDay(agencyIds: readonly number[], days: DaySpan): Promise<Map<string, DailySums>> {
    if (agencyIds.length === 0) return new Map();
    const rows = (await this.daily(agencyIds, days)
      .groupBy('day')
      .select('day', ...this.sums())) as Record<string, unknown>[];
    return new Map(rows.map((r) => [String(r.day), sumsOf(r)]));
  }

  /** Every row of the daily counts (for the check against a recount). */
  async allDaily(): Promise<DailyRow[]> {
    const rows = (await this.db('statistics_daily').select('*')) as Record<string, unknown>[];
    return rows.map((r) => ({
      agencyId: n(r.agency_id),
      day: String(r.day),
      procedureId: n(r.procedure_id),
      counts: sumsOf(r),
    }));
  }

  /** Replaces every daily count by a recount, and sets the classification of the dossiers given, in one
   * transaction. */
  async replaceDaily(rows: readonly DailyRow[], reclassified: readonly Classification[] = []): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const c of reclassified) {
        await trx('dossiers')
          .where({ id: c.dossierId })
          .update({ timeliness: c.timeliness, working_ms: c.workingMs });
      }
      await trx('statistics_daily').delete();
      const records = rows.map((r) => ({
        agency_id: r.agencyId,
        day: r.day,
        procedure_id: r.procedureId,
        ...r.counts,
      }));
      // Small batches: SQLite binds at most 32766 parameters, and each row has twenty.
      for (let i = 0; i < records.length; i += 500)
        await trx('statistics_daily').insert(records.slice(i, i + 500));
    });
  }

  /**
   * Submitted dossiers after `afterId` in id order, with the events the figures count, for the recount:
   * `limit` dossiers at a time so that a million of them never sit in memory together.
   */
  async loggedDossiers(afterId: number, limit: number): Promise<LoggedDossier[]> {
    const dossiers = (await this.db('dossiers')
      .where('id', '>', afterId)
      .whereNotNull('submitted_at')
      .orderBy('id')
      .limit(limit)
      .select(
        'id',
        'code',
        'agency_id',
        'procedure_id',
        'channel',
        'counting_from',
        'timeliness',
        'working_ms',
      )) as Record<string, unknown>[];
    if (dossiers.length === 0) return [];
    const first = n(dossiers[0]!.id);
    const last = n(dossiers[dossiers.length - 1]!.id);
    const actions = [
      ...new Set<string>([
        ...DUE_SETTING_ACTIONS,
        ...PAUSE_ACTIONS,
        ...CLOSING_ACTIONS,
        'request_supplement',
      ]),
    ];
    const events = (await this.db('dossier_events')
      .where('dossier_id', '>=', first)
      .where('dossier_id', '<=', last)
      .whereIn('action', actions)
      .orderBy([
        { column: 'dossier_id', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .select('dossier_id', 'action', 'occurred_at', 'details')) as Record<string, unknown>[];
    const byId = new Map<number, LoggedDossier>();
    const out = dossiers.map((d) => {
      const x: LoggedDossier = {
        id: n(d.id),
        code: String(d.code),
        agencyId: n(d.agency_id),
        procedureId: n(d.procedure_id),
        channel: String(d.channel),
        countingFrom: toDateOrNull(d.counting_from),
        timeliness: d.timeliness === null ? null : String(d.timeliness),
        workingMs: d.working_ms === null ? null : n(d.working_ms),
        events: [],
      };
      byId.set(x.id, x);
      return x;
    });
    for (const e of events) {
      byId.get(n(e.dossier_id))?.events.push({
        action: String(e.action),
        occurredAt: toDate(e.occurred_at),
        details: JSON.parse(String(e.details)) as Record<string, unknown>,
      });
    }
    return out;
  }

  /** Every rating, with its dossier's agency and procedure, for the recount. */
  async allRatings(): Promise<{ agencyId: number; procedureId: number; score: number; createdAt: Date }[]> {
    const rows = (await this.db('ratings').select(
      'agency_id',
      'procedure_id',
      'score',
      'created_at',
    )) as Record<string, unknown>[];
    return rows.map((r) => ({
      agencyId: n(r.agency_id),
      procedureId: n(r.procedure_id),
      score: n(r.score),
      createdAt: toDate(r.created_at),
    }));
  }

  /** Dossiers open now, per agency, read from their current state (paused: waiting for a supplement;
   * overdue: past the due date and not paused). */
  async openNow(agencyIds: readonly number[], now: Date): Promise<OpenNowCounts[]> {
    if (agencyIds.length === 0) return [];
    const rows = (await this.db('dossiers')
      .whereIn('agency_id', agencyIds)
      .whereNull('completed_at')
      .where('submitted_at', '<', now)
      .groupBy('agency_id')
      .select(
        'agency_id',
        this.db.raw('COUNT(*) AS total'),
        this.db.raw(`${countIf('paused_at IS NOT NULL')} AS paused`),
        this.db.raw(`${countIf('paused_at IS NULL AND due_at < ?')} AS overdue`, [now]),
      )) as Record<string, unknown>[];
    return rows.map((r) => ({
      agencyId: n(r.agency_id),
      total: n(r.total),
      paused: n(r.paused),
      overdue: n(r.overdue),
    }));
  }

  /** The first `limit` lines of a list query and the count of all its lines. */
  private async page(
    q: Knex.QueryBuilder,
    order: string[],
    select: string[],
    limit: number,
  ): Promise<FigurePage> {
    const [count, rows] = await Promise.all([
      q.clone().clearSelect().count({ n: '*' }).first() as Promise<{ n: unknown } | undefined>,
      q
        .clone()
        .orderBy(order.map((column) => ({ column, order: 'asc' as const })))
        .limit(limit)
        .select(select) as Promise<ListRow[]>,
    ]);
    return { total: n(count?.n), rows: rows.map(toFigureRow) };
  }

  async receivedDossiers(
    agencyIds: readonly number[],
    span: Span,
    channel: Channel | null,
    limit: number,
  ): Promise<FigurePage> {
    if (agencyIds.length === 0) return { total: 0, rows: [] };
    const q = this.db('dossiers')
      .whereIn('agency_id', agencyIds)
      .where('submitted_at', '>=', span.start)
      .where('submitted_at', '<', span.end);
    if (channel) q.where('channel', channel);
    return this.page(q, ['submitted_at', 'id'], ['code', 'agency_id', 'submitted_at as at', 'due_at'], limit);
  }

  /** Dossiers resolved in the span (released or refused), optionally only those of one timeliness. */
  async resolvedDossiers(
    agencyIds: readonly number[],
    span: Span,
    timeliness: Timeliness | null,
    limit: number,
  ): Promise<FigurePage> {
    if (agencyIds.length === 0) return { total: 0, rows: [] };
    const q = this.db('dossiers')
      .whereIn('agency_id', agencyIds)
      .where('resolved_at', '>=', span.start)
      .where('resolved_at', '<', span.end);
    if (timeliness) q.where('timeliness', timeliness);
    return this.page(q, ['resolved_at', 'id'], ['code', 'agency_id', 'resolved_at as at', 'due_at'], limit);
  }

  /** One line per event of the action in the span (a dossier asked twice for a supplement is listed twice). */
  async eventDossiers(
    agencyIds: readonly number[],
    action: string,
    span: Span,
    limit: number,
  ): Promise<FigurePage> {
    if (agencyIds.length === 0) return { total: 0, rows: [] };
    const q = this.db('dossier_events as e')
      .join('dossiers as d', 'd.id', 'e.dossier_id')
      .where('e.action', action)
      .where('e.occurred_at', '>=', span.start)
      .where('e.occurred_at', '<', span.end)
      .whereIn('d.agency_id', agencyIds);
    return this.page(q, ['e.id'], ['d.code', 'd.agency_id', 'e.occurred_at as at', 'd.due_at'], limit);
  }

  async resultDossiers(
    agencyIds: readonly number[],
    span: Span,
    signedAndSealedOnly: boolean,
    limit: number,
  ): Promise<FigurePage> {
    if (agencyIds.length === 0) return { total: 0, rows: [] };
    const q = this.db('results as r')
      .join('dossiers as d', 'd.id', 'r.dossier_id')
      .whereIn('r.agency_id', agencyIds)
      .where('r.issued_at', '>=', span.start)
      .where('r.issued_at', '<', span.end);
    if (signedAndSealedOnly) {
      q.where('r.kind', 'ELECTRONIC')
        .whereNotNull('r.approver_certificate_id')
        .whereNotNull('r.seal_certificate_id');
    }
    return this.page(
      q,
      ['r.issued_at', 'r.id'],
      ['d.code', 'r.agency_id', 'r.issued_at as at', 'd.due_at'],
      limit,
    );
  }

  /**
   * The events that move the legal clock or close a dossier, per dossier, in the order they happened,
   * before `before` when given. The events come from the (dossier, action, time) index alone; the due date
   * a filing, resubmission or extension set is in the event's details, read only for dossiers whose due
   * date moved after filing (a resubmission or an extension, at any time): for every other dossier the
   * due date on its row is the one its filing set.
   */
  async clockHistory(
    dossiers: readonly { dossierId: number; dueAt: Date | null }[],
    before?: Date,
  ): Promise<Map<number, HistoryEvent[]>> {
    const actions = [...new Set<string>([...DUE_SETTING_ACTIONS, ...PAUSE_ACTIONS, ...CLOSING_ACTIONS])];
    const rowDue = new Map(dossiers.map((d) => [d.dossierId, d.dueAt]));
    const out = new Map<number, HistoryEvent[]>();
    const read = async (ids: number[]) => {
      // Every event of the dossiers, filtered here: an IN list of actions beside the dossiers' would
      // make the engine plan one range per pair (thousands), which costs more than reading them all.
      const rows = (
        (await this.db('dossier_events')
          .whereIn('dossier_id', ids)
          .select('id', 'dossier_id', 'action', 'occurred_at')) as {
          id: number;
          dossier_id: number;
          action: string;
          occurred_at: unknown;
        }[]
      ).filter((r) => actions.includes(r.action));
      const moved = new Set(
        rows.filter((r) => r.action === 'resubmit' || r.action === 'extend').map((r) => n(r.dossier_id)),
      );
      const dueOf = new Map<number, Date | null>();
      const detailed = rows.filter(
        (r) => moved.has(n(r.dossier_id)) && (DUE_SETTING_ACTIONS as readonly string[]).includes(r.action),
      );
      if (detailed.length > 0) {
        const details = (await this.db('dossier_events')
          .whereIn(
            'id',
            detailed.map((r) => r.id),
          )
          .select('id', 'details')) as { id: number; details: string }[];
        for (const d of details) {
          const due = (JSON.parse(d.details) as { dueAt?: unknown }).dueAt;
          dueOf.set(n(d.id), typeof due === 'string' ? new Date(due) : null);
        }
      }
      rows.sort((a, b) => n(a.dossier_id) - n(b.dossier_id) || n(a.id) - n(b.id));
      for (const r of rows) {
        const occurredAt = toDate(r.occurred_at);
        if (before && occurredAt.getTime() >= before.getTime()) continue;
        const id = n(r.dossier_id);
        let dueAt: Date | null = null;
        if ((DUE_SETTING_ACTIONS as readonly string[]).includes(r.action))
          dueAt = moved.has(id) ? (dueOf.get(n(r.id)) ?? null) : (rowDue.get(id) ?? null);
        const list = out.get(id) ?? [];
        list.push({ action: r.action, occurredAt, dueAt });
        out.set(id, list);
      }
    };
    // A past period's end may find thousands of dossiers open: their histories are read a few slices at
    // a time side by side (each slice holds whole dossiers, so each one's events stay in order).
    const pending = slices(dossiers.map((d) => d.dossierId));
    const worker = async () => {
      for (let ids = pending.shift(); ids; ids = pending.shift()) await read(ids);
    };
    await Promise.all(Array.from({ length: HISTORY_READERS }, worker));
    return out;
  }

  /** Dossiers submitted before `at` and not completed before it: a superset of those open at `at`,
   * narrowed through the open-dossier index; the history decides. */
  async openCandidates(agencyIds: readonly number[], at: Date): Promise<OpenCandidateRow[]> {
    if (agencyIds.length === 0) return [];
    // No `code`: these columns are all in the open-dossier index, so the read never touches the rows.
    const columns = ['id', 'agency_id', 'due_at'];
    type Row = { id: number; agency_id: number; due_at: unknown };
    const [open, closedLater] = (await Promise.all([
      this.db('dossiers')
        .whereIn('agency_id', agencyIds)
        .whereNull('completed_at')
        .where('submitted_at', '<', at)
        .select(columns),
      this.db('dossiers')
        .whereIn('agency_id', agencyIds)
        .where('completed_at', '>=', at)
        .where('submitted_at', '<', at)
        .select(columns),
    ])) as [Row[], Row[]];
    return [...open, ...closedLater]
      .map((r) => ({
        dossierId: n(r.id),
        agencyId: n(r.agency_id),
        dueAt: toDateOrNull(r.due_at),
      }))
      .sort((a, b) => a.dossierId - b.dossierId);
  }

  /** The codes of the dossiers, by id. */
  async codesOf(dossierIds: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const ids of slices(dossierIds)) {
      const rows = (await this.db('dossiers').whereIn('id', ids).select('id', 'code')) as {
        id: number;
        code: string;
      }[];
      for (const r of rows) out.set(n(r.id), r.code);
    }
    return out;
  }

  /** Procedures in the catalogue now, per agency and online level of their current version. */
  async proceduresOffered(
    agencyIds: readonly number[],
  ): Promise<{ agencyId: number; onlineLevel: string; count: number }[]> {
    if (agencyIds.length === 0) return [];
    const rows = (await this.db('procedures as p')
      .join('procedure_versions as pv', function () {
        this.on('pv.procedure_id', '=', 'p.id').andOn('pv.version', '=', 'p.current_version');
      })
      .where('p.status', 'ACTIVE')
      .whereIn('p.agency_id', agencyIds)
      .groupBy('p.agency_id', 'pv.online_level')
      .select('p.agency_id', 'pv.online_level')
      .count({ n: '*' })) as { agency_id: number; online_level: string; n: unknown }[];
    return rows.map((r) => ({ agencyId: n(r.agency_id), onlineLevel: r.online_level, count: n(r.n) }));
  }

  async procedureNames(
    ids: readonly number[],
  ): Promise<Map<number, { code: string; vi: string; en: string }>> {
    const out = new Map<number, { code: string; vi: string; en: string }>();
    for (const slice of slices(ids)) {
      const rows = (await this.db('procedures as p')
        .join('procedure_versions as pv', function () {
          this.on('pv.procedure_id', '=', 'p.id').andOn('pv.version', '=', 'p.current_version');
        })
        .whereIn('p.id', slice)
        .select('p.id', 'p.code', 'pv.name', 'pv.name_en')) as {
        id: number;
        code: string;
        name: string;
        name_en: string;
      }[];
      for (const r of rows) out.set(n(r.id), { code: r.code, vi: r.name, en: r.name_en });
    }
    return out;
  }

  /**
   * Certificates in use at `at` (valid then, on record by then, not revoked by then), per agency and kind:
   * an agency's seal by its agency, a personal certificate by its holder's agency. Expiring soon: in use
   * and ending no later than `soonUntil`.
   */
  async certificatesAt(
    agencyIds: readonly number[],
    at: Date,
    soonUntil: Date,
  ): Promise<CertificateCounts[]> {
    if (agencyIds.length === 0) return [];
    const inUse = (q: Knex.QueryBuilder) =>
      q
        .where('c.not_before', '<=', at)
        .where('c.not_after', '>', at)
        .where('c.created_at', '<=', at)
        .where((w) => w.whereNull('c.revoked_at').orWhere('c.revoked_at', '>', at));
    const soon = this.db.raw(`${countIf('c.not_after <= ?')} AS soon`, [soonUntil]);
    const [agency, personal] = (await Promise.all([
      inUse(this.db('certificates as c'))
        .where('c.holder_kind', 'AGENCY')
        .whereIn('c.agency_id', agencyIds)
        .groupBy('c.agency_id')
        .select('c.agency_id', this.db.raw('COUNT(*) AS in_use'), soon),
      inUse(this.db('certificates as c'))
        .join('users as u', 'u.id', 'c.user_id')
        .where('c.holder_kind', 'PERSONAL')
        .whereIn('u.agency_id', agencyIds)
        .groupBy('u.agency_id')
        .select('u.agency_id', this.db.raw('COUNT(*) AS in_use'), soon),
    ])) as [Record<string, unknown>[], Record<string, unknown>[]];
    const rows = (kind: 'PERSONAL' | 'AGENCY', list: Record<string, unknown>[]): CertificateCounts[] =>
      list.map((r) => ({
        agencyId: n(r.agency_id),
        holderKind: kind,
        inUse: n(r.in_use),
        expiringSoon: n(r.soon),
      }));
    return [...rows('AGENCY', agency), ...rows('PERSONAL', personal)];
  }
}
