import { type Db, insertedId, toDate, toDateOrNull } from './db';

export interface ApiToken {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

interface Row {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  created_at: unknown;
  last_used_at: unknown;
  expires_at: unknown;
  revoked_at: unknown;
}

const toToken = (r: Row): ApiToken => ({
  id: Number(r.id),
  userId: Number(r.user_id),
  name: r.name,
  prefix: r.prefix,
  createdAt: toDate(r.created_at),
  lastUsedAt: toDateOrNull(r.last_used_at),
  expiresAt: toDateOrNull(r.expires_at),
  revokedAt: toDateOrNull(r.revoked_at),
});

/** Personal access tokens; only their SHA-256 is stored, so a database leak gives no usable token. */
export class ApiTokenRepository {
  constructor(private readonly db: Db) {}

  async insert(
    t: { userId: number; name: string; tokenHash: string; prefix: string; expiresAt: Date | null },
    now: Date,
    trx: Db = this.db,
  ): Promise<number> {
    return insertedId(
      await trx('api_tokens').insert({
        user_id: t.userId,
        name: t.name,
        token_hash: t.tokenHash,
        prefix: t.prefix,
        created_at: now,
        expires_at: t.expiresAt,
      }),
    );
  }

  /** The token with this hash if it is neither revoked nor expired. */
  async findUsable(tokenHash: string, now: Date): Promise<ApiToken | undefined> {
    const row = (await this.db('api_tokens')
      .where({ token_hash: tokenHash })
      .whereNull('revoked_at')
      .andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now))
      .first()) as Row | undefined;
    return row && toToken(row);
  }

  async touch(id: number, now: Date): Promise<void> {
    await this.db('api_tokens').where({ id }).update({ last_used_at: now });
  }

  async listForUser(userId: number): Promise<ApiToken[]> {
    const rows = (await this.db('api_tokens').where({ user_id: userId }).orderBy('id', 'desc')) as Row[];
    return rows.map(toToken);
  }

  async revokeAll(userId: number, now: Date, trx: Db = this.db): Promise<number> {
    return trx('api_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: now });
  }

  async revoke(userId: number, id: number, now: Date, trx: Db = this.db): Promise<boolean> {
    const n = await trx('api_tokens')
      .where({ id, user_id: userId })
      .whereNull('revoked_at')
      .update({ revoked_at: now });
    return n === 1;
  }
}
