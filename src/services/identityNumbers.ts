// Checks of Vietnamese identity numbers. Pure functions, so the rules are unit-tested on their own.

/** Province and city codes that start a 12-digit citizen ID (căn cước công dân), Circular 07/2016/TT-BCA. */
export const CITIZEN_ID_PROVINCE_CODES: ReadonlySet<string> = new Set(
  (
    '001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 ' +
    '037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 ' +
    '077 079 080 082 083 084 086 087 089 091 092 093 094 095 096'
  ).split(' '),
);

export type CitizenIdProblem = 'format' | 'province' | 'birthYear';

/**
 * A citizen ID is 12 digits: province code (3), a digit for sex and century of birth (0/1: 1900s,
 * 2/3: 2000s, 4/5: 2100s), the last two digits of the birth year, and a 6-digit serial.
 * With a date of birth, the century digit and the year must agree with it.
 */
export function checkCitizenId(id: string, dateOfBirth?: string): CitizenIdProblem | null {
  if (!/^\d{12}$/.test(id)) return 'format';
  if (!CITIZEN_ID_PROVINCE_CODES.has(id.slice(0, 3))) return 'province';
  const centuryDigit = Number(id[3]);
  if (centuryDigit > 5) return 'birthYear';
  if (dateOfBirth && /^\d{4}-\d{2}-\d{2}$/.test(dateOfBirth)) {
    const year = Number(dateOfBirth.slice(0, 4));
    const century = 1900 + Math.floor(centuryDigit / 2) * 100;
    if (year < century || year >= century + 100 || id.slice(4, 6) !== dateOfBirth.slice(2, 4))
      return 'birthYear';
  }
  return null;
}

const TAX_CODE_WEIGHTS = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/** Normalises a tax code to `NNNNNNNNNN` or `NNNNNNNNNN-NNN` (a branch), or returns null if invalid.
 * The tenth digit is a check digit: 10 - (weighted sum of the first nine mod 11). */
export function normaliseTaxCode(input: string): string | null {
  const compact = input.replace(/[\s.]/g, '');
  const m = /^(\d{10})(?:-?(\d{3}))?$/.exec(compact);
  if (!m) return null;
  const main = m[1]!;
  const sum = TAX_CODE_WEIGHTS.reduce((acc, w, i) => acc + w * Number(main[i]), 0);
  const check = 10 - (sum % 11);
  if (check !== Number(main[9])) return null;
  if (m[2] === '000') return null;
  return m[2] ? `${main}-${m[2]}` : main;
}

/** Vietnamese phone numbers: 10 digits starting with 0, or +84 followed by 9 digits. */
export function normalisePhone(input: string): string | null {
  const compact = input.replace(/[\s.-]/g, '');
  if (/^0\d{9}$/.test(compact)) return compact;
  if (/^\+84\d{9}$/.test(compact)) return `0${compact.slice(3)}`;
  return null;
}
