import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Signed PDFs are judged by the tools a reader or an archive would use: poppler's pdfsig with an NSS
// database that trusts the test root, OpenSSL's CMS verifier on each signature's byte ranges, qpdf.

export interface ExternalChecks {
  dir: string;
  /** pdfsig's report, one entry per signature, in file order. */
  pdfsig(pdf: Buffer): string[];
  /** Runs `openssl cms -verify` on each signature's signed bytes; throws when any fails. */
  opensslVerifyAll(pdf: Buffer): number;
  cleanup(): void;
}

export function externalChecks(rootPem: string): ExternalChecks {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigcheck-'));
  const rootFile = path.join(dir, 'root.pem');
  fs.writeFileSync(rootFile, rootPem);
  const nss = path.join(dir, 'nss');
  fs.mkdirSync(nss);
  execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${nss}`]);
  execFileSync('certutil', ['-A', '-n', 'root', '-t', 'CT,C,C', '-i', rootFile, '-d', `sql:${nss}`]);
  let n = 0;
  const temp = (bytes: Buffer, ext: string) => {
    const file = path.join(dir, `f${n++}.${ext}`);
    fs.writeFileSync(file, bytes);
    return file;
  };
  return {
    dir,
    pdfsig(pdf) {
      const out = execFileSync('pdfsig', ['-nssdir', `sql:${nss}`, temp(pdf, 'pdf')], { encoding: 'utf8' });
      return out.split(/^Signature #\d+:$/m).slice(1);
    },
    opensslVerifyAll(pdf) {
      const text = pdf.toString('latin1');
      const ranges = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
      assert.ok(ranges.length > 0, 'the file has signatures');
      for (const m of ranges) {
        const [a, b, c, d] = m.slice(1).map(Number) as [number, number, number, number];
        const signed = Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
        const hex = text.slice(a + b + 1, c - 1).replace(/(00)+$/, '');
        const der = Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex');
        execFileSync(
          'openssl',
          [
            'cms',
            '-verify',
            '-binary',
            '-inform',
            'DER',
            '-in',
            temp(der, 'p7s'),
            '-content',
            temp(signed, 'bin'),
            '-CAfile',
            rootFile,
            '-purpose',
            'any',
            '-out',
            '/dev/null',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
      }
      return ranges.length;
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function assertSignatureReport(report: string | undefined, fieldName: string, total: boolean): void {
  assert.ok(report, `pdfsig reports ${fieldName}`);
  assert.match(report, new RegExp(`Signature Field Name: ${fieldName}\n`));
  assert.match(report, /Signature Type: ETSI\.CAdES\.detached/);
  assert.match(report, /Signature Validation: Signature is Valid\./);
  assert.match(report, /Certificate Validation: Certificate is Trusted\./);
  assert.match(report, total ? /- Total document signed/ : /- Not total document signed/);
}
