import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Agent } from './testApp';

// PDFs are checked with the tools a reader or an archive would use: qpdf, poppler.

export function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** qpdf exits 0 only for a clean file (3 means warnings), and execFileSync throws on anything else. */
export function assertQpdfClean(file: string): void {
  const output = run('qpdf', ['--check', file]);
  assert.doesNotMatch(output, /WARNING/);
  assert.match(output, /No syntax or stream encoding errors found/);
}

/** The text as a reader's tools extract it, with line breaks and column gaps folded to single spaces. */
export function extractText(file: string): string {
  return run('pdftotext', ['-layout', file, '-']).normalize('NFC').replace(/\s+/g, ' ');
}

export function assertIncludes(text: string, expected: string): void {
  assert.ok(text.includes(expected), `expected "${expected}" in: ${text}`);
}

export function pageCount(file: string): number {
  const match = /^Pages:\s+(\d+)$/m.exec(run('pdfinfo', [file]));
  assert.ok(match, 'pdfinfo prints a page count');
  return Number(match[1]);
}

/** Downloads a PDF through the app, checks it with qpdf and answers its text. */
export async function downloadPdfText(agent: Agent, url: string): Promise<string> {
  const res = await agent
    .get(url)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  assert.equal(res.status, 200, url);
  assert.equal(res.headers['content-type'], 'application/pdf');
  const file = path.join(
    os.tmpdir(),
    `portal-pdf-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.pdf`,
  );
  fs.writeFileSync(file, res.body as Buffer);
  try {
    assertQpdfClean(file);
    return extractText(file);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
