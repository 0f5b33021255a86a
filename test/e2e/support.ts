// What the browser journeys share: the real server as a child process, Chromium, axe-core, screenshots.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import type { AxeResults } from 'axe-core';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
  type Response,
  chromium,
} from 'playwright-core';
import { translator, vi } from '../../src/i18n/messages';
import { PERMIT_FIELDS, PERMIT_PAPERS, samplePdf, samplePng } from '../helpers/fixtures';
import { projectRoot } from '../../src/paths';

export const t = translator('vi');
export const DEMO_PASSWORD = 'Demo@12345';
export const DEMO_PIN = '123456';

// ---------------------------------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------------------------------

const CHROMIUM = '/usr/bin/chromium';

/** Why the journeys cannot run on this machine (Chromium absent), or false. With REQUIRE_BROWSER=1 an
 * absent browser is not a reason to skip: launchBrowser() fails instead. */
export function browserSkipReason(): string | false {
  if (fs.existsSync(CHROMIUM) || process.env.REQUIRE_BROWSER === '1') return false;
  return `Chromium is not installed at ${CHROMIUM}: browser journeys skipped (set REQUIRE_BROWSER=1 to make this a failure)`;
}

function assertBrowserInstalled(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`REQUIRE_BROWSER=1 but Chromium is not installed at ${CHROMIUM}`);
  }
}

