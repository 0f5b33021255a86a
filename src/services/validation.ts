import type { z } from 'zod';
import { ValidationError } from '../errors';

/** Parses input with a schema whose messages are i18n keys; on failure throws a ValidationError
 * with the first message per field, which the pages show next to the field and in the summary. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fieldErrors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? '_form');
    if (fieldErrors[field]) continue;
    // Messages we wrote are keys ("v.*"); anything else (a wrong type, a missing field) is "invalid".
    fieldErrors[field] = issue.message.startsWith('v.') ? issue.message : 'v.invalid';
  }
  throw new ValidationError(fieldErrors);
}
