import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import type { AgencyRepository } from '../data/agencyRepository';
import { type Db, mayHaveCommitted } from '../data/db';
import type {
  Dossier,
  DossierEvent,
  DossierFile,
  DossierListItem,
  DossierRepository,
  InboxFilter,
} from '../data/dossierRepository';
import type { ProcedureRepository, ProcedureVersion } from '../data/procedureRepository';
import type { User } from '../data/userRepository';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { AuditRepository } from '../data/auditRepository';
import type { RequestContext } from './auditContext';
import type { FileStore } from '../files/fileStore';
import {
  applicantSnapshot,
  checkPapers,
  draftFormData,
  fileRows,
  papersToCheck,
  type Upload,
} from './dossierForm';

export interface DossierView {
  dossier: Dossier;
  procedure: ProcedureVersion;
  files: DossierFile[];
  events: DossierEvent[];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a.toUpperCase());
  const y = Buffer.from(b.toUpperCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Reading dossiers (with who may read what) and keeping drafts; status changes are workflow commands. */
export class DossierService {
  constructor(
    private readonly db: Db,
    private readonly dossiers: DossierRepository,
    private readonly procedures: ProcedureRepository,
    private readonly agencies: AgencyRepository,
    private readonly papers: FileStore,
    private readonly clock: Clock,
    private readonly audit: AuditRepository,
  ) {}

  listMine(user: User): Promise<DossierListItem[]> {
    return this.dossiers.listForApplicant(user.id);
  }

  private async view(dossier: Dossier): Promise<DossierView> {
    const [procedure, files, events] = await Promise.all([
      this.procedures.findVersion(dossier.procedureVersionId),
      this.dossiers.files(dossier.id),
      this.dossiers.events(dossier.id),
    ]);
    return { dossier, procedure: procedure!, files, events };
  }

  /** A dossier its applicant may see. Others get "not found", not "forbidden": a code says nothing. */
  async mine(user: User, code: string): Promise<DossierView> {
    const d = await this.dossiers.findByCode(code);
    if (!d || d.applicantUserId !== user.id) throw new NotFoundError('dossier.notFound');
    return this.view(d);
  }

  /** A submitted dossier for its applicant or an officer of the agency handling it; else undefined. */
  async readable(user: User, code: string): Promise<DossierView | undefined> {
    const d = await this.dossiers.findByCode(code);
    if (!d) return undefined;
    const mayRead =
      d.applicantUserId === user.id || (user.kind === 'OFFICER' && user.agencyId === d.agencyId);
    return mayRead ? this.view(d) : undefined;
  }

  /** A dossier of the officer's own agency; officers of other agencies are refused. */
  async forOfficer(officer: User, code: string): Promise<DossierView> {
    const d = await this.dossiers.findByCode(code);
    if (!d || d.status === 'DRAFT') throw new NotFoundError('dossier.notFound');
    if (officer.kind !== 'OFFICER' || officer.agencyId !== d.agencyId) throw new ForbiddenError();
    return this.view(d);
  }

  async officerFile(officer: User, code: string, fileId: number): Promise<DossierFile> {
    const { dossier } = await this.forOfficer(officer, code);
    const f = await this.dossiers.file(dossier.id, fileId);
    if (!f) throw new NotFoundError();
    return f;
  }

  inbox(
    officer: User,
    filter: Omit<InboxFilter, 'agencyId'>,
    after: { dueAt: Date; id: number } | null,
    limit = 25,
  ) {
    if (officer.kind !== 'OFFICER' || officer.agencyId === null) throw new ForbiddenError();
    return this.dossiers.inbox({ ...filter, agencyId: officer.agencyId }, after, limit);
  }

  /** An applicant takes into their account a dossier filed for them at the counter: the code, the
   * secret from the receipt, and their own ID number or tax code must all match. */
  async claim(user: User, code: string, secret: string, ctx: RequestContext): Promise<Dossier> {
    const view = await this.lookup(code, secret);
    const own = user.kind === 'BUSINESS' ? user.taxCode : user.citizenId;
    if (!view || view.dossier.applicantUserId !== null || !own || view.dossier.applicant.idNumber !== own) {
      throw new ValidationError({ code: 'claim.noMatch' });
    }
    const d = view.dossier;
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      if (!(await this.dossiers.claim(trx, d.id, user.id, now))) throw new ConflictError();
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: user.id,
        actorEmail: user.email,
        action: 'DOSSIER_CLAIMED',
        subjectType: 'dossier',
        subjectId: d.code,
        agencyId: d.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
    });
    return (await this.dossiers.findById(d.id))!;
  }

  /** The code of the applicant's dossier that was this draft and has been submitted since (a second
   * click on "Nộp hồ sơ", a form sent again from another tab), or null. */
  async submittedDraft(user: User, id: number): Promise<string | null> {
    const d = await this.dossiers.findById(id);
    return d && d.applicantUserId === user.id && d.status !== 'DRAFT' && d.code ? d.code : null;
  }

  async myDraft(user: User, id: number): Promise<DossierView> {
    const d = await this.dossiers.findById(id);
    if (!d || d.applicantUserId !== user.id || d.status !== 'DRAFT')
      throw new NotFoundError('dossier.notFound');
    return this.view(d);
  }

  /** Public lookup by code and secret: the same answer for an unknown code and a wrong secret. */
  async lookup(code: string, secret: string): Promise<DossierView | undefined> {
    const d = code ? await this.dossiers.findByCode(code.trim()) : undefined;
    if (!d || !d.secret || !sameSecret(d.secret, secret.trim())) return undefined;
    return this.view(d);
  }

  async myFile(user: User, code: string, fileId: number): Promise<DossierFile> {
    const d = await this.dossiers.findByCode(code);
    if (!d || d.applicantUserId !== user.id) throw new NotFoundError('dossier.notFound');
    const f = await this.dossiers.file(d.id, fileId);
    if (!f) throw new NotFoundError();
    return f;
  }

  async myDraftFile(user: User, draftId: number, fileId: number): Promise<DossierFile> {
    await this.myDraft(user, draftId);
    const f = await this.dossiers.file(draftId, fileId);
    if (!f) throw new NotFoundError();
    return f;
  }

  /** Saves a draft (new or existing): what was typed, as typed, and the papers chosen so far. The
   * uploads were written before; they are removed again if the draft cannot be saved. */
  async saveDraft(
    user: User,
    input: {
      procedureCode: string;
      draftId?: number;
      fields: Record<string, unknown>;
      uploads: readonly Upload[];
      removeFileIds?: readonly number[];
    },
  ): Promise<number> {
    const uploaded = input.uploads.map((u) => u.relPath);
    let committed = false;
    try {
      let draft: Dossier | undefined;
      let procedure: ProcedureVersion | undefined;
      if (input.draftId !== undefined) {
        draft = (await this.myDraft(user, input.draftId)).dossier;
        procedure = await this.procedures.findVersion(draft.procedureVersionId);
      } else {
        procedure = await this.procedures.findCurrent(input.procedureCode);
      }
      if (!procedure) throw new NotFoundError('procedure.notFound');
      const def = procedure.definition;
      if (user.kind === 'OFFICER' || !def.applicantKinds.includes(user.kind)) {
        throw new ForbiddenError('dossier.kindNotAllowed');
      }
      const kept = draft
        ? (await this.dossiers.files(draft.id)).filter((f) => !input.removeFileIds?.includes(f.id))
        : [];
      const problems = checkPapers(def, papersToCheck(kept, input.uploads), false);
      if (Object.keys(problems.errors).length > 0)
        throw new ValidationError(problems.errors, problems.params);
      const formData = draftFormData(def, input.fields);
      const now = this.clock.now();
      let removed: string[] = [];
      const id = await this.db.transaction(async (trx) => {
        let draftId: number;
        if (draft) {
          draftId = draft.id;
          const saved = await this.dossiers.updateIf(
            trx,
            draft.id,
            { status: 'DRAFT', version: draft.version },
            { formData },
            now,
          );
          // Saved or submitted meanwhile (a double click, another tab): change nothing.
          if (!saved) throw new ConflictError();
          removed = await this.dossiers.removeFiles(trx, draft.id, input.removeFileIds ?? []);
        } else {
          draftId = await this.dossiers.insert(
            trx,
            {
              code: null,
              secret: null,
              procedureId: procedure.procedureId,
              procedureVersionId: procedure.versionId,
              agencyId: procedure.agencyId,
              applicantUserId: user.id,
              applicant: applicantSnapshot(user),
              formData,
              status: 'DRAFT',
              channel: 'ONLINE',
              submittedAt: null,
              countingFrom: null,
              dueAt: null,
              idempotencyKey: null,
            },
            now,
          );
        }
        await this.dossiers.addFiles(trx, draftId, fileRows(input.uploads), now);
        return draftId;
      });
      committed = true;
      // The new papers are the draft's now, and the ones it let go are unreferenced.
      await this.papers.removeReleased(removed);
      return id;
    } catch (err) {
      // A transaction cut off from the database may have committed: its rows may name the papers.
      if (!committed && !mayHaveCommitted(err)) await this.papers.removeAll(uploaded);
      throw err;
    }
  }

  async agencyOf(dossier: Dossier) {
    return this.agencies.findById(dossier.agencyId);
  }
}
