import type { Agency } from '../data/agencyRepository';
import type { Language, Translate } from '../i18n/messages';
import type { DrillFigure, FigureSet, MonthFigures, StatisticsReport } from '../services/statisticsService';
import { agencyName } from './presenters';

/** Numbers as people read them: 1.234,5 in Vietnamese, 1,234.5 in English. */
export function numberFormatter(lang: Language): (n: number | null) => string {
  const format = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 2 });
  return (n) => (n === null ? '–' : format.format(n));
}

export interface FigureRow {
  label: string;
  value: string;
  /** The drill-down figure behind the count, when there is a list of dossiers to show. */
  figure?: DrillFigure;
  /** A row that breaks down the row above it. */
  sub?: boolean;
}

export interface FigureGroup {
  id: string;
  title: string;
  rows: FigureRow[];
}

/** The headline figures in the order the pages show them, labelled and formatted. */
export function figureGroups(
  t: Translate,
  fmt: (n: number | null) => string,
  f: FigureSet,
  expiringDays: number,
): FigureGroup[] {
  const pct = (n: number | null) => (n === null ? '–' : `${fmt(n)} %`);
  return [
    {
      id: 'received',
      title: t('stats.g.received'),
      rows: [
        { label: t('stats.received'), value: fmt(f.received.total), figure: 'received' },
        {
          label: t('stats.receivedOnline'),
          value: fmt(f.received.online),
          figure: 'received-online',
          sub: true,
        },
        {
          label: t('stats.receivedCounter'),
          value: fmt(f.received.counter),
          figure: 'received-counter',
          sub: true,
        },
        {
          label: t('stats.fullOnline'),
          value: t('stats.ofTotal', { n: fmt(f.procedures.fullOnline), total: fmt(f.procedures.offered) }),
        },
      ],
    },
    {
      id: 'resolved',
      title: t('stats.g.resolved'),
      rows: [
        { label: t('stats.resolved'), value: fmt(f.resolved.total), figure: 'resolved' },
        { label: t('stats.early'), value: fmt(f.resolved.early), figure: 'resolved-early', sub: true },
        { label: t('stats.onTime'), value: fmt(f.resolved.onTime), figure: 'resolved-on-time', sub: true },
        { label: t('stats.late'), value: fmt(f.resolved.late), figure: 'resolved-late', sub: true },
        { label: t('stats.onTimeRate'), value: pct(f.onTimeRate) },
        {
          label: t('stats.averageDays'),
          value:
            f.averageProcessingDays === null
              ? '–'
              : t('stats.workingDays', { n: fmt(f.averageProcessingDays) }),
        },
      ],
    },
    {
      id: 'in-progress',
      title: t('stats.g.inProgress'),
      rows: [
        { label: t('stats.inProgress'), value: fmt(f.inProgress.total), figure: 'in-progress' },
        { label: t('stats.notYetDue'), value: fmt(f.inProgress.notYetDue), figure: 'not-yet-due', sub: true },
        { label: t('stats.paused'), value: fmt(f.inProgress.paused), figure: 'paused', sub: true },
        { label: t('stats.overdue'), value: fmt(f.inProgress.overdue), figure: 'overdue', sub: true },
      ],
    },
    {
      id: 'events',
      title: t('stats.g.events'),
      rows: [
        {
          label: t('stats.supplementRequests'),
          value: fmt(f.supplementRequests),
          figure: 'supplement-requests',
        },
        { label: t('stats.refusals'), value: fmt(f.refusals), figure: 'refusals' },
        { label: t('stats.withdrawals'), value: fmt(f.withdrawals), figure: 'withdrawals' },
      ],
    },
    {
      id: 'results',
      title: t('stats.g.results'),
      rows: [
        { label: t('stats.resultsIssued'), value: fmt(f.results.issued), figure: 'results-issued' },
        {
          label: t('stats.signedAndSealed'),
          value: fmt(f.results.signedAndSealed),
          figure: 'results-signed',
          sub: true,
        },
        { label: t('stats.withSignature'), value: fmt(f.results.withApproverSignature), sub: true },
        { label: t('stats.withSeal'), value: fmt(f.results.withAgencySeal), sub: true },
        { label: t('stats.paper'), value: fmt(f.results.paper), sub: true },
        { label: t('stats.signingRate'), value: pct(f.results.signingRate) },
      ],
    },
    {
      id: 'certificates',
      title: t('stats.g.certificates'),
      rows: [
        { label: t('stats.certPersonal'), value: fmt(f.certificates.personal) },
        { label: t('stats.certAgency'), value: fmt(f.certificates.agency) },
        {
          label: t('stats.certExpiring', { days: expiringDays }),
          value: t('stats.certExpiringValue', {
            personal: fmt(f.certificates.expiringSoon.personal),
            agency: fmt(f.certificates.expiringSoon.agency),
          }),
        },
      ],
    },
    {
      id: 'ratings',
      title: t('stats.g.ratings'),
      rows: [
        { label: t('stats.ratings'), value: fmt(f.ratings.count) },
        {
          label: t('stats.ratingAverage'),
          value: f.ratings.average === null ? '–' : t('stats.outOfFive', { n: fmt(f.ratings.average) }),
        },
        ...(['5', '4', '3', '2', '1'] as const).map((s) => ({
          label: t('stats.stars', { n: s }),
          value: fmt(f.ratings.distribution[s]),
          sub: true,
        })),
      ],
    },
  ];
}

