import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../container';
import type { Agency } from '../data/agencyRepository';
import { OFFICER_ROLES } from '../domain/roles';
import { ForbiddenError, ValidationError } from '../errors';
import { formatDate, formatDateTime } from '../i18n/messages';
import { requireRole } from '../middleware/auth';
import { parseInput } from '../services/validation';
import { DRILL_FIGURES, type DrillFigure, type StatisticsReport } from '../services/statisticsService';
import { sendStatisticsReport } from './documentResponses';
import { translatedErrors } from './forms';
import { agencyName } from './presenters';
import {
  chartGeometry,
  DEFINITION_KEYS,
  figureGroups,
  numberFormatter,
  reportCsv,
} from './statisticsPresenters';

const QUERY_FIELDS = ['agency', 'from', 'to', 'month'] as const;
/** A drill-down list shows at most this many dossiers, and says how many there are. */
const DRILL_LIMIT = 1000;

const FIGURE_LABELS: Record<DrillFigure, string> = {
  received: 'stats.received',
  'received-online': 'stats.receivedOnline',
  'received-counter': 'stats.receivedCounter',
  resolved: 'stats.resolved',
  'resolved-early': 'stats.early',
  'resolved-on-time': 'stats.onTime',
  'resolved-late': 'stats.late',
  'in-progress': 'stats.inProgress',
  'not-yet-due': 'stats.notYetDue',
  overdue: 'stats.overdue',
  paused: 'stats.paused',
  'supplement-requests': 'stats.supplementRequests',
  refusals: 'stats.refusals',
  withdrawals: 'stats.withdrawals',
  'results-issued': 'stats.resultsIssued',
  'results-signed': 'stats.signedAndSealed',
};

const figureQuery = z.object({ figure: z.enum(DRILL_FIGURES, { error: 'stats.v.figure' }) });

/** The query string of a report, for links that keep the agency and the period. */
function periodQuery(report: { agency: Agency; period: { from: string; to: string } }): string {
  return new URLSearchParams({
    agency: report.agency.code,
    from: report.period.from,
    to: report.period.to,
  }).toString();
}

/** The download's name: the agency and the period, with nothing a header or a file system could mind. */
function reportFileName(report: StatisticsReport, extension: 'csv' | 'pdf'): string {
  return `bao-cao-${report.agency.code}-${report.period.from}-${report.period.to}.${extension}`.replace(
    /[^\w.-]+/g,
    '-',
  );
}

/**
 * The figures agencies are judged by: the public transparency page with its twelve-month chart and the
 * CSV monthly report, and the officers' dashboard for their agency with the dossiers behind each count.
 */
