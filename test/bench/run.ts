// npm run bench: speed measured as ratios within one run on this machine, never as timed tests.
// Prints a table and writes the same rows as JSON (default bench/results.json; BENCH_OUT overrides).
// --scale (or BENCH_SCALE=1) adds the million-dossier rows on MariaDB/MySQL, --scale-only runs just those;
// see scaleBench.ts for BENCH_SCALE_URL, BENCH_SCALE_DOSSIERS and BENCH_RESEED.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './benchTypes';
import { httpBench } from './httpBench';
import { scaleBench } from './scaleBench';
import { signingBench } from './signingBench';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // The scale part loads a million dossiers into MariaDB/MySQL and takes minutes: only when asked.
  const scaleOnly = process.argv.includes('--scale-only');
  const scale = scaleOnly || process.argv.includes('--scale') || process.env.BENCH_SCALE === '1';
  const rows: BenchRow[] = scaleOnly ? [] : [...(await signingBench(quick)), ...(await httpBench(quick))];
  let scaleSummary: Record<string, unknown> | undefined;
  if (scale) {
    const result = await scaleBench({ quick });
    rows.push(...result.rows);
    scaleSummary = result.summary;
  }
  const table = rows.map((r) => ({
    benchmark: r.name,
    'median ms': r.median_ms.toFixed(2),
    'p99 ms': r.p99_ms === undefined ? '' : r.p99_ms.toFixed(2),
    'per second': r.per_second.toFixed(1),
    ratio: r.ratio === undefined ? '' : r.ratio.toFixed(2),
    'CPU ms/req': r.cpu_ms_per_request === undefined ? '' : r.cpu_ms_per_request.toFixed(2),
    target: r.target ?? '',
    met: r.ok === null ? '' : r.ok ? 'yes' : 'NO',
  }));
  console.table(table);
  const out = process.env.BENCH_OUT ?? path.join('bench', 'results.json');
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
        ...(scaleSummary ? { scale: scaleSummary } : {}),
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
