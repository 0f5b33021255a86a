import { z } from 'zod';
import type { Clock } from '../../clock';
import type { AgencyRepository } from '../../data/agencyRepository';
import type { AuditRepository } from '../../data/auditRepository';
import { type Db, mayHaveCommitted } from '../../data/db';
import type {
  Dossier,
  DossierRepository,
  NewDossierFile,
  WorkflowChanges,
} from '../../data/dossierRepository';
import type { NotificationRepository } from '../../data/notificationRepository';
import type { ProcedureRepository, ProcedureVersion } from '../../data/procedureRepository';
import type { StatisticsRepository } from '../../data/statisticsRepository';
import {
  classifyResolution,
  dueAfterResume,
  eventIncrement,
  historyOf,
  timeLeftAtPause,
  localDateOf,
  type Resolution,
  RESOLVING_ACTIONS,
} from '../../domain/dossierFigures';
import type { User, UserRepository } from '../../data/userRepository';
import { AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import type { FileStore } from '../../files/fileStore';
import type { RequestContext } from '../../services/auditContext';
import type { CalendarService } from '../../services/calendarService';
import type { EnqueueNotices, Outgoing } from '../../services/dossierNotices';
import type { ResultService, ResultWork } from '../../services/resultService';
import { checkPapers, fileRows, isRealDate, papersToCheck, type Upload } from '../../services/dossierForm';
import type { ProcedureDefinition } from '../../domain/procedureDefinition';
import { parseInput } from '../../services/validation';
import type { WorkingCalendar } from '../../domain/workingCalendar';
import type { DossierStatus } from '../../domain/dossierStatus';
import {
  type ActionDef,
  type ActorRole,
  type Audience,
  budgetShare,
  rolesFor,
  type WorkflowDefinition,
} from '../engine';

export interface TransitionInput {
  actor: User;
  code: string;
  action: string;
  /** What the action needs: reason, papers (codes), assignee (user id), newDueDate ('YYYY-MM-DD'), note. */
  input: Record<string, unknown>;
  /** Papers the applicant sends with a resubmission, already written to the file store. */
  uploads?: readonly Upload[];
  /** The dossier version the person saw; a later change by someone else answers 409. */
  expectedVersion?: number;
}

class ActionNotFoundError extends AppError {
  constructor() {
    super('ACTION_NOT_FOUND', 404, 'workflow.unknownAction');
  }
}

const text = (max: number) =>
  z.string({ error: 'v.required' }).trim().min(1, { error: 'v.required' }).max(max, { error: 'v.tooLong' });

const list = z
  .union([z.string(), z.array(z.string())], { error: 'v.papers' })
  .transform((v) => (Array.isArray(v) ? v : [v]).filter((x) => x !== ''));

const inputSchema = (action: ActionDef) =>
  z.object({
    reason: action.requires.includes('reason') ? text(2000) : z.string().trim().max(2000).optional(),
    papers: action.requires.includes('papers')
      ? list.pipe(z.array(z.string()).min(1, { error: 'v.papers' }))
      : z.any().optional(),
    assignee: action.requires.includes('assignee')
      ? z.coerce
          .number({ error: 'v.assignee' })
          .int({ error: 'v.assignee' })
          .positive({ error: 'v.assignee' })
      : z.any().optional(),
    newDueDate: action.requires.includes('newDueDate')
      ? z.string({ error: 'v.required' }).refine(isRealDate, { error: 'v.date' })
      : z.any().optional(),
    // Checked against the key only; never stored, logged or written into an event.
    pin: action.requires.includes('pin')
      ? z.string({ error: 'v.pin' }).min(1, { error: 'v.pin' }).max(64, { error: 'v.pin' })
      : z.any().optional(),
  });

/**
 * Moves a dossier through its workflow, always in the same order: authorise, validate, ask the
 * engine, then one transaction that changes the dossier only if its status and version are still the
 * ones read (zero rows: 409, nothing changed), records the event and the audit entry, and queues the
 * notices. Files of a resubmission were written before and are removed if anything fails.
 */
interface RecordedStep {
  t: TransitionInput;
  action: ActionDef;
  dossier: Dossier;
  def: ProcedureDefinition;
  roles: ActorRole[];
  effects: {
    to: DossierStatus;
    details: Record<string, unknown>;
    files: NewDossierFile[];
    resolution: Resolution | null;
  };
  input: { reason?: string };
  now: Date;
  /** The Vietnam-time day of `now`, under which the figures count the event. */
  day: string;
}

export class TransitionDossier {
  constructor(
    private readonly deps: {
      db: Db;
      clock: Clock;
      dossiers: DossierRepository;
      procedures: ProcedureRepository;
      agencies: AgencyRepository;
      users: UserRepository;
      audit: AuditRepository;
      notifications: NotificationRepository;
      calendars: CalendarService;
      papers: FileStore;
      workflows: Map<string, WorkflowDefinition>;
      enqueueNotices: EnqueueNotices;
      results: ResultService;
      statistics: StatisticsRepository;
    },
  ) {}

  async run(t: TransitionInput, ctx: RequestContext): Promise<Dossier> {
    const uploaded = (t.uploads ?? []).map((u) => u.relPath);
    try {
      return await this.transition(t, ctx);
    } catch (err) {
      // A transaction cut off from the database may have committed: its rows may name the papers.
      if (!mayHaveCommitted(err)) await this.deps.papers.removeAll(uploaded);
      throw err;
    }
  }

  /** The roles in which this person may act on this dossier. */
  rolesOn(actor: User, dossier: Dossier): ActorRole[] {
    if (actor.kind === 'OFFICER') return actor.agencyId === dossier.agencyId ? [...actor.roles] : [];
    return dossier.applicantUserId === actor.id ? ['APPLICANT'] : [];
  }

  workflowOf(def: ProcedureDefinition): WorkflowDefinition {
    const wf = this.deps.workflows.get(def.workflow);
    if (!wf) throw new Error(`procedure ${def.code} names unknown workflow ${def.workflow}`);
    return wf;
  }

  /** The actions this person may take now (for buttons), honouring assignment. A page that has read
   * the dossier's procedure version already passes it along. */
  async actionsFor(actor: User, dossier: Dossier, known?: ProcedureVersion): Promise<ActionDef[]> {
    const procedure =
      known?.versionId === dossier.procedureVersionId
        ? known
        : await this.deps.procedures.findVersion(dossier.procedureVersionId);
    if (!procedure) return [];
    const wf = this.workflowOf(procedure.definition);
    const roles = this.rolesOn(actor, dossier);
    return wf.actions.filter(
      (a) => a.from.includes(dossier.status) && this.mayTake(a, roles, actor, dossier),
    );
  }

  private mayTake(a: ActionDef, roles: readonly ActorRole[], actor: User, d: Dossier): boolean {
    const allowed = a.from.includes(d.status) ? rolesFor(a, d.status) : a.roles;
    const via = allowed.filter((r) => roles.includes(r));
    if (via.length === 0) return false;
    // A specialist acts only on their own dossiers; another role that may take the action is enough.
    if (a.assigneeOnly && via.every((r) => r === 'SPECIALIST')) return d.assigneeUserId === actor.id;
    return true;
  }

  private async transition(t: TransitionInput, ctx: RequestContext): Promise<Dossier> {
    const { deps } = this;
    // 1. Authorise and validate.
    const dossier = await deps.dossiers.findByCode(t.code);
    if (!dossier || dossier.status === 'DRAFT') throw new NotFoundError('dossier.notFound');
    const roles = this.rolesOn(t.actor, dossier);
    if (roles.length === 0) throw new ForbiddenError();
    const procedure = await deps.procedures.findVersion(dossier.procedureVersionId);
    if (!procedure) throw new NotFoundError();
    const def = procedure.definition;
    const wf = this.workflowOf(def);
    const action = wf.actions.find((a) => a.name === t.action);
    if (!action) throw new ActionNotFoundError();
    if (!this.mayTake(action, roles, t.actor, dossier)) throw new ForbiddenError('workflow.notYours');
    // Someone else moved it since this person looked: say so, whatever the move was.
    if (t.expectedVersion !== undefined && t.expectedVersion !== dossier.version) throw new ConflictError();
    // 2. The engine: is the move allowed from where the dossier stands?
    if (!action.from.includes(dossier.status)) throw new ConflictError('workflow.notNow');
    const input = parseInput(inputSchema(action), t.input);
    const now = deps.clock.now();
    const calendar = await deps.calendars.current();
    const effects = await this.effects(action, dossier, def, wf, calendar, input, t, now);
    // The result document's slow part (render, unlock the key, sign, store the file) happens here, so
    // a wrong PIN or an unusable certificate leaves the dossier where it was.
    const work = await this.resultWork(action, dossier, def, t, input.pin as string | undefined, now);

    // 3. One transaction, compare-and-set on status and version.
    try {
      return await deps.db.transaction(async (trx) => {
        const ok = await deps.dossiers.updateIf(
          trx,
          dossier.id,
          { status: dossier.status, version: dossier.version },
          { status: effects.to, ...effects.changes },
          now,
        );
        if (!ok) throw new ConflictError();
        if (work) Object.assign(effects.details, await work.apply(trx));
        const day = localDateOf(now, calendar.settings.utcOffsetMinutes);
        await this.record(trx, ctx, { t, action, dossier, def, roles, effects, input, now, day });
        return (await deps.dossiers.findById(dossier.id, trx))!;
      });
    } catch (err) {
      // A clean-up that fails must not hide why the transition failed. A result file stays where the
      // transaction may have committed and its row may name the file.
      if (!mayHaveCommitted(err)) await work?.discard().catch(() => undefined);
      throw err;
    }
  }

  private async resultWork(
    action: ActionDef,
    dossier: Dossier,
    def: ProcedureDefinition,
    t: TransitionInput,
    pin: string | undefined,
    now: Date,
  ): Promise<ResultWork | null> {
    switch (action.result) {
      case 'SIGN':
        return this.deps.results.prepareSignature(dossier, def, t.actor, pin ?? '', now);
      case 'SEAL':
        return this.deps.results.prepareSeal(dossier, t.actor, pin ?? '');
      case 'PAPER': {
        const scan = t.uploads?.[0];
        if (!scan) throw new ValidationError({ attachment: 'v.attachmentRequired' });
        return this.deps.results.preparePaper(dossier, t.actor, scan);
      }
      default:
        return null;
    }
  }

  /** The transition's records: files, the event, the audit entry, the notices. */
  private async record(trx: Db, ctx: RequestContext, step: RecordedStep): Promise<void> {
    const { deps } = this;
    const { t, action, dossier, def, roles, effects, input, now, day } = step;
    await deps.dossiers.addFiles(trx, dossier.id, effects.files, now);
    await deps.dossiers.addEvent(trx, dossier.id, {
      occurredAt: now,
      actorUserId: t.actor.id,
      actorRole: roles.find((r) => rolesFor(action, dossier.status).includes(r))!,
      action: action.name,
      fromStatus: dossier.status,
      toStatus: effects.to,
      note: input.reason ?? null,
      details: effects.details,
    });
    const counted = eventIncrement(action.name, dossier.channel, effects.resolution);
    if (counted) {
      await deps.statistics.addDaily(
        trx,
        { agencyId: dossier.agencyId, procedureId: dossier.procedureId, day },
        counted,
      );
    }
    await deps.audit.append(trx, {
      occurredAt: now,
      actorUserId: t.actor.id,
      actorEmail: t.actor.email,
      action: `DOSSIER_${action.name.toUpperCase()}`,
      subjectType: 'dossier',
      subjectId: dossier.code,
      agencyId: dossier.agencyId,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      details: { from: dossier.status, to: effects.to, ...effects.details },
    });
    const after = (await deps.dossiers.findById(dossier.id, trx))!;
    const notices = await this.notices(trx, action, after, def);
    await deps.notifications.add(
      trx,
      notices.map((n) => ({
        userId: n.userId,
        dossierId: after.id,
        messageKey: n.messageKey,
        params: n.params,
      })),
      now,
    );
    await deps.enqueueNotices(trx, after, notices, now);
  }

  /** What the action changes besides the status: the clock, the assignee, the dates. */
  private async effects(
    action: ActionDef,
    d: Dossier,
    def: ProcedureDefinition,
    wf: WorkflowDefinition,
    calendar: WorkingCalendar,
    input: { reason?: string; papers?: unknown; assignee?: unknown; newDueDate?: unknown },
    t: TransitionInput,
    now: Date,
  ): Promise<{
    to: DossierStatus;
    changes: WorkflowChanges;
    details: Record<string, unknown>;
    files: NewDossierFile[];
    resolution: Resolution | null;
  }> {
    const details: Record<string, unknown> = {};
    let resolution: Resolution | null = null;
    const changes: WorkflowChanges = {};
    const uploads = t.uploads ?? [];
    let files = fileRows(uploads);
    if (action.name !== 'resubmit') {
      // An officer's attachment: PDFs only, and only where the workflow asks for one.
      if (uploads.length > 0 && !action.attachment)
        throw new ValidationError({ attachment: 'v.attachmentNone' });
      if (action.attachment === 'required' && uploads.length === 0) {
        throw new ValidationError({ attachment: 'v.attachmentRequired' });
      }
      if (
        uploads.length > 5 ||
        uploads.some((u) => u.paperCode !== 'attachment' || u.detectedType !== 'pdf')
      ) {
        throw new ValidationError({ attachment: 'v.attachmentPdf' });
      }
      files = fileRows(uploads.map((u) => ({ ...u, paperCode: `attachment:${action.name}` })));
      if (uploads.length > 0)
        details.attachments = uploads.map((u) => ({ name: u.originalName, sha256: u.sha256 }));
    }
    let to: DossierStatus;
    if (action.to === 'SAME') to = d.status;
    else if (action.to === 'RETURN') {
      // Back to the officer and step that asked for the supplement.
      const asked = (await this.deps.dossiers.events(d.id))
        .filter((e) => e.action === 'request_supplement')
        .pop();
      to = (asked?.fromStatus as DossierStatus | undefined) ?? wf.initial;
    } else to = action.to;

    const limitMs = this.limitWorkingMs(calendar, def, d);
    switch (action.name) {
      case 'request_supplement': {
        const codes = input.papers as string[];
        const unknown = codes.filter((c) => !def.papers.some((p) => p.code === c));
        if (unknown.length > 0) throw new ValidationError({ papers: 'v.papers' });
        const remaining = timeLeftAtPause(calendar, now, d.dueAt, d.countingFrom);
        Object.assign(changes, {
          pausedAt: now,
          remainingMs: remaining,
          returnsToUserId: t.actor.id,
          stepDueAt: null,
        });
        Object.assign(details, {
          papers: codes,
          remainingWorkingHours: Math.round((remaining / 3_600_000) * 100) / 100,
        });
        break;
      }
      case 'resubmit': {
        const asked = (await this.deps.dossiers.events(d.id))
          .filter((e) => e.action === 'request_supplement')
          .pop();
        const allowed = (asked?.details.papers as string[] | undefined) ?? [];
        if (uploads.some((u) => !allowed.includes(u.paperCode)))
          throw new ValidationError({ _papers: 'upload.notRequested' });
        // A new file for a paper asked for replaces the old ones in the check (they stay on record).
        const replaced = new Set(uploads.map((u) => u.paperCode));
        const kept = (await this.deps.dossiers.files(d.id)).filter((f) => !replaced.has(f.paperCode));
        const problems = checkPapers(def, papersToCheck(kept, uploads), true);
        if (Object.keys(problems.errors).length > 0)
          throw new ValidationError(problems.errors, problems.params);
        const dueAt = dueAfterResume(calendar, now, d.remainingMs ?? 0);
        Object.assign(changes, { pausedAt: null, remainingMs: null, dueAt });
        Object.assign(details, {
          previousDueAt: d.dueAt?.toISOString() ?? null,
          dueAt: dueAt.toISOString(),
          files: uploads.length,
        });
        break;
      }
      case 'assign': {
        const id = input.assignee as number;
        const specialists = await this.deps.users.activeOfficersWithRole(d.agencyId, ['SPECIALIST']);
        const who = specialists.find((u) => u.id === id);
        if (!who) throw new ValidationError({ assignee: 'v.assignee' });
        changes.assigneeUserId = id;
        Object.assign(details, { assignee: { id, name: who.fullName } });
        break;
      }
      case 'extend': {
        const date = input.newDueDate as string;
        if (!calendar.isWorkingDay(date)) throw new ValidationError({ newDueDate: 'v.newDueDateNotWorking' });
        const dueAt = calendar.endOfWorkingDay(date);
        if (dueAt.getTime() <= now.getTime() || (d.dueAt && dueAt.getTime() <= d.dueAt.getTime())) {
          throw new ValidationError({ newDueDate: 'v.newDueDateLater' });
        }
        Object.assign(changes, { dueAt, overdueAt: null });
        Object.assign(details, { previousDueAt: d.dueAt?.toISOString() ?? null, dueAt: dueAt.toISOString() });
        break;
      }
      case 'approve':
        changes.decidedAt = now;
        break;
      case 'release':
      case 'release_paper':
        changes.completedAt = now;
        break;
      default:
        break;
    }
    if ((RESOLVING_ACTIONS as readonly string[]).includes(action.name)) {
      if (action.name === 'refuse') changes.decidedAt = now;
      // Classified once, as it happens: the figures never re-judge a resolution with a later calendar.
      const history = historyOf(await this.deps.dossiers.events(d.id));
      resolution = classifyResolution(
        calendar,
        { resolvedAt: now, dueAt: d.dueAt, countingFrom: d.countingFrom },
        history,
      );
      Object.assign(changes, {
        resolvedAt: now,
        timeliness: resolution.timeliness,
        workingMs: resolution.workingMs,
      });
      details.resolution = resolution;
    }
    if (['REFUSED', 'WITHDRAWN'].includes(to)) changes.completedAt = now;
    if (to !== d.status || action.name === 'resubmit') {
      const share = budgetShare(wf, to);
      changes.stepDueAt =
        share > 0 ? calendar.addWorkingMillis(calendar.nextWorkingInstant(now), share * limitMs) : null;
    }
    return { to, changes, details, files, resolution };
  }

  /** The procedure's time limit as working milliseconds (for step budgets). */
  private limitWorkingMs(calendar: WorkingCalendar, def: ProcedureDefinition, d: Dossier): number {
    const hour = 3_600_000;
    switch (def.timeLimit.unit) {
      case 'WORKING_DAYS':
        return def.timeLimit.amount * calendar.hoursPerDay * hour;
      case 'WORKING_HOURS':
        return def.timeLimit.amount * hour;
      default:
        return d.countingFrom && d.dueAt ? calendar.workingMillisBetween(d.countingFrom, d.dueAt) : 0;
    }
  }

  /** Who hears of this transition, by audience. */
  private async notices(
    trx: Db,
    action: ActionDef,
    d: Dossier,
    def: ProcedureDefinition,
  ): Promise<Outgoing[]> {
    const out: Outgoing[] = [];
    const params = { code: d.code ?? '', procedure: def.name.vi, action: action.name, status: d.status };
    const add = (audience: Audience, users: { id: number; email: string }[]) => {
      for (const u of users) {
        if (!out.some((o) => o.userId === u.id))
          out.push({
            toApplicant: audience === 'APPLICANT',
            userId: u.id,
            email: u.email,
            messageKey: `notice.${action.name}`,
            params,
          });
      }
    };
    for (const audience of action.notify) {
      switch (audience) {
        case 'APPLICANT':
          if (d.applicantUserId && d.applicant.email)
            add(audience, [{ id: d.applicantUserId, email: d.applicant.email }]);
          break;
        case 'ASSIGNEE': {
          // A resubmission goes back to the officer who asked for the supplement.
          const id = action.name === 'resubmit' ? (d.returnsToUserId ?? d.assigneeUserId) : d.assigneeUserId;
          const u = id ? await this.deps.users.findById(id, trx) : undefined;
          if (u) add(audience, [u]);
          break;
        }
        case 'AGENCY_RECEPTION':
          add(audience, await this.deps.users.activeOfficersWithRole(d.agencyId, ['RECEPTION'], trx));
          break;
        case 'AGENCY_APPROVERS':
          add(audience, await this.deps.users.activeOfficersWithRole(d.agencyId, ['APPROVER'], trx));
          break;
        case 'AGENCY_CLERKS':
          add(audience, await this.deps.users.activeOfficersWithRole(d.agencyId, ['CLERK'], trx));
          break;
      }
    }
    return out;
  }
}
