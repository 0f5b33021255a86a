import { z } from 'zod';
import type { Clock } from '../clock';
import type { Agency, AgencyRepository } from '../data/agencyRepository';
import type {
  DailyRow,
  DailySums,
  FigureDossierRow,
  FigurePage,
  OpenCandidateRow,
  Span,
  StatisticsRepository,
  Classification,
} from '../data/statisticsRepository';
import {
  addDays,
  classifyResolution,
  DAILY_COUNTS,
  type DailyIncrement,
  eventIncrement,
  historyOf,
  isOverdueAt,
  localDateOf,
  localDayStart,
  monthsEnding,
  ratingIncrement,
  type Resolution,
  RESOLVING_ACTIONS,
  stateAt,
  type StateAt,
  TIMELINESS,
  type Timeliness,
} from '../domain/dossierFigures';
import { ValidationError } from '../errors';
import type { CalendarService } from './calendarService';
import { isRealDate } from './dossierForm';
import { EXPIRY_WARNING_DAYS } from './pkiService';
import { parseInput } from './validation';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The chart shows this many months, ending with the month of the period's last day. */
export const CHART_MONTHS = 12;
/** The earliest date a period may start, and its longest span (five years). */
const EARLIEST = '2000-01-01';
const LONGEST_DAYS = 5 * 366;

/** Additive counts of one agency's own dossiers (or a sum of agencies): every published figure is one
 * of these or a ratio of them, so a roll-up is a plain sum. */
export interface RawFigures {
  received: { total: number; online: number; counter: number };
  procedures: { offered: number; fullOnline: number };
  resolved: { total: number; early: number; onTime: number; late: number; released: number; refused: number };
  processing: { count: number; workingMs: number };
  inProgress: { total: number; notYetDue: number; overdue: number; paused: number };
  supplementRequests: number;
  refusals: number;
  withdrawals: number;
  results: {
    issued: number;
    signedAndSealed: number;
    withApproverSignature: number;
    withAgencySeal: number;
    paper: number;
  };
  certificates: { personal: number; agency: number; expiringPersonal: number; expiringAgency: number };
  ratings: { count: number; sum: number; distribution: [number, number, number, number, number] };
}

/** The figures as published (page, CSV, API): the counts with their rates and averages. */
export interface FigureSet {
  received: RawFigures['received'];
  procedures: RawFigures['procedures'];
  resolved: RawFigures['resolved'];
  /** Percent of resolved dossiers resolved early or on time, one decimal; null when none resolved. */
  onTimeRate: number | null;
  /** Working days, two decimals; null when none resolved. */
  averageProcessingDays: number | null;
  inProgress: RawFigures['inProgress'];
  supplementRequests: number;
  refusals: number;
  withdrawals: number;
  results: RawFigures['results'] & { signingRate: number | null };
  certificates: {
    personal: number;
    agency: number;
    expiringSoon: { personal: number; agency: number };
  };
  ratings: {
    count: number;
    average: number | null;
    distribution: Record<'1' | '2' | '3' | '4' | '5', number>;
  };
}

export interface AgencyFigures {
  agency: Agency;
  /** 0 for the agency asked about, 1 for its direct sub-agencies, and so on. */
  depth: number;
  /** The agency's own dossiers, without its sub-agencies'. */
  figures: FigureSet;
}

export interface ProcedureRatings {
  code: string;
  name: { vi: string; en: string };
  agencyId: number;
  ratings: FigureSet['ratings'];
}

export interface MonthFigures {
  /** 'YYYY-MM', Vietnam time. */
  month: string;
  received: number;
  resolved: number;
  /** Resolved at or before the due date in force (early or on time). */
  resolvedOnTime: number;
}

export interface StatisticsReport {
  agency: Agency;
  /** Local dates asked for, the UTC span they make, and the moment "in progress" is read at. */
  period: { from: string; to: string; start: Date; end: Date; asOf: Date };
  /** The agency with all its sub-agencies. */
  total: FigureSet;
  /** Each agency of the tree on its own, parents before their children. */
  byAgency: AgencyFigures[];
  ratingsByProcedure: ProcedureRatings[];
  monthly: MonthFigures[];
  expiringWithinDays: number;
  hoursPerDay: number;
}

