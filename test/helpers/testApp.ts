import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import knexFactory from 'knex';
import request from 'supertest';
import { createApp } from '../../src/app';
import { bootstrap, shutdownDeps } from '../../src/bootstrap';
import { SERVING_LIMITS, type StatementLimits } from '../../src/data/db';
import { type Clock, FixedClock } from '../../src/clock';
import { type Config, loadConfig } from '../../src/config';
import type { Deps } from '../../src/container';

export const DEMO_PASSWORD = 'Demo@12345';

/** A fresh database for one test file: a SQLite file in a temporary folder, or, when
 * TEST_DATABASE_URL names a MySQL/MariaDB server, a new database on it, dropped at the end. */
export class TestDatabase {
  private constructor(
    readonly storageDir: string,
    readonly databaseUrl: string | undefined,
    private readonly adminUrl: string | undefined,
    private readonly name: string | undefined,
  ) {}

  static async create(): Promise<TestDatabase> {
    const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-test-'));
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (!serverUrl) return new TestDatabase(storageDir, undefined, undefined, undefined);
    const name = `portal_t_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = knexFactory({ client: 'mysql2', connection: serverUrl });
    try {
      await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await admin.destroy();
    }
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return new TestDatabase(storageDir, url.toString(), serverUrl, name);
  }

  /** Environment for the portal (in-process or a child process) on this database. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'test',
      STORAGE_DIR: this.storageDir,
      ...(this.databaseUrl ? { DATABASE_URL: this.databaseUrl } : {}),
      ...extra,
    };
  }

  config(extra: Record<string, string> = {}): Config {
    return loadConfig(this.env(extra));
  }

  async drop(): Promise<void> {
    if (this.adminUrl && this.name) {
      const admin = knexFactory({ client: 'mysql2', connection: this.adminUrl });
      try {
        await admin.raw(`DROP DATABASE IF EXISTS \`${this.name}\``);
      } finally {
        await admin.destroy();
      }
    }
    fs.rmSync(this.storageDir, { recursive: true, force: true });
  }
}

export interface TestApp {
  app: Express;
  deps: Deps;
  clock: FixedClock;
  database: TestDatabase;
  /** Stops this app (the database stays) and starts a new one on the same database. */
  restart(): Promise<TestApp>;
  /** Stops the app and drops the database. */
  close(): Promise<void>;
}

export async function startTestApp(
  opts: {
    clock?: FixedClock;
    database?: TestDatabase;
    seed?: boolean;
    env?: Record<string, string>;
    limits?: StatementLimits;
  } = {},
): Promise<TestApp> {
  const database = opts.database ?? (await TestDatabase.create());
  const clock = opts.clock ?? new FixedClock(new Date());
  const config = { ...database.config(opts.env), seedDemoData: opts.seed ?? true };
  // As a web process runs: on MariaDB the pool bounds its statements (SERVING_LIMITS).
  const deps = await bootstrap(config, { clock: clock as Clock, limits: opts.limits ?? SERVING_LIMITS });
  const app = createApp(deps);
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      await shutdownDeps(deps);
    }
  };
  return {
    app,
    deps,
    clock,
    database,
    async restart() {
      await stop();
      return startTestApp({ clock, database, seed: false, env: opts.env, limits: opts.limits });
    },
    async close() {
      await stop();
      await database.drop();
    },
  };
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

export type Agent = ReturnType<typeof request.agent>;

/** GETs a page and returns its CSRF token, as a browser would before posting its form. */
export async function tokenFor(agent: Agent, pagePath: string): Promise<string> {
  const page = await agent.get(pagePath);
  if (page.status !== 200) throw new Error(`GET ${pagePath} answered ${page.status}`);
  return csrfFrom(page.text);
}

/** Logs in through the real login form, with its real CSRF token: of an app in this process, or of a
 * running portal given by its base URL. */
export async function login(app: Express | string, email: string, password = DEMO_PASSWORD): Promise<Agent> {
  const agent = request.agent(app);
  const token = await tokenFor(agent, '/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send(formBody({ _csrf: token, email, password }));
  if (res.status !== 303) throw new Error(`login of ${email} answered ${res.status}`);
  return agent;
}

/** Encodes fields as a browser does: a repeated name for each value of a list. */
export function formBody(fields: Record<string, string | number | readonly string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v));
  }
  return params.toString();
}

/** Posts a form the way the browser does: fetch the page for its token first. */
export async function postForm(
  agent: Agent,
  pagePath: string,
  action: string,
  fields: Record<string, string | number | readonly string[] | undefined>,
) {
  const token = await tokenFor(agent, pagePath);
  return agent
    .post(action)
    .type('form')
    .send(formBody({ _csrf: token, ...fields }));
}

export function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith('portal.sid='))?.split(';')[0];
}
