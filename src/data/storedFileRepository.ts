import type { Db } from './db';

/** Large IN lists go in slices, well under every engine's limit on bound parameters. */
const SLICE = 500;

/**
 * Which stored files rows still name: a dossier's papers and attachments (dossier_files), and a result's
 * signed draft, final file or paper scan (results). The only two tables that point into the file stores.
 */
export class StoredFileRepository {
  constructor(private readonly db: Db) {}

  async referenced(relPaths: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < relPaths.length; i += SLICE) {
      const slice = relPaths.slice(i, i + SLICE);
      const [papers, results] = (await Promise.all([
        this.db('dossier_files').whereIn('stored_path', slice).select('stored_path as p'),
        this.db('results')
          .whereIn('signed_path', slice)
          .orWhereIn('final_path', slice)
          .select('signed_path', 'final_path'),
      ])) as [{ p: string }[], { signed_path: string | null; final_path: string | null }[]];
      for (const r of papers) out.add(r.p);
      for (const r of results) {
        if (r.signed_path) out.add(r.signed_path);
        if (r.final_path) out.add(r.final_path);
      }
    }
    return out;
  }
}
