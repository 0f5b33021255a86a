import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CalendarDay,
  DEFAULT_WORKING_TIME,
  WorkingCalendar,
  type WorkingTimeSettings,
} from '../../src/domain/workingCalendar';

const HOUR = 3_600_000;
const DAY_OF_WORK = 8 * HOUR;

/** The UTC instant of a Vietnam local time written 'YYYY-MM-DDTHH:MM'. */
const vn = (local: string): Date => new Date(`${local}:00+07:00`);
/** The Vietnam local time of an instant, 'YYYY-MM-DDTHH:MM', for readable assertions. */
const local = (d: Date): string => new Date(d.getTime() + 7 * HOUR).toISOString().slice(0, 16);

// The 2026 rows the holidays migration seeds around New Year and Tết.
const DAYS_2026: CalendarDay[] = [
  { date: '2026-01-01', kind: 'HOLIDAY', name: 'Tết Dương lịch' },
  { date: '2026-01-02', kind: 'HOLIDAY', name: 'Nghỉ hoán đổi (làm bù thứ Bảy 10/1/2026)' },
  { date: '2026-01-10', kind: 'WORKING_DAY', name: 'Làm bù cho ngày nghỉ thứ Sáu 2/1/2026' },
  { date: '2026-02-16', kind: 'HOLIDAY', name: 'Tết Nguyên đán' },
  { date: '2026-02-17', kind: 'HOLIDAY', name: 'Tết Nguyên đán' },
  { date: '2026-02-18', kind: 'HOLIDAY', name: 'Tết Nguyên đán' },
  { date: '2026-02-19', kind: 'HOLIDAY', name: 'Tết Nguyên đán' },
  { date: '2026-02-20', kind: 'HOLIDAY', name: 'Tết Nguyên đán' },
];

const calendar = new WorkingCalendar(DAYS_2026);

describe('working days', () => {
  it('has 8 working hours a day with the default office hours', () => {
    assert.equal(calendar.hoursPerDay, 8);
    const common = { ...DEFAULT_WORKING_TIME, morningStart: '07:00', afternoonStart: '13:30' };
    assert.equal(new WorkingCalendar([], common).hoursPerDay, 8);
  });

  it('skips weekends', () => {
    assert.equal(calendar.isWorkingDay('2026-11-20'), true); // Friday
    assert.equal(calendar.isWorkingDay('2026-11-21'), false);
    assert.equal(calendar.isWorkingDay('2026-11-22'), false);
    // Friday 15:00 + 4 hours: 2 on Friday, 2 on Monday morning.
    assert.equal(local(calendar.addWorkingMillis(vn('2026-11-20T15:00'), 4 * HOUR)), '2026-11-23T09:30');
  });

  it('skips holidays', () => {
    assert.equal(calendar.isWorkingDay('2026-01-01'), false);
    assert.equal(calendar.isWorkingDay('2026-01-02'), false); // the swapped bridge day
    // Wednesday 31/12 09:00 + 1 working day: Thursday and Friday are off, then the weekend.
    assert.equal(
      local(calendar.dueDate(vn('2025-12-31T09:00'), { amount: 1, unit: 'WORKING_DAYS' })),
      '2026-01-05T09:00',
    );
  });

  it('counts a make-up Saturday as a working day', () => {
    assert.equal(calendar.isWorkingDay('2026-01-10'), true);
    assert.equal(calendar.isWorkingDay('2026-01-17'), false);
    assert.equal(
      local(calendar.dueDate(vn('2026-01-09T09:00'), { amount: 1, unit: 'WORKING_DAYS' })),
      '2026-01-10T09:00',
    );
    assert.equal(local(calendar.countingStart(vn('2026-01-10T06:00'))), '2026-01-10T07:30');
  });

  it('refuses a date that does not exist', () => {
    assert.throws(() => calendar.isWorkingDay('2026-02-30'), /2026-02-30/);
    assert.throws(() => new WorkingCalendar([{ date: '2026-2-3', kind: 'HOLIDAY', name: 'x' }]), /2026-2-3/);
  });
});

describe('when the clock starts', () => {
  it('starts at once inside office hours before the cut-off', () => {
    assert.equal(local(calendar.countingStart(vn('2026-11-23T09:17'))), '2026-11-23T09:17');
    assert.equal(local(calendar.countingStart(vn('2026-11-23T15:59'))), '2026-11-23T15:59');
  });

  it('starts at the afternoon start when received during the lunch break', () => {
    assert.equal(local(calendar.countingStart(vn('2026-11-23T12:00'))), '2026-11-23T13:00');
    assert.equal(local(calendar.countingStart(vn('2026-11-23T11:30'))), '2026-11-23T13:00');
  });

  it('starts at the morning start when received before office hours', () => {
    assert.equal(local(calendar.countingStart(vn('2026-11-23T06:00'))), '2026-11-23T07:30');
  });

  it('starts on the next working morning when received at or after the cut-off', () => {
    assert.equal(local(calendar.countingStart(vn('2026-11-20T16:30'))), '2026-11-23T07:30'); // Friday
    assert.equal(local(calendar.countingStart(vn('2026-11-23T16:00'))), '2026-11-24T07:30');
    assert.equal(local(calendar.countingStart(vn('2026-11-23T20:00'))), '2026-11-24T07:30');
    assert.equal(local(calendar.countingStart(vn('2026-11-22T10:00'))), '2026-11-23T07:30'); // Sunday
    assert.equal(local(calendar.countingStart(vn('2026-02-13T16:05'))), '2026-02-23T07:30'); // before Tết
  });

  it('resumes a paused clock without the cut-off rule', () => {
    assert.equal(local(calendar.nextWorkingInstant(vn('2026-11-20T16:30'))), '2026-11-20T16:30');
    assert.equal(local(calendar.nextWorkingInstant(vn('2026-11-20T17:00'))), '2026-11-23T07:30');
    assert.equal(local(calendar.nextWorkingInstant(vn('2026-11-20T12:10'))), '2026-11-20T13:00');
  });
});