export interface StatisticsQuery {
  agency: Agency;
  from: string;
  to: string;
}

/** The dossiers behind a figure, for the officers' drill-down. */
export const DRILL_FIGURES = [
  'received',
  'received-online',
  'received-counter',
  'resolved',
  'resolved-early',
  'resolved-on-time',
  'resolved-late',
  'in-progress',
  'not-yet-due',
  'overdue',
  'paused',
  'supplement-requests',
  'refusals',
  'withdrawals',
  'results-issued',
  'results-signed',
] as const;
export type DrillFigure = (typeof DRILL_FIGURES)[number];

export interface FigureDossier extends FigureDossierRow {
  agency: Agency | undefined;
}

const emptyQueryValue = (v: unknown) => (v === '' ? undefined : v);
const dateField = z.preprocess(
  emptyQueryValue,
  z
    .string({ error: 'v.date' })
    .refine(isRealDate, { error: 'v.date' })
    .refine((d) => d >= EARLIEST, { error: 'v.date' })
    .optional(),
);

/** Query of the statistics pages, the CSV and the API: agency code, period (or one month). */
export const statisticsQuerySchema = z.object({
  agency: z.preprocess(emptyQueryValue, z.string({ error: 'stats.v.agency' }).trim().max(32).optional()),
  from: dateField,
  to: dateField,
  month: z.preprocess(
    emptyQueryValue,
    z
      .string({ error: 'stats.v.month' })
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: 'stats.v.month' })
      .refine((m) => m >= EARLIEST.slice(0, 7), { error: 'stats.v.month' })
      .optional(),
  ),
});

/** `num / den` rounded half up to `places` decimals, or null without a denominator. The scaling is done on
 * the integers before dividing, so 187 / 40 gives 4.68, not the 4.67 of a binary 4.675. */
export function ratio(num: number, den: number, places: number): number | null {
  if (den <= 0) return null;
  const scale = 10 ** places;
  return Math.round((num * scale) / den) / scale;
}
const percent = (part: number, whole: number) => ratio(part * 100, whole, 1);

export function emptyFigures(): RawFigures {
  return {
    received: { total: 0, online: 0, counter: 0 },
    procedures: { offered: 0, fullOnline: 0 },
    resolved: { total: 0, early: 0, onTime: 0, late: 0, released: 0, refused: 0 },
    processing: { count: 0, workingMs: 0 },
    inProgress: { total: 0, notYetDue: 0, overdue: 0, paused: 0 },
    supplementRequests: 0,
    refusals: 0,
    withdrawals: 0,
    results: { issued: 0, signedAndSealed: 0, withApproverSignature: 0, withAgencySeal: 0, paper: 0 },
    certificates: { personal: 0, agency: 0, expiringPersonal: 0, expiringAgency: 0 },
    ratings: { count: 0, sum: 0, distribution: [0, 0, 0, 0, 0] },
  };
}

/** Adds `b` into `a`, field by field (every raw figure is a count or a sum). */
function addInto(a: Record<string, unknown>, b: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'number') a[k] = (a[k] as number) + v;
    else if (Array.isArray(v))
      (a[k] as number[]).forEach((_, i, arr) => (arr[i] = arr[i]! + (v[i] as number)));
    else addInto(a[k] as Record<string, unknown>, v as Record<string, unknown>);
  }
}

export function sumFigures(list: readonly RawFigures[]): RawFigures {
  const total = emptyFigures();
  for (const f of list)
    addInto(total as unknown as Record<string, unknown>, f as unknown as Record<string, unknown>);
  return total;
}

