/** Lower case without Vietnamese diacritics (đ -> d), for searches typed either way. */
export function foldForSearch(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** Longest search key kept (the column's width). */
export const NAME_KEY_LENGTH = 100;
/** Words of a name a key may start from: a business's full name can run past twenty words. */
const MAX_KEYS_PER_NAME = 40;

/** The keys an applicant's name is found by (a business's representative is a name too): the folded name
 * from each of its words to the end, so a prefix search on them matches from the start of any word
 * ("van an" and "an" in "Nguyễn Văn An"). */
export function nameSearchKeys(...names: readonly (string | null | undefined)[]): string[] {
  const keys = new Set<string>();
  for (const name of names) {
    const words = foldForSearch(name ?? '')
      .split(' ')
      .filter(Boolean);
    for (let i = 0; i < words.length && i < MAX_KEYS_PER_NAME; i++) {
      const key = words.slice(i).join(' ').slice(0, NAME_KEY_LENGTH).trim();
      if (key) keys.add(key);
    }
  }
  return [...keys];
}

/** A number as officers type it (an identity number, a tax code, a phone): its digits alone. */
export function digitsOf(s: string | null | undefined): string {
  return (s ?? '').replace(/\D/g, '');
}

/** Every key the desk's search finds an applicant by: the names from any word on, and the identity
 * number (or tax code) and the phone number by their digits. */
export function applicantSearchKeys(a: {
  name: string;
  representative?: string | null;
  idNumber?: string | null;
  phone?: string | null;
}): string[] {
  const keys = new Set(nameSearchKeys(a.name, a.representative));
  for (const n of [a.idNumber, a.phone]) {
    const digits = digitsOf(n).slice(0, NAME_KEY_LENGTH);
    if (digits) keys.add(digits);
  }
  return [...keys];
}
