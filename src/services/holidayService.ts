import { z } from 'zod';
import type { Clock } from '../clock';
import type { AuditRepository } from '../data/auditRepository';
import type { Db } from '../data/db';
import type { HolidayRepository } from '../data/holidayRepository';
import type { User } from '../data/userRepository';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { RequestContext } from './auditContext';
import type { CalendarService } from './calendarService';
import { isAgencyAdmin, isSystemAdmin } from './officerService';
import { parseInput } from './validation';
import { CALENDAR_DAY_KINDS, type CalendarDay, DEFAULT_WORKING_TIME } from '../domain/workingCalendar';

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

  private assertMayChange(actor: User): void {
    if (!this.mayChange(actor)) throw new ForbiddenError();
  }
}
