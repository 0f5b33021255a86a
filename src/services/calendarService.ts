import type { Clock } from '../clock';
import type { HolidayRepository } from '../data/holidayRepository';
import { DEFAULT_WORKING_TIME, WorkingCalendar } from '../domain/workingCalendar';

/** The working-time calendar from the holiday table and the office hours. Cached briefly so that a
 * deadline does not cost a query, and so that an administrator's edit reaches every web process within
 * the cache time. */
export class CalendarService {
  private cached: { calendar: WorkingCalendar; loadedAt: number } | undefined;

  constructor(
    private readonly holidays: HolidayRepository,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  async current(): Promise<WorkingCalendar> {
    const now = this.clock.now().getTime();
    if (!this.cached || now - this.cached.loadedAt > this.ttlMs || now < this.cached.loadedAt) {
      const [days, hours] = await Promise.all([this.holidays.listAll(), this.holidays.workingTime()]);
      this.cached = { calendar: new WorkingCalendar(days, hours.settings), loadedAt: now };
    }
    return this.cached.calendar;
  }

  /** Forget the cached calendar (after an edit in this process). */
  invalidate(): void {
    this.cached = undefined;
  }
}

/** 'yyMMdd' of an instant in Vietnam time (UTC+7, no daylight saving), for dossier codes. */
export function vietnamDayStamp(at: Date, utcOffsetMinutes = DEFAULT_WORKING_TIME.utcOffsetMinutes): string {
  return new Date(at.getTime() + utcOffsetMinutes * 60_000).toISOString().slice(2, 10).replace(/-/g, '');
}
