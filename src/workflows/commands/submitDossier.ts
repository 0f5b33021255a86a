import { randomInt } from 'node:crypto';
import type { Clock } from '../../clock';
import type { AgencyRepository } from '../../data/agencyRepository';
import type { AuditRepository } from '../../data/auditRepository';
import { type Db, isUniqueViolation, mayHaveCommitted } from '../../data/db';
import type { ApplicantSnapshot, Dossier, DossierRepository } from '../../data/dossierRepository';
import type { ProcedureRepository, ProcedureVersion } from '../../data/procedureRepository';
import type { StatisticsRepository } from '../../data/statisticsRepository';
import { eventIncrement, localDateOf } from '../../domain/dossierFigures';
import type { User } from '../../data/userRepository';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors';
import type { FileStore } from '../../files/fileStore';
import type { RequestContext } from '../../services/auditContext';
import { type CalendarService, vietnamDayStamp } from '../../services/calendarService';
import { budgetShare, type WorkflowDefinition } from '../engine';
import {
  applicantSnapshot,
  checkFormData,
  checkPapers,
  type FieldProblems,
  fileRows,
  papersToCheck,
  type Upload,
} from '../../services/dossierForm';

export interface SubmitDossierInput {
  /** Who files: the applicant online, or the reception officer at the counter. */
  submitter: User;
  /** At the one-stop counter: the walk-in applicant, recorded from their papers. */
  counterApplicant?: ApplicantSnapshot;
  procedureCode: string;
  fields: Record<string, unknown>;
  uploads: readonly Upload[];
  /** Submitting a saved draft: its id, and the ids of its files to drop. */
  draftId?: number;
  removeFileIds?: readonly number[];
  idempotencyKey: string | null;
}

export interface SubmitDossierResult {
  dossier: Dossier;
  /** True when an earlier request with the same idempotency key had already made this dossier. */
  replayed: boolean;
}

const SECRET_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** The short lookup secret printed on the receipt: 8 characters without look-alikes (0/O, 1/I). */
export function newLookupSecret(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)];
  return s;
}

function merge(a: FieldProblems, b: FieldProblems): FieldProblems {
  return { errors: { ...a.errors, ...b.errors }, params: { ...a.params, ...b.params } };
}

/**
 * Files a dossier: checks the form and the papers against the procedure version, allocates the code
 * from the agency's daily counter, computes the legal due date, and records the submission, all in one
 * transaction. The uploads were written before; on any failure they are removed, so no file is left
 * without a row and no row points at a missing file.
 */
export class SubmitDossier {
  constructor(
    private readonly deps: {
      db: Db;
      clock: Clock;
      dossiers: DossierRepository;
      procedures: ProcedureRepository;
      agencies: AgencyRepository;
      audit: AuditRepository;
      calendars: CalendarService;
      papers: FileStore;
      workflows: Map<string, WorkflowDefinition>;
      statistics: StatisticsRepository;
    },
  ) {}

  async run(input: SubmitDossierInput, ctx: RequestContext): Promise<SubmitDossierResult> {
    const uploaded = input.uploads.map((u) => u.relPath);
    const transaction = { committed: false };
    try {
      const result = await this.submit(input, ctx, transaction);
      if (result.replayed) await this.deps.papers.removeAll(uploaded);
      return result;
    } catch (err) {
      // Once the rows name the papers they stay, whatever fails after the commit (reading the dossier
      // back, say); and so they do when the connection broke and the commit may have happened.
      if (!transaction.committed && !mayHaveCommitted(err)) await this.deps.papers.removeAll(uploaded);
      throw err;
    }
  }

