// Runs the test files of the given kinds (unit, integration, ...) with node's test runner and tsx.
// Integration files each build their own fresh database, so they can run side by side.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const kinds = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.test.ts')) files.push(full);
  }
};
for (const kind of kinds) walk(path.join('test', kind));
files.sort();
if (files.length === 0) {
  console.error(`no test files under ${kinds.map((k) => `test/${k}`).join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
