import type { User as PortalUser } from './data/userRepository';
import type { Language, Translate } from './i18n/messages';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends PortalUser {}
    interface Request {
      /** This request's id (see requestLog), also in the X-Request-Id header. */
      id: string;
      lang: Language;
      t: Translate;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    flash?: { kind: 'success' | 'info' | 'error'; key: string; params?: Record<string, string | number> };
    /** When this session logged in (ms); a password changed later ends it. */
    authAt?: number;
  }
}

export {};
