import type { Request, Response } from 'express';
import { ValidationError } from '../errors';

const NEVER_ECHOED = new Set(['password', 'passwordConfirm', 'currentPassword', '_csrf']);

/** What the person typed, to fill the form again: never passwords or the CSRF token. */
export function typedValues(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object') return {};
  return Object.fromEntries(Object.entries(body).filter(([k]) => !NEVER_ECHOED.has(k)));
}

/** Field name -> translated message, in the order the fields appear on the form. */
export function translatedErrors(
  req: Request,
  err: ValidationError,
  order: readonly string[],
): Record<string, string> {
  const entries = Object.entries(err.fieldErrors).map(
    ([field, key]) => [field, req.t(key, err.messageParams[field])] as const,
  );
  entries.sort(([a], [b]) => rank(order, a) - rank(order, b));
  return Object.fromEntries(entries);
}

function rank(order: readonly string[], field: string): number {
  const i = order.indexOf(field);
  return i === -1 ? order.length : i;
}

/** Runs `action`; on a ValidationError answers 422 with the form shown again, errors and values kept. */
export async function handleForm(
  req: Request,
  res: Response,
  view: { name: string; fields: readonly string[]; data: Record<string, unknown> },
  action: () => Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    res.status(422).render(view.name, {
      ...view.data,
      values: typedValues(req.body),
      errors: translatedErrors(req, err, view.fields),
    });
  }
}
