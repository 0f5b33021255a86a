import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import request from 'supertest';
import { projectRoot } from '../../src/paths';
import { PERMIT_FIELDS, PERMIT_PAPERS, samplePdf, samplePng } from '../helpers/fixtures';
import { type Agent, DEMO_PASSWORD, login, type TestDatabase } from '../helpers/testApp';
import { sha256 } from './checks';

/** Shared by every process of one portal: a cookie signed by one must be good on the other. */
export const RELIABILITY_SESSION_SECRET = 'reliability-tests-session-secret-0123456789';

/** A port nobody listens on right now, on loopback. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PortalOptions {
  database: TestDatabase;
  /** Where the portal reaches its database when not the test database's own URL (a proxy). */
  databaseUrl?: string;
  smtpUrl?: string;
  port?: number;
  logLevel?: string;
  env?: Record<string, string>;
}

const OUTPUT_KEPT = 64 * 1024;

/**
 * The portal as production runs it: `node --import tsx src/server.ts` in a process of its own, so a
 * test can kill it with any signal and start another one on the same storage and database.
 */
export class PortalProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedAt: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly options: PortalOptions,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitedAt = { code, signal };
        resolve(this.exitedAt);
      }),
    );
  }

  /** Starts a process and waits until it answers /readyz with 200. */
  static async start(options: PortalOptions): Promise<PortalProcess> {
    const port = options.port ?? (await freePort());
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Nothing of the caller's own portal settings may leak into the process under test.
    for (const name of ['DATABASE_URL', 'SMTP_URL', 'TEST_DATABASE_URL', 'PUBLIC_BASE_URL', 'TSA_URL']) {
      delete env[name];
    }
    Object.assign(env, options.database.env(), {
      PORT: String(port),
      LOG_LEVEL: options.logLevel ?? 'warn',
      SESSION_SECRET: RELIABILITY_SESSION_SECRET,
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl } : {}),
      ...options.env,
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: projectRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const portal = new PortalProcess(child, port, options);
    try {
      await portal.waitReady();
    } catch (err) {
      await portal.kill('SIGKILL');
      throw err;
    }
    return portal;
  }

  /** Another process on the same storage, database and port (after this one ended). */
  restart(): Promise<PortalProcess> {
    assert.ok(this.exitedAt, 'restart only after the process ended');
    return PortalProcess.start({ ...this.options, port: this.port });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitedAt === undefined;
  }

  /** What the process wrote (the last 64 KiB), for a failing assertion's message. */
  logs(): string {
    return this.output;
  }

  async waitReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitedAt) {
        throw new Error(
          `the portal exited (${JSON.stringify(this.exitedAt)}) before it was ready:\n${this.output}`,
        );
      }
      try {
        const res = await request(this.url).get('/readyz').timeout(2000);
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline)
        throw new Error(`the portal was not ready after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends the signal and waits for the process to end. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.exitedAt) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** A clean stop (SIGTERM: requests finish, the worker and the scheduler stop, leases go back). */
  async stop(): Promise<void> {
    if (this.exitedAt) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const end = await this.exited;
    clearTimeout(timer);
    assert.equal(end.code, 0, `the portal did not stop cleanly (${JSON.stringify(end)}):\n${this.output}`);
  }
}

/** Logs in through the real login form of a running portal, with its real CSRF token. */
export function loginAt(baseUrl: string, email: string, password = DEMO_PASSWORD): Promise<Agent> {
  return login(baseUrl, email, password);
}

/** A personal API token of a demo account. */
export async function apiToken(baseUrl: string, email: string, password = DEMO_PASSWORD): Promise<string> {
  const res = await request(baseUrl).post('/api/v1/tokens').send({ email, password });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.token as string;
}

/** The papers of one work-permit filing, distinct per `tag`, with the SHA-256 the portal must keep. */
export function permitPapers(
  tag: string,
): { field: string; name: string; content: Buffer; sha256: string }[] {
  const files = [
    ...PERMIT_PAPERS.map((p) => ({
      field: p as string,
      name: `${p}.pdf`,
      content: samplePdf(`${p} ${tag}`),
    })),
    { field: 'photo', name: 'anh.png', content: samplePng() },
  ];
  return files.map((f) => ({ ...f, sha256: sha256(f.content) }));
}

/** Files a work permit through API v1 (multipart, bearer token, Idempotency-Key); the raw answer. */
export function filePermitAt(baseUrl: string, token: string, idempotencyKey: string, tag = idempotencyKey) {
  const req = request(baseUrl)
    .post('/api/v1/dossiers')
    .set('Authorization', `Bearer ${token}`)
    .set('Idempotency-Key', idempotencyKey)
    .field('procedure', 'BQL-LD-02');
  for (const [k, v] of Object.entries(PERMIT_FIELDS)) req.field(k, v);
  for (const f of permitPapers(tag)) req.attach(f.field, f.content, f.name);
  return req;
}

/** An officer's or applicant's action through API v1. */
export function actAt(baseUrl: string, token: string, code: string, action: string, body: object = {}) {
  return request(baseUrl)
    .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/${action}`)
    .set('Authorization', `Bearer ${token}`)
    .send(body);
}
