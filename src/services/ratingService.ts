import { z } from 'zod';
import type { Clock } from '../clock';
import type { AuditRepository } from '../data/auditRepository';
import { type Db, isUniqueViolation } from '../data/db';
import type { Dossier, DossierRepository } from '../data/dossierRepository';
import type { Rating, RatingRepository } from '../data/ratingRepository';
import type { StatisticsRepository } from '../data/statisticsRepository';
import { localDateOf, ratingIncrement } from '../domain/dossierFigures';
import type { CalendarService } from './calendarService';
import type { User } from '../data/userRepository';
import type { DossierStatus } from '../domain/dossierStatus';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import type { RequestContext } from './auditContext';
import { parseInput } from './validation';

/** A result has been released to the applicant in these statuses; only then may the service be rated. */
export const RATEABLE_STATUSES: readonly DossierStatus[] = ['RESULT_READY', 'RETURNED'];
export const RATING_COMMENT_MAX = 1000;

export const ratingSchema = z.object({
  score: z.coerce
    .number({ error: 'v.ratingScore' })
    .int({ error: 'v.ratingScore' })
    .min(1, { error: 'v.ratingScore' })
    .max(5, { error: 'v.ratingScore' }),
  comment: z
    .string({ error: 'v.invalid' })
    .trim()
    .max(RATING_COMMENT_MAX, { error: 'v.tooLong' })
    .optional()
    .transform((v) => (v ? v : null)),
});

/** What the dossier page shows about rating: the rating given, or whether one may be given now. */
export interface RatingState {
  given: Rating | null;
  mayRate: boolean;
}

/** The applicant's rating of the service once the result is out: one per dossier, never changed. */
export class RatingService {
  constructor(
    private readonly deps: {
      db: Db;
      clock: Clock;
      dossiers: DossierRepository;
      ratings: RatingRepository;
      statistics: StatisticsRepository;
      calendars: CalendarService;
      audit: AuditRepository;
    },
  ) {}

  /** The dossier's rating state for its applicant; undefined for anyone else (the page says nothing). */
  async stateFor(user: User, code: string): Promise<RatingState | undefined> {
    const d = await this.deps.dossiers.findByCode(code);
    if (!d || d.applicantUserId !== user.id) return undefined;
    const given = (await this.deps.ratings.forDossier(d.id)) ?? null;
    return { given, mayRate: !given && RATEABLE_STATUSES.includes(d.status) };
  }

  async rate(user: User, code: string, input: unknown, ctx: RequestContext): Promise<Rating> {
    const d = await this.deps.dossiers.findByCode(code);
    if (!d || d.status === 'DRAFT') throw new NotFoundError('dossier.notFound');
    if (user.kind === 'OFFICER' || d.applicantUserId !== user.id) throw new ForbiddenError('rating.notYours');
    if (!RATEABLE_STATUSES.includes(d.status)) throw new ConflictError('rating.notYet');
    if (await this.deps.ratings.forDossier(d.id)) throw new ConflictError('rating.already');
    const { score, comment } = parseInput(ratingSchema, input);
    const now = this.deps.clock.now();
    const offset = (await this.deps.calendars.current()).settings.utcOffsetMinutes;
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.deps.ratings.insert(trx, this.newRating(d, user, score, comment), now);
        await this.deps.statistics.addDaily(
          trx,
          { agencyId: d.agencyId, procedureId: d.procedureId, day: localDateOf(now, offset) },
          ratingIncrement(score),
        );
        await this.deps.audit.append(trx, {
          occurredAt: now,
          actorUserId: user.id,
          actorEmail: user.email,
          action: 'DOSSIER_RATED',
          subjectType: 'dossier',
          subjectId: d.code,
          agencyId: d.agencyId,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          details: { score, comment: comment !== null },
        });
      });
    } catch (err) {
      // Two submissions at once: the unique key lets one through.
      if (isUniqueViolation(err)) throw new ConflictError('rating.already');
      throw err;
    }
    return (await this.deps.ratings.forDossier(d.id))!;
  }

  private newRating(d: Dossier, user: User, score: number, comment: string | null) {
    return {
      dossierId: d.id,
      userId: user.id,
      agencyId: d.agencyId,
      procedureId: d.procedureId,
      score,
      comment,
    };
  }
}