  private async submit(
    input: SubmitDossierInput,
    ctx: RequestContext,
    transaction: { committed: boolean },
  ): Promise<SubmitDossierResult> {
    const { deps } = this;
    const user = input.submitter;
    const counter = input.counterApplicant;
    // A retried submission with the same key finds the dossier the first one made. The key is the
    // submitter's own: the applicant's account, or at the counter the officer's.
    const key = input.idempotencyKey
      ? `${counter ? 'counter' : 'user'}:${user.id}:${input.idempotencyKey}`
      : null;
    const owner = counter ? null : user.id;
    if (key) {
      const earlier = await deps.dossiers.findByIdempotencyKey(key);
      if (earlier && earlier.status !== 'DRAFT') return { dossier: earlier, replayed: true };
    }

    // 1. Authorise and validate.
    let procedure: ProcedureVersion | undefined;
    let draft: Dossier | undefined;
    if (input.draftId !== undefined && !counter) {
      draft = await deps.dossiers.findById(input.draftId);
      if (!draft || draft.applicantUserId !== user.id) throw new NotFoundError();
      if (draft.status !== 'DRAFT') throw new ConflictError('dossier.alreadySubmitted');
      procedure = await deps.procedures.findVersion(draft.procedureVersionId);
    } else {
      procedure = await deps.procedures.findCurrent(input.procedureCode);
    }
    if (!procedure) throw new NotFoundError('procedure.notFound');
    const def = procedure.definition;
    if (counter) {
      if (
        user.kind !== 'OFFICER' ||
        !user.roles.includes('RECEPTION') ||
        user.agencyId !== procedure.agencyId
      ) {
        throw new ForbiddenError();
      }
      if (!def.applicantKinds.includes(counter.kind))
        throw new ValidationError({ applicantKind: 'dossier.kindNotAllowed' });
    } else if (user.kind === 'OFFICER' || !def.applicantKinds.includes(user.kind)) {
      throw new ForbiddenError('dossier.kindNotAllowed');
    }
    const kept = draft
      ? (await deps.dossiers.files(draft.id)).filter((f) => !input.removeFileIds?.includes(f.id))
      : [];
    const form = checkFormData(def, input.fields);
    const papers = checkPapers(def, papersToCheck(kept, input.uploads), true);
    const problems = merge(form.problems, papers);
    if (Object.keys(problems.errors).length > 0) throw new ValidationError(problems.errors, problems.params);

    // 2. Compute what the submission fixes: the clock and the due date.
    const agency = await deps.agencies.findById(procedure.agencyId);
    if (!agency) throw new NotFoundError();
    const now = deps.clock.now();
    const calendar = await deps.calendars.current();
    const countingFrom = calendar.countingStart(now);
    const dueAt = calendar.dueDate(now, def.timeLimit);
    const workflow = deps.workflows.get(def.workflow);
    if (!workflow) throw new Error(`procedure ${def.code} names unknown workflow ${def.workflow}`);
    // The reception step's own deadline, from its share of the time limit.
    const stepDueAt = calendar.addWorkingMillis(
      countingFrom,
      budgetShare(workflow, workflow.initial) * calendar.workingMillisBetween(countingFrom, dueAt),
    );
    const secret = newLookupSecret();
    const applicant = counter ?? applicantSnapshot(user);
    const channel = counter ? 'COUNTER' : 'ONLINE';

    // 3. One transaction: the code, the dossier, its papers, the event and the audit record.
    let removedPaths: string[] = [];
    let id: number;
    try {
      id = await deps.db.transaction(async (trx) => {
        const n = await deps.dossiers.nextCounter(trx, agency.id, vietnamDayStamp(now));
        const code = `${agency.code}-${vietnamDayStamp(now)}-${String(n).padStart(4, '0')}`;
        let dossierId: number;
        if (draft) {
          const ok = await deps.dossiers.updateIf(
            trx,
            draft.id,
            { status: 'DRAFT', version: draft.version },
            {
              code,
              secret,
              status: 'SUBMITTED',
              formData: form.data,
              applicant,
              submittedAt: now,
              countingFrom,
              dueAt,
              stepDueAt,
              idempotencyKey: key,
            },
            now,
          );
          if (!ok) throw new ConflictError();
          dossierId = draft.id;
          removedPaths = await deps.dossiers.removeFiles(trx, dossierId, input.removeFileIds ?? []);
        } else {
          dossierId = await deps.dossiers.insert(
            trx,
            {
              code,
              secret,
              procedureId: procedure.procedureId,
              procedureVersionId: procedure.versionId,
              agencyId: agency.id,
              applicantUserId: owner,
              applicant,
              formData: form.data,
              status: 'SUBMITTED',
              channel,
              submittedAt: now,
              countingFrom,
              dueAt,
              stepDueAt,
              idempotencyKey: key,
            },
            now,
          );
        }
        await deps.dossiers.addFiles(trx, dossierId, fileRows(input.uploads), now);
        await deps.dossiers.addEvent(trx, dossierId, {
          occurredAt: now,
          actorUserId: user.id,
          actorRole: counter ? 'RECEPTION' : user.kind,
          action: 'SUBMIT',
          fromStatus: draft ? 'DRAFT' : null,
          toStatus: 'SUBMITTED',
          note: null,
          details: { channel, dueAt: dueAt.toISOString(), procedureVersion: procedure.version },
        });
        await deps.statistics.addDaily(
          trx,
          {
            agencyId: agency.id,
            procedureId: procedure.procedureId,
            day: localDateOf(now, calendar.settings.utcOffsetMinutes),
          },
          eventIncrement('SUBMIT', channel, null)!,
        );
        await deps.audit.append(trx, {
          occurredAt: now,
          actorUserId: user.id,
          actorEmail: user.email,
          action: 'DOSSIER_SUBMITTED',
          subjectType: 'dossier',
          subjectId: code,
          agencyId: agency.id,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          details: { procedure: def.code, version: procedure.version, files: input.uploads.length },
        });
        return dossierId;
      });
    } catch (err) {
      // The same key raced in from a second request: answer with the dossier the first one made.
      if (key && isUniqueViolation(err)) {
        const earlier = await deps.dossiers.findByIdempotencyKey(key);
        if (earlier && earlier.status !== 'DRAFT') return { dossier: earlier, replayed: true };
      }
      throw err;
    }
    transaction.committed = true;
    // After commit: papers the applicant replaced in the draft are no longer referenced.
    await deps.papers.removeReleased(removedPaths);
    return { dossier: (await deps.dossiers.findById(id))!, replayed: false };
  }
}
