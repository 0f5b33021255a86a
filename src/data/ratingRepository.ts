import { type Db, insertedId, toDate } from './db';

export interface Rating {
  id: number;
  dossierId: number;
  userId: number;
  score: number;
  comment: string | null;
  createdAt: Date;
}

export interface NewRating {
  dossierId: number;
  userId: number;
  agencyId: number;
  procedureId: number;
  score: number;
  comment: string | null;
}

interface RatingRow {
  id: number | string;
  dossier_id: number | string;
  user_id: number;
  score: number;
  comment: string | null;
  created_at: unknown;
}

const toRating = (r: RatingRow): Rating => ({
  id: Number(r.id),
  dossierId: Number(r.dossier_id),
  userId: Number(r.user_id),
  score: Number(r.score),
  comment: r.comment,
  createdAt: toDate(r.created_at),
});

/** Applicants' ratings of the service, one per dossier (the unique key keeps it so across processes). */
export class RatingRepository {
  constructor(private readonly db: Db) {}

  async insert(trx: Db, r: NewRating, now: Date): Promise<number> {
    return insertedId(
      await trx('ratings').insert({
        dossier_id: r.dossierId,
        user_id: r.userId,
        agency_id: r.agencyId,
        procedure_id: r.procedureId,
        score: r.score,
        comment: r.comment,
        created_at: now,
      }),
    );
  }

  async forDossier(dossierId: number): Promise<Rating | undefined> {
    const row = (await this.db('ratings').where({ dossier_id: dossierId }).first()) as RatingRow | undefined;
    return row && toRating(row);
  }
}
