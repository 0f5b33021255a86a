export type PasswordProblem = 'tooShort' | 'tooLong' | 'tooSimple' | 'containsEmail' | 'common';

const COMMON = new Set([
  'password123',
  'password1234',
  'matkhau123',
  'matkhau@123',
  'abc@123456',
  'admin@12345',
  'qwerty12345',
  '1234567890',
  '123456789a',
  'a123456789',
]);

/** At least 10 characters from at least three of: lower case, upper case, digits, other. */
export function checkPassword(password: string, email?: string): PasswordProblem | null {
  if (password.length < 10) return 'tooShort';
  if (password.length > 128) return 'tooLong';
  if (COMMON.has(password.toLowerCase())) return 'common';
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && password.toLowerCase().includes(local)) return 'containsEmail';
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{L}\p{Nd}]/u].filter((re) =>
    re.test(password),
  ).length;
  if (classes < 3) return 'tooSimple';
  return null;
}
