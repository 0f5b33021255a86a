// The one working-time calendar every legal deadline is computed with. Pure: the holiday table and the
// office hours come in, UTC instants go in and out. Local dates and times are derived from a fixed UTC
// offset, never from the machine's time zone, so a server in another zone computes the same deadlines.

export interface WorkingTimeSettings {
  /** 'HH:MM' local time. */
  morningStart: string;
  morningEnd: string;
  afternoonStart: string;
  afternoonEnd: string;
  /** 'HH:MM' local: received at or after this time on a working day counts from the next working morning. */
  cutoff: string;
  /** 0 = Sunday ... 6 = Saturday. */
  weekendDays: number[];
  /** 420 for Asia/Ho_Chi_Minh, which has no daylight saving. */
  utcOffsetMinutes: number;
}

export const DEFAULT_WORKING_TIME: WorkingTimeSettings = {
  morningStart: '07:30',
  morningEnd: '11:30',
  afternoonStart: '13:00',
  afternoonEnd: '17:00',
  cutoff: '16:00',
  weekendDays: [0, 6],
  utcOffsetMinutes: 420,
};

export const CALENDAR_DAY_KINDS = ['HOLIDAY', 'WORKING_DAY'] as const;
/** WORKING_DAY = a weekend day worked to make up for a bridge holiday. */
export type CalendarDayKind = (typeof CALENDAR_DAY_KINDS)[number];

export interface CalendarDay {
  /** 'YYYY-MM-DD' local. */
  date: string;
  kind: CalendarDayKind;
  name: string;
}

export const TIME_LIMIT_UNITS = ['WORKING_DAYS', 'WORKING_HOURS', 'CALENDAR_DAYS'] as const;
export type TimeLimitUnit = (typeof TIME_LIMIT_UNITS)[number];

