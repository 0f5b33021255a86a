import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PaperType } from '../domain/procedureDefinition';

export interface StoredFile {
  /** Path under the store's root, with forward slashes; never built from a name the client sent. */
  relPath: string;
  size: number;
  sha256: string;
  /** The type read from the file's first bytes, or null when it is none of the accepted kinds. */
  detectedType: PaperType | null;
  contentType: string;
}

export class FileTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`file larger than ${limitBytes} bytes`);
  }
}

const SNIFF_BYTES = 4100;

const KINDS: Record<string, { type: PaperType; contentType: string }> = {
  pdf: { type: 'pdf', contentType: 'application/pdf' },
  jpg: { type: 'jpg', contentType: 'image/jpeg' },
  png: { type: 'png', contentType: 'image/png' },
};

// file-type is published as an ES module only. Loaded once: plain node answers a repeated import()
// from its cache, but under a loader hook (tsx, in development and the tests) each one costs about half a
// millisecond, ten times the sniffing itself.
const loadFileType = () => import('file-type');
let fileType: ReturnType<typeof loadFileType> | undefined;

/** What the first bytes of a file say it is (magic numbers), whatever its name claims. */
async function sniff(head: Buffer): Promise<{ type: PaperType | null; contentType: string }> {
  fileType ??= loadFileType();
  const { fileTypeFromBuffer } = await fileType;
  const found = await fileTypeFromBuffer(head);
  const kind = found ? KINDS[found.ext] : undefined;
  return kind ?? { type: null, contentType: found?.mime ?? 'application/octet-stream' };
}

/** Files under one root folder (storage/papers, storage/results ...), written whole and synced to
 * disk before any database row may point at them. */
const UUID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class FileStore {
  constructor(readonly root: string) {}

  private resolve(relPath: string): string {
    const full = path.resolve(this.root, relPath);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error('path outside the file store');
    return full;
  }

  /** Streams into a new file, hashing as it goes; removes the file if anything fails. */
  async write(source: Readable, maxBytes: number, now: Date): Promise<StoredFile> {
    const dir = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const relPath = `${dir}/${randomUUID()}`;
    const full = this.resolve(relPath);
    await fs.promises.mkdir(path.dirname(full), { recursive: true });
    const hash = createHash('sha256');
    let size = 0;
    const heads: Buffer[] = [];
    let headBytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new FileTooLargeError(maxBytes));
        hash.update(chunk);
        if (headBytes < SNIFF_BYTES) {
          heads.push(chunk);
          headBytes += chunk.length;
        }
        done(null, chunk);
      },
    });
    try {
      // `flush`: the stream syncs the file to disk before it closes, on the one descriptor it opened.
      await pipeline(source, meter, fs.createWriteStream(full, { flags: 'wx', flush: true }));
    } catch (err) {
      await fs.promises.rm(full, { force: true });
      throw err;
    }
    const detected = await sniff(Buffer.concat(heads).subarray(0, SNIFF_BYTES));
    return {
      relPath,
      size,
      sha256: hash.digest('hex'),
      detectedType: detected.type,
      contentType: detected.contentType,
    };
  }

  async remove(relPath: string): Promise<void> {
    await fs.promises.rm(this.resolve(relPath), { force: true });
  }

  async removeAll(relPaths: readonly string[]): Promise<void> {
    await Promise.all(relPaths.map((p) => this.remove(p)));
  }

  /**
   * Removes files that no row names any more, after the commit that let go of them. What is committed
   * stands: a file that cannot be removed now (a busy or read-only disk) is left for the stray-file
   * sweep, never turned into an error for a request that succeeded.
   */
  async removeReleased(relPaths: readonly string[]): Promise<void> {
    await Promise.allSettled(relPaths.map((p) => this.remove(p)));
  }

  read(relPath: string): fs.ReadStream {
    return fs.createReadStream(this.resolve(relPath));
  }

  /**
   * The store's files last written before `cutoff`, as relative paths, a directory at a time. The
   * store's own layout is year/month/uuid; anything else found under the root is left out. With
   * `fromMonth` ('YYYY/MM'), months before it are not read.
   */
  async *filesBefore(cutoff: Date, fromMonth = '0000/00'): AsyncGenerator<string[]> {
    const root = path.resolve(this.root);
    const years = await fs.promises.readdir(root, { withFileTypes: true }).catch(() => []);
    for (const year of years.filter((d) => d.isDirectory() && /^\d{4}$/.test(d.name))) {
      const months = await fs.promises.readdir(path.join(root, year.name), { withFileTypes: true });
      for (const month of months.filter((d) => d.isDirectory() && /^\d{2}$/.test(d.name))) {
        if (`${year.name}/${month.name}` < fromMonth) continue;
        const dir = path.join(root, year.name, month.name);
        const names = (await fs.promises.readdir(dir, { withFileTypes: true }))
          .filter((d) => d.isFile() && UUID_NAME.test(d.name))
          .map((d) => d.name);
        const old: string[] = [];
        for (const name of names) {
          const stat = await fs.promises.stat(path.join(dir, name)).catch(() => null);
          if (stat && stat.mtime.getTime() < cutoff.getTime()) old.push(`${year.name}/${month.name}/${name}`);
        }
        if (old.length > 0) yield old;
      }
    }
  }

  exists(relPath: string): boolean {
    return fs.existsSync(this.resolve(relPath));
  }
}
