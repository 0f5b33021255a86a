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

/** Parses input and also runs checks that need the database (an email already taken), so that a
 * form shows every problem at once. `taken` gets the raw input and answers field -> message key. */
export async function parseInputWithChecks<S extends z.ZodType>(
  schema: S,
  input: unknown,
  taken: (raw: Record<string, unknown>) => Promise<Record<string, string>>,
): Promise<z.output<S>> {
  let parseError: ValidationError | undefined;
  let parsed: z.output<S> | undefined;
  try {
    parsed = parseInput(schema, input);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    parseError = err;
  }
  const raw = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const extra = await taken(raw);
  const fieldErrors = { ...extra, ...(parseError?.fieldErrors ?? {}) };
  if (Object.keys(fieldErrors).length > 0) throw new ValidationError(fieldErrors);
  return parsed as z.output<S>;
}
