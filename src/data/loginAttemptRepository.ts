import { type Db, toDateOrNull } from './db';

export class LoginAttemptRepository {
  constructor(private readonly db: Db) {}

  async record(a: { email: string; ip: string; succeeded: boolean; at: Date }): Promise<void> {
    await this.db('login_attempts').insert({
      email: a.email,
      ip: a.ip,
      succeeded: a.succeeded,
      attempted_at: a.at,
    });
  }

  /** Failures for this email since `since` and since its last success, and the newest failure. */
  async failuresForEmail(email: string, since: Date): Promise<{ count: number; latest: Date | null }> {
    const lastSuccess = (await this.db('login_attempts')
      .where({ email, succeeded: true })
      .andWhere('attempted_at', '>=', since)
      .max({ at: 'attempted_at' })
      .first()) as { at: unknown } | undefined;
    const from = toDateOrNull(lastSuccess?.at) ?? since;
    const row = (await this.db('login_attempts')
      .where({ email, succeeded: false })
      .andWhere('attempted_at', lastSuccess?.at ? '>' : '>=', from)
      .count({ n: '*' })
      .max({ latest: 'attempted_at' })
      .first()) as { n: number | string; latest: unknown };
    return { count: Number(row.n), latest: toDateOrNull(row.latest) };
  }

  async failuresForIp(ip: string, since: Date): Promise<{ count: number; latest: Date | null }> {
    const row = (await this.db('login_attempts')
      .where({ ip, succeeded: false })
      .andWhere('attempted_at', '>=', since)
      .count({ n: '*' })
      .max({ latest: 'attempted_at' })
      .first()) as { n: number | string; latest: unknown };
    return { count: Number(row.n), latest: toDateOrNull(row.latest) };
  }

  async deleteOlderThan(before: Date): Promise<number> {
    return this.db('login_attempts').where('attempted_at', '<', before).delete();
  }
}
