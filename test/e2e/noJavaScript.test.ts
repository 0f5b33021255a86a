// The portal is server-rendered and promises to work without JavaScript: filing with papers, an
// officer's action and the public lookup, in a browser that runs no script, under the portal's own
// Content-Security-Policy. Screenshots go to test-artifacts/e2e/no-javascript.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import {
  PageAudit,
  type Portal,
  Steps,
  artifactsDir,
  browserSkipReason,
  clearArtifacts,
  contextOptions,
  definition,
  escapeRegExp,
  fileWorkPermit,
  flashText,
  loginAs,
  open,
  startPortalAndBrowser,
  submit,
  t,
} from './support';

const dir = path.join(artifactsDir, 'no-javascript');

describe(
  'without JavaScript: filing, an officer action and the lookup',
  { skip: browserSkipReason() },
  () => {
    let portal: Portal;
    let browser: Browser;
    const audit = new PageAudit();
    const steps = new Steps(dir, () => portal?.output() ?? '');
    const dossier = { code: '', secret: '' };
    // What the browser reports against the page: a refused style sheet or image, a broken resource.
    const complaints: string[] = [];

    before(async () => {
      clearArtifacts(dir);
      ({ portal, browser } = await startPortalAndBrowser());
    });

    after(async () => {
      await audit.close().catch(() => undefined);
      await browser?.close();
      await portal?.stop();
    });

    const url = (p: string) => `${portal.baseUrl}${p}`;
    const watch = (page: Page) => {
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() !== 'error') return;
        complaints.push(`${page.url()}: ${m.text()} (${m.location().url})`);
      });
      return page;
    };
    const check = (page: Page) => audit.checkWithoutScripts(page, browser);
    /** A logged-in page with scripts off and the portal's Content-Security-Policy in force. */
    const as = async (who: string) => {
      const { page } = await loginAs(browser, portal.baseUrl, `${who}@demo.gov.vn`, {
        context: { javaScriptEnabled: false },
        prepare: (p) => {
          steps.current = watch(p);
        },
        check,
      });
      return page;
    };

    steps.step('01', 'business-files', 'the business files a work permit with its papers', async () => {
      const page = await as('business');
      await open(page, url('/procedures/BQL-LD-02/file'));
      await check(page);
      Object.assign(dossier, await fileWorkPermit(page));
      await check(page);
    });

    steps.step('02', 'reception-accepts', 'the reception officer accepts it from the desk', async () => {
      const page = await as('reception');
      await open(page, url('/desk'));
      await check(page);
      await submit(page, page.locator('main table').getByRole('link', { name: dossier.code, exact: true }));
      await check(page);
      const form = page.locator('form[action$="/actions/accept"]');
      await submit(page, form.getByRole('button', { name: t('action.accept'), exact: true }));
      assert.equal(new URL(page.url()).pathname, `/desk/dossiers/${encodeURIComponent(dossier.code)}`);
      assert.equal(await flashText(page), t('done.accept'));
      assert.equal(
        await definition(page.locator('main'), t('my.status')).first().innerText(),
        t('dstatus.ACCEPTED'),
      );
      await check(page);
    });

    steps.step('03', 'citizen-looks-up', 'an anonymous citizen looks the dossier up', async () => {
      const context = await browser.newContext(contextOptions({ javaScriptEnabled: false }));
      const page = watch(await context.newPage());
      steps.current = page;
      await open(page, url('/lookup'));
      await check(page);
      await page.locator('#code').fill(dossier.code);
      await page.locator('#secret').fill(dossier.secret);
      await submit(
        page,
        page
          .locator('main form[action="/lookup"]')
          .getByRole('button', { name: t('lookup.submit'), exact: true }),
      );
      const found = page.locator('section', { has: page.locator('#lookup-result') });
      assert.match(await found.locator('h2').innerText(), new RegExp(escapeRegExp(dossier.code)));
      assert.equal(await definition(found, t('my.status')).first().innerText(), t('dstatus.ACCEPTED'));
      await check(page);
    });

    it('raised no browser error (such as a resource refused by the Content-Security-Policy)', (ctx) => {
      if (!steps.current) return ctx.skip('no page was visited');
      assert.deepEqual(complaints, []);
    });

    it('shows no untranslated message key on any page visited', (ctx) => {
      if (audit.checked.size === 0) return ctx.skip('no page was visited');
      audit.assertTranslated();
    });

    it('has no accessibility violation (WCAG 2.1 A and AA) on any page visited', (ctx) => {
      if (audit.checked.size === 0) return ctx.skip('no page was visited');
      ctx.diagnostic(
        `axe-core ran ${audit.runs} times on ${audit.checked.size} distinct pages in ${(audit.ms / 1000).toFixed(1)} s`,
      );
      audit.assertAccessible();
    });
  },
);