export async function launchBrowser(): Promise<Browser> {
  assertBrowserInstalled();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A browser context as a Vietnamese user has it. */
export function contextOptions(extra: BrowserContextOptions = {}): BrowserContextOptions {
  return {
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    viewport: { width: 1280, height: 900 },
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------

export interface Portal {
  baseUrl: string;
  /** What the process wrote (warnings and errors only, at LOG_LEVEL=warn). */
  output(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on now, on any interface (the server binds them all). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts src/server.ts (through tsx) on a free port with a fresh SQLite database and the demo seed
 * in a temporary storage folder; answers once /readyz says the database answers. */
export async function startPortal(): Promise<Portal> {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Nothing from the caller's environment may send the server to another database or mail server.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !['DATABASE_URL', 'SMTP_URL', 'TSA_URL', 'TRUSTED_ROOTS', 'SEED_DEMO_DATA'].includes(k),
    ),
  );
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join('src', 'server.ts')], {
    cwd: projectRoot,
    env: {
      ...inherited,
      NODE_ENV: 'development',
      PORT: String(port),
      STORAGE_DIR: storageDir,
      LOG_LEVEL: 'warn',
      PUBLIC_BASE_URL: baseUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Should this process end without stopping the server (a crash, a kill), the server ends too.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const stop = async () => {
    process.removeListener('exit', orphanGuard);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(storageDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(`the portal exited before it was ready:\n${out}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the portal was not ready within 60 s:\n${out}`);
    }
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, output: () => out, stop };
}

/** The server and the browser, started side by side; if either cannot start, the other is stopped
 * again (a server left running would keep the test process alive). */
export async function startPortalAndBrowser(): Promise<{ portal: Portal; browser: Browser }> {
  assertBrowserInstalled(); // before the server's seconds of start-up
  const [portal, browser] = await Promise.allSettled([startPortal(), launchBrowser()]);
  if (portal.status === 'fulfilled' && browser.status === 'fulfilled') {
    return { portal: portal.value, browser: browser.value };
  }
  if (portal.status === 'fulfilled') await portal.value.stop();
  if (browser.status === 'fulfilled') await browser.value.close();
  const reasons = [browser, portal].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  throw reasons.length === 1
    ? reasons[0]
    : new AggregateError(reasons, 'neither the portal nor the browser started');
}

// ---------------------------------------------------------------------------------------------------
// Pages: navigation, forms, screenshots
// ---------------------------------------------------------------------------------------------------

export const artifactsDir = path.join(projectRoot, 'test-artifacts', 'e2e');

/** Empties one folder of artifacts (PNG and PDF files only) so a run shows only its own. */
export function clearArtifacts(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) {
    if (/\.(png|pdf)$/.test(f)) fs.rmSync(path.join(dir, f));
  }
}

export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens a page and checks it answered 200. */
export async function open(page: Page, url: string): Promise<Response> {
  const res = await page.goto(url);
  assert.ok(res, `no response for ${url}`);
  assert.equal(res.status(), 200, `${url} answered ${res.status()}`);
  return res;
}

/** Clicks a form's submit button and waits for the page the server answers with (after its redirect)
 * to be loaded; checks it is not an error page. */
export async function submit(page: Page, button: Locator): Promise<Response> {
  const main = page.mainFrame();
  const response = page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.frame() === main && (r.status() < 300 || r.status() >= 400),
  );
  const committed = page.waitForEvent('framenavigated', { predicate: (f) => f === main });
  try {
    await button.click();
  } catch (err) {
    // Nothing will navigate: the waits end with the page; their failure is not this one's.
    response.catch(() => undefined);
    committed.catch(() => undefined);
    throw err;
  }
  const [res] = await Promise.all([response, committed]);
  await page.waitForLoadState('load');
  if (res.status() >= 400) {
    const problems = await page
      .locator('.error-summary, .error-message, .notice-error')
      .allInnerTexts()
      .catch(() => []);
    assert.fail(`${res.request().method()} ${res.url()} answered ${res.status()}: ${problems.join(' | ')}`);
  }
  return res;
}

/** The page's flash message (the notice under the header after an action), if any. */
export async function flashText(page: Page): Promise<string> {
  const notice = page.locator('main > .notice').first();
  return (await notice.count()) > 0 ? (await notice.innerText()).trim() : '';
}

/** The value beside a term of a summary list (<dl class="summary-list"><div><dt>…</dt><dd>…</dd>). */
export function definition(scope: Locator, term: string): Locator {
  return scope
    .locator('.summary-list > div')
    .filter({ has: scope.page().locator('dt').getByText(term, { exact: true }) })
    .locator('dd');
}

/** Logs in through the login form in a new browser context. `prepare` sees the page before it opens
 * anything; `check` is run on the login page and on the page after logging in. */
export async function loginAs(
  browser: Browser,
  baseUrl: string,
  email: string,
  opts: {
    context?: BrowserContextOptions;
    prepare?: (page: Page) => void;
    check?: (page: Page) => Promise<void>;
  } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(contextOptions(opts.context));
  const page = await context.newPage();
  opts.prepare?.(page);
  await open(page, `${baseUrl}/login`);
  await opts.check?.(page);
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(DEMO_PASSWORD);
  await submit(
    page,
    page.locator('main form[action="/login"]').getByRole('button', { name: t('login.submit'), exact: true }),
  );
  await assertLoggedIn(page);
  await opts.check?.(page);
  return { context, page };
}

/** Fills the work-permit form (BQL-LD-02) as the demo business would, with every required paper (small
 * valid PDFs, the photo a PNG), and sends it; answers the dossier code and lookup secret from the
 * confirmation page. */
export async function fileWorkPermit(page: Page): Promise<{ code: string; secret: string }> {
  for (const [name, value] of Object.entries(PERMIT_FIELDS)) {
    const select = page.locator(`select#${name}`);
    if ((await select.count()) === 1) await select.selectOption(value);
    else await page.locator(`input#${name}`).fill(value);
  }
  for (const code of PERMIT_PAPERS) {
    await page
      .locator(`#paper-${code}-input`)
      .setInputFiles({ name: `${code}.pdf`, mimeType: 'application/pdf', buffer: samplePdf(code) });
  }
  await page
    .locator('#paper-photo-input')
    .setInputFiles({ name: 'anh-4x6.png', mimeType: 'image/png', buffer: samplePng() });
  await submit(page, page.getByRole('button', { name: t('file.submit'), exact: true }));

  assert.match(new URL(page.url()).pathname, /^\/my\/dossiers\/[^/]+\/submitted$/);
  assert.equal(await page.locator('h1').innerText(), t('submitted.title'));
  const [code, secret] = await page.locator('.big-code strong').allInnerTexts();
  assert.match(
    code ?? '',
    /^000\.00\.12\.H10-\d{6}-\d{4}$/,
    'a dossier code of the industrial-zones authority',
  );
  assert.match(secret ?? '', /^\S{6,}$/, 'a lookup secret');
  return { code: code!, secret: secret! };
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function assertLoggedIn(page: Page): Promise<void> {
  assert.equal(
    await page.getByRole('button', { name: t('nav.logout') }).count(),
    1,
    `not logged in: ${page.url()}: ${await page.locator('main').innerText()}`,
  );
}

const STEP_TIMEOUT_MS = 60_000;

/** The steps of one journey, in order: each is skipped once an earlier one failed, and leaves a
 * screenshot of the page it ended on (<nn>-<name>.png), or of the failure (<nn>-<name>-failed.png). */
export class Steps {
  /** The page the running step works on: the one to photograph. */
  current: Page | undefined;
  private failed: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly serverOutput: () => string,
  ) {}

  step(nn: string, name: string, title: string, run: () => Promise<void>): void {
    it(`${nn}. ${title}`, { timeout: STEP_TIMEOUT_MS }, async (ctx) => {
      if (this.failed) return ctx.skip(`step ${this.failed} failed`);
      try {
        await run();
        assert.ok(this.current, 'the step used no page');
        await screenshot(this.current, this.dir, `${nn}-${name}`);
      } catch (err) {
        this.failed = nn;
        if (this.current)
          await screenshot(this.current, this.dir, `${nn}-${name}-failed`).catch(() => undefined);
        const out = this.serverOutput();
        if (out) console.error(`the portal wrote:\n${out}`);
        throw err;
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Checks on every page: accessibility (axe-core) and untranslated message keys
// ---------------------------------------------------------------------------------------------------

const AXE_SOURCE_FILE = path.join(projectRoot, 'node_modules', 'axe-core', 'axe.min.js');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface Finding {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string; html: string; summary: string }[];
}

// The first part of every message key ("role", "dstatus", ...): a visible "role.APPLICANT" is a key
// that t() did not find and handed back as it was.
const KEY_PREFIXES = new Set(Object.keys(vi).map((k) => k.split('.')[0]!));
const KEY_LIKE = /(?<![\w./@-])([a-z][A-Za-z]*)\.([A-Za-z_]+(?:\.[A-Za-z_]+)*)(?![\w/@-])/g;

/** Message keys shown as they are on the page (a translation that was not found). */
export async function untranslatedKeys(page: Page): Promise<string[]> {
  const text = await page.locator('body').innerText();
  const found = new Set<string>();
  for (const m of text.matchAll(KEY_LIKE)) {
    if (KEY_PREFIXES.has(m[1]!) && !/^(pdf|png|jpe?g|csv|pem)$/i.test(m[2]!)) found.add(m[0]);
  }
  return [...found];
}

/** Runs axe-core (WCAG 2.0 and 2.1, levels A and AA) on pages and keeps every violation by URL; also
 * notes any untranslated message key a page shows. */
export class PageAudit {
  private readonly source = fs.readFileSync(AXE_SOURCE_FILE, 'utf8');
  private readonly findings = new Map<string, Finding[]>();
  private readonly rawKeys = new Map<string, string[]>();
  private replayPage: Page | undefined;
  readonly checked = new Set<string>();
  /** How many times a page was checked (a page is checked again in each state it is seen in). */
  runs = 0;
  /** Time spent in the checks. */
  ms = 0;

  /** Checks the page as it is now. The page's context must run scripts and let an inline script in
   * (bypassCSP), since axe-core is added to the page as one. */
  async check(page: Page, label = page.url()): Promise<void> {
    const started = Date.now();
    if ((await page.evaluate('typeof window.axe')) !== 'object') {
      await page.addScriptTag({ content: this.source });
    }
    const results = (await page.evaluate(
      `axe.run(document, ${JSON.stringify({ runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations'] })})`,
    )) as AxeResults;
    this.runs += 1;
    this.ms += Date.now() - started;
    this.record(label, results);
    const keys = await untranslatedKeys(page);
    if (keys.length > 0) {
      const seen = this.rawKeys.get(this.key(label)) ?? [];
      this.rawKeys.set(this.key(label), [...new Set([...seen, ...keys])]);
    }
  }

  /** Checks a page from a context without JavaScript, where axe-core cannot run: its document, as
   * that browser got it, is served again at the same address to a page that runs scripts (the style
   * sheets come from the live server), and checked there. */
  async checkWithoutScripts(page: Page, browser: Browser): Promise<void> {
    const url = page.url();
    const html = await page.content();
    if (!this.replayPage) {
      const context = await browser.newContext(contextOptions({ bypassCSP: true }));
      this.replayPage = await context.newPage();
    }
    const replay = this.replayPage;
    const only = (u: URL) => u.href === url;
    await replay.route(only, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    try {
      await replay.goto(url);
      await replay.waitForLoadState('load');
      await this.check(replay, `${url} (without JavaScript)`);
    } finally {
      await replay.unroute(only);
    }
  }

  async close(): Promise<void> {
    await this.replayPage?.context().close();
  }

  /** A page's name in the reports, without the lookup secret. */
  private key(label: string): string {
    return label.replace(/([?&]secret=)[^&]*/, '$1…');
  }

  private record(label: string, results: AxeResults): void {
    const key = this.key(label);
    this.checked.add(key);
    if (results.violations.length === 0) return;
    const list = this.findings.get(key) ?? [];
    for (const v of results.violations) {
      if (list.some((f) => f.id === v.id)) continue;
      list.push({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.join(' '),
          html: n.html.length > 200 ? `${n.html.slice(0, 200)}…` : n.html,
          summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim(),
        })),
      });
    }
    this.findings.set(key, list);
  }

  /** Every violation, readably: by page, rule, and element. */
  report(): string {
    const lines: string[] = [];
    for (const [url, list] of this.findings) {
      lines.push(`${url}`);
      for (const f of list) {
        lines.push(`  [${f.impact ?? '?'}] ${f.id}: ${f.help} (${f.helpUrl})`);
        for (const n of f.nodes) {
          lines.push(`      at ${n.target}`);
          lines.push(`         ${n.html}`);
          if (n.summary) lines.push(`         ${n.summary}`);
        }
      }
    }
    return lines.join('\n');
  }

  assertTranslated(): void {
    assert.ok(this.checked.size > 0, 'no page was checked');
    if (this.rawKeys.size > 0) {
      const lines = [...this.rawKeys].map(([url, keys]) => `  ${url}: ${keys.join(', ')}`);
      assert.fail(`untranslated message keys shown:\n${lines.join('\n')}`);
    }
  }

  assertAccessible(): void {
    assert.ok(this.checked.size > 0, 'no page was checked');
    if (this.findings.size > 0) {
      const count = [...this.findings.values()].reduce((n, l) => n + l.length, 0);
      assert.fail(
        `${count} accessibility violation(s) on ${this.findings.size} of ${this.checked.size} page(s):\n${this.report()}`,
      );
    }
  }
}
