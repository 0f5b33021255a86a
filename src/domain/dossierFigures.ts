// What the published figures mean, as pure functions of a dossier's history: whether a resolution was
// early, on time or late, how long the dossier was worked on, and where it stood at a given moment. The
// statistics pages print these definitions; the tests check the figures against them.
import type { WorkingCalendar } from './workingCalendar';

/** Events that resolve a dossier: a result released (signed or on paper), or a refusal. */
export const RESOLVING_ACTIONS = ['release', 'release_paper', 'refuse'] as const;
/** Events after which nobody works on the dossier any more: a resolution or a withdrawal. */
export const CLOSING_ACTIONS = [...RESOLVING_ACTIONS, 'withdraw'] as const;
/** Events that set the appointment date (details.dueAt): submission, resubmission, extension. */
export const DUE_SETTING_ACTIONS = ['SUBMIT', 'resubmit', 'extend'] as const;
/** Events that stop and restart the legal clock. */
export const PAUSE_ACTIONS = ['request_supplement', 'resubmit'] as const;

export const TIMELINESS = ['EARLY', 'ON_TIME', 'LATE'] as const;
export type Timeliness = (typeof TIMELINESS)[number];

const DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_MONTH = /^(\d{4})-(\d{2})$/;

/** The UTC instant at which a local 'YYYY-MM-DD' date begins. */
export function localDayStart(date: string, utcOffsetMinutes: number): Date {
  const m = ISO_DATE.exec(date);
  if (!m) throw new Error(`${JSON.stringify(date)} is not a YYYY-MM-DD date`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - utcOffsetMinutes * 60_000);
}