function ratingSet(count: number, sum: number, d: readonly number[]): FigureSet['ratings'] {
  return {
    count,
    average: ratio(sum, count, 2),
    distribution: { '1': d[0]!, '2': d[1]!, '3': d[2]!, '4': d[3]!, '5': d[4]! },
  };
}

export function publish(raw: RawFigures, hoursPerDay: number): FigureSet {
  const r = raw.resolved;
  return {
    received: { ...raw.received },
    procedures: { ...raw.procedures },
    resolved: { ...r },
    onTimeRate: percent(r.early + r.onTime, r.total),
    averageProcessingDays: ratio(raw.processing.workingMs, raw.processing.count * hoursPerDay * HOUR_MS, 2),
    inProgress: { ...raw.inProgress },
    supplementRequests: raw.supplementRequests,
    refusals: raw.refusals,
    withdrawals: raw.withdrawals,
    results: { ...raw.results, signingRate: percent(raw.results.signedAndSealed, raw.results.issued) },
    certificates: {
      personal: raw.certificates.personal,
      agency: raw.certificates.agency,
      expiringSoon: { personal: raw.certificates.expiringPersonal, agency: raw.certificates.expiringAgency },
    },
    ratings: ratingSet(raw.ratings.count, raw.ratings.sum, raw.ratings.distribution),
  };
}

/** The agency and every agency below it (by parent), parents first, siblings by code. */
export function agencyTree(all: readonly Agency[], rootId: number): { agency: Agency; depth: number }[] {
  const children = new Map<number, Agency[]>();
  for (const a of all) {
    if (a.parentId === null) continue;
    const list = children.get(a.parentId) ?? [];
    list.push(a);
    children.set(a.parentId, list);
  }
  const root = all.find((a) => a.id === rootId);
  if (!root) return [];
  const out: { agency: Agency; depth: number }[] = [];
  const seen = new Set<number>();
  const walk = (a: Agency, depth: number) => {
    // A parent loop in hand-edited data must not hang the page.
    if (seen.has(a.id)) return;
    seen.add(a.id);
    out.push({ agency: a, depth });
    for (const c of [...(children.get(a.id) ?? [])].sort((x, y) => x.code.localeCompare(y.code)))
      walk(c, depth + 1);
  };
  walk(root, 0);
  return out;
}

interface OpenDossier extends OpenCandidateRow {
  state: StateAt;
  overdue: boolean;
}

/**
 * A difference between what is kept and a recount from the log: a daily count, or (with `dossier`, on
 * the day of its resolution) the classification a resolved dossier carries, `timeliness` or `working_ms`.
 */
export interface CountDifference {
  agencyId: number;
  day: string;
  procedureId: number;
  count: string;
  kept: number | string | null;
  recounted: number | string;
  dossier?: string;
}

/** The daily counts afresh from the log, and the resolved dossiers whose classification differs. */
interface Recount {
  rows: DailyRow[];
  reclassified: (Classification & {
    code: string;
    agencyId: number;
    procedureId: number;
    day: string;
    kept: {
      timeliness: string | null;
      workingMs: number | null;
    };
  })[];
}

const dailyKey = (r: { agencyId: number; day: string; procedureId: number }) =>
  `${r.agencyId}|${r.day}|${r.procedureId}`;

/**
 * The figures agencies are judged by, for an agency with its sub-agencies and a period of Vietnam-time
 * dates. Period counts are sums of the daily counts that the workflow commands add to in the transaction
 * of each event, so a year at a million dossiers is a sum over a few thousand rows; `recount` derives the
 * same counts from the event log and the ratings, so they can be checked and rebuilt at any time, and
 * the drill-down lists the dossiers behind each count.
 */
export class StatisticsService {
  constructor(
    private readonly deps: {
      statistics: StatisticsRepository;
      agencies: AgencyRepository;
      calendars: CalendarService;
      clock: Clock;
    },
  ) {}

  /** The agency the public page opens with: the province (the first agency without a parent). */
  async defaultAgency(): Promise<Agency | undefined> {
    const all = await this.deps.agencies.listAll();
    const roots = all.filter((a) => a.parentId === null);
    return roots.find((a) => a.level === 'PROVINCE') ?? roots[0] ?? all[0];
  }

