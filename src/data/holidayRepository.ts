import {
  type CalendarDay,
  type CalendarDayKind,
  DEFAULT_WORKING_TIME,
  type WorkingTimeSettings,
} from '../domain/workingCalendar';
import { type Db, dialectOf, toDateOrNull } from './db';

interface WorkingTimeRow {
  morning_start: string;
  morning_end: string;
  afternoon_start: string;
  afternoon_end: string;
  cutoff: string;
  weekend_days: string;
  updated_at: unknown;
  updated_by: number | string | null;
}

/** The office hours as stored, with who set them last (nobody: the values the portal shipped with). */
export interface StoredWorkingTime {
  settings: WorkingTimeSettings;
  updatedAt: Date | null;
  updatedBy: number | null;
}

const toWorkingTime = (r: WorkingTimeRow): StoredWorkingTime => ({
  settings: {
    morningStart: r.morning_start,
    morningEnd: r.morning_end,
    afternoonStart: r.afternoon_start,
    afternoonEnd: r.afternoon_end,
    cutoff: r.cutoff,
    weekendDays: r.weekend_days === '' ? [] : r.weekend_days.split(',').map(Number),
    // Vietnam has one time zone and no daylight saving: not a setting.
    utcOffsetMinutes: DEFAULT_WORKING_TIME.utcOffsetMinutes,
  },
  updatedAt: toDateOrNull(r.updated_at),
  updatedBy: r.updated_by === null ? null : Number(r.updated_by),
});

interface HolidayRow {
  date: string;
  kind: string;
  name: string;
}

const toCalendarDay = (r: HolidayRow): CalendarDay => ({
  date: r.date,
  kind: r.kind as CalendarDayKind,
  name: r.name,
});

/** The holiday table behind the working-time calendar: days off and weekend make-up working days. */
export class HolidayRepository {
  constructor(private readonly db: Db) {}

  async listAll(): Promise<CalendarDay[]> {
    const rows = (await this.db('holidays').select('date', 'kind', 'name').orderBy('date')) as HolidayRow[];
    return rows.map(toCalendarDay);
  }

  async listYear(year: number): Promise<CalendarDay[]> {
    if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`not a year: ${year}`);
    // 'YYYY-MM-DD' strings sort like the dates they name, so a year is a string range on both engines.
    const rows = (await this.db('holidays')
      .select('date', 'kind', 'name')
      .where('date', '>=', `${year}-01-01`)
      .andWhere('date', '<=', `${year}-12-31`)
      .orderBy('date')) as HolidayRow[];
    return rows.map(toCalendarDay);
  }

  /** The entry of one date, locked until the transaction ends so that its audit record shows what it
   * really replaced when two administrators edit the same day. */
  async findForUpdate(trx: Db, date: string): Promise<CalendarDay | undefined> {
    const q = trx('holidays').select('date', 'kind', 'name').where({ date });
    // SQLite has one writer at a time and no row locks.
    if (dialectOf(trx) === 'mysql') q.forUpdate();
    const row = (await q.first()) as HolidayRow | undefined;
    return row ? toCalendarDay(row) : undefined;
  }

  async upsert(day: CalendarDay, now: Date, trx: Db = this.db): Promise<void> {
    await trx('holidays')
      .insert({ date: day.date, kind: day.kind, name: day.name, updated_at: now })
      .onConflict('date')
      .merge(['kind', 'name', 'updated_at']);
  }

  async delete(date: string, trx: Db = this.db): Promise<boolean> {
    return (await trx('holidays').where({ date }).delete()) > 0;
  }

  /** The office hours deadlines are counted in (locked until the transaction ends, with `trx`). */
  async workingTime(trx?: Db): Promise<StoredWorkingTime> {
    const q = (trx ?? this.db)('working_time').where({ id: 1 }).first();
    if (trx && dialectOf(trx) === 'mysql') q.forUpdate();
    const row = (await q) as WorkingTimeRow | undefined;
    if (!row) throw new Error('the working_time table has no row: run the migrations');
    return toWorkingTime(row);
  }

  async saveWorkingTime(trx: Db, settings: WorkingTimeSettings, by: number, now: Date): Promise<void> {
    await trx('working_time')
      .where({ id: 1 })
      .update({
        morning_start: settings.morningStart,
        morning_end: settings.morningEnd,
        afternoon_start: settings.afternoonStart,
        afternoon_end: settings.afternoonEnd,
        cutoff: settings.cutoff,
        weekend_days: [...settings.weekendDays].sort((a, b) => a - b).join(','),
        updated_at: now,
        updated_by: by,
      });
  }
}
