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

// Signed PDFs and documents are checked with the tools a reader or an archive would use. Without one of
// them a test would fail deep in a hook (or a suite would wait on a server its failed hook never
// closed): say what is missing, and how to get it, before anything runs.
const TOOLS = [
  ['pdftotext', 'poppler-utils'],
  ['pdffonts', 'poppler-utils'],
  ['pdfinfo', 'poppler-utils'],
  ['pdfsig', 'poppler-utils'],
  ['qpdf', 'qpdf'],
  ['certutil', 'libnss3-tools'],
  ['openssl', 'openssl'],
];
const onPath = (name) =>
  (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, name)));
if (kinds.some((k) => k !== 'e2e')) {
  const missing = TOOLS.filter(([name]) => !onPath(name));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    console.error(
      `missing on PATH: ${missing.map(([name]) => name).join(', ')}\n` +
        `install them first, for example: apt-get install -y ${packages}`,
    );
    process.exit(1);
  }
}
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
