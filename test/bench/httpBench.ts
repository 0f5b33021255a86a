// The portal's pages under load on loopback, beside a bare express + ejs page measured in the same run:
// the ratio is what the target is about, since this machine's absolute speed varies from run to run.
// It varies within a run too (by a factor of two from one second to the next on a shared machine), so
// each page is measured in short rounds, each right beside a round of the bare page, in alternating
// order; the row gives the median of those per-round ratios, and the CPU time per request of each
// server process, which depends less on what else the machine is doing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { PERMIT_FIELDS, PERMIT_PAPERS, samplePdf, samplePng } from '../helpers/fixtures';
import type { BenchRow } from './benchTypes';
import { median } from './timing';

const ROOT = path.resolve(__dirname, '..', '..');
const SESSION_SECRET = 'bench-session-secret-of-at-least-32-characters';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  base: string;
  /** CPU time (user + system) the process has used so far, in milliseconds; undefined off Linux. */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

/** Clock ticks per second of /proc/<pid>/stat: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces) are 3.. ; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Starts a node process running `args` and waits until `readyPath` answers 200. */
async function startProcess(args: string[], env: NodeJS.ProcessEnv, readyPath: string): Promise<Server> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    try {
      if ((await fetch(base + readyPath)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    cpuMs: () => processCpuMs(child.pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A page as heavy as a real one (header, a table of rows, footer), rendered by express + ejs only. */
const BARE_APP = `
const express = require('express');
const ejs = require('ejs');
const app = express();
app.engine('ejs', ejs.renderFile);
app.set('view engine', 'ejs');
app.set('views', process.env.BARE_VIEWS);
app.enable('view cache');
const rows = Array.from({ length: 20 }, (_, i) => ({ code: '000.00.12.H10-261123-' + String(i).padStart(4, '0'), status: 'Đang giải quyết', due: '30/11/2026' }));
app.get('/', (req, res) => res.render('page', { title: 'Trang', rows }));
app.listen(Number(process.env.PORT), '127.0.0.1');
`;
const BARE_VIEW = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title><%= title %></title></head>
<body><header><h1><%= title %></h1></header><main><table><tbody>
<% for (const r of rows) { %><tr><td><%= r.code %></td><td><%= r.status %></td><td><%= r.due %></td></tr><% } %>
</tbody></table></main><footer>Cổng Dịch vụ công</footer></body></html>`;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Server CPU per request in milliseconds, when the server's CPU time can be read. */
  cpuMs: number | undefined;
}

async function load(server: Server, opts: autocannon.Options): Promise<Load> {
  const before = server.cpuMs();
  const r = await autocannon({ connections: 10, duration: 5, ...opts });
  const after = server.cpuMs();
  const bad = r.non2xx + r.errors + r.timeouts;
  const cpuMs =
    before !== undefined && after !== undefined && r.requests.total > 0
      ? (after - before) / r.requests.total
      : undefined;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: bad, cpuMs };
}

interface Paired {
  page: Load[];
  bare: Load[];
  ratios: number[];
}

/** `rounds` rounds of the page beside the bare page, the first of each pair alternating. */
async function paired(
  portal: Server,
  bare: Server,
  page: autocannon.Options,
  bareUrl: string,
  rounds: number,
  seconds: number,
): Promise<Paired> {
  const out: Paired = { page: [], bare: [], ratios: [] };
  // Warm both (compiled templates, statements, JIT) outside the measured rounds.
  await load(portal, { ...page, duration: 1 });
  await load(bare, { url: bareUrl, duration: 1 });
  for (let i = 0; i < rounds; i++) {
    const measurePage = () => load(portal, { ...page, duration: seconds });
    const measureBare = () => load(bare, { url: bareUrl, duration: seconds });
    let p: Load;
    let b: Load;
    if (i % 2 === 0) {
      b = await measureBare();
      p = await measurePage();
    } else {
      p = await measurePage();
      b = await measureBare();
    }
    out.page.push(p);
    out.bare.push(b);
    out.ratios.push(p.rps / b.rps);
  }
  return out;
}

function cpuOf(loads: readonly Load[]): number | undefined {
  const known = loads.map((l) => l.cpuMs).filter((c): c is number => c !== undefined);
  return known.length ? median(known) : undefined;
}

function multipart(fields: Record<string, string>, files: { name: string; file: string; body: Buffer }[]) {
  const boundary = `----bench${randomUUID()}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  for (const f of files) {
    const type = f.file.endsWith('.png') ? 'image/png' : 'application/pdf';
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.file}"\r\nContent-Type: ${type}\r\n\r\n`,
      ),
      f.body,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Logs in through the real form and returns the session cookie. */
async function loginCookie(base: string, email: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const jar = (page.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar },
    body: new URLSearchParams({ _csrf: csrf, email, password: 'Demo@12345' }).toString(),
  });
  const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  if (res.status !== 303 && res.status !== 302) throw new Error(`login of ${email} answered ${res.status}`);
  return cookie || jar;
}

export async function httpBench(quick: boolean): Promise<BenchRow[]> {
  const duration = quick ? 2 : 8;
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-http-'));
  const bareDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bare-'));
  fs.writeFileSync(path.join(bareDir, 'page.ejs'), BARE_VIEW);
  fs.writeFileSync(path.join(bareDir, 'app.js'), BARE_APP);
  // The portal runs as `npm start` runs it: built by the project's build script, on plain node (no
  // loader hook).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const serverArgs = [path.join(ROOT, 'dist', 'src', 'server.js')];
  const common = { STORAGE_DIR: storage, LOG_LEVEL: 'silent', SESSION_SECRET };
  try {
    // The demo data is seeded in development; the measured process runs as in production (views cached).
    const seeding = await startProcess(serverArgs, { ...common, NODE_ENV: 'development' }, '/readyz');
    await seeding.stop();
    const portal = await startProcess(
      serverArgs,
      { ...common, NODE_ENV: 'production', SECURE_COOKIES: 'false' },
      '/readyz',
    );
    const bare = await startProcess(
      [path.join(bareDir, 'app.js')],
      { BARE_VIEWS: bareDir, NODE_PATH: path.join(ROOT, 'node_modules') },
      '/',
    );
    try {
      const tokenRes = await fetch(`${portal.base}/api/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'business@demo.gov.vn', password: 'Demo@12345' }),
      });
      if (tokenRes.status !== 201) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`);
      const { token } = (await tokenRes.json()) as { token: string };
      const papers = PERMIT_PAPERS.map((p) => ({ name: p, file: `${p}.pdf`, body: samplePdf(p) }));
      const small = multipart({ procedure: 'BQL-LD-02', ...PERMIT_FIELDS }, [
        ...papers,
        { name: 'photo', file: 'anh.png', body: samplePng() },
      ]);
      const filed = await fetch(`${portal.base}/api/v1/dossiers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': small.contentType },
        body: small.body,
      });
      if (filed.status !== 201) throw new Error(`filing: ${filed.status} ${await filed.text()}`);
      const dossier = (await filed.json()) as { code: string; secret: string };
      const officer = await loginCookie(portal.base, 'reception@demo.gov.vn');
      const citizen = await loginCookie(portal.base, 'citizen@demo.gov.vn');

      const rounds = quick ? 2 : 5;
      const roundSeconds = quick ? 1 : 2;
      const pages: [string, string, Record<string, string>][] = [
        [
          'public lookup (code + secret)',
          `/lookup?code=${encodeURIComponent(dossier.code)}&secret=${encodeURIComponent(dossier.secret)}`,
          {},
        ],
        // A visitor without a session is served from the five-second page cache; a logged-in
        // citizen's page is rendered each time (the same page with their name and the filing button).
        ['procedure page (visitor, page cache)', '/procedures/BQL-LD-02', {}],
        ['procedure page (logged-in citizen)', '/procedures/BQL-LD-02', { cookie: citizen }],
        // The floor of any logged-in page: the home page reads nothing of its own, so this is the
        // session, the account, CSRF, the security headers and the layout, and nothing else.
        ['home page (logged-in citizen, no reads of its own)', '/', { cookie: citizen }],
        ['officer inbox', '/desk', { cookie: officer }],
        ['officer dossier page', `/desk/dossiers/${encodeURIComponent(dossier.code)}`, { cookie: officer }],
      ];
      const measured: [string, Paired][] = [];
      for (const [name, url, headers] of pages) {
        measured.push([
          name,
          await paired(
            portal,
            bare,
            { url: portal.base + url, headers },
            `${bare.base}/`,
            rounds,
            roundSeconds,
          ),
        ]);
      }
      const allBare = measured.flatMap(([, m]) => m.bare);
      const rows: BenchRow[] = [
        {
          name: 'HTTP bare express + ejs page (yardstick)',
          median_ms: median(allBare.map((l) => l.p50)),
          p99_ms: median(allBare.map((l) => l.p99)),
          per_second: median(allBare.map((l) => l.rps)),
          target: null,
          ok: null,
          runs: allBare.length,
          cpu_ms_per_request: cpuOf(allBare),
        },
      ];
      for (const [name, m] of measured) {
        const ratio = median(m.ratios);
        const errors = m.page.reduce((n, l) => n + l.errors, 0);
        rows.push({
          name: `HTTP ${name}`,
          median_ms: median(m.page.map((l) => l.p50)),
          p99_ms: median(m.page.map((l) => l.p99)),
          per_second: median(m.page.map((l) => l.rps)),
          target: `>= 0.5 of the bare page, round by round (median ${ratio.toFixed(2)}, beside ${median(m.bare.map((l) => l.rps)).toFixed(0)}/s)`,
          ok: errors === 0 && ratio >= 0.5,
          runs: m.page.length,
          ratio,
          cpu_ms_per_request: cpuOf(m.page),
        });
      }

      // Filing with a 1 MB paper: each request its own Idempotency-Key, so each makes a dossier.
      const big = multipart({ procedure: 'BQL-LD-02', ...PERMIT_FIELDS }, [
        { ...papers[0]!, body: samplePdf('A'.repeat(1024 * 1024)) },
        ...papers.slice(1),
        { name: 'photo', file: 'anh.png', body: samplePng() },
      ]);
      const before = Date.now();
      const submitted = await autocannon({
        url: `${portal.base}/api/v1/dossiers`,
        method: 'POST',
        connections: 4,
        duration,
        headers: { authorization: `Bearer ${token}`, 'content-type': big.contentType },
        body: big.body,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              headers: { ...req.headers, 'idempotency-key': randomUUID() },
            }),
          },
        ],
      });
      const seconds = (Date.now() - before) / 1000;
      rows.push({
        name: 'HTTP filing with a 1 MB paper (API)',
        median_ms: submitted.latency.p50,
        p99_ms: submitted.latency.p99,
        per_second: submitted['2xx'] / seconds,
        target: null,
        ok: submitted.non2xx + submitted.errors === 0 ? null : false,
      });
      return rows;
    } finally {
      await portal.stop();
      await bare.stop();
    }
  } finally {
    fs.rmSync(storage, { recursive: true, force: true });
    fs.rmSync(bareDir, { recursive: true, force: true });
  }
}