  /** Every agency, in tree order, for the agency chooser. */
  async agencyChoices(rootId?: number): Promise<{ agency: Agency; depth: number }[]> {
    const all = await this.deps.agencies.listAll();
    const roots = rootId ? all.filter((a) => a.id === rootId) : all.filter((a) => a.parentId === null);
    return roots.flatMap((r) => agencyTree(all, r.id));
  }

  /**
   * Reads and checks a query: `agency` (code; default `fallback`, else the province), `from` and `to`
   * ('YYYY-MM-DD'; default this year up to today) or `month` ('YYYY-MM', the whole month). With `within`,
   * the agency must be that one or below it. Problems are a ValidationError (422) naming the field.
   */
  async resolveQuery(
    raw: unknown,
    opts: { fallback?: Agency; within?: number } = {},
  ): Promise<StatisticsQuery> {
    const all = await this.deps.agencies.listAll();
    const known = (code: unknown) => {
      const a = typeof code === 'string' ? all.find((x) => x.code === code.trim()) : undefined;
      const allowed =
        opts.within === undefined || agencyTree(all, opts.within).some((x) => x.agency.id === a?.id);
      return a && allowed ? a : undefined;
    };
    let q: z.infer<typeof statisticsQuerySchema>;
    try {
      q = parseInput(statisticsQuerySchema, raw);
    } catch (err) {
      // Every problem at once: an unknown agency is reported beside a bad date.
      const code = (raw as Record<string, unknown> | null)?.agency;
      if (err instanceof ValidationError && code && !known(code) && !err.fieldErrors.agency) {
        throw new ValidationError({ ...err.fieldErrors, agency: 'stats.v.agency' }, err.messageParams);
      }
      throw err;
    }
    let agency: Agency | undefined;
    if (q.agency) {
      agency = known(q.agency);
      if (!agency) throw new ValidationError({ agency: 'stats.v.agency' });
    } else agency = opts.fallback ?? (await this.defaultAgency());
    if (!agency) throw new ValidationError({ agency: 'stats.v.agency' });

    const offset = (await this.deps.calendars.current()).settings.utcOffsetMinutes;
    const today = localDateOf(this.deps.clock.now(), offset);
    let from: string;
    let to: string;
    if (q.month) {
      const [year, month] = q.month.split('-').map(Number) as [number, number];
      from = `${q.month}-01`;
      // Day 0 of the next month is the last day of this one.
      to = new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
    } else {
      // Default: this year up to today; a past year to its end.
      from = q.from ?? `${(q.to ?? today).slice(0, 4)}-01-01`;
      const sameYearSoFar = from <= today && from.slice(0, 4) === today.slice(0, 4);
      to = q.to ?? (sameYearSoFar ? today : `${from.slice(0, 4)}-12-31`);
    }
    if (to < from) throw new ValidationError({ to: 'stats.v.order' });
    if (to > addDays(from, LONGEST_DAYS)) throw new ValidationError({ to: 'stats.v.tooLong' });
    return { agency, from, to };
  }

  private async frame(q: StatisticsQuery) {
    const calendar = await this.deps.calendars.current();
    const offset = calendar.settings.utcOffsetMinutes;
    const span: Span = { start: localDayStart(q.from, offset), end: localDayStart(addDays(q.to, 1), offset) };
    const now = this.deps.clock.now();
    const asOf = now.getTime() < span.end.getTime() ? now : span.end;
    const all = await this.deps.agencies.listAll();
    const tree = agencyTree(all, q.agency.id);
    return { calendar, offset, span, asOf, now, tree, ids: tree.map((x) => x.agency.id) };
  }

