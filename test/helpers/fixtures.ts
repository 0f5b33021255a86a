import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import zlib from 'node:zlib';
import type { Agent } from './testApp';
import { csrfFrom } from './testApp';

/** A small but real one-page PDF (qpdf accepts it). */
export function samplePdf(text = 'Ban quet giay to'): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(body));
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** A 1x1 PNG. */
export function samplePng(): Buffer {
  const crc = (buf: Buffer) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return ~c >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  const idat = zlib.deflateSync(Buffer.from([0, 255, 0, 0]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The first bytes of a Windows program: what a renamed .exe looks like inside. */
export function sampleExe(): Buffer {
  const b = Buffer.alloc(1024);
  b.write('MZ', 0, 'ascii');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  return b;
}

export interface FileSpec {
  field: string;
  name: string;
  content: Buffer;
}

/** Fills and sends a dossier form as a browser does: CSRF token and idempotency key from the page,
 * fields first, then the files. */
export async function sendDossierForm(
  agent: Agent,
  pagePath: string,
  fields: Record<string, string>,
  files: FileSpec[],
  opts: { intent?: 'submit' | 'draft'; idempotencyKey?: string; removeFile?: number[] } = {},
) {
  const page = await agent.get(pagePath);
  if (page.status !== 200) throw new Error(`GET ${pagePath} answered ${page.status}`);
  const action = /<form method="post" action="([^"]+)" enctype="multipart\/form-data"/.exec(page.text)?.[1];
  if (!action) throw new Error('no dossier form on the page');
  const key = opts.idempotencyKey ?? /name="idempotencyKey" value="([^"]+)"/.exec(page.text)![1]!;
  const req = agent
    .post(action.replace(/&amp;/g, '&'))
    .field('_csrf', csrfFrom(page.text))
    .field('idempotencyKey', key);
  for (const [k, v] of Object.entries(fields)) req.field(k, v);
  for (const id of opts.removeFile ?? []) req.field('removeFile', String(id));
  req.field('intent', opts.intent ?? 'submit');
  for (const f of files) req.attach(f.field, f.content, f.name);
  return req;
}

/** A complete work-permit application (BQL-LD-02) as the demo business files it. */
export const PERMIT_FIELDS: Readonly<Record<string, string>> = {
  companyName: 'Công ty TNHH Điện tử Quang Minh',
  taxCode: '2400123458',
  workerName: 'PARK JI HOON',
  workerBirthDate: '1985-07-15',
  sex: 'M',
  nationality: 'Hàn Quốc',
  passportNumber: 'M55544433',
  position: 'MANAGER',
  jobTitle: 'Giám đốc sản xuất',
  workplace: 'Khu công nghiệp Quang Châu',
  periodFrom: '2027-01-01',
  periodTo: '2028-12-31',
  approvalReference: '88/BQL-QLLĐ',
};

/** The PDF papers of a work permit; the photo is a PNG. */
export const PERMIT_PAPERS = [
  'application',
  'health-certificate',
  'criminal-record',
  'qualification',
  'passport',
  'demand-approval',
] as const;

/** Files a work permit through the API with a bearer token; answers the dossier code. */
export async function filePermitByApi(app: Express, token: string): Promise<string> {
  const req = request(app)
    .post('/api/v1/dossiers')
    .set('Authorization', `Bearer ${token}`)
    .field('procedure', 'BQL-LD-02');
  for (const [k, v] of Object.entries(PERMIT_FIELDS)) req.field(k, v);
  for (const p of PERMIT_PAPERS) req.attach(p, samplePdf(p), `${p}.pdf`);
  req.attach('photo', samplePng(), 'anh.png');
  const res = await req;
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.code as string;
}

/** The fields of the foreign-worker demand approval (BQL-LD-01); its paper is 'demand-report'. */
export const WORK_DEMAND: Readonly<Record<string, string>> = {
  companyName: 'Công ty TNHH Điện tử Quang Minh',
  taxCode: '2400123458',
  industrialZone: 'Khu công nghiệp Đình Trám',
  position: 'MANAGER',
  jobTitle: 'Giám đốc nhà máy',
  workerCount: '1',
  periodFrom: '2027-03-01',
  periodTo: '2029-02-28',
  explanation: 'Quản lý nhà máy mới theo yêu cầu của công ty mẹ.',
  contactPhone: '0912345678',
};
