import { z } from 'zod';
import type { Clock } from '../clock';
import type { AuditRepository } from '../data/auditRepository';
import type { Db } from '../data/db';
import type { HolidayRepository, StoredWorkingTime } from '../data/holidayRepository';
import type { User } from '../data/userRepository';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { RequestContext } from './auditContext';
import type { CalendarService } from './calendarService';
import { isAgencyAdmin, isSystemAdmin } from './officerService';
import { parseInput } from './validation';
import {
  CALENDAR_DAY_KINDS,
  type CalendarDay,
  DEFAULT_WORKING_TIME,
  minutesOfDay,
  WorkingCalendar,
  type WorkingTimeSettings,
} from '../domain/workingCalendar';

export const HOLIDAY_MIN_YEAR = 2000;
export const HOLIDAY_MAX_YEAR = 2100;

/** Whether `year` is one the holiday table may hold. */
export function isHolidayYear(year: number): boolean {
  return Number.isInteger(year) && year >= HOLIDAY_MIN_YEAR && year <= HOLIDAY_MAX_YEAR;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a 'YYYY-MM-DD' date that exists (no 30 February). */
export function isRealDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  // Date.UTC rolls 2026-02-30 over to March; a real date survives the round trip.
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** 0 = Sunday ... 6 = Saturday, of a real 'YYYY-MM-DD' date. */
export function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

// Every message is an i18n key (v.*), translated where it is shown.
export const holidaySchema = z.object({
  date: z
    .string({ error: 'v.required' })
    .trim()
    .min(1, { error: 'v.required' })
    .refine(isRealDate, { error: 'v.date', abort: true })
    .refine((s) => isHolidayYear(Number(s.slice(0, 4))), { error: 'v.holidayDateRange' }),
  kind: z.enum(CALENDAR_DAY_KINDS, { error: 'v.holidayKind' }),
  name: z
    .string({ error: 'v.required' })
    .trim()
    .min(1, { error: 'v.required' })
    .max(255, { error: 'v.tooLong' }),
});
export type HolidayInput = z.output<typeof holidaySchema>;

const time = z
  .string({ error: 'v.required' })
  .trim()
  .min(1, { error: 'v.required' })
  // A browser's time field may send seconds ("07:30:00"): the minute is what counts.
  .transform((v) => (/^\d{2}:\d{2}:\d{2}$/.test(v) ? v.slice(0, 5) : v))
  .refine((v) => minutesOfDay(v) !== null, { error: 'v.timeOfDay' });
const minutes = (hhmm: string) => minutesOfDay(hhmm)!;
/** 8 hours: a working day of civil servants (Labour Code, art. 105; Decision 188/1999/QĐ-TTg). */
const WORKING_DAY_MINUTES = 8 * 60;

/** The office hours form: two periods a day, the cut-off for counting from today, the week days off. */
export const workingTimeSchema = z
  .object({
    morningStart: time,
    morningEnd: time,
    afternoonStart: time,
    afternoonEnd: time,
    cutoff: time,
    weekendDays: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => [...new Set((v === undefined ? [] : [v].flat()).map(Number))].sort((a, b) => a - b))
      .refine((days) => days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6), { error: 'v.weekday' })
      .refine((days) => days.length < 7, { error: 'v.weekendNotAll' }),
  })
  .superRefine((v, ctx) => {
    // The order of the times is checked once each of them is a time.
    const times = [v.morningStart, v.morningEnd, v.afternoonStart, v.afternoonEnd, v.cutoff];
    if (!times.every((t) => minutesOfDay(t) !== null)) return;
    const order: [keyof typeof v, boolean, string][] = [
      ['morningEnd', minutes(v.morningEnd) > minutes(v.morningStart), 'v.morningEndAfterStart'],
      ['afternoonStart', minutes(v.afternoonStart) >= minutes(v.morningEnd), 'v.afternoonAfterMorning'],
      ['afternoonEnd', minutes(v.afternoonEnd) > minutes(v.afternoonStart), 'v.afternoonEndAfterStart'],
      [
        'cutoff',
        minutes(v.cutoff) > minutes(v.morningStart) && minutes(v.cutoff) <= minutes(v.afternoonEnd),
        'v.cutoffWithinHours',
      ],
    ];
    for (const [path, ok, message] of order) {
      if (!ok) ctx.addIssue({ code: 'custom', path: [path], message });
    }
    // A working day is 8 working hours (the time limits in working days are counted so, and the
    // statistics print working time in such days): the two periods must add up to it.
    const total =
      minutes(v.morningEnd) - minutes(v.morningStart) + (minutes(v.afternoonEnd) - minutes(v.afternoonStart));
    if (order.every(([, ok]) => ok) && total !== WORKING_DAY_MINUTES) {
      ctx.addIssue({ code: 'custom', path: ['afternoonEnd'], message: 'v.workingDayHours' });
    }
  });

export interface HolidaySaved {
  day: CalendarDay;
  /** The entry this one replaced, or null when the date was not listed before. */
  before: CalendarDay | null;
}