describe('adding working time', () => {
  it('makes one working day from Monday 09:00 end on Tuesday 09:00', () => {
    const due = calendar.dueDate(vn('2026-11-23T09:00'), { amount: 1, unit: 'WORKING_DAYS' });
    assert.equal(local(due), '2026-11-24T09:00');
  });

  it('stays at the end of a period when the sum ends exactly there', () => {
    assert.equal(local(calendar.addWorkingMillis(vn('2026-11-23T13:00'), 4 * HOUR)), '2026-11-23T17:00');
    assert.equal(local(calendar.addWorkingMillis(vn('2026-11-23T07:30'), 4 * HOUR)), '2026-11-23T11:30');
    assert.equal(
      local(calendar.dueDate(vn('2026-11-23T07:30'), { amount: 1, unit: 'WORKING_DAYS' })),
      '2026-11-23T17:00',
    );
    assert.equal(
      local(calendar.dueDate(vn('2026-11-23T07:30'), { amount: 8, unit: 'WORKING_HOURS' })),
      '2026-11-23T17:00',
    );
    // One millisecond more moves to the next working morning.
    assert.equal(
      calendar.addWorkingMillis(vn('2026-11-23T13:00'), 4 * HOUR + 1).toISOString(),
      '2026-11-24T00:30:00.001Z',
    );
  });

  it('counts a 15-working-day deadline across Tết 2026', () => {
    const received = vn('2026-02-10T09:00'); // Tuesday before Tết
    const limit = { amount: 15, unit: 'WORKING_DAYS' } as const;
    // 3 days before Tết (11-13/2), then 16/2-22/2 off, then 12 more from Monday 23/2.
    assert.equal(calendar.dueDate(received, limit).toISOString(), '2026-03-10T02:00:00.000Z');
    assert.equal(local(new WorkingCalendar([]).dueDate(received, limit)), '2026-03-03T09:00');
  });

  it('moves a calendar-day limit that lands on a day off to the next working day at 17:00', () => {
    // Monday + 6 days = Sunday 22/11.
    const due = calendar.dueDate(vn('2026-11-16T09:00'), { amount: 6, unit: 'CALENDAR_DAYS' });
    assert.equal(local(due), '2026-11-23T17:00');
    assert.equal(
      local(calendar.dueDate(vn('2026-11-16T09:00'), { amount: 3, unit: 'CALENDAR_DAYS' })),
      '2026-11-19T17:00',
    );
    // Counted from the counting start: received after the cut-off on Friday 6/2, so from Monday 9/2.
    assert.equal(
      local(calendar.dueDate(vn('2026-02-06T16:30'), { amount: 7, unit: 'CALENDAR_DAYS' })),
      '2026-02-23T17:00',
    );
  });

  it('refuses negative amounts', () => {
    assert.throws(() => calendar.addWorkingMillis(vn('2026-11-23T09:00'), -1), RangeError);
    assert.throws(
      () => calendar.dueDate(vn('2026-11-23T09:00'), { amount: -1, unit: 'WORKING_DAYS' }),
      RangeError,
    );
    assert.throws(
      () => calendar.dueDate(vn('2026-11-23T09:00'), { amount: 1.5, unit: 'CALENDAR_DAYS' }),
      RangeError,
    );
  });

  it('steps by days, so a deadline years away is quick', () => {
    const from = vn('2026-11-23T09:00');
    const started = performance.now();
    const due = calendar.addWorkingMillis(from, 2000 * DAY_OF_WORK);
    assert.ok(performance.now() - started < 500);
    assert.equal(calendar.workingMillisBetween(from, due), 2000 * DAY_OF_WORK);
    assert.equal(local(due).slice(11), '09:00');
  });
});

