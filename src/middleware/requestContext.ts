import type { Request } from 'express';
import type { RequestContext } from '../services/auditContext';

export function requestContext(req: Request): RequestContext {
  return { ip: req.ip ?? 'unknown', userAgent: req.get('user-agent') ?? null };
}
