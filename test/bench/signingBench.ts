import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FileStore } from '../../src/files/fileStore';
import { createPrivateKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createRootCa, issueCertificate } from '../../src/signing/certificateAuthority';
import { fillSignature, preparePdf, signPdf } from '../../src/signing/padesSigner';
import { ServerKeySigner } from '../../src/signing/signer';
import { renderResult } from '../../src/documents/resultDocument';
import { approverAppearance, sealAppearance } from '../../src/services/resultService';
import type { BenchRow } from './benchTypes';
import { median } from './timing';

async function timed(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    out.push(performance.now() - start);
  }
  return out;
}

/** OpenSSL's raw RSA-2048 signing rate on this machine, in this run: the yardstick for the signer. */
function opensslRsa2048SignsPerSecond(): number {
  const out = execFileSync('openssl', ['speed', '-seconds', '3', '-mr', 'rsa2048'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // Machine-readable: "+F2:<index>:2048:<signs per second>:<verifications per second>"
  const line = out.split('\n').find((l) => /^\+F2:\d+:2048:/.test(l));
  if (!line) throw new Error(`openssl speed printed no RSA-2048 line:\n${out}`);
  return Number(line.split(':')[3]);
}

const RESULT = {
  template: 'work-permit',
  agencyName: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
  parentAgencyName: 'Ủy ban nhân dân tỉnh Bắc Giang',
  placeName: 'Bắc Giang',
  dossierCode: '000.00.12.H10-261123-0001',
  procedureName: 'Cấp giấy phép lao động',
  applicantName: 'Công ty TNHH Điện tử Quang Minh',
  legalBasis: ['Bộ luật Lao động số 45/2019/QH14', 'Nghị định số 152/2020/NĐ-CP'],
  particulars: [
    { label: 'Họ và tên người lao động', value: 'PARK JI HOON' },
    { label: 'Quốc tịch', value: 'Hàn Quốc' },
    { label: 'Số hộ chiếu', value: 'M55544433' },
    { label: 'Chức danh công việc', value: 'Giám đốc sản xuất' },
  ],
  signer: { name: 'Hoàng Văn Thắng', position: 'Phó Trưởng ban' },
  recipients: ['Lưu: VT.'],
  verifyUrl: 'https://dichvucong.example.vn/verify/r/AbCdEfGhIjKlMnOp',
};

export async function signingBench(quick: boolean): Promise<BenchRow[]> {
  const now = new Date();
  const day = 24 * 3600_000;
  const root = createRootCa({
    commonName: 'Bench Root CA',
    organization: 'Bench',
    country: 'VN',
    validFrom: new Date(now.getTime() - day),
    validTo: new Date(now.getTime() + 365 * day),
    keyType: 'RSA',
  });
  const issue = (kind: 'PERSONAL' | 'AGENCY', commonName: string) => {
    const c = issueCertificate(root, {
      subject: { commonName, country: 'VN' },
      kind,
      validFrom: new Date(now.getTime() - day),
      validTo: new Date(now.getTime() + 300 * day),
      keyType: 'RSA',
    });
    return new ServerKeySigner(c.certificatePem, c.chainPem, createPrivateKey(c.privateKeyPem));
  };
  const approver = issue('PERSONAL', 'Hoàng Văn Thắng');
  const seal = issue('AGENCY', 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang');
  const runs = quick ? 20 : 200;
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
  const store = new FileStore(storeDir);

  // Warm up: fonts load once per process, the JIT settles.
  const warm = await renderResult({ ...RESULT, signedAt: now });
  await signPdf(warm.pdf, { signer: approver, signingTime: now, fieldName: 'A', widgets: [] });

  const prepared = preparePdf(warm.pdf, { signer: approver, signingTime: now, fieldName: 'A', widgets: [] });
  const signStep = await timed(runs, () => fillSignature(prepared, { signer: approver }));

  const storing: number[] = [];
  const issuance = await timed(Math.max(10, runs / 4), async () => {
    const at = new Date();
    const r = await renderResult({ ...RESULT, signedAt: at });
    const layout = {
      number: r.numberSlot,
      date: r.dateSlot,
      signature: r.signatureSlot,
      seal: r.sealSlot,
      symbolSuffix: 'GP-BQL',
      placeName: 'Bắc Giang',
    };
    const signed = await signPdf(r.pdf, {
      signer: approver,
      signingTime: at,
      fieldName: 'ChuKyNguoiCoThamQuyen',
      widgets: [approverAppearance(layout.signature, RESULT.signer, at)],
    });
    const storeStart = performance.now();
    await store.write(Readable.from([signed]), 20 * 1024 * 1024, at);
    storing.push(performance.now() - storeStart);
    const appearance = sealAppearance(layout, { name: RESULT.agencyName }, '1/GP-BQL', at);
    const sealed = await signPdf(signed, {
      signer: seal,
      signingTime: at,
      fieldName: 'ChuKyCoQuan',
      widgets: [appearance.seal],
      textFields: appearance.textFields,
    });
    // Stored as the portal stores results: written whole and synced to disk, with its SHA-256.
    const finalStart = performance.now();
    await store.write(Readable.from([sealed]), 20 * 1024 * 1024, at);
    storing[storing.length - 1]! += performance.now() - finalStart;
  });
  fs.rmSync(storeDir, { recursive: true, force: true });

  const openssl = process.env.BENCH_NO_OPENSSL ? 1 : opensslRsa2048SignsPerSecond();
  const signMedian = median(signStep);
  const issueMedian = median(issuance);
  const storeMedian = median(storing);
  const computeMedian = median(issuance.map((v, i) => v - (storing[i] ?? 0)));
  return [
    {
      name: 'openssl speed rsa2048 (sign)',
      median_ms: 1000 / openssl,
      per_second: openssl,
      target: null,
      ok: null,
    },
    {
      name: 'PAdES signature step (ready one-page result, RSA-2048)',
      median_ms: signMedian,
      per_second: 1000 / signMedian,
      target: `>= ${(openssl / 4).toFixed(0)}/s (a quarter of OpenSSL)`,
      ok: 1000 / signMedian >= openssl / 4,
    },
    {
      name: 'whole issuance: render + sign + seal + store (one core)',
      median_ms: issueMedian,
      per_second: 1000 / issueMedian,
      target: '< 20 ms median',
      ok: issueMedian < 20,
    },
    {
      name: '  of which render + sign + seal (CPU)',
      median_ms: computeMedian,
      per_second: 1000 / computeMedian,
      target: null,
      ok: null,
    },
    {
      name: '  of which store: 2 files written and fsynced',
      median_ms: storeMedian,
      per_second: 1000 / storeMedian,
      target: null,
      ok: null,
    },
  ];
}
