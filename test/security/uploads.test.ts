import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import type { Express } from 'express';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { sampleExe, samplePdf } from '../helpers/fixtures';
import {
  type Agent,
  csrfFrom,
  DEMO_PASSWORD,
  formBody,
  sessionCookie,
  startTestApp,
  type TestApp,
} from '../helpers/testApp';
import {
  act,
  apiToken,
  bearer,
  binary,
  EMAILS,
  fileDemandByApi,
  MONDAY_9AM,
  rowCounts,
  storedFiles,
  userId,
  WORK_DEMAND,
} from './securityScenario';

// Hostile uploads to the filing form and to the API: each is refused with a 4xx and a message, nothing
// is kept (no file under the storage folder, no dossier row), and the portal still answers afterwards.

const MB = 1048576;

/** A PDF built from objects (the first is the catalog, which may carry extra entries). */
function pdfOf(objects: string[]): Buffer {
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

const content = 'BT /F1 12 Tf 72 720 Td (Bao cao giai trinh) Tj ET';
const onePage = (catalogExtra: string, more: string[] = []) =>
  pdfOf([
    `<< /Type /Catalog /Pages 2 0 R ${catalogExtra} >>`,
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ...more,
  ]);

/** JavaScript run when the file opens (/OpenAction), as an attacker writes it, and disguised. */
const jsOpenAction = onePage('/OpenAction 6 0 R', [
  '<< /Type /Action /S /JavaScript /JS (app.alert\\(1\\)) >>',
]);
const jsEscapedNames = onePage('/OpenAction 6 0 R', [
  '<< /Type /Action /S /Java#53cript /J#53 (app.alert\\(1\\)) >>',
]);
const jsNamesTree = onePage('/Names << /JavaScript << /Names [(a) 6 0 R] >> >>', [
  '<< /S /JavaScript /JS 7 0 R >>',
  '<< /Length 13 >>\nstream\napp.alert(1);\nendstream',
]);

/** A link that starts a program when clicked, and an XFA form (scripts in its XML). */
const launchAction = onePage('/OpenAction 6 0 R', [
  '<< /Type /Action /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>',
]);
const xfaForm = onePage('/AcroForm << /Fields [] /XFA 6 0 R >>', [
  '<< /Length 20 >>\nstream\n<xdp:xdp></xdp:xdp>\nendstream',
]);

/** The same /OpenAction packed by qpdf into a compressed object stream: no "/JS" in the raw bytes. */
function inObjectStream(pdf: Buffer): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'objstm-'));
  try {
    fs.writeFileSync(path.join(dir, 'in.pdf'), pdf);
    execFileSync('qpdf', ['--object-streams=generate', '--compress-streams=y', 'in.pdf', 'out.pdf'], {
      cwd: dir,
    });
    return fs.readFileSync(path.join(dir, 'out.pdf'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A zip of `size` zero bytes in one entry: a few hundred kilobytes that expand a thousand times. */
async function zipBomb(entryName: string, size: number): Promise<Buffer> {
  const zero = Buffer.alloc(MB);
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => deflate.on('end', resolve));
  let crc = 0;
  for (let i = 0; i < size / MB; i++) {
    crc = zlib.crc32(zero, crc);
    if (!deflate.write(zero)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const data = Buffer.concat(chunks);
  const name = Buffer.from(entryName);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  const centralAt = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralAt, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** A multipart body written by hand: HTTP libraries cut a file name down to its last part, an attacker's
 * client does not. */
function rawMultipart(
  fields: Record<string, string>,
  files: { field: string; name: string; content: Buffer | string }[],
) {
  const boundary = `----hostile${Date.now()}`;
  const parts: (Buffer | string)[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\n` +
          'Content-Type: application/pdf\r\n\r\n',
      ),
      f.content,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, parts };
}

/**
 * Sends a multipart body whose file parts may be paths, streamed from disk, over a real socket; reads the
 * answer even when the server stops reading the upload early (as it should for a file over the limit).
 */
async function streamUpload(
  app: Express,
  url: string,
  headers: Record<string, string>,
  body: { type: string; parts: (Buffer | string)[] },
): Promise<{ status: number; text: string; body: unknown; headers: http.IncomingHttpHeaders }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const length = body.parts.reduce((n, p) => n + (typeof p === 'string' ? fs.statSync(p).size : p.length), 0);
  try {
    return await new Promise((resolve, reject) => {
      let answered = false;
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: url,
          headers: { ...headers, 'Content-Type': body.type, 'Content-Length': String(length) },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = null;
            }
            resolve({ status: res.statusCode ?? 0, text, body: parsed, headers: res.headers });
          });
        },
      );
      // A server that has answered may close the socket before the rest of a refused upload is sent.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      void (async () => {
        for (const part of body.parts) {
          if (typeof part !== 'string') {
            if (!req.write(part)) await new Promise((r) => req.once('drain', r));
            continue;
          }
          for await (const chunk of fs.createReadStream(part, { highWaterMark: MB })) {
            if (req.destroyed) return;
            if (!req.write(chunk as Buffer)) await new Promise((r) => req.once('drain', r));
          }
        }
        req.end();
      })().catch(() => undefined);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const pathLike = (name: string) => /[\\/]/.test(name);

interface Hostile {
  label: string;
  /** The message the refusal must carry (Vietnamese, the default language). */
  message: RegExp;
  status: number;
  files: () => { name: string; content: Buffer | string }[];
}

describe('hostile uploads to the filing form and the API', () => {
  let t: TestApp;
  let business: Agent;
  let businessCookie: string;
  let token: string;
  let bigFile: string;
  let hostile: Hostile[];
  const tables = ['dossiers', 'dossier_files', 'dossier_events', 'audit_log'];

  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    // The business's browser: its session cookie, kept by the agent and also sent by hand.
    business = request.agent(t.app);
    const loginPage = await business.get('/login');
    const signedIn = await business
      .post('/login')
      .type('form')
      .send(formBody({ _csrf: csrfFrom(loginPage.text), email: EMAILS.business, password: DEMO_PASSWORD }));
    assert.equal(signedIn.status, 303);
    businessCookie = sessionCookie(signedIn)!;
    token = await apiToken(t.app, EMAILS.business);
    // 100 MB on disk without writing 100 MB: a sparse file after a PDF header, streamed from disk.
    bigFile = path.join(t.database.storageDir, '..', `big-${process.pid}.pdf`);
    const fd = fs.openSync(bigFile, 'w');
    fs.writeSync(fd, '%PDF-1.4\n');
    fs.ftruncateSync(fd, 100 * MB);
    fs.closeSync(fd);
    const bombPdf = await zipBomb('giay-to.pdf', 200 * MB);
    const bombDocx = await zipBomb('word/document.xml', 200 * MB);
    assert.ok(bombPdf.length < 2 * MB, `${bombPdf.length} bytes expand to 200 MB`);
    const objectStreamJs = inObjectStream(jsOpenAction);
    assert.ok(!objectStreamJs.includes('/JS'), 'the action is hidden in a compressed object stream');
    const wrongType = /không phải định dạng được chấp nhận/;
    const activeContent = /chứa mã lệnh \(JavaScript\)/;
    hostile = [
      {
        label: 'a path in the file name (../../etc/passwd.pdf)',
        status: 422,
        message: /tên tệp không được chứa đường dẫn/,
        files: () => [{ name: '../../etc/passwd.pdf', content: samplePdf() }],
      },
      {
        label: 'a Windows path in the file name (..\\..\\x.pdf)',
        status: 422,
        message: /tên tệp không được chứa đường dẫn/,
        files: () => [{ name: '..\\..\\x.pdf', content: samplePdf() }],
      },
      {
        label: 'a renamed executable (MZ header named .pdf)',
        status: 422,
        message: wrongType,
        files: () => [{ name: 'bao-cao.pdf', content: sampleExe() }],
      },
      {
        label: 'a zip bomb named .pdf',
        status: 422,
        message: wrongType,
        files: () => [{ name: 'bao-cao.pdf', content: bombPdf }],
      },
      {
        label: 'a zip bomb named .docx',
        status: 422,
        message: wrongType,
        files: () => [{ name: 'bao-cao.docx', content: bombDocx }],
      },
      {
        label: 'a PDF with a JavaScript /OpenAction',
        status: 422,
        message: activeContent,
        files: () => [{ name: 'bao-cao.pdf', content: jsOpenAction }],
      },
      {
        label: 'a PDF with JavaScript under #-escaped names',
        status: 422,
        message: activeContent,
        files: () => [{ name: 'bao-cao.pdf', content: jsEscapedNames }],
      },
      {
        label: 'a PDF with a document-level script (/Names /JavaScript)',
        status: 422,
        message: activeContent,
        files: () => [{ name: 'bao-cao.pdf', content: jsNamesTree }],
      },
      {
        label: 'a PDF that launches a program (/Launch)',
        status: 422,
        message: activeContent,
        files: () => [{ name: 'bao-cao.pdf', content: launchAction }],
      },
      {
        label: 'a PDF with an XFA form',
        status: 422,
        message: activeContent,
        files: () => [{ name: 'bao-cao.pdf', content: xfaForm }],
      },
      {
        label: 'a PDF with JavaScript inside a compressed object stream',
        status: 422,
        message: activeContent,
        files: () => [{ name: 'bao-cao.pdf', content: objectStreamJs }],
      },
      {
        label: 'a 100 MB file (streamed)',
        status: 413,
        message: /vượt quá dung lượng cho phép \(50 MB mỗi tệp\)/,
        files: () => [{ name: 'bao-cao.pdf', content: bigFile }],
      },
      {
        label: 'a thousand files in one request',
        status: 413,
        message: /Quá nhiều tệp đính kèm: tối đa 40 tệp/,
        files: () =>
          Array.from({ length: 1000 }, (_, i) => ({ name: `tep-${i}.pdf`, content: samplePdf(`${i}`) })),
      },
    ];
  });
  after(async () => {
    fs.rmSync(bigFile, { force: true });
    await t.close();
  });

  /** The filing form as the browser sends it: token and fields first, then the files. */
  const viaForm = async (files: { name: string; content: Buffer | string }[]) => {
    const page = await business.get('/procedures/BQL-LD-01/file');
    if (files.some((f) => pathLike(f.name) || typeof f.content === 'string')) {
      const raw = rawMultipart(
        { _csrf: csrfFrom(page.text), intent: 'submit', ...WORK_DEMAND },
        files.map((f) => ({ field: 'demand-report', name: f.name, content: f.content })),
      );
      return streamUpload(t.app, '/procedures/BQL-LD-01/file', { Cookie: businessCookie }, raw);
    }
    const req = business
      .post('/procedures/BQL-LD-01/file')
      .field('_csrf', csrfFrom(page.text))
      .field('intent', 'submit');
    for (const [k, v] of Object.entries(WORK_DEMAND)) req.field(k, v);
    for (const f of files) req.attach('demand-report', f.content, f.name);
    return req;
  };

  const viaApi = (files: { name: string; content: Buffer | string }[]) => {
    if (files.some((f) => pathLike(f.name) || typeof f.content === 'string')) {
      const raw = rawMultipart(
        { procedure: 'BQL-LD-01', ...WORK_DEMAND },
        files.map((f) => ({ field: 'demand-report', name: f.name, content: f.content })),
      );
      return streamUpload(t.app, '/api/v1/dossiers', bearer(token), raw);
    }
    const req = request(t.app).post('/api/v1/dossiers').set(bearer(token)).field('procedure', 'BQL-LD-01');
    for (const [k, v] of Object.entries(WORK_DEMAND)) req.field(k, v);
    for (const f of files) req.attach('demand-report', f.content, f.name);
    return req;
  };

  /** The portal answers, and a good filing still goes through after the attack. */
  const stillServes = async () => {
    assert.equal((await request(t.app).get('/healthz')).status, 200);
    assert.equal((await request(t.app).get('/readyz')).status, 200);
    assert.equal((await business.get('/my/dossiers')).status, 200);
  };

  for (const channel of ['form', 'api'] as const) {
    it(`refuses each hostile upload to the ${channel === 'form' ? 'filing form' : 'API'} with a message, and keeps nothing`, async () => {
      for (const h of hostile) {
        const before = { rows: await rowCounts(t, tables), files: storedFiles(t) };
        const res = channel === 'form' ? await viaForm(h.files()) : await viaApi(h.files());
        assert.equal(res.status, h.status, `${h.label}: ${res.text.slice(0, 300)}`);
        if (channel === 'form') {
          assert.match(res.headers['content-type'] ?? '', /text\/html/);
          assert.match(res.text, h.message, h.label);
          assert.match(
            res.text,
            /<form method="post" action="\/procedures\/BQL-LD-01\/file"/,
            'the form again',
          );
        } else {
          assert.match(JSON.stringify(res.body), h.message, h.label);
        }
        assert.deepEqual(await rowCounts(t, tables), before.rows, `${h.label}: no row`);
        assert.deepEqual(storedFiles(t), before.files, `${h.label}: no file`);
        await stillServes();
      }
      // Nothing was written outside the store by a name that tried to climb out of it.
      for (const escaped of ['/etc/passwd.pdf', path.join(t.database.storageDir, '..', '..', 'x.pdf')])
        assert.equal(fs.existsSync(escaped), false, escaped);
    });
  }

  it('still takes good PDFs: the portal’s own documents and a PDF packed with object streams', async () => {
    const code = await fileDemandByApi(t.app, token);
    const receipt = await binary(business.get(`/my/dossiers/${encodeURIComponent(code)}/receipt.pdf`));
    const pdf = receipt.body as Buffer;
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    for (const [label, content] of [
      ['the receipt the portal rendered', pdf],
      ['a clean PDF in object streams', inObjectStream(samplePdf('Sach se'))],
      ['a PDF that mentions /JavaScript in its text', onePage('/Lang (vi /JS /JavaScript)')],
    ] as const) {
      const res = await viaApi([{ name: 'bao-cao.pdf', content }]);
      assert.equal(res.status, 201, `${label}: ${JSON.stringify(res.body)}`);
    }
  });

  it('refuses a PDF with JavaScript as a desk attachment and a resubmitted paper too', async () => {
    const tokens = {
      reception: await apiToken(t.app, EMAILS.reception),
      specialist: await apiToken(t.app, EMAILS.specialist),
    };
    const code = await fileDemandByApi(t.app, token);
    await act(t.app, tokens.reception, code, 'accept');
    await act(t.app, tokens.reception, code, 'assign', { assignee: await userId(t, EMAILS.specialist) });
    const before = { rows: await rowCounts(t, tables), files: storedFiles(t) };
    const attached = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/propose_approval`)
      .set(bearer(tokens.specialist))
      .attach('attachment', jsOpenAction, 'to-trinh.pdf');
    assert.equal(attached.status, 422, JSON.stringify(attached.body));
    assert.match(attached.body.error.message, /chứa mã lệnh/);
    assert.equal((await t.deps.repos.dossiers.findByCode(code))!.status, 'IN_REVIEW');

    await act(t.app, tokens.specialist, code, 'request_supplement', {
      reason: 'Báo cáo thiếu chữ ký.',
      papers: ['demand-report'],
    });
    const page = `/my/dossiers/${encodeURIComponent(code)}`;
    const resubmitted = await business
      .post(`${page}/resubmit`)
      .field('_csrf', csrfFrom((await business.get(page)).text))
      .attach('demand-report', inObjectStream(jsOpenAction), 'bao-cao-moi.pdf')
      .redirects(1);
    assert.equal(resubmitted.status, 200);
    assert.match(resubmitted.text, /chứa mã lệnh \(JavaScript\)/, 'the message on the dossier page');
    assert.equal((await t.deps.repos.dossiers.findByCode(code))!.status, 'SUPPLEMENT_REQUESTED');
    const after = { rows: await rowCounts(t, tables), files: storedFiles(t) };
    assert.equal(after.rows.dossier_files, before.rows.dossier_files, 'no paper kept');
    assert.deepEqual(
      after.files.filter((f) => f.startsWith('papers')),
      before.files.filter((f) => f.startsWith('papers')),
    );
  });
});
