// The synthetic history behind the scale benchmark: a million dossiers filed over three years, each
// moved through its procedure's real workflow with the real working calendar, so that every column the
// workflow commands would have written (due dates moved by pauses, resolutions classified when they
// happen, step deadlines, codes from the daily counter) agrees with the event log the recount reads.
// Deterministic: the same seed and the same "now" give the same rows.
import type { ApplicantSnapshot } from '../../src/data/dossierRepository';
import { applicantSearchKeys } from '../../src/data/searchText';
import {
  classifyResolution,
  type DailyIncrement,
  eventIncrement,
  historyOf,
  localDateOf,
  localDayStart,
  ratingIncrement,
  type Resolution,
  type Timeliness,
} from '../../src/domain/dossierFigures';
import type { DossierStatus } from '../../src/domain/dossierStatus';
import type { ProcedureDefinition } from '../../src/domain/procedureDefinition';
import type { WorkingCalendar } from '../../src/domain/workingCalendar';
import { vietnamDayStamp } from '../../src/services/calendarService';
import { type ActorRole, budgetShare, rolesFor, type WorkflowDefinition } from '../../src/workflows/engine';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A small, fast, seedable generator: the data must be the same on every machine and every run. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error('pick from an empty list');
    return list[this.int(list.length)]!;
  }
  /** Exponentially distributed, with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

/** Picks an index with probability proportional to its weight. */
export class WeightedPicker {
  private readonly cumulative: number[] = [];
  constructor(weights: readonly number[]) {
    let sum = 0;
    for (const w of weights) this.cumulative.push((sum += w));
    if (!(sum > 0)) throw new Error('weights must add up to more than zero');
  }
  pick(rng: Rng): number {
    const x = rng.next() * this.cumulative[this.cumulative.length - 1]!;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Events waiting for their turn, earliest first (ties in the order they were made). */
class EventQueue {
  private readonly items: { at: number; seq: number; row: unknown[] }[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  push(at: number, row: unknown[]): void {
    const items = this.items;
    items.push({ at, seq: this.seq++, row });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  /** The earliest event if it happened before `limit`, removed from the queue. */
  popBefore(limit: number): unknown[] | undefined {
    const items = this.items;
    const top = items[0];
    if (!top || top.at >= limit) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.before(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top.row;
  }
  private before(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ'];
const MIDDLE = ['Văn', 'Thị', 'Minh', 'Ngọc', 'Quốc', 'Thanh', 'Đức', 'Thu', 'Hữu', 'Xuân', 'Hồng', 'Gia'];
const GIVEN = ['An', 'Bình', 'Chi', 'Dũng', 'Giang', 'Hà', 'Hải', 'Hạnh', 'Hiếu', 'Hoa', 'Hùng', 'Khánh'];
const GIVEN2 = ['Lan', 'Linh', 'Long', 'Mai', 'Nam', 'Nga', 'Phúc', 'Quân', 'Sơn', 'Tâm', 'Thảo', 'Tuấn'];
const COMPANY = ['Điện tử', 'Cơ khí', 'May mặc', 'Thực phẩm', 'Linh kiện', 'Bao bì', 'Logistics', 'Nhựa'];
const COMPANY2 = ['Quang Minh', 'Hưng Thịnh', 'Bắc Hà', 'Phú An', 'Việt Hàn', 'Kim Long', 'Tân Phát'];

export function personName(rng: Rng): string {
  return `${rng.pick(FAMILY)} ${rng.pick(MIDDLE)} ${rng.pick(rng.chance(0.5) ? GIVEN : GIVEN2)}`;
}

export function companyName(rng: Rng, n: number): string {
  return `Công ty TNHH ${rng.pick(COMPANY)} ${rng.pick(COMPANY2)} ${n}`;
}

const digits = (rng: Rng, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += String(rng.int(10));
  return s;
};

const SECRET_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export interface StaffMember {
  id: number;
  name: string;
}

export interface Staff {
  reception: StaffMember[];
  specialist: StaffMember[];
  approver: StaffMember[];
  clerk: StaffMember[];
}

export interface SeedProcedure {
  procedureId: number;
  versionId: number;
  version: number;
  code: string;
  def: ProcedureDefinition;
  workflow: WorkflowDefinition;
}

export interface SeedAgency {
  id: number;
  code: string;
  /** Share of all dossiers filed with this agency. */
  weight: number;
  procedures: SeedProcedure[];
  staff: Staff;
}

export interface AccountApplicant {
  id: number;
  snapshot: ApplicantSnapshot;
}

export interface SeedWorld {
  calendar: WorkingCalendar;
  now: Date;
  /** First local day of dossiers ('YYYY-MM-DD'). */
  firstDay: string;
  agencies: SeedAgency[];
  citizens: AccountApplicant[];
  businesses: AccountApplicant[];
}

/** Columns of the rows the generator makes, in the order of its row arrays. */
export const DOSSIER_COLUMNS = [
  'id',
  'code',
  'secret',
  'procedure_id',
  'procedure_version_id',
  'agency_id',
  'applicant_user_id',
  'applicant',
  'form_data',
  'status',
  'version',
  'channel',
  'idempotency_key',
  'submitted_at',
  'counting_from',
  'due_at',
  'created_at',
  'updated_at',
  'assignee_user_id',
  'returns_to_user_id',
  'step_due_at',
  'paused_at',
  'remaining_ms',
  'overdue_at',
  'decided_at',
  'completed_at',
  'resolved_at',
  'timeliness',
  'working_ms',
] as const;

export const EVENT_COLUMNS = [
  'id',
  'dossier_id',
  'occurred_at',
  'actor_user_id',
  'actor_role',
  'action',
  'from_status',
  'to_status',
  'note',
  'details',
] as const;

export const RATING_COLUMNS = [
  'dossier_id',
  'user_id',
  'agency_id',
  'procedure_id',
  'score',
  'comment',
  'created_at',
] as const;

export interface SeedChunk {
  dossiers: unknown[][];
  events: unknown[][];
  ratings: unknown[][];
  /** dossier_name_keys rows: agency_id, name_key, dossier_id. */
  nameKeys: unknown[][];
}

interface Step {
  action: string;
  from: DossierStatus;
  to: DossierStatus;
  role: ActorRole;
}

/** The ways through a workflow the generator takes, checked against the workflow's own definition. */
interface Paths {
  release: Step[];
  releasePaper: Step[];
  refuseEarly: Step[];
  refuseLate: Step[];
  /** Who asks for a supplement, by the status the dossier is in. */
  supplementBy: Partial<Record<DossierStatus, ActorRole>>;
  withdrawFrom: readonly DossierStatus[];
  returnBy: ActorRole;
}

const step = (action: string, from: DossierStatus, to: DossierStatus, role: ActorRole): Step => ({
  action,
  from,
  to,
  role,
});

const PATHS: Record<string, Omit<Paths, 'withdrawFrom'>> = {
  'one-stop-default': {
    release: [
      step('accept', 'SUBMITTED', 'ACCEPTED', 'RECEPTION'),
      step('assign', 'ACCEPTED', 'IN_REVIEW', 'RECEPTION'),
      step('propose_approval', 'IN_REVIEW', 'PROPOSED_APPROVAL', 'SPECIALIST'),
      step('approve', 'PROPOSED_APPROVAL', 'APPROVED', 'APPROVER'),
      step('release', 'APPROVED', 'RESULT_READY', 'CLERK'),
    ],
    releasePaper: [
      step('accept', 'SUBMITTED', 'ACCEPTED', 'RECEPTION'),
      step('assign', 'ACCEPTED', 'IN_REVIEW', 'RECEPTION'),
      step('propose_approval', 'IN_REVIEW', 'PROPOSED_APPROVAL', 'SPECIALIST'),
      step('approve', 'PROPOSED_APPROVAL', 'APPROVED', 'APPROVER'),
      step('release_paper', 'APPROVED', 'RESULT_READY', 'CLERK'),
    ],
    refuseEarly: [step('refuse', 'SUBMITTED', 'REFUSED', 'RECEPTION')],
    refuseLate: [
      step('accept', 'SUBMITTED', 'ACCEPTED', 'RECEPTION'),
      step('assign', 'ACCEPTED', 'IN_REVIEW', 'RECEPTION'),
      step('propose_refusal', 'IN_REVIEW', 'PROPOSED_REFUSAL', 'SPECIALIST'),
      step('refuse', 'PROPOSED_REFUSAL', 'REFUSED', 'APPROVER'),
    ],
    supplementBy: { SUBMITTED: 'RECEPTION', IN_REVIEW: 'SPECIALIST' },
    returnBy: 'RECEPTION',
  },
  'commune-simple': {
    release: [
      step('accept', 'SUBMITTED', 'IN_REVIEW', 'RECEPTION'),
      step('approve', 'IN_REVIEW', 'APPROVED', 'APPROVER'),
      step('release', 'APPROVED', 'RESULT_READY', 'CLERK'),
    ],
    releasePaper: [
      step('accept', 'SUBMITTED', 'IN_REVIEW', 'RECEPTION'),
      step('approve', 'IN_REVIEW', 'APPROVED', 'APPROVER'),
      step('release_paper', 'APPROVED', 'RESULT_READY', 'CLERK'),
    ],
    refuseEarly: [step('refuse', 'SUBMITTED', 'REFUSED', 'RECEPTION')],
    refuseLate: [
      step('accept', 'SUBMITTED', 'IN_REVIEW', 'RECEPTION'),
      step('refuse', 'IN_REVIEW', 'REFUSED', 'APPROVER'),
    ],
    supplementBy: { SUBMITTED: 'RECEPTION', IN_REVIEW: 'RECEPTION' },
    returnBy: 'RECEPTION',
  },
};

/**
 * The generator's paths for a workflow, after checking every move against the definition the portal
 * runs: if a workflow changes, the seed says so instead of writing histories the portal could not make.
 */
export function pathsFor(wf: WorkflowDefinition): Paths {
  const p = PATHS[wf.name];
  if (!p) throw new Error(`the scale seed has no paths for workflow ${wf.name}`);
  const check = (s: Step, to: string) => {
    const a = wf.actions.find((x) => x.name === s.action);
    if (!a || !a.from.includes(s.from) || a.to !== to || !rolesFor(a, s.from).includes(s.role)) {
      throw new Error(
        `workflow ${wf.name} no longer allows ${s.action} from ${s.from} to ${to} by ${s.role}; update test/bench/scaleData.ts`,
      );
    }
  };
  for (const s of [...p.release, ...p.releasePaper, ...p.refuseEarly, ...p.refuseLate]) check(s, s.to);
  for (const [from, role] of Object.entries(p.supplementBy)) {
    check(
      step('request_supplement', from as DossierStatus, 'SUPPLEMENT_REQUESTED', role),
      'SUPPLEMENT_REQUESTED',
    );
  }
  check(step('resubmit', 'SUPPLEMENT_REQUESTED', 'SUBMITTED', 'APPLICANT'), 'RETURN');
  check(step('return_result', 'RESULT_READY', 'RETURNED', p.returnBy), 'RETURNED');
  const withdraw = wf.actions.find((x) => x.name === 'withdraw');
  if (!withdraw || !withdraw.roles.includes('APPLICANT'))
    throw new Error(`workflow ${wf.name} has no withdrawal by the applicant`);
  return { ...p, withdrawFrom: withdraw.from };
}

interface SimEvent {
  at: number;
  actor: number | null;
  role: string;
  action: string;
  from: DossierStatus | null;
  to: DossierStatus;
  note: string | null;
  details: Record<string, unknown>;
}

/** What happens to a dossier, drawn before its history is played out. */
type Fate =
  | { kind: 'resolve'; path: 'release' | 'releasePaper' | 'refuseEarly' | 'refuseLate'; aim: Timeliness }
  | { kind: 'withdraw'; path: 'release'; at: number | 'pause' }
  | { kind: 'stall'; path: 'release'; at: number }
  | { kind: 'stuckPaused'; path: 'release' };

/** Counts of what the generator made, for the report. */
export interface SeedTally {
  dossiers: number;
  events: number;
  ratings: number;
  byStatus: Record<string, number>;
  online: number;
  supplementRequests: number;
  resolved: Record<Timeliness, number>;
  refused: number;
  withdrawn: number;
  openNow: number;
  openPaused: number;
  openOverdue: number;
}

const dailyKey = (agencyId: number, day: string, procedureId: number) => `${agencyId}|${day}|${procedureId}`;

/** Per local day, how many dossiers are filed: busier on working days, growing over the years. */
function dailyPlan(world: SeedWorld, total: number): { day: string; count: number }[] {
  const offset = world.calendar.settings.utcOffsetMinutes;
  const lastDay = localDateOf(world.now, offset);
  const days: { day: string; weight: number }[] = [];
  const first = localDayStart(world.firstDay, 0).getTime();
  const last = localDayStart(lastDay, 0).getTime();
  const span = Math.max(1, last - first);
  for (let t = first; t <= last; t += DAY) {
    const day = new Date(t).toISOString().slice(0, 10);
    const growth = 1 + 0.3 * ((t - first) / span);
    const base = world.calendar.isWorkingDay(day) ? 1 : 0.12;
    // Today is under way: only its morning so far.
    const part = day === lastDay ? 0.3 : 1;
    days.push({ day, weight: base * growth * part });
  }
  const sum = days.reduce((s, d) => s + d.weight, 0);
  let cumulative = 0;
  let given = 0;
  return days.map((d) => {
    cumulative += d.weight;
    const upTo = Math.round((cumulative / sum) * total);
    const count = upTo - given;
    given = upTo;
    return { day: d.day, count };
  });
}

/**
 * Makes the dossiers in filing order, a chunk at a time. Besides the rows it keeps what the workflow
 * commands would have added to the daily counts (the statistics projection), the code counters, and a
 * tally for the report.
 */
export class ScaleGenerator {
  private readonly rng: Rng;
  private readonly plan: { day: string; count: number }[];
  private readonly agencyPicker: WeightedPicker;
  private readonly procedurePickers: WeightedPicker[];
  private readonly paths = new Map<string, Paths>();
  private dayIndex = 0;
  /** Submission instants of the current day still to be filed, in order. */
  private pendingTimes: { at: number; office: boolean }[] = [];
  private nextDossierId = 1;
  private nextEventId = 1;
  private readonly pendingEvents = new EventQueue();
  private lastSubmittedAt = -Infinity;
  readonly counters = new Map<string, { agencyId: number; day: string; last: number }>();
  readonly daily = new Map<
    string,
    { agencyId: number; day: string; procedureId: number; inc: DailyIncrement }
  >();
  readonly tally: SeedTally = {
    dossiers: 0,
    events: 0,
    ratings: 0,
    byStatus: {},
    online: 0,
    supplementRequests: 0,
    resolved: { EARLY: 0, ON_TIME: 0, LATE: 0 },
    refused: 0,
    withdrawn: 0,
    openNow: 0,
    openPaused: 0,
    openOverdue: 0,
  };
  private readonly now: number;
  private readonly offset: number;
  private readonly dayWorkMs: number;

  constructor(
    private readonly world: SeedWorld,
    readonly total: number,
    seed = 20261123,
  ) {
    this.rng = new Rng(seed);
    this.plan = dailyPlan(world, total);
    this.agencyPicker = new WeightedPicker(world.agencies.map((a) => a.weight));
    // A few procedures take most of an agency's dossiers, as in every real catalogue.
    this.procedurePickers = world.agencies.map(
      (a) => new WeightedPicker(a.procedures.map((_, i) => 1 / Math.pow(i + 1, 1.1))),
    );
    for (const a of world.agencies) {
      if (a.procedures.length === 0) throw new Error(`agency ${a.code} has no procedure to file with`);
      for (const p of a.procedures)
        if (!this.paths.has(p.workflow.name)) this.paths.set(p.workflow.name, pathsFor(p.workflow));
      for (const role of ['reception', 'specialist', 'approver', 'clerk'] as const) {
        const needed =
          role !== 'specialist' || a.procedures.some((p) => p.workflow.name === 'one-stop-default');
        if (needed && a.staff[role].length === 0) throw new Error(`agency ${a.code} has no ${role} officer`);
      }
    }
    this.now = world.now.getTime();
    this.offset = world.calendar.settings.utcOffsetMinutes;
    this.dayWorkMs = world.calendar.hoursPerDay * HOUR;
  }

  get done(): boolean {
    return this.tally.dossiers >= this.total;
  }

  /** The next `size` dossiers (fewer at the end), with their events and ratings. */
  chunk(size: number): SeedChunk {
    const out: SeedChunk = { dossiers: [], events: [], ratings: [], nameKeys: [] };
    while (out.dossiers.length < size && !this.done) {
      const next = this.nextSubmission();
      if (!next) break;
      this.dossier(next.at, next.office, out);
      this.lastSubmittedAt = next.at;
    }
    // Every dossier still to come is filed at or after the last one, and its events follow its filing:
    // the events before that moment are complete, and take their ids in the order they happened, as
    // the log's ids do in production, where a dossier's events lie weeks apart among everyone else's.
    const limit = this.done ? Infinity : this.lastSubmittedAt;
    for (let row = this.pendingEvents.popBefore(limit); row; row = this.pendingEvents.popBefore(limit))
      out.events.push([this.nextEventId++, ...row]);
    return out;
  }

  private nextSubmission(): { at: number; office: boolean } | undefined {
    while (this.pendingTimes.length === 0) {
      const d = this.plan[this.dayIndex++];
      if (!d) return undefined;
      this.pendingTimes = this.timesOf(d.day, d.count);
    }
    return this.pendingTimes.shift();
  }

  /** Filing instants of one local day: office hours at the counter and online, evenings online only. */
  private timesOf(day: string, count: number): { at: number; office: boolean }[] {
    const start = localDayStart(day, this.offset).getTime();
    const working = this.world.calendar.isWorkingDay(day);
    const out: { at: number; office: boolean }[] = [];
    for (let i = 0; i < count; i++) {
      for (let tries = 0; ; tries++) {
        const office = working && this.rng.chance(0.75);
        let ms: number;
        if (office) {
          const u = this.rng.next() * 8 * HOUR;
          ms = u < 4 * HOUR ? 7.5 * HOUR + u : 13 * HOUR + (u - 4 * HOUR);
        } else ms = this.rng.between(6 * HOUR, 23 * HOUR);
        const at = Math.floor(start + ms);
        if (at < this.now - MINUTE) {
          out.push({ at, office });
          break;
        }
        if (tries > 50) {
          out.push({ at: this.now - this.rng.between(MINUTE, 2 * HOUR), office: false });
          break;
        }
      }
    }
    return out.sort((a, b) => a.at - b.at);
  }

  private addDaily(agencyId: number, at: number, procedureId: number, inc: DailyIncrement): void {
    const day = localDateOf(new Date(at), this.offset);
    const key = dailyKey(agencyId, day, procedureId);
    let row = this.daily.get(key);
    if (!row) {
      row = { agencyId, day, procedureId, inc: {} };
      this.daily.set(key, row);
    }
    for (const [c, v] of Object.entries(inc) as [keyof DailyIncrement, number][])
      row.inc[c] = (row.inc[c] ?? 0) + v;
  }

  private fate(online: boolean, submittedAt: number, paths: Paths): Fate {
    const rng = this.rng;
    const ageDays = (this.now - submittedAt) / DAY;
    // Dossiers nobody moves any more: mostly recent, a thin tail years back (an applicant who never
    // brought the missing paper, a file forgotten in review).
    if (rng.chance(0.18 * Math.exp(-ageDays / 180))) {
      if (online && rng.chance(0.55)) return { kind: 'stuckPaused', path: 'release' };
      return { kind: 'stall', path: 'release', at: rng.int(paths.release.length) };
    }
    if (online && rng.chance(0.034)) {
      const allowed = paths.release
        .map((s, i) => (paths.withdrawFrom.includes(s.from) ? i : -1))
        .filter((i) => i >= 0);
      return { kind: 'withdraw', path: 'release', at: rng.chance(0.3) ? 'pause' : rng.pick(allowed) };
    }
    const r = rng.next();
    const aim: Timeliness = r < 0.1 ? 'LATE' : r < 0.32 ? 'ON_TIME' : 'EARLY';
    if (rng.chance(0.05))
      return { kind: 'resolve', path: rng.chance(0.4) ? 'refuseEarly' : 'refuseLate', aim };
    return { kind: 'resolve', path: rng.chance(0.15) ? 'releasePaper' : 'release', aim };
  }

  /** Working time the officers spend until the resolution, for the timeliness aimed at. */
  private workFor(aim: Timeliness, countingFrom: Date, dueAt: Date): number {
    const cal = this.world.calendar;
    const limit = cal.workingMillisBetween(countingFrom, dueAt);
    const dueDayStart = localDayStart(localDateOf(dueAt, this.offset), this.offset);
    const onDueDay = cal.workingMillisBetween(
      dueDayStart.getTime() > countingFrom.getTime() ? dueDayStart : countingFrom,
      dueAt,
    );
    const rng = this.rng;
    if (aim === 'LATE') return limit + rng.between(0.05, 2) * this.dayWorkMs;
    if (aim === 'ON_TIME' || limit - onDueDay <= HOUR) return limit - rng.between(0.02, 0.98) * onDueDay;
    return rng.between(0.3, 0.97) * (limit - onDueDay);
  }

  private dossier(submittedAt: number, office: boolean, out: SeedChunk): void {
    const { rng, world } = this;
    const cal = world.calendar;
    const agencyIndex = this.agencyPicker.pick(rng);
    const agency = world.agencies[agencyIndex]!;
    const proc = agency.procedures[this.procedurePickers[agencyIndex]!.pick(rng)]!;
    const paths = this.paths.get(proc.workflow.name)!;
    const def = proc.def;
    const id = this.nextDossierId++;
    const online = !office || rng.chance(0.45);
    const channel = online ? 'ONLINE' : 'COUNTER';

    // Who files: an account online, a walk-in at the counter (recorded from their papers).
    const business =
      def.applicantKinds.includes('BUSINESS') && (!def.applicantKinds.includes('CITIZEN') || rng.chance(0.3));
    let applicantUserId: number | null = null;
    let applicant: ApplicantSnapshot;
    if (online) {
      const account = rng.pick(business ? world.businesses : world.citizens);
      applicantUserId = account.id;
      applicant = account.snapshot;
    } else if (business) {
      applicant = {
        kind: 'BUSINESS',
        name: companyName(rng, rng.int(900) + 100),
        idLabel: 'Mã số thuế',
        idNumber: `24${digits(rng, 8)}`,
        representative: personName(rng),
        email: null,
        phone: `09${digits(rng, 8)}`,
      };
    } else {
      applicant = {
        kind: 'CITIZEN',
        name: personName(rng),
        idLabel: 'Số định danh cá nhân',
        idNumber: `024${digits(rng, 9)}`,
        representative: null,
        email: null,
        phone: rng.chance(0.7) ? `09${digits(rng, 8)}` : null,
      };
    }

    // The code from the agency's counter of the Vietnam-time day, as the submission allocates it.
    const stamp = vietnamDayStamp(new Date(submittedAt), this.offset);
    const counterKey = `${agency.id}|${stamp}`;
    const n = (this.counters.get(counterKey)?.last ?? 0) + 1;
    this.counters.set(counterKey, { agencyId: agency.id, day: stamp, last: n });
    const code = `${agency.code}-${stamp}-${String(n).padStart(4, '0')}`;
    let secret = '';
    for (let i = 0; i < 8; i++) secret += SECRET_ALPHABET[rng.int(SECRET_ALPHABET.length)];

    const submitted = new Date(submittedAt);
    const countingFrom = cal.countingStart(submitted);
    let dueAt = cal.dueDate(submitted, def.timeLimit);
    const fate = this.fate(online, submittedAt, paths);
    const steps = paths[fate.path];
    const supplementAt = (() => {
      if (!online || applicantUserId === null) return -1;
      const allowed = steps.map((s, i) => (paths.supplementBy[s.from] ? i : -1)).filter((i) => i >= 0);
      if (allowed.length === 0) return -1;
      if (fate.kind === 'stuckPaused' || (fate.kind === 'withdraw' && fate.at === 'pause'))
        return rng.pick(allowed);
      return rng.chance(0.25) ? rng.pick(allowed) : -1;
    })();

    // The officers' working time, spread over the steps by the workflow's budgets.
    const aim: Timeliness = fate.kind === 'resolve' ? fate.aim : rng.chance(0.9) ? 'EARLY' : 'LATE';
    const total = this.workFor(aim, countingFrom, dueAt);
    const weights = steps.map(
      (s) => Math.max(0.02, budgetShare(proc.workflow, s.from)) * rng.between(0.6, 1.4),
    );
    const weightSum = weights.reduce((a, b) => a + b, 0);
    const work = weights.map((w) => (total * w) / weightSum);

    const events: SimEvent[] = [];
    let last = submittedAt;
    const later = (t: number) => Math.max(t, last + MINUTE);
    const push = (e: SimEvent) => {
      events.push(e);
      last = e.at;
    };
    const staff = agency.staff;
    const officer = (role: ActorRole): StaffMember => {
      switch (role) {
        case 'RECEPTION':
          return rng.pick(staff.reception);
        case 'APPROVER':
          return rng.pick(staff.approver);
        case 'CLERK':
          return rng.pick(staff.clerk);
        default:
          return rng.pick(staff.specialist);
      }
    };

    const receptionist = online ? null : officer('RECEPTION');
    push({
      at: submittedAt,
      actor: online ? applicantUserId : receptionist!.id,
      role: online ? applicant.kind : 'RECEPTION',
      action: 'SUBMIT',
      from: null,
      to: 'SUBMITTED',
      note: null,
      details: { channel, dueAt: dueAt.toISOString(), procedureVersion: proc.version },
    });

    let status: DossierStatus = 'SUBMITTED';
    let cursor = submittedAt;
    let assignee: StaffMember | null = null;
    let returnsTo: number | null = null;
    let pausedAt: number | null = null;
    let remainingMs: number | null = null;
    let decidedAt: number | null = null;
    let completedAt: number | null = null;
    let resolvedAt: number | null = null;
    let resolution: Resolution | null = null;
    const withdraw = (at: number) => {
      const when = later(at);
      if (when >= this.now) return;
      push({
        at: when,
        actor: applicantUserId,
        role: 'APPLICANT',
        action: 'withdraw',
        from: status,
        to: 'WITHDRAWN',
        note: 'Tổ chức, cá nhân xin rút hồ sơ để hoàn thiện lại.',
        details: {},
      });
      status = 'WITHDRAWN';
      completedAt = when;
    };

    walk: for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      let w = work[i]!;
      if (supplementAt === i) {
        const frac = rng.between(0.1, 0.9);
        const asked = later(cal.addWorkingMillis(new Date(cursor), w * frac).getTime());
        if (asked >= this.now) break walk;
        const remaining = Math.max(0, cal.workingMillisBetween(new Date(asked), dueAt));
        const by = paths.supplementBy[s.from] === 'SPECIALIST' && assignee ? assignee : officer('RECEPTION');
        const papers = def.papers.length > 0 ? [rng.pick(def.papers).code] : ['attachment'];
        push({
          at: asked,
          actor: by.id,
          role: paths.supplementBy[s.from]!,
          action: 'request_supplement',
          from: status,
          to: 'SUPPLEMENT_REQUESTED',
          note: 'Đề nghị bổ sung giấy tờ còn thiếu hoặc chưa hợp lệ.',
          details: { papers, remainingWorkingHours: Math.round((remaining / HOUR) * 100) / 100 },
        });
        const askedFrom = status;
        status = 'SUPPLEMENT_REQUESTED';
        pausedAt = asked;
        remainingMs = remaining;
        returnsTo = by.id;
        if (fate.kind === 'stuckPaused') break walk;
        const delay = Math.min(30 * DAY, HOUR + rng.exp(3 * DAY));
        if (fate.kind === 'withdraw' && fate.at === 'pause') {
          withdraw(asked + rng.between(0.2, 1) * delay);
          break walk;
        }
        const back = asked + delay;
        if (back >= this.now) break walk;
        const newDue = cal.addWorkingMillis(cal.nextWorkingInstant(new Date(back)), remaining);
        push({
          at: back,
          actor: applicantUserId,
          role: 'APPLICANT',
          action: 'resubmit',
          from: 'SUPPLEMENT_REQUESTED',
          to: askedFrom,
          note: null,
          details: { previousDueAt: dueAt.toISOString(), dueAt: newDue.toISOString(), files: 1 + rng.int(2) },
        });
        status = askedFrom;
        dueAt = newDue;
        pausedAt = null;
        remainingMs = null;
        cursor = back;
        w *= 1 - frac;
      }
      if (fate.kind === 'stall' && fate.at === i) break walk;
      const at = later(cal.addWorkingMillis(new Date(cursor), w).getTime());
      if (fate.kind === 'withdraw' && fate.at === i) {
        withdraw(cursor + rng.between(0.1, 0.9) * (at - cursor));
        break walk;
      }
      if (at >= this.now) break walk;
      const by = s.role === 'SPECIALIST' && assignee ? assignee : officer(s.role);
      const details: Record<string, unknown> = {};
      let note: string | null = null;
      if (s.action === 'assign') {
        assignee = officer('SPECIALIST');
        details.assignee = { id: assignee.id, name: assignee.name };
      }
      if (s.action === 'propose_refusal' || s.action === 'refuse')
        note = 'Hồ sơ không đáp ứng điều kiện theo quy định.';
      if (s.action === 'release' || s.action === 'release_paper' || s.action === 'refuse') {
        // Classified as the recount classifies it: the due date and pauses the history records.
        resolution = classifyResolution(
          cal,
          { resolvedAt: new Date(at), dueAt, countingFrom },
          historyOf(
            events.map((e) => ({ action: e.action, occurredAt: new Date(e.at), details: e.details })),
          ),
        );
        details.resolution = resolution;
        resolvedAt = at;
      }
      push({ at, actor: by.id, role: s.role, action: s.action, from: status, to: s.to, note, details });
      status = s.to;
      cursor = at;
      if (s.action === 'approve') decidedAt = at;
      if (s.action === 'release' || s.action === 'release_paper') completedAt = at;
      if (s.action === 'refuse') {
        decidedAt = at;
        completedAt = at;
      }
    }

    // The applicant collects the result (or it is handed over) some working days after the release.
    if (status === 'RESULT_READY') {
      const at = later(cal.addWorkingMillis(new Date(last), rng.between(0.1, 6) * this.dayWorkMs).getTime());
      if (at < this.now) {
        push({
          at,
          actor: officer(paths.returnBy).id,
          role: paths.returnBy,
          action: 'return_result',
          from: status,
          to: 'RETURNED',
          note: null,
          details: {},
        });
        status = 'RETURNED';
      }
    }

    // What the row holds after its last transition.
    const lastEvent = events[events.length - 1]!;
    const limitMs = (() => {
      switch (def.timeLimit.unit) {
        case 'WORKING_DAYS':
          return def.timeLimit.amount * this.dayWorkMs;
        case 'WORKING_HOURS':
          return def.timeLimit.amount * HOUR;
        default:
          return cal.workingMillisBetween(countingFrom, dueAt);
      }
    })();
    let stepDueAt: Date | null;
    if (lastEvent.action === 'SUBMIT') {
      const share = budgetShare(proc.workflow, proc.workflow.initial);
      stepDueAt = cal.addWorkingMillis(countingFrom, share * cal.workingMillisBetween(countingFrom, dueAt));
    } else if (lastEvent.action === 'request_supplement') stepDueAt = null;
    else {
      const share = budgetShare(proc.workflow, lastEvent.to);
      stepDueAt =
        share > 0
          ? cal.addWorkingMillis(cal.nextWorkingInstant(new Date(lastEvent.at)), share * limitMs)
          : null;
    }
    const open = completedAt === null;
    const paused = status === 'SUPPLEMENT_REQUESTED';
    let overdueAt: number | null = null;
    // The periodic overdue job marks a running dossier some minutes after its due date passes.
    const marked = dueAt.getTime() + rng.between(1, 10) * MINUTE;
    if (open && !paused && marked < this.now) overdueAt = marked;
    if (resolution?.timeliness === 'LATE' && resolvedAt !== null && marked < resolvedAt) overdueAt = marked;

    out.dossiers.push([
      id,
      code,
      secret,
      proc.procedureId,
      proc.versionId,
      agency.id,
      applicantUserId,
      JSON.stringify(applicant),
      JSON.stringify(this.formData(def, applicant)),
      status,
      events.length,
      channel,
      `${online ? 'user' : 'counter'}:${online ? applicantUserId : receptionist!.id}:seed-${id}`,
      submitted,
      countingFrom,
      dueAt,
      submitted,
      new Date(lastEvent.at),
      assignee?.id ?? null,
      returnsTo,
      stepDueAt,
      pausedAt === null ? null : new Date(pausedAt),
      remainingMs,
      overdueAt === null ? null : new Date(overdueAt),
      decidedAt === null ? null : new Date(decidedAt),
      completedAt === null ? null : new Date(completedAt),
      resolvedAt === null ? null : new Date(resolvedAt),
      resolution?.timeliness ?? null,
      resolution?.workingMs ?? null,
    ]);
    for (const key of applicantSearchKeys(applicant)) out.nameKeys.push([agency.id, key, id]);
    for (const e of events) {
      this.pendingEvents.push(e.at, [
        id,
        new Date(e.at),
        e.actor,
        e.role,
        e.action,
        e.from,
        e.to,
        e.note,
        JSON.stringify(e.details),
      ]);
      const resolving = e.action === 'release' || e.action === 'release_paper' || e.action === 'refuse';
      const inc = eventIncrement(e.action, channel, resolving ? resolution : null);
      if (inc) this.addDaily(agency.id, e.at, proc.procedureId, inc);
    }

    // Some applicants rate the service once the result is out.
    if (
      applicantUserId !== null &&
      resolvedAt !== null &&
      (status === 'RESULT_READY' || status === 'RETURNED')
    ) {
      if (rng.chance(0.2)) {
        const at = resolvedAt + rng.between(HOUR, 7 * DAY);
        if (at < this.now) {
          const r = rng.next();
          const score = r < 0.55 ? 5 : r < 0.8 ? 4 : r < 0.9 ? 3 : r < 0.95 ? 2 : 1;
          out.ratings.push([
            id,
            applicantUserId,
            agency.id,
            proc.procedureId,
            score,
            score <= 2 ? 'Thời gian giải quyết còn chậm.' : null,
            new Date(at),
          ]);
          this.addDaily(agency.id, at, proc.procedureId, ratingIncrement(score));
          this.tally.ratings += 1;
        }
      }
    }

    const t = this.tally;
    t.dossiers += 1;
    t.events += events.length;
    t.byStatus[status] = (t.byStatus[status] ?? 0) + 1;
    if (online) t.online += 1;
    t.supplementRequests += events.filter((e) => e.action === 'request_supplement').length;
    if (resolution) t.resolved[resolution.timeliness] += 1;
    if (status === 'REFUSED') t.refused += 1;
    if (status === 'WITHDRAWN') t.withdrawn += 1;
    if (open) {
      t.openNow += 1;
      if (paused) t.openPaused += 1;
      else if (dueAt.getTime() < this.now) t.openOverdue += 1;
    }
  }

  /** Form values shaped by the procedure's own fields, filled the way an applicant would. */
  private formData(def: ProcedureDefinition, applicant: ApplicantSnapshot): Record<string, string | number> {
    const rng = this.rng;
    const data: Record<string, string | number> = {};
    for (const f of def.fields) {
      switch (f.prefill) {
        case 'fullName':
          data[f.name] = applicant.representative ?? applicant.name;
          continue;
        case 'companyName':
          data[f.name] = applicant.name;
          continue;
        case 'citizenId':
        case 'taxCode':
          data[f.name] = applicant.idNumber;
          continue;
        case 'phone':
          data[f.name] = applicant.phone ?? `09${digits(rng, 8)}`;
          continue;
        default:
          break;
      }
      switch (f.type) {
        case 'select':
          data[f.name] = rng.pick(f.options?.map((o) => o.value) ?? ['X']);
          break;
        case 'number':
          data[f.name] = Math.round(rng.between(f.min ?? 1, Math.min(f.max ?? 50, 1000)));
          break;
        case 'date':
          data[f.name] =
            `${1960 + rng.int(45)}-${String(1 + rng.int(12)).padStart(2, '0')}-${String(1 + rng.int(28)).padStart(2, '0')}`;
          break;
        case 'email':
          data[f.name] = applicant.email ?? `lienhe${rng.int(10000)}@example.vn`;
          break;
        case 'phone':
          data[f.name] = `09${digits(rng, 8)}`;
          break;
        case 'citizenId':
          data[f.name] = `024${digits(rng, 9)}`;
          break;
        case 'taxCode':
          data[f.name] = `24${digits(rng, 8)}`;
          break;
        case 'textarea':
          data[f.name] = 'Đề nghị cơ quan có thẩm quyền xem xét, giải quyết theo quy định.';
          break;
        default:
          data[f.name] = f.required || rng.chance(0.5) ? personName(rng) : '';
      }
    }
    return data;
  }
}
