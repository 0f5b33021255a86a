import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bootstrap, shutdownDeps } from '../../src/bootstrap';
import type { Deps } from '../../src/container';
import type { TestDatabase } from '../helpers/testApp';

/** The portal's own repositories on a test database, for checking what the processes left behind. */
export async function inspect(database: TestDatabase): Promise<Deps & { close(): Promise<void> }> {
  const deps = await bootstrap({ ...database.config(), seedDemoData: false });
  return Object.assign(deps, { close: () => shutdownDeps(deps) });
}

/** Files under a folder, as paths relative to it with forward slashes. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Every file row of every dossier points at a file on disk with the size and SHA-256 it records.
 * Answers the files on disk that no row names (left by requests that died before their transaction).
 */
export async function assertPapersIntact(deps: Deps): Promise<{ rows: number; orphans: string[] }> {
  const rows = (await deps.db('dossier_files').select('id', 'stored_path', 'size', 'sha256')) as {
    id: number;
    stored_path: string;
    size: number | string;
    sha256: string;
  }[];
  const root = deps.files.papers.root;
  for (const r of rows) {
    const file = path.join(root, r.stored_path);
    assert.ok(fs.existsSync(file), `file row ${r.id} points at ${r.stored_path}, which is missing`);
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.length, Number(r.size), `size of ${r.stored_path}`);
    assert.equal(sha256(bytes), r.sha256, `SHA-256 of ${r.stored_path}`);
  }
  const named = new Set(rows.map((r) => r.stored_path));
  return { rows: rows.length, orphans: filesUnder(root).filter((f) => !named.has(f)) };
}

/** Dossier codes `{agency}-{yyMMdd}-{NNNN}`: per agency and day, 0001 up to the count, none twice. */
export function assertConsecutiveCodes(codes: readonly string[]): void {
  const byDay = new Map<string, number[]>();
  for (const code of codes) {
    const m = /^(.+-\d{6})-(\d{4})$/.exec(code);
    assert.ok(m, `dossier code ${code}`);
    byDay.set(m[1]!, [...(byDay.get(m[1]!) ?? []), Number(m[2])]);
  }
  for (const [prefix, numbers] of byDay) {
    const sorted = [...numbers].sort((a, b) => a - b);
    assert.deepEqual(
      sorted,
      sorted.map((_, i) => i + 1),
      `codes of ${prefix}: ${sorted.join(', ')}`,
    );
  }
}

/** How many dossiers the database holds now. */
export async function dossierCount(deps: Deps): Promise<number> {
  return Number(((await deps.db('dossiers').count({ n: '*' })) as { n: number | string }[])[0]!.n);
}