  async report(q: StatisticsQuery): Promise<StatisticsReport> {
    const { statistics } = this.deps;
    const { calendar, offset, span, asOf, now, tree, ids } = await this.frame(q);
    const days = { fromDay: q.from, toDay: q.to };
    const soonUntil = new Date(asOf.getTime() + EXPIRY_WARNING_DAYS * DAY_MS);
    const months = monthsEnding(q.to.slice(0, 7), CHART_MONTHS, offset);
    const chartDays = { fromDay: `${months[0]!.month}-01`, toDay: addDays(`${q.to.slice(0, 7)}-01`, 31) };
    const [sums, byProcedureSums, byDay, offered, open, certificates] = await Promise.all([
      statistics.sumsByAgency(ids, days),
      statistics.sumsByProcedure(ids, days),
      statistics.sumsByDay(ids, chartDays),
      statistics.proceduresOffered(ids),
      this.openCounts(ids, asOf, now),
      statistics.certificatesAt(ids, asOf, soonUntil),
    ]);

    const own = new Map<number, RawFigures>(ids.map((id) => [id, emptyFigures()]));
    const of = (agencyId: number) => own.get(agencyId)!;
    for (const [agencyId, c] of sums) {
      const f = of(agencyId);
      f.received = {
        total: c.received_online + c.received_counter,
        online: c.received_online,
        counter: c.received_counter,
      };
      const released = c.released + c.released_paper;
      f.resolved = {
        total: released + c.refused,
        early: c.resolved_early,
        onTime: c.resolved_on_time,
        late: c.resolved_late,
        released,
        refused: c.refused,
      };
      f.processing = { count: released + c.refused, workingMs: c.working_ms };
      f.supplementRequests = c.supplement_requests;
      f.refusals = c.refused;
      f.withdrawals = c.withdrawals;
      // A release seals the result the approver signed; a paper release counts as unsigned.
      f.results = {
        issued: released,
        signedAndSealed: c.released,
        withApproverSignature: c.released,
        withAgencySeal: c.released,
        paper: c.released_paper,
      };
      f.ratings = {
        count: c.ratings,
        sum: c.rating_sum,
        distribution: [c.rated_1, c.rated_2, c.rated_3, c.rated_4, c.rated_5],
      };
    }
    for (const p of offered) {
      const f = of(p.agencyId).procedures;
      f.offered += p.count;
      if (p.onlineLevel === 'FULL') f.fullOnline += p.count;
    }
    for (const o of open) of(o.agencyId).inProgress = o.counts;
    for (const c of certificates) {
      const f = of(c.agencyId).certificates;
      if (c.holderKind === 'PERSONAL') {
        f.personal += c.inUse;
        f.expiringPersonal += c.expiringSoon;
      } else {
        f.agency += c.inUse;
        f.expiringAgency += c.expiringSoon;
      }
    }
    const rated = byProcedureSums.filter((p) => p.sums.ratings > 0);
    const names = await statistics.procedureNames([...new Set(rated.map((p) => p.procedureId))]);
    const monthly = months.map((m) => {
      let received = 0;
      let resolved = 0;
      let resolvedOnTime = 0;
      for (const [day, c] of byDay) {
        if (!day.startsWith(m.month)) continue;
        received += c.received_online + c.received_counter;
        resolved += c.resolved_early + c.resolved_on_time + c.resolved_late;
        resolvedOnTime += c.resolved_early + c.resolved_on_time;
      }
      return { month: m.month, received, resolved, resolvedOnTime };
    });

    const hoursPerDay = calendar.hoursPerDay;
    return {
      agency: q.agency,
      period: { from: q.from, to: q.to, start: span.start, end: span.end, asOf },
      total: publish(sumFigures([...own.values()]), hoursPerDay),
      byAgency: tree.map(({ agency, depth }) => ({
        agency,
        depth,
        figures: publish(of(agency.id), hoursPerDay),
      })),
      ratingsByProcedure: rated
        .map((p) => ({
          code: names.get(p.procedureId)?.code ?? String(p.procedureId),
          name: { vi: names.get(p.procedureId)?.vi ?? '', en: names.get(p.procedureId)?.en ?? '' },
          agencyId: p.agencyId,
          ratings: ratingSet(p.sums.ratings, p.sums.rating_sum, [
            p.sums.rated_1,
            p.sums.rated_2,
            p.sums.rated_3,
            p.sums.rated_4,
            p.sums.rated_5,
          ]),
        }))
        .sort((a, b) => a.code.localeCompare(b.code) || a.agencyId - b.agencyId),
      monthly,
      expiringWithinDays: EXPIRY_WARNING_DAYS,
      hoursPerDay,
    };
  }

