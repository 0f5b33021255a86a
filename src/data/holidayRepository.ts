import type { CalendarDay, CalendarDayKind } from '../domain/workingCalendar';
import { type Db, dialectOf } from './db';

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
}
