/** Where a request came from, for the audit log. Routes build it; services never see express. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
}

export const systemContext: RequestContext = { ip: 'system', userAgent: null };
