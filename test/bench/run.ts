// npm run bench: speed measured as ratios within one run on this machine, never as timed tests.
// Prints a table and writes the same rows as JSON (default storage/bench/bench.json; BENCH_OUT overrides).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './benchTypes';
import { signingBench } from './signingBench';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rows: BenchRow[] = [...(await signingBench(quick))];
  const table = rows.map((r) => ({
    benchmark: r.name,
    'median ms': r.median_ms.toFixed(2),
    'per second': r.per_second.toFixed(1),
    target: r.target ?? '',
    met: r.ok === null ? '' : r.ok ? 'yes' : 'NO',
  }));
  console.table(table);
  const out = process.env.BENCH_OUT ?? path.join('storage', 'bench', 'bench.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        rows,
      },
      null,
      2,
    ),
  );
  console.log(`written ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