/** The definitions printed under the figures, in the same order. */
export const DEFINITION_KEYS = [
  'received',
  'fullOnline',
  'resolved',
  'timeliness',
  'onTimeRate',
  'processing',
  'inProgress',
  'events',
  'results',
  'certificates',
  'ratings',
  'scope',
] as const;

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  series: 'received' | 'onTime';
}

export interface ChartGeometry {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  ticks: { y: number; label: string }[];
  groups: { month: string; label: string; labelX: number; bars: ChartBar[] }[];
  colors: { received: string; onTime: string };
}

/** A maximum for the axis: 1, 2 or 5 times a power of ten, at least the largest value. */
function niceMax(max: number): number {
  if (max <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/** Where each bar of the twelve-month chart goes: received beside resolved on time, month by month. */
export function chartGeometry(months: readonly MonthFigures[], fmt: (n: number) => string): ChartGeometry {
  const width = 720;
  const height = 280;
  const plot = { left: 48, top: 12, right: width - 8, bottom: height - 36 };
  const max = niceMax(Math.max(0, ...months.flatMap((m) => [m.received, m.resolvedOnTime])));
  const scale = (v: number) => ((plot.bottom - plot.top) * v) / max;
  const slot = (plot.right - plot.left) / Math.max(1, months.length);
  const barWidth = Math.max(4, Math.floor(slot * 0.34));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((k) => ({
    y: round1(plot.bottom - scale(max * k)),
    label: fmt(max * k),
  }));
  const groups = months.map((m, i) => {
    const x0 = plot.left + slot * i + (slot - 2 * barWidth - 2) / 2;
    const bar = (value: number, series: ChartBar['series'], x: number): ChartBar => ({
      x: round1(x),
      y: round1(plot.bottom - scale(value)),
      width: barWidth,
      height: round1(scale(value)),
      value,
      series,
    });
    return {
      month: m.month,
      label: `${m.month.slice(5, 7)}/${m.month.slice(2, 4)}`,
      labelX: round1(plot.left + slot * i + slot / 2),
      bars: [bar(m.received, 'received', x0), bar(m.resolvedOnTime, 'onTime', x0 + barWidth + 2)],
    };
  });
  return { width, height, plot, ticks, groups, colors: { received: '#1d4f91', onTime: '#2e7d32' } };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

type Cell = string | number | null;

/** The CSV columns: the same figures as the page and the API, by the API's names. */
const CSV_FIGURES: [string, (f: FigureSet) => Cell][] = [
  ['received', (f) => f.received.total],
  ['received_online', (f) => f.received.online],
  ['received_counter', (f) => f.received.counter],
  ['procedures_offered', (f) => f.procedures.offered],
  ['procedures_full_online', (f) => f.procedures.fullOnline],
  ['resolved', (f) => f.resolved.total],
  ['resolved_early', (f) => f.resolved.early],
  ['resolved_on_time', (f) => f.resolved.onTime],
  ['resolved_late', (f) => f.resolved.late],
  ['resolved_released', (f) => f.resolved.released],
  ['resolved_refused', (f) => f.resolved.refused],
  ['on_time_rate', (f) => f.onTimeRate],
  ['average_processing_days', (f) => f.averageProcessingDays],
  ['in_progress', (f) => f.inProgress.total],
  ['in_progress_not_yet_due', (f) => f.inProgress.notYetDue],
  ['in_progress_overdue', (f) => f.inProgress.overdue],
  ['in_progress_paused', (f) => f.inProgress.paused],
  ['supplement_requests', (f) => f.supplementRequests],
  ['refusals', (f) => f.refusals],
  ['withdrawals', (f) => f.withdrawals],
  ['results_issued', (f) => f.results.issued],
  ['results_signed_and_sealed', (f) => f.results.signedAndSealed],
  ['results_with_approver_signature', (f) => f.results.withApproverSignature],
  ['results_with_agency_seal', (f) => f.results.withAgencySeal],
  ['results_paper', (f) => f.results.paper],
  ['signing_rate', (f) => f.results.signingRate],
  ['certificates_personal', (f) => f.certificates.personal],
  ['certificates_agency', (f) => f.certificates.agency],
  ['certificates_expiring_personal', (f) => f.certificates.expiringSoon.personal],
  ['certificates_expiring_agency', (f) => f.certificates.expiringSoon.agency],
  ['ratings', (f) => f.ratings.count],
  ['rating_average', (f) => f.ratings.average],
  ...(['1', '2', '3', '4', '5'] as const).map((s): [string, (f: FigureSet) => Cell] => [
    `rating_${s}`,
    (f) => f.ratings.distribution[s],
  ]),
];

export const CSV_COLUMNS = [
  'period_from',
  'period_to',
  'scope',
  'agency_code',
  'agency_name',
  'agency_level',
  'parent_code',
  ...CSV_FIGURES.map(([name]) => name),
];

function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  // A cell a spreadsheet would run as a formula is kept as text.
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The monthly report as CSV: one row per agency of the tree with its own dossiers (scope OWN), then one
 * row for the agency asked about with all its sub-agencies (scope TOTAL), which is what the page shows.
 */
export function reportCsv(report: StatisticsReport, lang: Language): string {
  const codes = new Map<number, string>(report.byAgency.map((a) => [a.agency.id, a.agency.code]));
  const line = (scope: 'OWN' | 'TOTAL', agency: Agency, f: FigureSet) =>
    [
      report.period.from,
      report.period.to,
      scope,
      agency.code,
      agencyName(lang, agency),
      agency.level,
      agency.parentId === null ? '' : (codes.get(agency.parentId) ?? ''),
      ...CSV_FIGURES.map(([, get]) => get(f)),
    ]
      .map(csvCell)
      .join(',');
  const rows = [
    CSV_COLUMNS.join(','),
    ...report.byAgency.map((a) => line('OWN', a.agency, a.figures)),
    line('TOTAL', report.agency, report.total),
  ];
  // The byte-order mark lets spreadsheet programs read the Vietnamese names as UTF-8.
  return `\uFEFF${rows.join('\r\n')}\r\n`;
}

/** The report as the API gives it. */
export function reportJson(report: StatisticsReport, lang: Language) {
  const agency = (a: Agency) => ({ code: a.code, name: agencyName(lang, a), level: a.level });
  return {
    agency: agency(report.agency),
    period: {
      from: report.period.from,
      to: report.period.to,
      start: report.period.start.toISOString(),
      end: report.period.end.toISOString(),
      asOf: report.period.asOf.toISOString(),
    },
    ...report.total,
    byAgency: report.byAgency.map((a) => ({
      ...agency(a.agency),
      parent:
        a.agency.parentId === null
          ? null
          : (report.byAgency.find((x) => x.agency.id === a.agency.parentId)?.agency.code ?? null),
      figures: a.figures,
    })),
    ratingsByProcedure: report.ratingsByProcedure.map((p) => ({
      procedure: p.code,
      name: lang === 'en' ? p.name.en : p.name.vi,
      agency: report.byAgency.find((a) => a.agency.id === p.agencyId)?.agency.code ?? null,
      ...p.ratings,
    })),
    monthly: report.monthly,
    definitions: {
      expiringWithinDays: report.expiringWithinDays,
      hoursPerWorkingDay: report.hoursPerDay,
    },
  };
}