  /** The dossiers behind one figure of the report (the first `limit`, and how many in all), in the
   * order the figure counts them. */
  async dossiersBehind(
    q: StatisticsQuery,
    figure: DrillFigure,
    limit: number,
  ): Promise<{ total: number; rows: FigureDossier[] }> {
    const { statistics } = this.deps;
    const { span, asOf, tree, ids } = await this.frame(q);
    const byId = new Map(tree.map((x) => [x.agency.id, x.agency]));
    let page: FigurePage;
    switch (figure) {
      case 'received':
      case 'received-online':
      case 'received-counter':
        page = await statistics.receivedDossiers(
          ids,
          span,
          figure === 'received' ? null : figure === 'received-online' ? 'ONLINE' : 'COUNTER',
          limit,
        );
        break;
      case 'resolved':
      case 'resolved-early':
      case 'resolved-on-time':
      case 'resolved-late': {
        const wanted: Timeliness | null =
          figure === 'resolved-early'
            ? 'EARLY'
            : figure === 'resolved-on-time'
              ? 'ON_TIME'
              : figure === 'resolved-late'
                ? 'LATE'
                : null;
        page = await statistics.resolvedDossiers(ids, span, wanted, limit);
        break;
      }
      case 'in-progress':
      case 'not-yet-due':
      case 'overdue':
      case 'paused': {
        const open = (await this.openAt(ids, asOf)).filter((d) =>
          figure === 'overdue'
            ? d.overdue
            : figure === 'not-yet-due'
              ? !d.overdue
              : figure === 'paused'
                ? d.state.paused
                : true,
        );
        const listed = open.slice(0, limit);
        const codes = await statistics.codesOf(listed.map((d) => d.dossierId));
        page = {
          total: open.length,
          rows: listed.map((d) => ({
            code: codes.get(d.dossierId) ?? '',
            agencyId: d.agencyId,
            at: null,
            dueAt: d.state.dueAt ?? d.dueAt,
          })),
        };
        break;
      }
      case 'supplement-requests':
        page = await statistics.eventDossiers(ids, 'request_supplement', span, limit);
        break;
      case 'refusals':
        page = await statistics.eventDossiers(ids, 'refuse', span, limit);
        break;
      case 'withdrawals':
        page = await statistics.eventDossiers(ids, 'withdraw', span, limit);
        break;
      case 'results-issued':
      case 'results-signed':
        page = await statistics.resultDossiers(ids, span, figure === 'results-signed', limit);
        break;
      default:
        throw new Error(`unknown figure ${String(figure satisfies never)}`);
    }
    return { total: page.total, rows: page.rows.map((r) => ({ ...r, agency: byId.get(r.agencyId) })) };
  }

  /**
   * The in-progress counts at `at`. Read now, they are the dossiers' current state, one indexed count;
   * for a moment past, each dossier open then is read back from its history.
   */
  private async openCounts(
    ids: number[],
    at: Date,
    now: Date,
  ): Promise<{ agencyId: number; counts: RawFigures['inProgress'] }[]> {
    if (at.getTime() === now.getTime()) {
      return (await this.deps.statistics.openNow(ids, at)).map((o) => ({
        agencyId: o.agencyId,
        counts: { total: o.total, notYetDue: o.total - o.overdue, overdue: o.overdue, paused: o.paused },
      }));
    }
    const byAgency = new Map<number, RawFigures['inProgress']>();
    for (const d of await this.openAt(ids, at)) {
      const c = byAgency.get(d.agencyId) ?? { total: 0, notYetDue: 0, overdue: 0, paused: 0 };
      c.total += 1;
      if (d.overdue) c.overdue += 1;
      else c.notYetDue += 1;
      if (d.state.paused) c.paused += 1;
      byAgency.set(d.agencyId, c);
    }
    return [...byAgency].map(([agencyId, counts]) => ({ agencyId, counts }));
  }