export interface TimeLimit {
  amount: number;
  unit: TimeLimitUnit;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A calendar whose holidays cover three whole years leaves no working day to count towards. */
const MAX_DAYS_OFF_IN_A_ROW = 3 * 366;

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes since midnight of an 'HH:MM' time of day, or null when it is not one. */
export function minutesOfDay(value: unknown): number | null {
  const m = typeof value === 'string' ? HH_MM.exec(value) : null;
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

function minutesOf(settings: WorkingTimeSettings, key: keyof WorkingTimeSettings): number {
  const value = settings[key];
  const minutes = minutesOfDay(value);
  if (minutes === null)
    throw new Error(`working time setting ${key} must be HH:MM, got ${JSON.stringify(value)}`);
  return minutes;
}

/** Days since 1970-01-01 of a 'YYYY-MM-DD' date, or NaN when it is not a real date. */
function dayNumberOf(date: string): number {
  const m = ISO_DATE.exec(date);
  if (!m) return NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March; a real date survives the round trip.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return NaN;
  return ms / DAY;
}

/** 'YYYY-MM-DD' of a day number; the arithmetic is in UTC, so the machine's zone plays no part. */
function dateOfDayNumber(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/** An instant expressed as a local day number and milliseconds since local midnight. */
interface LocalTime {
  day: number;
  ms: number;
}

export class WorkingCalendar {
  readonly settings: WorkingTimeSettings;
  /** Working hours in one working day (8 with the defaults). */
  readonly hoursPerDay: number;

  private readonly offsetMs: number;
  private readonly weekend: ReadonlySet<number>;
  private readonly days: ReadonlyMap<number, CalendarDay>;
  /** The two office periods of a working day, in milliseconds since local midnight. */
  private readonly periods: readonly (readonly [number, number])[];
  private readonly cutoffMs: number;
  private readonly dayWorkMs: number;

  constructor(days: readonly CalendarDay[], settings: WorkingTimeSettings = DEFAULT_WORKING_TIME) {
    const morningStart = minutesOf(settings, 'morningStart');
    const morningEnd = minutesOf(settings, 'morningEnd');
    const afternoonStart = minutesOf(settings, 'afternoonStart');
    const afternoonEnd = minutesOf(settings, 'afternoonEnd');
    const cutoff = minutesOf(settings, 'cutoff');
    if (morningEnd <= morningStart)
      throw new Error('working time setting morningEnd must be after morningStart');
    if (afternoonStart < morningEnd) {
      throw new Error('working time setting afternoonStart must not be before morningEnd');
    }
    if (afternoonEnd <= afternoonStart) {
      throw new Error('working time setting afternoonEnd must be after afternoonStart');
    }
    if (cutoff <= morningStart || cutoff > afternoonEnd) {
      throw new Error('working time setting cutoff must be after morningStart and not after afternoonEnd');
    }
    // Settings may come from a database row or a form, so check the shape as well as the values.
    const weekendDays: unknown = settings.weekendDays;
    if (!Array.isArray(weekendDays) || !weekendDays.every((d) => Number.isInteger(d) && d >= 0 && d <= 6)) {
      throw new Error('working time setting weekendDays must list week days from 0 (Sunday) to 6 (Saturday)');
    }
    const offset = settings.utcOffsetMinutes;
    if (!Number.isInteger(offset) || offset < -12 * 60 || offset > 14 * 60) {
      throw new Error(
        'working time setting utcOffsetMinutes must be a whole number of minutes within ±14 hours',
      );
    }

    const byDay = new Map<number, CalendarDay>();
    for (const d of days) {
      const n = dayNumberOf(d.date);
      if (Number.isNaN(n)) throw new Error(`calendar day ${JSON.stringify(d.date)} is not a YYYY-MM-DD date`);
      if (!(CALENDAR_DAY_KINDS as readonly string[]).includes(d.kind)) {
        throw new Error(`calendar day ${d.date} has an unknown kind ${JSON.stringify(d.kind)}`);
      }
      if (byDay.has(n)) throw new Error(`calendar day ${d.date} is listed twice`);
      byDay.set(n, { ...d });
    }

    this.settings = { ...settings, weekendDays: [...settings.weekendDays] };
    this.offsetMs = offset * MINUTE;
    this.weekend = new Set(settings.weekendDays);
    this.days = byDay;
    this.periods = [
      [morningStart * MINUTE, morningEnd * MINUTE],
      [afternoonStart * MINUTE, afternoonEnd * MINUTE],
    ];
    this.cutoffMs = cutoff * MINUTE;
    this.dayWorkMs = (morningEnd - morningStart + afternoonEnd - afternoonStart) * MINUTE;
    this.hoursPerDay = this.dayWorkMs / HOUR;
  }

  isWorkingDay(localDate: string): boolean {
    const day = dayNumberOf(localDate);
    if (Number.isNaN(day)) throw new Error(`${JSON.stringify(localDate)} is not a YYYY-MM-DD date`);
    return this.isWorkingDayNumber(day);
  }

  /** The end of office hours on a local date (a new appointment date given as a day). */
  endOfWorkingDay(localDate: string): Date {
    const day = dayNumberOf(localDate);
    if (Number.isNaN(day)) throw new Error(`${JSON.stringify(localDate)} is not a YYYY-MM-DD date`);
    return this.toUtc(day, this.periods[1]![1]);
  }

  countingStart(at: Date): Date {
    return this.firstWorkingInstant(at, true);
  }

  nextWorkingInstant(at: Date): Date {
    return this.firstWorkingInstant(at, false);
  }

  addWorkingMillis(from: Date, ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`working time to add must be >= 0, got ${ms}`);
    const fromMs = instantOf(from);
    if (ms === 0) return new Date(fromMs);
    let { day, ms: t } = this.toLocal(this.firstWorkingInstant(from, false).getTime());
    let remaining = ms;
    for (;;) {
      // Whole days first, so a deadline months away costs one step per day, not per period.
      // Strictly more than a day: a sum ending at the afternoon end must stay on this day.
      if (t === this.periods[0]![0] && remaining > this.dayWorkMs) {
        remaining -= this.dayWorkMs;
        day = this.nextWorkingDayNumber(day);
        continue;
      }
      for (const [start, end] of this.periods) {
        if (t >= end) continue;
        const begin = Math.max(t, start);
        if (remaining <= end - begin) return this.toUtc(day, begin + remaining);
        remaining -= end - begin;
        t = end;
      }
      day = this.nextWorkingDayNumber(day);
      t = this.periods[0]![0];
    }
  }

  workingMillisBetween(from: Date, to: Date): number {
    const a = this.toLocal(instantOf(from));
    const b = this.toLocal(instantOf(to));
    if (a.day > b.day || (a.day === b.day && a.ms >= b.ms)) return 0;
    let total = 0;
    for (let day = a.day; day <= b.day; day++) {
      if (!this.isWorkingDayNumber(day)) continue;
      const lo = day === a.day ? a.ms : 0;
      const hi = day === b.day ? b.ms : DAY;
      if (lo <= this.periods[0]![0] && hi >= this.periods[1]![1]) {
        total += this.dayWorkMs;
        continue;
      }
      for (const [start, end] of this.periods) total += Math.max(0, Math.min(end, hi) - Math.max(start, lo));
    }
    return total;
  }

  dueDate(receivedAt: Date, limit: TimeLimit): Date {
    const { amount, unit } = limit;
    if (!Number.isFinite(amount) || amount < 0)
      throw new RangeError(`time limit must be >= 0, got ${amount}`);
    const start = this.countingStart(receivedAt);
    switch (unit) {
      case 'WORKING_DAYS':
        return this.addWorkingMillis(start, amount * this.dayWorkMs);
      case 'WORKING_HOURS':
        return this.addWorkingMillis(start, amount * HOUR);
      case 'CALENDAR_DAYS': {
        if (!Number.isInteger(amount)) throw new RangeError(`calendar days must be whole, got ${amount}`);
        let day = this.toLocal(start.getTime()).day + amount;
        if (!this.isWorkingDayNumber(day)) day = this.nextWorkingDayNumber(day);
        return this.toUtc(day, this.periods[1]![1]);
      }
      default:
        throw new Error(`unknown time limit unit ${JSON.stringify(unit satisfies never)}`);
    }
  }

  private isWorkingDayNumber(day: number): boolean {
    const entry = this.days.get(day);
    if (entry) return entry.kind === 'WORKING_DAY';
    // Day 0 (1970-01-01) was a Thursday.
    return !this.weekend.has((((day + 4) % 7) + 7) % 7);
  }

  /** The first working day strictly after `day`. */
  private nextWorkingDayNumber(day: number): number {
    for (let d = day + 1; d <= day + MAX_DAYS_OFF_IN_A_ROW; d++) {
      if (this.isWorkingDayNumber(d)) return d;
    }
    throw new Error(
      `working calendar has no working day in the ${MAX_DAYS_OFF_IN_A_ROW} days after ${dateOfDayNumber(day)}`,
    );
  }

  private firstWorkingInstant(at: Date, applyCutoff: boolean): Date {
    const utc = instantOf(at);
    const { day, ms } = this.toLocal(utc);
    if (this.isWorkingDayNumber(day) && !(applyCutoff && ms >= this.cutoffMs)) {
      for (const [start, end] of this.periods) {
        if (ms < start) return this.toUtc(day, start);
        if (ms < end) return new Date(utc);
      }
    }
    return this.toUtc(this.nextWorkingDayNumber(day), this.periods[0]![0]);
  }

  private toLocal(utcMs: number): LocalTime {
    const local = utcMs + this.offsetMs;
    const day = Math.floor(local / DAY);
    return { day, ms: local - day * DAY };
  }

  private toUtc(day: number, msOfDay: number): Date {
    return new Date(day * DAY + msOfDay - this.offsetMs);
  }
}

function instantOf(d: Date): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError('invalid date');
  return ms;
}