export function statisticsRoutes(deps: Deps): Router {
  const router = Router();

  /** What both pages show: the headline figures, the chart and its table, each agency, the ratings. */
  const reportView = (req: Request, report: StatisticsReport) => {
    const fmt = numberFormatter(req.lang);
    const query = periodQuery(report);
    const rate = (n: number | null) => (n === null ? '–' : `${fmt(n)} %`);
    return {
      report,
      agencyLabel: agencyName(req.lang, report.agency),
      periodText: req.t('stats.period', {
        from: formatDate(report.period.from),
        to: formatDate(report.period.to),
        asOf: formatDateTime(req.lang, report.period.asOf),
      }),
      groups: figureGroups(req.t, fmt, report.total, report.expiringWithinDays),
      chart: chartGeometry(report.monthly, (n) => fmt(n)),
      monthly: report.monthly.map((m) => ({
        label: `${m.month.slice(5, 7)}/${m.month.slice(0, 4)}`,
        received: fmt(m.received),
        resolved: fmt(m.resolved),
        resolvedOnTime: fmt(m.resolvedOnTime),
      })),
      agencies: [
        ...report.byAgency.map((a) => ({
          name: agencyName(req.lang, a.agency),
          depth: a.depth,
          f: a.figures,
          total: false,
        })),
        { name: req.t('stats.totalRow'), depth: 0, f: report.total, total: true },
      ].map((a) => ({
        ...a,
        received: fmt(a.f.received.total),
        resolved: fmt(a.f.resolved.total),
        onTimeRate: rate(a.f.onTimeRate),
        overdue: fmt(a.f.inProgress.overdue),
        signingRate: rate(a.f.results.signingRate),
        ratingAverage: a.f.ratings.average === null ? '–' : fmt(a.f.ratings.average),
      })),
      procedures: report.ratingsByProcedure.map((p) => ({
        code: p.code,
        name: req.lang === 'en' ? p.name.en : p.name.vi,
        count: fmt(p.ratings.count),
        average: p.ratings.average === null ? '–' : fmt(p.ratings.average),
        distribution: (['5', '4', '3', '2', '1'] as const).map((s) => fmt(p.ratings.distribution[s])),
      })),
      definitions: DEFINITION_KEYS.map((k) => ({
        term: req.t(`stats.defTerm.${k}`),
        text: req.t(`stats.def.${k}`, { days: report.expiringWithinDays, hours: report.hoursPerDay }),
      })),
      csvUrl: `/stats/report.csv?${query}`,
      pdfUrl: `/stats/report.pdf?${query}`,
      apiUrl: `/api/v1/stats?${query}`,
      reportMonth: report.period.to.slice(0, 7),
    };
  };

  const choicesOf = async (rootId?: number) =>
    (await deps.statistics.agencyChoices(rootId)).map(({ agency, depth }) => ({
      code: agency.code,
      label: `${'— '.repeat(depth)}${agency.name}`,
      labelEn: `${'— '.repeat(depth)}${agency.nameEn}`,
    }));

  const page = async (
    req: Request,
    res: Response,
    opts: {
      view: string;
      title: string;
      rootId?: number;
      fallback?: Agency;
      drill: boolean;
      formAction: string;
    },
  ) => {
    const choices = (await choicesOf(opts.rootId)).map((c) => ({
      code: c.code,
      label: req.lang === 'en' ? c.labelEn : c.label,
    }));
    const common = { title: opts.title, choices, drill: opts.drill, formAction: opts.formAction };
    let query;
    try {
      query = await deps.statistics.resolveQuery(req.query, { fallback: opts.fallback, within: opts.rootId });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const q = req.query as Record<string, unknown>;
      return res.status(422).render(opts.view, {
        ...common,
        errors: translatedErrors(req, err, QUERY_FIELDS),
        values: Object.fromEntries(QUERY_FIELDS.map((f) => [f, typeof q[f] === 'string' ? q[f] : ''])),
        view: null,
      });
    }
    const report = await deps.statistics.report(query);
    res.render(opts.view, {
      ...common,
      errors: {},
      values: { agency: report.agency.code, from: report.period.from, to: report.period.to },
      view: reportView(req, report),
      drillQuery: periodQuery(report),
    });
  };

  router.get('/stats', async (req, res) => {
    await page(req, res, {
      view: 'pages/public/stats',
      title: req.t('stats.title'),
      drill: false,
      formAction: '/stats',
    });
  });

  router.get('/stats/report.csv', async (req, res) => {
    const query = await deps.statistics.resolveQuery(req.query);
    const report = await deps.statistics.report(query);
    res.set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${reportFileName(report, 'csv')}"`,
      'Cache-Control': 'no-store',
    });
    res.send(reportCsv(report, req.lang));
  });

  // The same report as a document to print, sign and file: always in Vietnamese, whatever the page's
  // language, because it is an administrative document.
  router.get('/stats/report.pdf', async (req, res) => {
    const query = await deps.statistics.resolveQuery(req.query);
    const report = await deps.statistics.report(query);
    await sendStatisticsReport(res, deps, report, reportFileName(report, 'pdf'));
  });

  const officers = requireRole(...OFFICER_ROLES);
  const officerAgency = async (req: Request): Promise<Agency> => {
    const id = req.user!.agencyId;
    const agency = id === null ? undefined : await deps.repos.agencies.findById(id);
    if (!agency) throw new ForbiddenError();
    return agency;
  };

  router.get('/desk/stats', officers, async (req, res) => {
    const agency = await officerAgency(req);
    await page(req, res, {
      view: 'pages/officer/stats',
      title: req.t('stats.deskTitle'),
      rootId: agency.id,
      fallback: agency,
      drill: true,
      formAction: '/desk/stats',
    });
  });

  router.get('/desk/stats/dossiers', officers, async (req, res) => {
    const own = await officerAgency(req);
    const { figure } = parseInput(figureQuery, req.query);
    const query = await deps.statistics.resolveQuery(req.query, { fallback: own, within: own.id });
    const { total, rows } = await deps.statistics.dossiersBehind(query, figure, DRILL_LIMIT);
    res.render('pages/officer/stats-dossiers', {
      title: `${req.t(FIGURE_LABELS[figure])}: ${agencyName(req.lang, query.agency)}`,
      figureLabel: req.t(FIGURE_LABELS[figure]),
      agencyLabel: agencyName(req.lang, query.agency),
      periodText: req.t('stats.periodShort', { from: formatDate(query.from), to: formatDate(query.to) }),
      backUrl: `/desk/stats?${periodQuery({ agency: query.agency, period: query })}`,
      total,
      limit: DRILL_LIMIT,
      items: rows.map((r) => ({
        code: r.code,
        // Officers open dossiers of their own agency; a sub-agency's are listed by code only.
        link: r.agency?.id === own.id ? `/desk/dossiers/${encodeURIComponent(r.code)}` : null,
        agency: agencyName(req.lang, r.agency),
        at: r.at,
        dueAt: r.dueAt,
      })),
    });
  });

  return router;
}
