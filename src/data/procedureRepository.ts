import type { ProcedureDefinition } from '../domain/procedureDefinition';
import { type Db, insertedId, toDate } from './db';
import { foldForSearch } from './searchText';

export interface ProcedureVersion {
  versionId: number;
  procedureId: number;
  code: string;
  agencyId: number;
  version: number;
  definition: ProcedureDefinition;
  publishedAt: Date;
}

export interface CatalogueFilter {
  q?: string;
  agencyId?: number;
  sector?: string;
  onlineLevel?: 'FULL' | 'PARTIAL';
}

interface VersionRow {
  id: number;
  procedure_id: number;
  code: string;
  agency_id: number;
  version: number;
  published_at: unknown;
}

const VERSION_COLUMNS = [
  'pv.id',
  'pv.procedure_id',
  'p.code',
  'p.agency_id',
  'pv.version',
  'pv.published_at',
];

/** Parsed definitions kept per process; the least recently used goes when there are more. */
const DEFINITIONS_KEPT = 2_000;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class ProcedureRepository {
  /** A published version never changes, so its definition is read and parsed once, then shared
   * (frozen: nobody can change it for the others). Pages read a version on every request. */
  private readonly definitions = new Map<number, ProcedureDefinition>();

  constructor(private readonly db: Db) {}

  private async toVersions(rows: VersionRow[]): Promise<ProcedureVersion[]> {
    // This call's definitions are held here, so that making room for them (or another call doing so
    // meanwhile) cannot take one away before it is used.
    const found = new Map<number, ProcedureDefinition>();
    const missing: number[] = [];
    for (const id of new Set(rows.map((r) => Number(r.id)))) {
      const kept = this.definitions.get(id);
      if (kept) found.set(id, kept);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += 500) {
      const read = (await this.db('procedure_versions')
        .whereIn('id', missing.slice(i, i + 500))
        .select('id', 'definition')) as { id: number; definition: string }[];
      for (const r of read)
        found.set(Number(r.id), deepFreeze(JSON.parse(r.definition) as ProcedureDefinition));
    }
    for (const [id, definition] of found) {
      // Recently used last: the oldest unused go first.
      this.definitions.delete(id);
      this.definitions.set(id, definition);
    }
    while (this.definitions.size > DEFINITIONS_KEPT) {
      this.definitions.delete(this.definitions.keys().next().value as number);
    }
    return rows.map((r) => ({
      versionId: Number(r.id),
      procedureId: Number(r.procedure_id),
      code: r.code,
      agencyId: Number(r.agency_id),
      version: Number(r.version),
      definition: found.get(Number(r.id))!,
      publishedAt: toDate(r.published_at),
    }));
  }

  private async toVersion(row: VersionRow | undefined): Promise<ProcedureVersion | undefined> {
    return row && (await this.toVersions([row]))[0];
  }

  /** Publishes a definition as the next version of its procedure (the first creates the procedure). */
  async publish(
    def: ProcedureDefinition,
    agencyId: number,
    by: number | null,
    now: Date,
    trx: Db,
  ): Promise<number> {
    const existing = (await trx('procedures').where({ code: def.code }).first()) as
      { id: number; current_version: number } | undefined;
    let procedureId: number;
    let version: number;
    if (existing) {
      procedureId = Number(existing.id);
      version = Number(existing.current_version) + 1;
      const updated = await trx('procedures')
        .where({ id: procedureId, current_version: existing.current_version })
        .update({ current_version: version, agency_id: agencyId, updated_at: now });
      if (updated !== 1) throw new Error(`procedure ${def.code} was published by someone else meanwhile`);
    } else {
      version = 1;
      procedureId = insertedId(
        await trx('procedures').insert({
          code: def.code,
          agency_id: agencyId,
          current_version: version,
          status: 'ACTIVE',
          created_at: now,
          updated_at: now,
        }),
      );
    }
    return insertedId(
      await trx('procedure_versions').insert({
        procedure_id: procedureId,
        version,
        name: def.name.vi,
        name_en: def.name.en,
        sector: def.sector.vi,
        online_level: def.onlineLevel,
        time_limit_amount: def.timeLimit.amount,
        time_limit_unit: def.timeLimit.unit,
        fee_amount: def.fee.amount,
        search_text: foldForSearch(`${def.code} ${def.name.vi} ${def.name.en}`),
        definition: JSON.stringify(def),
        published_at: now,
        published_by: by,
      }),
    );
  }

  private current() {
    return this.db('procedures as p')
      .join('procedure_versions as pv', function () {
        this.on('pv.procedure_id', '=', 'p.id').andOn('pv.version', '=', 'p.current_version');
      })
      .where('p.status', 'ACTIVE');
  }

  async findCurrent(code: string): Promise<ProcedureVersion | undefined> {
    const row = (await this.current().where('p.code', code).first(VERSION_COLUMNS)) as VersionRow | undefined;
    return this.toVersion(row);
  }

  async findVersion(versionId: number): Promise<ProcedureVersion | undefined> {
    const row = (await this.db('procedure_versions as pv')
      .join('procedures as p', 'p.id', 'pv.procedure_id')
      .where('pv.id', versionId)
      .first(VERSION_COLUMNS)) as VersionRow | undefined;
    return this.toVersion(row);
  }

  async listCurrent(filter: CatalogueFilter): Promise<ProcedureVersion[]> {
    const q = this.current().select(VERSION_COLUMNS).orderBy('p.code');
    if (filter.agencyId) q.where('p.agency_id', filter.agencyId);
    if (filter.sector) q.where('pv.sector', filter.sector);
    if (filter.onlineLevel) q.where('pv.online_level', filter.onlineLevel);
    if (filter.q) {
      // The catalogue is small (hundreds of procedures): a LIKE over the folded text is enough.
      const like = `%${foldForSearch(filter.q).replace(/[!%_]/g, (c) => `!${c}`)}%`;
      q.whereRaw("pv.search_text LIKE ? ESCAPE '!'", [like]);
    }
    return this.toVersions((await q) as VersionRow[]);
  }

  async sectors(): Promise<string[]> {
    const rows = (await this.current().distinct('pv.sector').orderBy('pv.sector')) as { sector: string }[];
    return rows.map((r) => r.sector);
  }

  async count(): Promise<number> {
    const row = (await this.db('procedures').count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }
}