/** The holiday table every legal deadline is counted with. Agency administrators may read it; only a
 * system administrator may change it, because one wrong row moves the deadline of every dossier. */
export class HolidayService {
  constructor(
    private readonly db: Db,
    private readonly holidays: HolidayRepository,
    private readonly audit: AuditRepository,
    private readonly calendars: CalendarService,
    private readonly clock: Clock,
    private readonly utcOffsetMinutes = DEFAULT_WORKING_TIME.utcOffsetMinutes,
  ) {}

  mayChange(actor: User): boolean {
    return isSystemAdmin(actor);
  }

  /** This year in Vietnam time: on 31 December at 20:00 UTC it is already next year there. */
  currentYear(): number {
    return new Date(this.clock.now().getTime() + this.utcOffsetMinutes * 60_000).getUTCFullYear();
  }

  async listYear(actor: User, year: number): Promise<CalendarDay[]> {
    if (!isSystemAdmin(actor) && !isAgencyAdmin(actor)) throw new ForbiddenError();
    if (!isHolidayYear(year)) throw new ValidationError({ year: 'v.holidayYear' });
    return this.holidays.listYear(year);
  }

  /** Adds a day, or changes the kind and name of a day already listed. */
  async save(actor: User, raw: unknown, ctx: RequestContext): Promise<HolidaySaved> {
    this.assertMayChange(actor);
    const input = parseInput(holidaySchema, raw);
    // A weekday is a working day already; listing it as one would hide a mistake (a wrong date).
    const weekend = (await this.calendars.current()).settings.weekendDays;
    if (input.kind === 'WORKING_DAY' && !weekend.includes(weekdayOf(input.date))) {
      throw new ValidationError({ kind: 'v.workingDayWeekend' });
    }
    const day: CalendarDay = { date: input.date, kind: input.kind, name: input.name };
    const now = this.clock.now();
    const before = await this.db.transaction(async (trx) => {
      const previous = await this.holidays.findForUpdate(trx, day.date);
      await this.holidays.upsert(day, now, trx);
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: actor.id,
        actorEmail: actor.email,
        action: 'HOLIDAY_SAVED',
        subjectType: 'holiday',
        subjectId: day.date,
        agencyId: null,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: {
          before: previous ? { kind: previous.kind, name: previous.name } : null,
          after: { kind: day.kind, name: day.name },
        },
      });
      return previous ?? null;
    });
    this.calendars.invalidate();
    return { day, before };
  }

  async remove(actor: User, date: string, ctx: RequestContext): Promise<CalendarDay> {
    this.assertMayChange(actor);
    if (!isRealDate(date)) throw new NotFoundError();
    const now = this.clock.now();
    const removed = await this.db.transaction(async (trx) => {
      const previous = await this.holidays.findForUpdate(trx, date);
      if (!previous) throw new NotFoundError();
      await this.holidays.delete(date, trx);
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: actor.id,
        actorEmail: actor.email,
        action: 'HOLIDAY_REMOVED',
        subjectType: 'holiday',
        subjectId: date,
        agencyId: null,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { before: { kind: previous.kind, name: previous.name }, after: null },
      });
      return previous;
    });
    this.calendars.invalidate();
    return removed;
  }

  /** The office hours deadlines are counted in, with who set them last. */
  async workingTime(actor: User): Promise<StoredWorkingTime> {
    if (!isSystemAdmin(actor) && !isAgencyAdmin(actor)) throw new ForbiddenError();
    return this.holidays.workingTime();
  }

  /**
   * Sets the office hours. They count for every deadline computed from now on (a filing, a
   * resubmission, an extension's new date); the due dates already given stay as they were given.
   */
  async saveWorkingTime(actor: User, raw: unknown, ctx: RequestContext): Promise<WorkingTimeSettings> {
    this.assertMayChange(actor);
    const input = parseInput(workingTimeSchema, raw);
    const settings: WorkingTimeSettings = {
      ...input,
      utcOffsetMinutes: DEFAULT_WORKING_TIME.utcOffsetMinutes,
    };
    // The calendar's own checks too: the same rules whatever the form lets through.
    new WorkingCalendar([], settings);
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      const before = await this.holidays.workingTime(trx);
      await this.holidays.saveWorkingTime(trx, settings, actor.id, now);
      const shown = (w: WorkingTimeSettings) => ({
        morning: `${w.morningStart}-${w.morningEnd}`,
        afternoon: `${w.afternoonStart}-${w.afternoonEnd}`,
        cutoff: w.cutoff,
        weekendDays: w.weekendDays,
      });
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: actor.id,
        actorEmail: actor.email,
        action: 'WORKING_TIME_SAVED',
        subjectType: 'working_time',
        subjectId: 'working_time',
        agencyId: null,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { before: shown(before.settings), after: shown(settings) },
      });
    });
    this.calendars.invalidate();
    return settings;
  }

  private assertMayChange(actor: User): void {
    if (!this.mayChange(actor)) throw new ForbiddenError();
  }
}