  /** Dossiers submitted and neither resolved nor withdrawn before `at`, with where they stood then. */
  private async openAt(ids: number[], at: Date): Promise<OpenDossier[]> {
    const candidates = await this.deps.statistics.openCandidates(ids, at);
    const history = await this.deps.statistics.clockHistory(candidates, at);
    const out: OpenDossier[] = [];
    for (const c of candidates) {
      const state = stateAt(history.get(c.dossierId) ?? [], at);
      if (state.closed) continue;
      // A dossier filed before its submission event recorded a due date still has the one on the row.
      if (!state.dueAt) state.dueAt = c.dueAt;
      out.push({ ...c, state, overdue: isOverdueAt(state, at) });
    }
    return out;
  }

  /**
   * The daily counts derived afresh from the event log and the ratings. A resolution counts as it was
   * classified when it happened, with that day's calendar and rules (the classification the dossier
   * carries, else the one its event recorded): a holiday added or office hours changed since do not
   * re-judge it. One with neither is judged from the due dates and pauses its history records. With
   * `reclassify`, every resolution is judged again so, with today's calendar and rules (after an
   * upgrade that changed how resolutions are judged); `reclassified` then lists the dossiers whose
   * classification that changes.
   */
  async recount(opts: { reclassify?: boolean } = {}): Promise<Recount> {
    const calendar = await this.deps.calendars.current();
    const offset = calendar.settings.utcOffsetMinutes;
    const rows = new Map<string, DailyRow>();
    const add = (key: { agencyId: number; day: string; procedureId: number }, inc: DailyIncrement) => {
      const k = dailyKey(key);
      let row = rows.get(k);
      if (!row) {
        row = { ...key, counts: emptySums() };
        rows.set(k, row);
      }
      for (const [c, v] of Object.entries(inc)) row.counts[c as keyof DailySums] += v;
    };
    const reclassified: Recount['reclassified'] = [];
    let after = 0;
    for (;;) {
      const batch = await this.deps.statistics.loggedDossiers(after, 2000);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.id;
      for (const d of batch) {
        const history = historyOf(d.events);
        history.forEach((e, i) => {
          let resolution: Resolution | null = null;
          if ((RESOLVING_ACTIONS as readonly string[]).includes(e.action)) {
            // The dossier carries the classification of its resolution (there is one; a later one wins).
            const final = !history
              .slice(i + 1)
              .some((x) => (RESOLVING_ACTIONS as readonly string[]).includes(x.action));
            const kept = final ? keptResolution(d) : null;
            const judged = () => {
              const before = history.slice(0, i + 1);
              return classifyResolution(
                calendar,
                {
                  resolvedAt: e.occurredAt,
                  dueAt: stateAt(before, new Date(8.64e15)).dueAt,
                  countingFrom: d.countingFrom,
                },
                before,
              );
            };
            resolution = opts.reclassify
              ? judged()
              : (kept ?? recordedResolution(d.events[i]!.details) ?? judged());
            if (
              final &&
              (kept === null ||
                kept.timeliness !== resolution.timeliness ||
                kept.workingMs !== resolution.workingMs)
            ) {
              reclassified.push({
                dossierId: d.id,
                code: d.code,
                agencyId: d.agencyId,
                procedureId: d.procedureId,
                day: localDateOf(e.occurredAt, offset),
                timeliness: resolution.timeliness,
                workingMs: resolution.workingMs,
                kept: { timeliness: d.timeliness, workingMs: d.workingMs },
              });
            }
          }
          const inc = eventIncrement(e.action, d.channel, resolution);
          if (inc)
            add(
              { agencyId: d.agencyId, day: localDateOf(e.occurredAt, offset), procedureId: d.procedureId },
              inc,
            );
        });
      }
    }
    for (const r of await this.deps.statistics.allRatings()) {
      add(
        { agencyId: r.agencyId, day: localDateOf(r.createdAt, offset), procedureId: r.procedureId },
        ratingIncrement(r.score),
      );
    }
    return { rows: [...rows.values()].sort((a, b) => dailyKey(a).localeCompare(dailyKey(b))), reclassified };
  }