/** The local 'YYYY-MM-DD' date of an instant. */
export function localDateOf(at: Date, utcOffsetMinutes: number): string {
  return new Date(at.getTime() + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** A 'YYYY-MM-DD' date moved by whole days. */
export function addDays(date: string, days: number): string {
  return new Date(localDayStart(date, 0).getTime() + days * DAY).toISOString().slice(0, 10);
}

export interface MonthSpan {
  /** 'YYYY-MM' local. */
  month: string;
  start: Date;
  /** Exclusive: the start of the next month. */
  end: Date;
}

/** The `count` local months ending with `lastMonth` ('YYYY-MM'), oldest first. */
export function monthsEnding(lastMonth: string, count: number, utcOffsetMinutes: number): MonthSpan[] {
  const m = ISO_MONTH.exec(lastMonth);
  if (!m) throw new Error(`${JSON.stringify(lastMonth)} is not a YYYY-MM month`);
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  const offsetMs = utcOffsetMinutes * 60_000;
  const spans: MonthSpan[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const start = Date.UTC(year, month - i, 1);
    const end = Date.UTC(year, month - i + 1, 1);
    spans.push({
      month: new Date(start).toISOString().slice(0, 7),
      start: new Date(start - offsetMs),
      end: new Date(end - offsetMs),
    });
  }
  return spans;
}

/**
 * Early: resolved on a day before the day of the due date (local time). On time: resolved on the due
 * date's day, no later than the due time. Late: resolved after the due time. The due date is the
 * appointment of the receipt, moved by every pause for a supplement (see legalDueAt); an extension gives
 * the applicant a new appointment but does not make a late dossier on time.
 */
export function timeliness(resolvedAt: Date, dueAt: Date, utcOffsetMinutes: number): Timeliness {
  if (resolvedAt.getTime() > dueAt.getTime()) return 'LATE';
  const dueDayStart = localDayStart(localDateOf(dueAt, utcOffsetMinutes), utcOffsetMinutes);
  return resolvedAt.getTime() < dueDayStart.getTime() ? 'EARLY' : 'ON_TIME';
}

export interface HistoryEvent {
  action: string;
  occurredAt: Date;
  /** details.dueAt of the event, when it set one. */
  dueAt: Date | null;
}

/**
 * Working time the agency spent on a dossier: from the moment its clock started counting to its
 * resolution, less the working time the clock stood still waiting for a supplement (from each request to
 * the resubmission). `events` in the order they happened.
 */
export function processingMillis(
  calendar: WorkingCalendar,
  countingFrom: Date,
  resolvedAt: Date,
  events: readonly HistoryEvent[],
): number {
  let total = calendar.workingMillisBetween(countingFrom, resolvedAt);
  let pausedAt: Date | null = null;
  const paused = (from: Date, to: Date) => {
    const start = from.getTime() < countingFrom.getTime() ? countingFrom : from;
    total -= calendar.workingMillisBetween(start, to.getTime() < resolvedAt.getTime() ? to : resolvedAt);
  };
  for (const e of events) {
    if (e.occurredAt.getTime() > resolvedAt.getTime()) continue;
    if (e.action === 'request_supplement' && !pausedAt) pausedAt = e.occurredAt;
    else if (e.action === 'resubmit' && pausedAt) {
      paused(pausedAt, e.occurredAt);
      pausedAt = null;
    }
  }
  if (pausedAt) paused(pausedAt, resolvedAt);
  return Math.max(0, total);
}

export interface StateAt {
  /** Resolved or withdrawn before the moment. */
  closed: boolean;
  /** Waiting for the applicant's supplement at the moment (the clock stands still). */
  paused: boolean;
  /** The appointment date in force at the moment. */
  dueAt: Date | null;
}

/** Where a dossier stood at `at`, read from its history alone (events in the order they happened). */
export function stateAt(events: readonly HistoryEvent[], at: Date): StateAt {
  let closed = false;
  let paused = false;
  let dueAt: Date | null = null;
  for (const e of events) {
    if (e.occurredAt.getTime() >= at.getTime()) continue;
    if ((CLOSING_ACTIONS as readonly string[]).includes(e.action)) closed = true;
    if (e.action === 'request_supplement') paused = true;
    if (e.action === 'resubmit') paused = false;
    if ((DUE_SETTING_ACTIONS as readonly string[]).includes(e.action) && e.dueAt) dueAt = e.dueAt;
  }
  return { closed, paused, dueAt };
}

/** In progress at `at` and past its appointment: not closed, not paused, due before the moment. */
export function isOverdueAt(state: StateAt, at: Date): boolean {
  return !state.closed && !state.paused && state.dueAt !== null && state.dueAt.getTime() < at.getTime();
}

/** The classification a resolution carries for good: fixed when it happens, with that day's calendar. */
export interface Resolution {
  timeliness: Timeliness;
  workingMs: number;
}

/**
 * The working time left on a dossier's clock when it stops for a supplement at `at`. Asked before the
 * clock began (received after the cut-off, asked the same evening), the whole time limit is left, not
 * the office time between the request and the counting start too.
 */
export function timeLeftAtPause(
  calendar: WorkingCalendar,
  at: Date,
  dueAt: Date | null,
  countingFrom: Date | null,
): number {
  const from = countingFrom && countingFrom.getTime() > at.getTime() ? countingFrom : at;
  return dueAt ? Math.max(0, calendar.workingMillisBetween(from, dueAt)) : 0;
}

/** The appointment after a resubmission at `at`: the time left, counted from the next working moment. */
export function dueAfterResume(calendar: WorkingCalendar, at: Date, timeLeftMs: number): Date {
  return calendar.addWorkingMillis(calendar.nextWorkingInstant(at), timeLeftMs);
}

/**
 * The appointment a dossier is held to: the one set at filing, moved by each pause for a supplement as
 * the clock moved it (the working time left at the request, counted again from the first working moment
 * after the resubmission), and never by an extension. An extension (mẫu 04) is the agency's apology for a
 * dossier it will not resolve in time, with a new date for the applicant: the dossier resolved by that
 * date is still a late one, or every agency could reach a perfect on-time rate by extending before it
 * releases. Without an extension in the history this is `dueAt`, the appointment in force; before the
 * first extension, each resubmission's recorded appointment is the one. Only a pause after an extension
 * is counted again here, with the calendar of today.
 */
export function legalDueAt(
  calendar: WorkingCalendar,
  dueAt: Date | null,
  history: readonly HistoryEvent[],
  countingFrom: Date | null = null,
): Date | null {
  if (!history.some((e) => e.action === 'extend')) return dueAt;
  let due: Date | null = null;
  let remaining: number | null = null;
  let extended = false;
  for (const e of history) {
    if (e.action === 'SUBMIT') due = e.dueAt;
    else if (e.action === 'extend') extended = true;
    else if (e.action === 'resubmit' && remaining !== null && !extended) {
      // Before any extension the appointment in force was this one: as recorded, with the calendar of
      // that day (a holiday added since must not move it).
      due = e.dueAt ?? due;
      remaining = null;
    } else if (e.action === 'request_supplement' && remaining === null) {
      remaining = timeLeftAtPause(calendar, e.occurredAt, due, countingFrom);
    } else if (e.action === 'resubmit' && remaining !== null) {
      if (due) due = dueAfterResume(calendar, e.occurredAt, remaining);
      remaining = null;
    }
  }
  return due;
}

/**
 * How a resolution at `resolvedAt` counts: early, on time or late against the appointment it is held to
 * (legalDueAt), and the working time spent. A dossier without a due date (none is filed so) cannot have
 * been late. `history` holds the events up to the resolution, in the order they happened.
 */
export function classifyResolution(
  calendar: WorkingCalendar,
  d: { resolvedAt: Date; dueAt: Date | null; countingFrom: Date | null },
  history: readonly HistoryEvent[],
): Resolution {
  const offset = calendar.settings.utcOffsetMinutes;
  const due = legalDueAt(calendar, d.dueAt, history, d.countingFrom);
  return {
    timeliness: due ? timeliness(d.resolvedAt, due, offset) : 'ON_TIME',
    workingMs: Math.round(processingMillis(calendar, d.countingFrom ?? d.resolvedAt, d.resolvedAt, history)),
  };
}

/** The counts kept per agency, procedure and day. Each is a number of events (or of ratings). */
export const DAILY_COUNTS = [
  'received_online',
  'received_counter',
  'resolved_early',
  'resolved_on_time',
  'resolved_late',
  'released',
  'released_paper',
  'refused',
  'supplement_requests',
  'withdrawals',
  'ratings',
  'rating_sum',
  'rated_1',
  'rated_2',
  'rated_3',
  'rated_4',
  'rated_5',
] as const;
export type DailyCount = (typeof DAILY_COUNTS)[number] | 'working_ms';
export type DailyIncrement = Partial<Record<DailyCount, number>>;

const RESOLVED_COUNT: Record<Timeliness, DailyCount> = {
  EARLY: 'resolved_early',
  ON_TIME: 'resolved_on_time',
  LATE: 'resolved_late',
};

/**
 * What one event of the log adds to the counts of its day; null for an event no figure counts. A
 * resolving event needs its classification.
 */
export function eventIncrement(
  action: string,
  channel: string,
  resolution: Resolution | null,
): DailyIncrement | null {
  const resolved = (kind: DailyCount): DailyIncrement => {
    if (!resolution) throw new Error(`a ${action} event is counted with its classification`);
    return { [kind]: 1, [RESOLVED_COUNT[resolution.timeliness]]: 1, working_ms: resolution.workingMs };
  };
  switch (action) {
    case 'SUBMIT':
      return channel === 'COUNTER' ? { received_counter: 1 } : { received_online: 1 };
    case 'release':
      return resolved('released');
    case 'release_paper':
      return resolved('released_paper');
    case 'refuse':
      return resolved('refused');
    case 'request_supplement':
      return { supplement_requests: 1 };
    case 'withdraw':
      return { withdrawals: 1 };
    default:
      return null;
  }
}

/** What one rating adds to the counts of its day. */
export function ratingIncrement(score: number): DailyIncrement {
  if (!Number.isInteger(score) || score < 1 || score > 5) throw new Error(`score ${score} is not 1 to 5`);
  return { ratings: 1, rating_sum: score, [`rated_${score}` as DailyCount]: 1 };
}

/** The clock-moving part of a dossier's events (in the order they happened), as the figures read it. */
export function historyOf(
  events: readonly { action: string; occurredAt: Date; details: Record<string, unknown> }[],
): HistoryEvent[] {
  return events.map((e) => {
    const due = (DUE_SETTING_ACTIONS as readonly string[]).includes(e.action) ? e.details.dueAt : undefined;
    return {
      action: e.action,
      occurredAt: e.occurredAt,
      dueAt: typeof due === 'string' ? new Date(due) : null,
    };
  });
}
