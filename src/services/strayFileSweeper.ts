import type { Clock } from '../clock';
import type { StoredFileRepository } from '../data/storedFileRepository';
import type { FileStore } from '../files/fileStore';
import type { Logger } from '../logger';

/** A file younger than this may belong to a transaction still running (an upload is written first). */
export const STRAY_FILE_MIN_AGE_MS = 24 * 3_600_000;

export interface SweepResult {
  examined: number;
  removed: number;
}

/**
 * Files are written before the rows that name them and removed if the transaction fails; a process
 * killed in between, or a commit whose answer was lost, leaves a file no row names. Nothing serves
 * such a file, but it takes space and holds personal papers beyond their time: a file no row names
 * a day after it was written is removed.
 */
export class StrayFileSweeper {
  constructor(
    private readonly deps: {
      stores: readonly FileStore[];
      files: StoredFileRepository;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /**
   * Removes the stray files (or, with `dryRun`, counts them). `recentOnly` reads the store's folders of
   * the last two months only (a file lives in the month it was written), which is what the daily run
   * needs; the command line reads everything.
   */
  async sweep(opts: { dryRun?: boolean; recentOnly?: boolean } = {}): Promise<SweepResult> {
    const now = this.deps.clock.now();
    const cutoff = new Date(now.getTime() - STRAY_FILE_MIN_AGE_MS);
    const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const fromMonth = opts.recentOnly
      ? `${previous.getUTCFullYear()}/${String(previous.getUTCMonth() + 1).padStart(2, '0')}`
      : undefined;
    const result: SweepResult = { examined: 0, removed: 0 };
    for (const store of this.deps.stores) {
      for await (const batch of store.filesBefore(cutoff, fromMonth)) {
        result.examined += batch.length;
        const named = await this.deps.files.referenced(batch);
        const stray = batch.filter((p) => !named.has(p));
        if (stray.length === 0) continue;
        if (!opts.dryRun) await store.removeAll(stray);
        result.removed += stray.length;
        this.deps.logger.info(
          { store: store.root, files: stray.length, dryRun: !!opts.dryRun },
          'stray files no row names',
        );
      }
    }
    return result;
  }
}
