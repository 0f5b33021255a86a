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

/** Longest name key kept (the column's width). */
export const NAME_KEY_LENGTH = 100;
const MAX_KEYS_PER_NAME = 12;

/** The keys an applicant is found by: each name (the applicant's, a business's representative) folded
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
