import type { Response } from 'express';
import type { Deps } from '../container';
import {
  renderApologyNotice,
  renderRefusalNotice,
  renderSupplementNotice,
} from '../documents/noticeDocuments';
import { renderReceipt } from '../documents/receiptDocument';
import { renderStatisticsReport } from '../documents/statisticsReportDocument';
import { NotFoundError } from '../errors';
import { translator } from '../i18n/messages';
import type { DossierView } from '../services/dossierService';
import type { StatisticsReport } from '../services/statisticsService';
import { NOTICE_EVENTS, type NoticeKind, timeLimitText } from './presenters';

/** Administrative documents are Vietnamese whatever language the reader chose for the pages. */
const vi = translator('vi');

/** With `download`, the browser saves the file instead of showing it: for reports kept and passed on. */
export function sendPdf(
  res: Response,
  pdf: Buffer,
  fileName: string,
  opts: { download?: boolean } = {},
): void {
  res.set({
    'Content-Type': 'application/pdf',
    'Content-Disposition': `${opts.download ? 'attachment' : 'inline'}; filename="${fileName}"`,
    'Cache-Control': 'private, no-store',
  });
  res.send(pdf);
}

/** The receipt (mẫu 01) of a dossier, for its applicant or the officer who took it at the counter. */
export async function sendReceipt(res: Response, deps: Deps, view: DossierView): Promise<void> {
  const d = view.dossier;
  const agency = await deps.repos.agencies.findById(d.agencyId);
  const parent = agency?.parentId ? await deps.repos.agencies.findById(agency.parentId) : undefined;
  const def = view.procedure.definition;
  const submit = view.events.find((e) => e.action === 'SUBMIT');
  const receiver =
    d.channel === 'COUNTER' && submit?.actorUserId
      ? await deps.repos.users.findById(submit.actorUserId)
      : undefined;
  const pdf = await renderReceipt({
    agencyName: agency?.name ?? '',
    parentAgencyName: parent?.name ?? null,
    placeName: agency?.placeName ?? '',
    code: d.code!,
    secret: d.secret!,
    procedureName: def.name.vi,
    applicant: {
      name: d.applicant.name,
      idLabel: d.applicant.idLabel,
      idNumber: d.applicant.idNumber,
      address: null,
      phone: d.applicant.phone,
      email: d.applicant.email,
    },
    papers: def.papers
      .filter((p) => view.files.some((f) => f.paperCode === p.code))
      .map((p) => ({ name: p.name.vi, copies: p.copies })),
    timeLimitText: timeLimitText(vi, def.timeLimit),
    receivedAt: d.submittedAt!,
    dueAt: d.dueAt!,
    channel: d.channel,
    receivedBy: receiver?.fullName ?? null,
    lookupUrl: `${deps.config.publicBaseUrl}/lookup?code=${encodeURIComponent(d.code!)}&secret=${encodeURIComponent(d.secret!)}`,
  });
  sendPdf(res, pdf, `giay-tiep-nhan-${d.code}.pdf`);
}

/** A one-stop notice (mẫu 02, 03, 04) of a dossier, from the event that made it: the latest supplement
 * request, the refusal, or the latest extension. 404 when the dossier has no such event. */
export async function sendNotice(
  res: Response,
  deps: Deps,
  view: DossierView,
  kind: NoticeKind,
): Promise<void> {
  const d = view.dossier;
  const event = view.events.filter((e) => e.action === NOTICE_EVENTS[kind]).pop();
  if (!event) throw new NotFoundError();
  const agency = await deps.repos.agencies.findById(d.agencyId);
  const parent = agency?.parentId ? await deps.repos.agencies.findById(agency.parentId) : undefined;
  const officer = event.actorUserId ? await deps.repos.users.findById(event.actorUserId) : undefined;
  const def = view.procedure.definition;
  const base = {
    agencyName: agency?.name ?? '',
    parentAgencyName: parent?.name ?? null,
    placeName: agency?.placeName ?? '',
    code: d.code!,
    procedureName: def.name.vi,
    applicantName: d.applicant.name,
    issuedAt: event.occurredAt,
    officerName: officer?.fullName ?? '',
    officerPosition: officer?.position ?? vi(`role.${event.actorRole}`),
  };
  const reason = event.note ?? '';
  let pdf: Buffer;
  if (kind === 'supplement') {
    const codes = (event.details.papers as string[] | undefined) ?? [];
    pdf = await renderSupplementNotice({
      ...base,
      reason,
      papers: def.papers.filter((p) => codes.includes(p.code)).map((p) => p.name.vi),
      remainingWorkingHours: Number(event.details.remainingWorkingHours ?? 0),
    });
  } else if (kind === 'refusal') {
    pdf = await renderRefusalNotice({ ...base, reason });
  } else {
    pdf = await renderApologyNotice({
      ...base,
      reason,
      previousDueAt: new Date(String(event.details.previousDueAt)),
      newDueAt: new Date(String(event.details.dueAt)),
    });
  }
  sendPdf(res, pdf, `${kind}-${d.code}.pdf`);
}

/** The statistics report as the agency files it upwards; pointing back to the public page for the same
 * agency and period, where each figure is explained and its history charted. */
export async function sendStatisticsReport(
  res: Response,
  deps: Deps,
  report: StatisticsReport,
  fileName: string,
): Promise<void> {
  const { agency, period } = report;
  const parent = agency.parentId ? await deps.repos.agencies.findById(agency.parentId) : undefined;
  const query = new URLSearchParams({ agency: agency.code, from: period.from, to: period.to });
  const pdf = await renderStatisticsReport({
    report,
    parentAgencyName: parent?.name ?? null,
    issuedAt: deps.clock.now(),
    publicUrl: `${deps.config.publicBaseUrl}/stats?${query.toString()}`,
  });
  sendPdf(res, pdf, fileName, { download: true });
}

/** What the pages show of a dossier's result: its number and date, and where to download and verify it. */
export async function resultSummary(deps: Deps, dossierId: number) {
  const result = await deps.results.issued(dossierId);
  if (!result) return null;
  return {
    kind: result.kind,
    status: result.status,
    symbol: result.symbol,
    issuedAt: result.issuedAt,
    sha256: result.finalSha256,
    verifyPath: `/verify/r/${result.publicId}`,
  };
}

/** The issued result of a dossier (only the final, sealed file; never the approver's draft). */
export async function sendResult(res: Response, deps: Deps, view: DossierView): Promise<void> {
  const result = await deps.results.issued(view.dossier.id);
  if (!result) throw new NotFoundError('result.notIssued');
  const pdf = await deps.results.file(result);
  res.set({
    'Content-Type': 'application/pdf',
    'Content-Disposition': `attachment; filename="${deps.results.fileName(result, view.dossier.code!)}"`,
    'Cache-Control': 'private, no-store',
    'X-Content-SHA256': result.finalSha256!,
  });
  res.send(pdf);
}
