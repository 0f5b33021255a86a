import type { Clock } from '../clock';
import type { AgencyRepository } from '../data/agencyRepository';
import type { AuditRepository } from '../data/auditRepository';
import type { Db } from '../data/db';
import type { CatalogueFilter, ProcedureRepository, ProcedureVersion } from '../data/procedureRepository';
import { NotFoundError } from '../errors';
import { checkDefinition } from '../domain/procedureDefinition';

export class ProcedureService {
  private publications = 0;

  constructor(
    private readonly db: Db,
    private readonly procedures: ProcedureRepository,
    private readonly agencies: AgencyRepository,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    private readonly workflowNames: ReadonlySet<string>,
  ) {}

  /** Checks a definition and publishes it as a new version; dossiers filed earlier keep theirs. */
  async publish(raw: unknown, by: { id: number; email: string } | null): Promise<number> {
    const def = checkDefinition(raw);
    if (!this.workflowNames.has(def.workflow)) {
      throw new Error(`Procedure ${def.code} names workflow ${def.workflow}, which does not exist`);
    }
    const agency = await this.agencies.findByCode(def.agencyCode);
    if (!agency) throw new Error(`Unknown agency code ${def.agencyCode} in procedure ${def.code}`);
    const now = this.clock.now();
    const versionId = await this.db.transaction(async (trx) => {
      const versionId = await this.procedures.publish(def, agency.id, by?.id ?? null, now, trx);
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: by?.id ?? null,
        actorEmail: by?.email ?? null,
        action: 'PROCEDURE_PUBLISHED',
        subjectType: 'procedure',
        subjectId: def.code,
        agencyId: agency.id,
        ip: 'system',
        details: { versionId },
      });
      return versionId;
    });
    this.publications++;
    return versionId;
  }

  /** Counts the publications this process has made (after they committed): pages kept from before a
   * publication are not shown again (see publicPageCache). */
  get catalogueGeneration(): number {
    return this.publications;
  }

  list(filter: CatalogueFilter): Promise<ProcedureVersion[]> {
    return this.procedures.listCurrent(filter);
  }

  async get(code: string): Promise<ProcedureVersion> {
    const p = await this.procedures.findCurrent(code);
    if (!p) throw new NotFoundError('procedure.notFound');
    return p;
  }

  sectors(): Promise<string[]> {
    return this.procedures.sectors();
  }
}