describe('working time between two instants', () => {
  const starts = [
    '2026-11-23T09:00', // inside the morning
    '2026-11-23T12:15', // lunch break
    '2026-11-23T16:45', // after the cut-off, still office hours
    '2026-11-21T10:00', // Saturday
    '2026-01-09T11:30', // end of a morning, before the make-up Saturday
    '2026-02-12T05:00', // before office hours, days before Tết
    '2026-02-18T10:00', // during Tết
    '2025-12-31T17:00', // end of the day before New Year
  ].map(vn);
  const durations = [
    1,
    60_000,
    30 * 60_000,
    2.5 * HOUR,
    4 * HOUR,
    DAY_OF_WORK,
    DAY_OF_WORK + 1,
    37 * HOUR,
    15 * DAY_OF_WORK,
    200 * DAY_OF_WORK,
  ];

  it('is the inverse of adding working time', () => {
    for (const from of starts) {
      for (const ms of durations) {
        const to = calendar.addWorkingMillis(from, ms);
        assert.equal(calendar.workingMillisBetween(from, to), ms, `${from.toISOString()} + ${ms}`);
      }
    }
  });

  it('adds back to the same instant when that instant is inside office hours', () => {
    const ends = [
      '2026-11-24T10:00',
      '2026-11-27T16:59',
      '2026-01-10T08:00',
      '2026-02-23T14:20',
      '2026-03-10T07:31',
    ].map(vn);
    for (const from of starts) {
      for (const to of ends) {
        if (to <= from) continue;
        const ms = calendar.workingMillisBetween(from, to);
        assert.equal(calendar.addWorkingMillis(from, ms).toISOString(), to.toISOString());
      }
    }
  });

  it('is zero when the end is not after the start or no office hours lie between', () => {
    assert.equal(calendar.workingMillisBetween(vn('2026-11-23T10:00'), vn('2026-11-23T09:00')), 0);
    assert.equal(calendar.workingMillisBetween(vn('2026-11-23T10:00'), vn('2026-11-23T10:00')), 0);
    assert.equal(calendar.workingMillisBetween(vn('2026-11-23T11:40'), vn('2026-11-23T12:50')), 0);
    assert.equal(calendar.workingMillisBetween(vn('2026-02-13T17:00'), vn('2026-02-23T07:30')), 0);
    assert.equal(calendar.workingMillisBetween(vn('2026-11-23T07:00'), vn('2026-11-24T07:00')), DAY_OF_WORK);
  });
});

describe('settings', () => {
  const withSetting = (patch: Partial<WorkingTimeSettings>) => () =>
    new WorkingCalendar([], { ...DEFAULT_WORKING_TIME, ...patch });

  it('refuses times that are not HH:MM', () => {
    assert.throws(withSetting({ morningStart: '7:30' }), /morningStart/);
    assert.throws(withSetting({ afternoonEnd: '24:00' }), /afternoonEnd/);
    assert.throws(withSetting({ cutoff: '16h00' }), /cutoff/);
  });

  it('refuses periods out of order', () => {
    assert.throws(withSetting({ morningEnd: '07:00' }), /morningEnd/);
    assert.throws(withSetting({ afternoonStart: '11:00' }), /afternoonStart/);
    assert.throws(withSetting({ afternoonEnd: '12:30' }), /afternoonEnd/);
  });

  it('refuses a cut-off outside office hours', () => {
    assert.throws(withSetting({ cutoff: '18:00' }), /cutoff/);
    assert.throws(withSetting({ cutoff: '07:00' }), /cutoff/);
    assert.doesNotThrow(withSetting({ cutoff: '17:00' }));
  });

  it('refuses bad weekend days and offsets', () => {
    assert.throws(withSetting({ weekendDays: [0, 7] }), /weekendDays/);
    assert.throws(withSetting({ utcOffsetMinutes: 420.5 }), /utcOffsetMinutes/);
  });

  it('throws instead of looping when there is no working day at all', () => {
    const never = new WorkingCalendar([], { ...DEFAULT_WORKING_TIME, weekendDays: [0, 1, 2, 3, 4, 5, 6] });
    assert.throws(() => never.countingStart(vn('2026-11-23T09:00')), /no working day/);
    assert.throws(() => never.addWorkingMillis(vn('2026-11-23T09:00'), HOUR), /no working day/);
  });
});

describe('time zones', () => {
  it('gives the same answers whatever the machine time zone', () => {
    const saved = process.env.TZ;
    const answers = new Set<string>();
    try {
      for (const tz of [
        'UTC',
        'Asia/Ho_Chi_Minh',
        'America/Los_Angeles',
        'Pacific/Kiritimati',
        'Europe/London',
      ]) {
        process.env.TZ = tz;
        const received = new Date(Date.UTC(2026, 1, 10, 2, 0)); // Tuesday 10/2/2026 09:00 in Vietnam
        answers.add(
          [
            calendar.dueDate(received, { amount: 15, unit: 'WORKING_DAYS' }).toISOString(),
            calendar.countingStart(new Date(Date.UTC(2026, 10, 20, 9, 30))).toISOString(), // Friday 16:30
            calendar
              .dueDate(new Date(Date.UTC(2026, 10, 16, 2, 0)), { amount: 6, unit: 'CALENDAR_DAYS' })
              .toISOString(),
            String(calendar.isWorkingDay('2026-01-10')),
          ].join(' '),
        );
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    assert.deepEqual(
      [...answers],
      ['2026-03-10T02:00:00.000Z 2026-11-23T00:30:00.000Z 2026-11-23T10:00:00.000Z true'],
    );
  });
});
