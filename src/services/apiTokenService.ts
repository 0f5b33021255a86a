import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { ApiToken, ApiTokenRepository } from '../data/apiTokenRepository';
import type { AuditRepository } from '../data/auditRepository';
import type { Db } from '../data/db';
import type { User } from '../data/userRepository';
import { NotFoundError } from '../errors';
import type { AccountService } from './accountService';
import type { RequestContext } from './auditContext';
import { parseInput } from './validation';

const TOKEN_PREFIX = 'dvc_';

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const tokenNameSchema = z.object({
  name: z
    .string({ error: 'v.required' })
    .trim()
    .min(1, { error: 'v.required' })
    .max(100, { error: 'v.tooLong' }),
});

export class ApiTokenService {
  constructor(
    private readonly db: Db,
    private readonly tokens: ApiTokenRepository,
    private readonly accounts: AccountService,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
  ) {}

  /** Makes a token; the plain value is answered once and never stored. */
  async issue(user: User, raw: unknown, ctx: RequestContext): Promise<{ token: string; record: ApiToken }> {
    const { name } = parseInput(tokenNameSchema, raw);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const id = await this.db.transaction(async (trx) => {
      const tokenId = await this.tokens.insert(
        { userId: user.id, name, tokenHash: hashToken(token), prefix: token.slice(0, 10), expiresAt: null },
        now,
        trx,
      );
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: user.id,
        actorEmail: user.email,
        action: 'API_TOKEN_CREATED',
        subjectType: 'api_token',
        subjectId: tokenId,
        agencyId: user.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { name },
      });
      return tokenId;
    });
    const record = (await this.tokens.listForUser(user.id)).find((t) => t.id === id)!;
    return { token, record };
  }

  /** POST /api/v1/tokens: the same checks as the login form (throttling, audit), then a new token. */
  async issueForCredentials(email: string, password: string, ctx: RequestContext): Promise<string | null> {
    const result = await this.accounts.login(email, password, ctx);
    if (!result.ok) return null;
    const { token } = await this.issue(
      result.user,
      { name: `API ${this.clock.now().toISOString().slice(0, 10)}` },
      ctx,
    );
    return token;
  }

  /** The active account behind a bearer token, or undefined. */
  async authenticate(token: string): Promise<User | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
    const now = this.clock.now();
    const record = await this.tokens.findUsable(hashToken(token), now);
    if (!record) return undefined;
    const user = await this.accounts.activeUser(record.userId);
    if (user) await this.tokens.touch(record.id, now);
    return user;
  }

  list(user: User): Promise<ApiToken[]> {
    return this.tokens.listForUser(user.id);
  }

  async revoke(user: User, id: number, ctx: RequestContext): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction(async (trx) => {
      if (!(await this.tokens.revoke(user.id, id, now, trx))) throw new NotFoundError();
      await this.audit.append(trx, {
        occurredAt: now,
        actorUserId: user.id,
        actorEmail: user.email,
        action: 'API_TOKEN_REVOKED',
        subjectType: 'api_token',
        subjectId: id,
        agencyId: user.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
      });
    });
  }
}
