import type { AgencyLevel } from '../domain/roles';
import { type Db, insertedId } from './db';

export interface Agency {
  id: number;
  code: string;
  name: string;
  nameEn: string;
  shortName: string;
  level: AgencyLevel;
  parentId: number | null;
  placeName: string;
  address: string;
}

export interface NewAgency {
  code: string;
  name: string;
  nameEn: string;
  shortName: string;
  level: AgencyLevel;
  parentId: number | null;
  placeName: string;
  address?: string;
}

interface AgencyRow {
  id: number;
  code: string;
  name: string;
  name_en: string;
  short_name: string;
  level: string;
  parent_id: number | null;
  place_name: string;
  address: string;
}

const toAgency = (r: AgencyRow): Agency => ({
  id: Number(r.id),
  code: r.code,
  name: r.name,
  nameEn: r.name_en,
  shortName: r.short_name,
  level: r.level as AgencyLevel,
  parentId: r.parent_id === null ? null : Number(r.parent_id),
  placeName: r.place_name,
  address: r.address,
});

/** Agencies kept per process by id; beyond this many the oldest read goes first. */
const AGENCIES_KEPT = 5_000;

export class AgencyRepository {
  /** An agency row is written once and never changed (there is no update, here or in the admin
   * pages), and nearly every page shows one: it is read from the database once per process. A change
   * made to the table by hand shows after a restart. */
  private readonly byId = new Map<number, Agency>();

  constructor(private readonly db: Db) {}

  async insert(a: NewAgency, now: Date, trx: Db = this.db): Promise<number> {
    return insertedId(
      await trx('agencies').insert({
        code: a.code,
        name: a.name,
        name_en: a.nameEn,
        short_name: a.shortName,
        level: a.level,
        parent_id: a.parentId,
        place_name: a.placeName,
        address: a.address ?? '',
        created_at: now,
      }),
    );
  }

  async findById(id: number): Promise<Agency | undefined> {
    const kept = this.byId.get(id);
    if (kept) return kept;
    const row = (await this.db('agencies').where({ id }).first()) as AgencyRow | undefined;
    if (!row) return undefined;
    const agency = Object.freeze(toAgency(row));
    this.byId.set(id, agency);
    if (this.byId.size > AGENCIES_KEPT) this.byId.delete(this.byId.keys().next().value as number);
    return agency;
  }

  async findByCode(code: string): Promise<Agency | undefined> {
    const row = (await this.db('agencies').where({ code }).first()) as AgencyRow | undefined;
    return row && toAgency(row);
  }

  async listAll(): Promise<Agency[]> {
    const rows = (await this.db('agencies').orderBy('id')) as AgencyRow[];
    return rows.map(toAgency);
  }

  async count(): Promise<number> {
    const row = (await this.db('agencies').count({ n: '*' }).first()) as { n: number | string };
    return Number(row.n);
  }
}
