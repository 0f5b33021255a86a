import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyResolution,
  eventIncrement,
  historyOf,
  isOverdueAt,
  legalDueAt,
  monthsEnding,
  processingMillis,
  ratingIncrement,
  stateAt,
  timeliness,
} from '../../src/domain/dossierFigures';
import { WorkingCalendar } from '../../src/domain/workingCalendar';

const VN = 420;
/** An instant given in Vietnam time. */
const vn = (dateTime: string) => new Date(`${dateTime}:00.000+07:00`);
const HOUR = 3_600_000;
// No holidays: Monday 23 November 2026 is a plain working week.
const calendar = new WorkingCalendar([]);

describe('what a resolution counts as', () => {
  const due = vn('2026-11-26T17:00');
  it('is early on a day before the due day, on time on the due day up to the due time, late after', () => {
    assert.equal(timeliness(vn('2026-11-25T16:59'), due, VN), 'EARLY');
    assert.equal(timeliness(vn('2026-11-26T00:00'), due, VN), 'ON_TIME');
    assert.equal(timeliness(due, due, VN), 'ON_TIME');
    assert.equal(timeliness(new Date(due.getTime() + 1), due, VN), 'LATE');
  });

  it('takes the working time of a supplement pause out of the processing time', () => {
    // Counting from Monday 09:00, asked for a paper Monday 11:00, resubmitted Wednesday 09:00, resolved
    // Wednesday 11:00: two working hours before the pause and two after.
    const history = historyOf([
      {
        action: 'SUBMIT',
        occurredAt: vn('2026-11-23T09:00'),
        details: { dueAt: '2026-11-26T10:00:00.000Z' },
      },
      { action: 'request_supplement', occurredAt: vn('2026-11-23T11:00'), details: {} },
      {
        action: 'resubmit',
        occurredAt: vn('2026-11-25T09:00'),
        details: { dueAt: '2026-11-27T10:00:00.000Z' },
      },
    ]);
    const resolvedAt = vn('2026-11-25T11:00');
    assert.equal(processingMillis(calendar, vn('2026-11-23T09:00'), resolvedAt, history), 4 * HOUR);
    const r = classifyResolution(
      calendar,
      { resolvedAt, dueAt: new Date('2026-11-27T10:00:00.000Z'), countingFrom: vn('2026-11-23T09:00') },
      history,
    );
    assert.deepEqual(r, { timeliness: 'EARLY', workingMs: 4 * HOUR });
    // The due date in force is the resubmission's, not the submission's.
    assert.equal(stateAt(history, resolvedAt).dueAt?.toISOString(), '2026-11-27T10:00:00.000Z');
  });

  it('holds an extended dossier to the appointment of its receipt: an extension is an apology, not more time', () => {
    // Due Monday 30, 09:00; on Friday 27 the agency extends to Friday 4 December.
    const submitted = {
      action: 'SUBMIT',
      occurredAt: vn('2026-11-23T09:00'),
      details: { dueAt: vn('2026-11-30T09:00').toISOString() },
    };
    const extended = {
      action: 'extend',
      occurredAt: vn('2026-11-27T09:00'),
      details: { dueAt: vn('2026-12-04T17:00').toISOString() },
    };
    const history = historyOf([submitted, extended]);
    const judge = (resolvedAt: Date) =>
      classifyResolution(
        calendar,
        { resolvedAt, dueAt: vn('2026-12-04T17:00'), countingFrom: vn('2026-11-23T09:00') },
        history,
      ).timeliness;
    // By the new date, after the receipt's: late, as the apology said it would be.
    assert.equal(judge(vn('2026-12-03T10:00')), 'LATE');
    // By the receipt's date after all: as if there had been no extension.
    assert.equal(judge(vn('2026-11-30T08:00')), 'ON_TIME');
    assert.equal(judge(vn('2026-11-27T10:00')), 'EARLY');
    // Without an extension the appointment in force is the one.
    assert.equal(
      legalDueAt(calendar, vn('2026-11-30T09:00'), historyOf([submitted]))?.toISOString(),
      vn('2026-11-30T09:00').toISOString(),
    );
  });

  it('moves the held appointment by a supplement pause, before or after an extension, as the clock does', () => {
    // Due Monday 30, 09:00. Asked for a paper on Wednesday 25 at 09:00 (five working days of 8 hours
    // less 16 hours done: 24 working hours left); extended while paused; resubmitted Tuesday 1 December
    // at 09:00: the receipt's appointment moves to Friday 4 December, 09:00, not to the extension's date.
    const history = historyOf([
      {
        action: 'SUBMIT',
        occurredAt: vn('2026-11-23T09:00'),
        details: { dueAt: vn('2026-11-30T09:00').toISOString() },
      },
      { action: 'request_supplement', occurredAt: vn('2026-11-25T09:00'), details: {} },
      {
        action: 'extend',
        occurredAt: vn('2026-11-26T09:00'),
        details: { dueAt: vn('2026-12-11T17:00').toISOString() },
      },
      {
        action: 'resubmit',
        occurredAt: vn('2026-12-01T09:00'),
        details: { dueAt: vn('2026-12-16T09:00').toISOString() },
      },
    ]);
    assert.equal(
      legalDueAt(calendar, vn('2026-12-16T09:00'), history)?.toISOString(),
      vn('2026-12-04T09:00').toISOString(),
    );
    const at = (resolvedAt: Date) =>
      classifyResolution(
        calendar,
        { resolvedAt, dueAt: vn('2026-12-16T09:00'), countingFrom: vn('2026-11-23T09:00') },
        history,
      ).timeliness;
    assert.equal(at(vn('2026-12-04T09:00')), 'ON_TIME');
    assert.equal(at(vn('2026-12-04T09:01')), 'LATE');
  });

  it('keeps the appointment a resubmission gave before an extension, whatever the calendar says since', () => {
    // Due Monday 30 at 09:00; paused Wednesday 25 at 09:00 with 24 working hours left; resubmitted
    // Tuesday 1 December at 09:00, so due Friday 4 at 09:00 (on record). A holiday on Thursday 3 is
    // added afterwards; the agency extends, and resolves on Monday 7 at 08:00: late, as it would be
    // without the extension.
    const history = historyOf([
      {
        action: 'SUBMIT',
        occurredAt: vn('2026-11-23T09:00'),
        details: { dueAt: vn('2026-11-30T09:00').toISOString() },
      },
      { action: 'request_supplement', occurredAt: vn('2026-11-25T09:00'), details: {} },
      {
        action: 'resubmit',
        occurredAt: vn('2026-12-01T09:00'),
        details: { dueAt: vn('2026-12-04T09:00').toISOString() },
      },
      {
        action: 'extend',
        occurredAt: vn('2026-12-03T09:00'),
        details: { dueAt: vn('2026-12-11T17:00').toISOString() },
      },
    ]);
    const withHoliday = new WorkingCalendar([{ date: '2026-12-03', kind: 'HOLIDAY', name: 'Nghỉ thử' }]);
    assert.equal(
      legalDueAt(withHoliday, vn('2026-12-11T17:00'), history)?.toISOString(),
      vn('2026-12-04T09:00').toISOString(),
    );
    const r = classifyResolution(
      withHoliday,
      {
        resolvedAt: vn('2026-12-07T08:00'),
        dueAt: vn('2026-12-11T17:00'),
        countingFrom: vn('2026-11-23T09:00'),
      },
      history,
    );
    assert.equal(r.timeliness, 'LATE');
  });

  it('counts a paused dossier as neither overdue nor closed, and a withdrawn one as closed', () => {
    const history = historyOf([
      {
        action: 'SUBMIT',
        occurredAt: vn('2026-11-23T09:00'),
        details: { dueAt: '2026-11-24T10:00:00.000Z' },
      },
      { action: 'request_supplement', occurredAt: vn('2026-11-23T10:00'), details: {} },
    ]);
    const later = vn('2026-12-01T09:00');
    const paused = stateAt(history, later);
    assert.deepEqual([paused.closed, paused.paused, isOverdueAt(paused, later)], [false, true, false]);
    const withdrawn = stateAt(
      [...history, { action: 'withdraw', occurredAt: vn('2026-11-24T09:00'), dueAt: null }],
      later,
    );
    assert.equal(withdrawn.closed, true);
  });
});

