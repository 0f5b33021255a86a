import type { Request } from 'express';
import type { Agency } from '../data/agencyRepository';
import type { ProcedureVersion } from '../data/procedureRepository';
import type { ValidationError } from '../errors';
import type { DossierView } from '../services/dossierService';
import type { Translate } from '../i18n/messages';
import { paperErrorKey } from '../services/dossierForm';
import { localText, type ProcedureDefinition, type TimeLimitLike } from '../domain/procedureDefinition';

/** The one-stop notices a dossier can have (mẫu 02, 03, 04), each made by one kind of event. */
export const NOTICE_KINDS = ['supplement', 'refusal', 'apology'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const NOTICE_EVENTS: Record<NoticeKind, string> = {
  supplement: 'request_supplement',
  refusal: 'refuse',
  apology: 'extend',
};

export function agencyName(lang: string, a: Pick<Agency, 'name' | 'nameEn'> | undefined): string {
  return a ? (lang === 'en' ? a.nameEn : a.name) : '';
}

export function timeLimitText(t: Translate, limit: TimeLimitLike): string {
  return t(`unit.${limit.unit}`, { n: limit.amount });
}

export function feeText(lang: string, def: ProcedureDefinition): string {
  return localText(def.fee.text, lang);
}

/** A procedure as the pages show it, in the reader's language. */
export function presentProcedure(req: Request, p: ProcedureVersion, agency: Agency | undefined) {
  const def = p.definition;
  const l = (x: { vi: string; en: string }) => localText(x, req.lang);
  return {
    code: p.code,
    version: p.version,
    name: l(def.name),
    sector: l(def.sector),
    onlineLevel: def.onlineLevel,
    agency: agencyName(req.lang, agency),
    timeLimit: timeLimitText(req.t, def.timeLimit),
    fee: l(def.fee.text),
    decidedBy: l(def.decidedBy),
    result: l(def.resultName),
    applicantKinds: def.applicantKinds,
    legalBasis: def.legalBasis,
    fields: def.fields.map((f) => ({
      name: f.name,
      type: f.type,
      label: l(f.label),
      required: f.required,
      help: f.help ? l(f.help) : null,
      maxLength: f.maxLength ?? null,
      min: f.min ?? null,
      max: f.max ?? null,
      options: (f.options ?? []).map((o) => ({ value: o.value, label: l(o.label) })),
    })),
    papers: def.papers.map((pp) => ({
      code: pp.code,
      key: paperErrorKey(pp.code),
      name: l(pp.name),
      required: pp.required,
      copies: pp.copies,
      maxFiles: pp.maxFiles,
      types: pp.types,
      accept: pp.types
        .map((x) =>
          x === 'jpg' ? '.jpg,.jpeg,image/jpeg' : x === 'png' ? '.png,image/png' : '.pdf,application/pdf',
        )
        .join(','),
      note: pp.note ? l(pp.note) : null,
    })),
  };
}

/** Field problems from the dossier checks, in the reader's language and in the form's order. */
export function dossierErrors(
  req: Request,
  def: ProcedureDefinition,
  err: ValidationError,
): Record<string, string> {
  const order = [
    ...def.fields.map((f) => f.name),
    ...def.papers.map((p) => paperErrorKey(p.code)),
    '_papers',
    '_form',
  ];
  const out: [string, string][] = [];
  for (const [field, key] of Object.entries(err.fieldErrors)) {
    let text: string;
    if (key.startsWith('pattern:')) {
      const f = def.fields.find((x) => x.name === field);
      text = f?.patternMessage ? localText(f.patternMessage, req.lang) : req.t('v.invalid');
    } else text = req.t(key, err.messageParams[field]);
    out.push([field, text]);
  }
  out.sort(([a], [b]) => rank(order, a) - rank(order, b));
  return Object.fromEntries(out);
}

function rank(order: string[], field: string): number {
  const i = order.indexOf(field);
  return i === -1 ? order.length : i;
}

/** A dossier's history as the applicant, the public lookup and the officers see it: each step, who
 * handled it (role, and the agency for officers), why, and the due date a step set. */
export function presentTimeline(t: Translate, view: DossierView, agency: string) {
  return view.events.map((e) => {
    // Filing records the applicant's kind; the applicant's later actions (resubmit, withdraw) the
    // workflow role APPLICANT, shown as the kind of this dossier's applicant.
    const applicant = e.actorRole === 'CITIZEN' || e.actorRole === 'BUSINESS' || e.actorRole === 'APPLICANT';
    const kind = e.actorRole === 'APPLICANT' ? view.dossier.applicant.kind : e.actorRole;
    const due = typeof e.details.dueAt === 'string' ? new Date(e.details.dueAt) : null;
    return {
      at: e.occurredAt,
      who: applicant ? t(`actor.${kind}`) : `${t(`role.${e.actorRole}`)}, ${agency}`,
      what: t(`event.${e.action}`),
      status: t(`dstatus.${e.toStatus}`),
      note: e.note,
      dueAt: due,
    };
  });
}

/** What a dossier holds, as its pages show it: the declared fields (options by their label), the papers
 * with their sizes and hashes, its history, and the notices it has. */
export function presentContents(req: Request, view: DossierView, agency: string) {
  const def = view.procedure.definition;
  return {
    form: def.fields.map((f) => {
      const raw = view.dossier.formData[f.name];
      const option = f.options?.find((o) => o.value === raw);
      return {
        label: localText(f.label, req.lang),
        value: option ? localText(option.label, req.lang) : (raw ?? ''),
      };
    }),
    papers: view.files.map((f) => ({
      id: f.id,
      name: f.originalName,
      contentType: f.contentType,
      // An officer's attachment is named by its action; a paper by the procedure.
      paper: f.paperCode.startsWith('attachment:')
        ? req.t('desk.attachmentOf', { action: req.t(`action.${f.paperCode.slice('attachment:'.length)}`) })
        : localText(
            def.papers.find((p) => p.code === f.paperCode)?.name ?? { vi: f.paperCode, en: f.paperCode },
            req.lang,
          ),
      size: f.size,
      sha256: f.sha256,
    })),
    timeline: presentTimeline(req.t, view, agency),
    notices: NOTICE_KINDS.filter((k) => view.events.some((e) => e.action === NOTICE_EVENTS[k])),
  };
}

/** While the clock is paused for a supplement, the working hours it will count from the resubmission
 * (the due date on record is the one before the pause, and will move); otherwise null. */
export function pausedHoursLeft(d: { status: string; remainingMs: number | null }): number | null {
  return d.status === 'SUPPLEMENT_REQUESTED' ? (d.remainingMs ?? 0) / 3_600_000 : null;
}
