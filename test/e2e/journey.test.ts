// A work permit from filing to verification, in a real browser against the real server: the business
// files, four officers take it through the one-stop workflow (with a supplement on the way), the
// business downloads and verifies the signed permit, and anyone can look the dossier up. Every page is
// checked with axe-core; each step leaves a screenshot in test-artifacts/e2e.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { samplePdf } from '../helpers/fixtures';
import {
  PageAudit,
  DEMO_PIN,
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

const PROCEDURE = 'BQL-LD-02';
const SPECIALIST_NAME = 'Phạm Minh Đức';

describe(
  'browser journey: a work permit from filing to a verified, signed result',
  { skip: browserSkipReason() },
  () => {
    let portal: Portal;
    let browser: Browser;
    const audit = new PageAudit();
    const actors = new Map<string, { context: BrowserContext; page: Page }>();
    const dossier = { code: '', secret: '', symbol: '' };
    const steps = new Steps(artifactsDir, () => portal?.output() ?? '');
    const step = steps.step.bind(steps);

    before(async () => {
      clearArtifacts(artifactsDir);
      ({ portal, browser } = await startPortalAndBrowser());
    });

    after(async () => {
      await audit.close().catch(() => undefined);
      await browser?.close();
      await portal?.stop();
    });

    /** The logged-in page of a demo account (one browser context each, kept for the whole journey).
     * bypassCSP only lets axe-core in as an inline script: the views have no inline script or style,
     * so the pages look and behave the same as under the portal's policy (the no-JavaScript journey
     * runs with the policy enforced). */
    const as = async (who: string): Promise<Page> => {
      let actor = actors.get(who);
      if (!actor) {
        actor = await loginAs(browser, portal.baseUrl, `${who}@demo.gov.vn`, {
          context: { bypassCSP: true },
          check: (page) => audit.check(page),
        });
        actors.set(who, actor);
      }
      steps.current = actor.page;
      return actor.page;
    };
    const url = (p: string) => `${portal.baseUrl}${p}`;
    const deskPage = () => `/desk/dossiers/${encodeURIComponent(dossier.code)}`;
    const myPage = () => `/my/dossiers/${encodeURIComponent(dossier.code)}`;

    /** Opens an officer's view of the dossier from the inbox, as an officer would. */
    const openFromDesk = async (page: Page) => {
      await open(page, url('/desk'));
      await audit.check(page);
      await submit(page, page.locator('main table').getByRole('link', { name: dossier.code, exact: true }));
      assert.equal(new URL(page.url()).pathname, deskPage());
      await audit.check(page);
    };

    /** Takes one action from the desk dossier page; checks the confirmation and the new status. */
    const act = async (
      page: Page,
      action: string,
      status: string,
      fill: () => Promise<void> = async () => {},
    ) => {
      const form = page.locator(`form[action$="/actions/${action}"]`);
      assert.equal(await form.count(), 1, `the action ${action} is not offered on ${page.url()}`);
      await fill();
      await submit(page, form.getByRole('button', { name: t(`action.${action}`), exact: true }));
      assert.equal(new URL(page.url()).pathname, deskPage());
      assert.equal(await flashText(page), t(`done.${action}`));
      assert.equal(await statusOn(page), t(`dstatus.${status}`));
      await audit.check(page);
    };

    /** Opens the applicant's view of the dossier from "my dossiers". */
    const openMine = async (page: Page) => {
      await open(page, url('/my/dossiers'));
      await audit.check(page);
      await submit(page, page.locator('main table').getByRole('link', { name: dossier.code, exact: true }));
      assert.equal(new URL(page.url()).pathname, myPage());
      await audit.check(page);
      return page;
    };

    const statusOn = (page: Page) => definition(page.locator('main'), t('my.status')).first().innerText();

    step('01', 'business-files', 'the business files a work permit through the web form', async () => {
      // From the catalogue, as a user finds it: the procedure's page, then its form.
      const page = await as('business');
      await open(page, url('/procedures'));
      await audit.check(page);
      await submit(page, page.locator(`main a[href="/procedures/${PROCEDURE}"]`));
      await audit.check(page);
      await submit(page, page.getByRole('link', { name: t('procedure.file'), exact: true }));
      assert.equal(new URL(page.url()).pathname, `/procedures/${PROCEDURE}/file`);
      await audit.check(page);
      Object.assign(dossier, await fileWorkPermit(page));
      await audit.check(page);
    });

    step(
      '02',
      'reception-accepts',
      'the reception officer accepts it and assigns the specialist',
      async () => {
        const page = await as('reception');
        await openFromDesk(page);
        assert.equal(await statusOn(page), t('dstatus.SUBMITTED'));
        await act(page, 'accept', 'ACCEPTED');
        // The one-stop workflow reviews a dossier only once reception has assigned a specialist.
        await act(page, 'assign', 'IN_REVIEW', async () => {
          await page.locator('#assign-assignee').selectOption({ label: SPECIALIST_NAME });
        });
      },
    );

    step(
      '03',
      'specialist-requests-supplement',
      'the specialist asks for the passport copy again',
      async () => {
        const page = await as('specialist');
        await openFromDesk(page);
        await act(page, 'request_supplement', 'SUPPLEMENT_REQUESTED', async () => {
          await page.locator('#request_supplement-paper-passport').check();
          await page
            .locator('#request_supplement-reason')
            .fill('Bản sao hộ chiếu bị mờ, đề nghị nộp lại bản rõ nét.');
        });
      },
    );

    step('04', 'business-supplements', 'the business uploads the passport copy again', async () => {
      const page = await openMine(await as('business'));
      assert.equal(await statusOn(page), t('dstatus.SUPPLEMENT_REQUESTED'));
      const supplement = page.locator('section', { has: page.locator('#supplement-title') });
      assert.match(await supplement.innerText(), /Bản sao hộ chiếu bị mờ/);
      await page.locator('#supp-passport').setInputFiles({
        name: 'ho-chieu-ro-net.pdf',
        mimeType: 'application/pdf',
        buffer: samplePdf('Ho chieu ro net'),
      });
      await submit(page, supplement.getByRole('button', { name: t('supplement.submit'), exact: true }));
      assert.equal(new URL(page.url()).pathname, myPage());
      assert.equal(await flashText(page), t('done.resubmit'));
      assert.equal(await statusOn(page), t('dstatus.IN_REVIEW'));
      assert.equal(await page.locator('#supplement-title').count(), 0);
      assert.match(await page.locator('main').innerText(), /ho-chieu-ro-net\.pdf/);
      // The history names who sent the supplement as it names who filed: the business.
      const lastEvent = page.locator('main table tbody tr').last().locator('td');
      assert.equal(await lastEvent.nth(1).innerText(), t('actor.BUSINESS'));
      assert.match(await lastEvent.nth(2).innerText(), new RegExp(`^${escapeRegExp(t('event.resubmit'))}`));
      await audit.check(page);
    });

    step('05', 'specialist-proposes', 'the specialist proposes approval with a memo', async () => {
      const page = await as('specialist');
      await openFromDesk(page);
      await act(page, 'propose_approval', 'PROPOSED_APPROVAL', async () => {
        await page
          .locator('#propose_approval-reason')
          .fill('Hồ sơ đầy đủ, đủ điều kiện cấp giấy phép lao động.');
        await page.locator('#propose_approval-attachment').setInputFiles({
          name: 'to-trinh.pdf',
          mimeType: 'application/pdf',
          buffer: samplePdf('To trinh'),
        });
      });
    });

    step('06', 'approver-signs', 'the approver approves and signs with the PIN', async () => {
      const page = await as('approver');
      await openFromDesk(page);
      await act(page, 'approve', 'APPROVED', async () => {
        await page.locator('#approve-pin').fill(DEMO_PIN);
      });
    });

    step('07', 'clerk-releases', 'the clerk numbers, seals and releases the permit', async () => {
      const page = await as('clerk');
      await openFromDesk(page);
      await act(page, 'release', 'RESULT_READY', async () => {
        await page.locator('#release-pin').fill(DEMO_PIN);
      });
      const result = page.locator('section', { has: page.locator('#result-title') });
      dossier.symbol = (await definition(result, t('result.number')).innerText()).trim();
      assert.match(dossier.symbol, /^\d+\/GP-BQL$/);
    });

    step('08', 'business-verifies', 'the business downloads the signed permit and verifies it', async () => {
      const page = await openMine(await as('business'));
      assert.equal(await statusOn(page), t('dstatus.RESULT_READY'));
      const result = page.locator('section', { has: page.locator('#result-title') });
      assert.equal((await definition(result, t('result.number')).innerText()).trim(), dossier.symbol);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        result.getByRole('link', { name: t('result.download'), exact: true }).click(),
      ]);
      const pdfFile = path.join(artifactsDir, '08-result.pdf');
      await download.saveAs(pdfFile);
      const pdf = fs.readFileSync(pdfFile);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.equal(
        pdf.toString('latin1').match(/\/ByteRange/g)?.length,
        2,
        "the approver's signature and the agency's seal",
      );

      await open(page, url('/my/results'));
      await audit.check(page);
      assert.match(await page.locator('main table').innerText(), new RegExp(escapeRegExp(dossier.symbol)));

      await open(page, url('/verify'));
      await audit.check(page);
      await page.locator('#file').setInputFiles(pdfFile);
      await submit(
        page,
        page
          .locator('main form[action="/verify"]')
          .getByRole('button', { name: t('verify.submit'), exact: true }),
      );
      await audit.check(page);
      const report = page.locator('section', { has: page.locator('#report-title') });
      const verdict = await report.getByRole('status').innerText();
      assert.match(verdict, new RegExp(escapeRegExp(t('verify.verdict.good'))));
      assert.match(
        verdict,
        new RegExp(escapeRegExp(dossier.symbol)),
        'recognised as a result the portal issued',
      );
      const signatures = report.locator('article.signature-report');
      assert.equal(await signatures.count(), 2);
      for (const signature of await signatures.all()) {
        const title = await signature.locator('h3').innerText();
        assert.match(
          await definition(signature, t('verify.check.valid')).innerText(),
          /^✔/,
          `${title}: valid`,
        );
        assert.match(
          await definition(signature, t('verify.check.trusted')).innerText(),
          /^✔/,
          `${title}: trusted`,
        );
      }
    });

    step(
      '09',
      'citizen-looks-up',
      'an anonymous citizen looks the dossier up with its code and secret',
      async () => {
        const context = await browser.newContext(contextOptions({ bypassCSP: true }));
        actors.set('anonymous', { context, page: await context.newPage() });
        const page = actors.get('anonymous')!.page;
        steps.current = page;
        await open(page, url('/'));
        await audit.check(page);
        await open(page, url('/lookup'));
        await audit.check(page);
        await page.locator('#code').fill(dossier.code);
        await page.locator('#secret').fill(dossier.secret);
        await submit(
          page,
          page
            .locator('main form[action="/lookup"]')
            .getByRole('button', { name: t('lookup.submit'), exact: true }),
        );
        await audit.check(page);
        const found = page.locator('section', { has: page.locator('#lookup-result') });
        assert.match(await found.locator('h2').innerText(), new RegExp(escapeRegExp(dossier.code)));
        assert.equal(await statusOn(page), t('dstatus.RESULT_READY'));
        assert.match(await found.innerText(), new RegExp(escapeRegExp(dossier.symbol)));
      },
    );

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