  /**
   * Where the kept daily counts differ from a recount, and which resolved dossiers carry no
   * classification or (with `reclassify`) one that judging again would change (nothing: they agree).
   */
  async check(opts: { reclassify?: boolean } = {}): Promise<CountDifference[]> {
    const [kept, recount] = await Promise.all([this.deps.statistics.allDaily(), this.recount(opts)]);
    const keptBy = new Map(kept.map((r) => [dailyKey(r), r]));
    const recountedBy = new Map(recount.rows.map((r) => [dailyKey(r), r]));
    const out: CountDifference[] = [];
    for (const k of new Set([...keptBy.keys(), ...recountedBy.keys()])) {
      const a = keptBy.get(k);
      const b = recountedBy.get(k);
      const key = (a ?? b)!;
      for (const c of Object.keys(emptySums()) as (keyof DailySums)[]) {
        const x = a?.counts[c] ?? 0;
        const y = b?.counts[c] ?? 0;
        if (x !== y)
          out.push({
            agencyId: key.agencyId,
            day: key.day,
            procedureId: key.procedureId,
            count: c,
            kept: x,
            recounted: y,
          });
      }
    }
    for (const r of recount.reclassified) {
      const at = { agencyId: r.agencyId, day: r.day, procedureId: r.procedureId, dossier: r.code };
      if (r.kept.timeliness !== r.timeliness)
        out.push({ ...at, count: 'timeliness', kept: r.kept.timeliness, recounted: r.timeliness });
      if (r.kept.workingMs !== r.workingMs)
        out.push({ ...at, count: 'working_ms', kept: r.kept.workingMs, recounted: r.workingMs });
    }
    return out.sort((a, b) => a.day.localeCompare(b.day) || a.agencyId - b.agencyId);
  }

  /**
   * Replaces the daily counts by a recount from the log, and gives each resolved dossier the
   * classification the recount finds; returns how many daily rows it wrote and dossiers it reclassified.
   */
  async rebuild(opts: { reclassify?: boolean } = {}): Promise<{ rows: number; reclassified: number }> {
    const { rows, reclassified } = await this.recount(opts);
    await this.deps.statistics.replaceDaily(rows, reclassified);
    return { rows: rows.length, reclassified: reclassified.length };
  }
}

/** The classification a resolved dossier carries, fixed when it was resolved, when it holds one. */
function keptResolution(d: { timeliness: string | null; workingMs: number | null }): Resolution | null {
  if (!(TIMELINESS as readonly unknown[]).includes(d.timeliness) || d.workingMs === null) return null;
  return { timeliness: d.timeliness as Timeliness, workingMs: d.workingMs };
}

/** The classification a resolving event recorded when it happened, when it holds a valid one. */
function recordedResolution(details: Record<string, unknown>): Resolution | null {
  const r = details.resolution as { timeliness?: unknown; workingMs?: unknown } | undefined;
  if (!r || typeof r !== 'object') return null;
  if (!(TIMELINESS as readonly unknown[]).includes(r.timeliness)) return null;
  if (typeof r.workingMs !== 'number' || !Number.isFinite(r.workingMs) || r.workingMs < 0) return null;
  return { timeliness: r.timeliness as Timeliness, workingMs: r.workingMs };
}

function emptySums(): DailySums {
  return Object.fromEntries([...DAILY_COUNTS, 'working_ms'].map((c) => [c, 0])) as DailySums;
}