describe('the daily counts an event adds', () => {
  it('counts submissions by channel, resolutions with their timeliness and working time', () => {
    assert.deepEqual(eventIncrement('SUBMIT', 'ONLINE', null), { received_online: 1 });
    assert.deepEqual(eventIncrement('SUBMIT', 'COUNTER', null), { received_counter: 1 });
    assert.deepEqual(eventIncrement('release', 'ONLINE', { timeliness: 'LATE', workingMs: 5 }), {
      released: 1,
      resolved_late: 1,
      working_ms: 5,
    });
    assert.deepEqual(eventIncrement('refuse', 'COUNTER', { timeliness: 'EARLY', workingMs: 0 }), {
      refused: 1,
      resolved_early: 1,
      working_ms: 0,
    });
    assert.deepEqual(eventIncrement('request_supplement', 'ONLINE', null), { supplement_requests: 1 });
    assert.equal(eventIncrement('accept', 'ONLINE', null), null);
    assert.throws(() => eventIncrement('release_paper', 'ONLINE', null), /classification/);
  });

  it('counts a rating of 1 to 5 and nothing else', () => {
    assert.deepEqual(ratingIncrement(4), { ratings: 1, rating_sum: 4, rated_4: 1 });
    assert.throws(() => ratingIncrement(0));
    assert.throws(() => ratingIncrement(2.5));
  });

  it('cuts months at Vietnam midnight', () => {
    const [first, , last] = monthsEnding('2027-01', 3, VN);
    assert.equal(first!.month, '2026-11');
    assert.equal(first!.start.toISOString(), '2026-10-31T17:00:00.000Z');
    assert.equal(last!.end.toISOString(), '2027-01-31T17:00:00.000Z');
  });
});
