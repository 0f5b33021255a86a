import type { NextFunction, Request, Response } from 'express';
import {
  formatDate,
  formatDateTime,
  formatNumber,
  type Language,
  LANGUAGES,
  translator,
} from '../i18n/messages';

export const LANG_COOKIE = 'lang';

function pickLanguage(req: Request): Language {
  const fromCookie = (req.cookies as Record<string, string> | undefined)?.[LANG_COOKIE];
  if (fromCookie && (LANGUAGES as readonly string[]).includes(fromCookie)) return fromCookie as Language;
  return 'vi';
}

/** Chooses the language (remembered in a cookie, Vietnamese by default) and gives views their helpers. */
export function i18n(req: Request, res: Response, next: NextFunction): void {
  req.lang = pickLanguage(req);
  req.t = translator(req.lang);
  res.locals.lang = req.lang;
  res.locals.t = req.t;
  res.locals.fmtDateTime = (d: Date | null) => formatDateTime(req.lang, d);
  res.locals.fmtDate = formatDate;
  res.locals.fmtNumber = (n: number) => formatNumber(req.lang, n);
  next();
}
