import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { filePermitByApi, samplePdf } from '../helpers/fixtures';
import { assertQpdfClean, extractText } from '../helpers/pdfTools';
import { assertSignatureReport, externalChecks, type ExternalChecks } from '../helpers/signatureTools';
import { DEMO_PASSWORD, login, postForm, startTestApp, type TestApp } from '../helpers/testApp';

// Monday 23 November 2026, 09:00 in Vietnam.
const MONDAY_9AM = '2026-11-23T02:00:00.000Z';
const PIN = '123456';

describe('signed results: approval, numbering and seal, download', () => {
  let t: TestApp;
  let tools: ExternalChecks;
  const tokens: Record<string, string> = {};
  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    tools = externalChecks(t.deps.pki.localRootPem()!);
    for (const who of ['business', 'reception', 'specialist', 'approver', 'clerk']) {
      const res = await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: `${who}@demo.gov.vn`, password: DEMO_PASSWORD });
      tokens[who] = res.body.token;
    }
  });
  after(async () => {
    // Either may be missing when `before` failed; the app must close all the same, or the file never ends.
    await t?.close();
    tools?.cleanup();
  });

  const act = (who: string, code: string, action: string, body: Record<string, unknown> = {}) =>
    request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/${action}`)
      .set('Authorization', `Bearer ${tokens[who]}`)
      .send(body);
  const dossier = async (code: string) => (await t.deps.repos.dossiers.findByCode(code))!;
  const userId = async (email: string) =>
    ((await t.deps.db('users').where({ email }).first()) as { id: number }).id;
  const resultFiles = () => {
    const dir = path.join(t.database.storageDir, 'results');
    const out: string[] = [];
    const walk = (d: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else out.push(e.name);
      }
    };
    walk(dir);
    return out.length;
  };

  /** A work-permit dossier filed by the demo business and brought to the approver. */
  const proposed = async () => {
    const code = await filePermitByApi(t.app, tokens.business!);
    assert.equal((await act('reception', code, 'accept')).status, 200);
    assert.equal(
      (await act('reception', code, 'assign', { assignee: await userId('specialist@demo.gov.vn') })).status,
      200,
    );
    assert.equal((await act('specialist', code, 'propose_approval')).status, 200);
    return code;
  };

  it('signs at approval and seals at release; pdfsig, openssl and qpdf accept the file', async () => {
    const code = await proposed();
    const page = `/desk/dossiers/${encodeURIComponent(code)}`;
    const approver = await login(t.app, 'approver@demo.gov.vn');
    const form = await approver.get(page);
    assert.match(form.text, /Mã PIN chữ ký số cá nhân/);
    assert.equal((await postForm(approver, page, `${page}/actions/approve`, { pin: PIN })).status, 303);
    const signed = await t.deps.repos.results.latestForDossier((await dossier(code)).id);
    assert.equal(signed?.status, 'SIGNED');
    assert.equal(signed?.symbol, null, 'the number comes at release');

    // Before release the applicant has nothing to download: the approver's draft is never offered.
    const early = await request(t.app)
      .get(`/api/v1/dossiers/${encodeURIComponent(code)}/result`)
      .set('Authorization', `Bearer ${tokens.business}`);
    assert.equal(early.status, 404);

    const clerk = await login(t.app, 'clerk@demo.gov.vn');
    assert.equal((await postForm(clerk, page, `${page}/actions/release`, { pin: PIN })).status, 303);
    const d = await dossier(code);
    assert.equal(d.status, 'RESULT_READY');
    const issued = (await t.deps.repos.results.latestForDossier(d.id))!;
    assert.equal(issued.status, 'ISSUED');
    assert.match(issued.symbol ?? '', /^\d+\/GP-BQL$/);

    const res = await request(t.app)
      .get(`/api/v1/dossiers/${encodeURIComponent(code)}/result`)
      .set('Authorization', `Bearer ${tokens.business}`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/pdf');
    const pdf = res.body as Buffer;
    assert.equal(createHash('sha256').update(pdf).digest('hex'), issued.finalSha256);

    const reports = tools.pdfsig(pdf);
    assert.equal(reports.length, 2, reports.join('\n'));
    assertSignatureReport(reports[0], 'ChuKyNguoiCoThamQuyen', false);
    assertSignatureReport(reports[1], 'ChuKyCoQuan', true);
    assert.match(reports[0]!, /Hoàng Văn Thắng/);
    assert.match(reports[1]!, /Ban Quản lý các khu công nghiệp tỉnh Bắc Giang/);
    assert.equal(tools.opensslVerifyAll(pdf), 2);
    const file = path.join(tools.dir, 'result.pdf');
    fs.writeFileSync(file, pdf);
    assertQpdfClean(file);
    const text = extractText(file);
    for (const expected of [
      'GIẤY PHÉP LAO ĐỘNG',
      'PARK JI HOON',
      'Hàn Quốc',
      'KT. TRƯỞNG BAN',
      'Hoàng Văn Thắng',
    ])
      assert.ok(text.includes(expected), `${expected} in ${text}`);

    // The same file through the applicant's pages and the public lookup with code and secret.
    const business = await login(t.app, 'business@demo.gov.vn');
    const mine = await business.get(`/my/dossiers/${encodeURIComponent(code)}`);
    assert.match(mine.text, new RegExp(issued.symbol!.replace('/', '\\/')));
    const mineFile = await business.get(`/my/dossiers/${encodeURIComponent(code)}/result.pdf`).buffer(true);
    assert.equal(mineFile.status, 200);
    const list = await business.get('/my/results');
    assert.match(list.text, new RegExp(code));
    const lookup = await request(t.app).get(
      `/lookup/result.pdf?code=${encodeURIComponent(code)}&secret=${encodeURIComponent(d.secret!)}`,
    );
    assert.equal(lookup.status, 200);

    // Anyone can check the file: the API and the public page agree it is the portal's and untouched.
    const verify = await request(t.app).post('/api/v1/verify').attach('file', pdf, 'giay-phep.pdf');
    assert.equal(verify.status, 200, JSON.stringify(verify.body));
    const report = verify.body as {
      issuedByPortal: boolean;
      allSignaturesGood: boolean;
      result: { status: string; symbol: string };
      signatures: {
        valid: boolean;
        trusted: boolean;
        coversWholeDocument: boolean;
        modifiedAfter: boolean;
        changesAfter: string[];
        signer: { commonName: string };
      }[];
    };
    assert.equal(report.issuedByPortal, true);
    assert.equal(report.allSignaturesGood, true, JSON.stringify(report.signatures));
    assert.deepEqual(report.result.status, 'ISSUED');
    assert.equal(report.result.symbol, issued.symbol);
    assert.deepEqual(
      report.signatures.map((s) => [
        s.signer.commonName,
        s.valid,
        s.trusted,
        s.coversWholeDocument,
        s.modifiedAfter,
      ]),
      [
        ['Hoàng Văn Thắng', true, true, false, false],
        ['Ban Quản lý các khu công nghiệp tỉnh Bắc Giang', true, true, true, false],
      ],
    );
    const tampered = Buffer.from(pdf);
    const at = tampered.indexOf('PARK JI HOON');
    const index = at > 0 ? at : 2000;
    tampered[index] = tampered[index]! ^ 0x01;
    const bad = await request(t.app).post('/api/v1/verify').attach('file', tampered, 'sua.pdf');
    assert.equal(bad.body.issuedByPortal, false);
    assert.equal(bad.body.allSignaturesGood, false);
    assert.ok(bad.body.signatures.every((s: { valid: boolean }) => !s.valid));

    const publicPage = await request(t.app).get(issued.publicId ? `/verify/r/${issued.publicId}` : '/');
    assert.equal(publicPage.status, 200);
    assert.match(publicPage.text, /Tất cả chữ ký số hợp lệ/);
    assert.match(publicPage.text, new RegExp(issued.symbol!.replace('/', '\\/')));
    const roots = await request(t.app).get('/verify/trusted-roots.pem');
    assert.equal(roots.text, t.deps.pki.localRootPem());
    const anonymous = request.agent(t.app);
    const verifyForm = await anonymous.get('/verify');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(verifyForm.text)![1]!;
    const viaPage = await anonymous.post('/verify').field('_csrf', csrf).attach('file', tampered, 'sua.pdf');
    assert.equal(viaPage.status, 200);
    assert.match(viaPage.text, /Cảnh báo/);
    assert.match(viaPage.text, /mã băm không khớp/);
    const noCsrf = await request(t.app).post('/verify').attach('file', pdf, 'a.pdf');
    assert.equal(noCsrf.status, 403);

    // Withdrawn by the approver: on record, and every verification says it is no longer in force.
    const clerkRevokes = await postForm(clerk, page, `${page}/result/revoke`, { reason: 'Sai sót' });
    assert.equal(clerkRevokes.status, 403, 'a clerk does not withdraw results');
    const revoked = await postForm(approver, page, `${page}/result/revoke`, { reason: 'Cấp sai đối tượng' });
    assert.equal(revoked.status, 303);
    const afterRevoke = await request(t.app).post('/api/v1/verify').attach('file', pdf, 'giay-phep.pdf');
    assert.equal(afterRevoke.body.issuedByPortal, true);
    assert.equal(afterRevoke.body.result.status, 'REVOKED');
    assert.equal(afterRevoke.body.result.revokedReason, 'Cấp sai đối tượng');
    assert.match((await request(t.app).get(`/verify/r/${issued.publicId}`)).text, /Đã thu hồi/);
    const audited = await t.deps
      .db('audit_log')
      .where({ action: 'RESULT_REVOKED' })
      .count({ n: '*' })
      .first();
    assert.equal(Number(audited?.n), 1);

    const wrongSecret = await request(t.app).get(
      `/lookup/result.pdf?code=${encodeURIComponent(code)}&secret=WRONG1`,
    );
    assert.equal(wrongSecret.status, 404);
  });

  it('refuses a wrong PIN, counts it, locks the key, and leaves the dossier where it was', async () => {
    const code = await proposed();
    const before = resultFiles();
    const wrong = await act('approver', code, 'approve', { pin: '000000' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'WRONG_PIN');
    assert.match(wrong.body.error.message, /Mã PIN không đúng/);
    assert.equal((await dossier(code)).status, 'PROPOSED_APPROVAL');
    assert.equal(await t.deps.repos.results.latestForDossier((await dossier(code)).id), undefined);
    assert.equal(resultFiles(), before, 'no file left behind');
    const noPin = await act('approver', code, 'approve', {});
    assert.equal(noPin.status, 422);

    // The desk page says why, beside the PIN, and does not send the PIN back.
    const page = `/desk/dossiers/${encodeURIComponent(code)}`;
    const approver = await login(t.app, 'approver@demo.gov.vn');
    const desk = await postForm(approver, page, `${page}/actions/approve`, { pin: '999999' });
    assert.equal(desk.status, 403);
    assert.match(desk.text, /Mã PIN không đúng/);
    assert.doesNotMatch(desk.text, /999999/);

    for (let i = 0; i < 3; i++) await act('approver', code, 'approve', { pin: '111111' });
    const locked = await act('approver', code, 'approve', { pin: PIN });
    assert.equal(locked.status, 423, JSON.stringify(locked.body));
    assert.equal(locked.body.error.code, 'KEY_LOCKED');
    // The lock runs out; the right PIN then signs and resets the counter.
    t.clock.advance(16 * 60_000);
    const ok = await act('approver', code, 'approve', { pin: PIN });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const cert = await t.deps.pki.certificateFor({ userId: await userId('approver@demo.gov.vn') });
    assert.equal(cert.failedPinCount, 0);

    // Requests in flight together cannot try more PINs than the limit: each attempt is counted first.
    const next = await proposed();
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) => act('approver', next, 'approve', { pin: `00000${i % 10}` })),
    );
    const statuses = burst.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 403 || s === 409 || s === 423),
      statuses.join(','),
    );
    assert.ok(statuses.filter((s) => s === 403).length <= 4, statuses.join(','));
    assert.equal(
      (await act('approver', next, 'approve', { pin: PIN })).status,
      423,
      'locked even for the right PIN',
    );
    assert.equal((await dossier(next)).status, 'PROPOSED_APPROVAL');
    t.clock.advance(16 * 60_000);
  });

  it('refuses revoked and expired certificates without moving the dossier', async () => {
    const code = await proposed();
    const approverId = await userId('approver@demo.gov.vn');
    const now = t.clock.now();
    const ctx = { ip: '127.0.0.1', userAgent: null };
    // Revoked: the approver's only certificate is refused, and the dossier stays.
    const current = await t.deps.pki.certificateFor({ userId: approverId });
    await t.deps.pki.revoke(current.id, 'Mất thiết bị ký', null, ctx);
    const revoked = await act('approver', code, 'approve', { pin: PIN });
    assert.equal(revoked.status, 422, JSON.stringify(revoked.body));
    assert.equal(revoked.body.error.code, 'NO_CERTIFICATE');
    assert.equal((await dossier(code)).status, 'PROPOSED_APPROVAL');

    // Expired: the only active certificate ended an hour ago.
    const expiredId = await t.deps.pki.issueLocal(
      { kind: 'PERSONAL', userId: approverId, agencyId: null },
      { commonName: 'Hoàng Văn Thắng', title: 'Phó Trưởng ban' },
      PIN,
      { validFrom: new Date(now.getTime() - 20 * 3600_000), validTo: new Date(now.getTime() - 3600_000) },
    );
    const expired = await act('approver', code, 'approve', { pin: PIN });
    assert.equal(expired.status, 422);
    assert.equal(expired.body.error.code, 'CERTIFICATE_UNUSABLE');
    assert.match(expired.body.error.message, /hết hạn/);
    assert.equal((await dossier(code)).status, 'PROPOSED_APPROVAL');

    // A fresh certificate lets the approver sign again.
    await t.deps.pki.issueLocal(
      { kind: 'PERSONAL', userId: approverId, agencyId: null },
      { commonName: 'Hoàng Văn Thắng', title: 'Phó Trưởng ban' },
      PIN,
    );
    // The valid certificate signs, although the expired one was added later.
    assert.equal((await act('approver', code, 'approve', { pin: PIN })).status, 200);
    await t.deps.pki.revoke(expiredId, 'Hết hạn', null, ctx);
  });

  it('gives two clerks releasing at once one number, and numbers results in order', async () => {
    const admin = await t.deps.accounts.activeUser(await userId('admin@demo.gov.vn'));
    const agencyId = (await dossier(await proposed())).agencyId;
    await t.deps.officers.createOfficer(
      admin!,
      {
        email: 'clerk2@demo.gov.vn',
        fullName: 'Phan Thị Thu',
        agencyId: String(agencyId),
        roles: ['CLERK'],
        position: 'Văn thư',
        password: 'Van-Thu@2026x',
        passwordConfirm: 'Van-Thu@2026x',
      },
      { ip: '127.0.0.1', userAgent: null },
    );
    tokens.clerk2 = (
      await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: 'clerk2@demo.gov.vn', password: 'Van-Thu@2026x' })
    ).body.token;

    const codes = [await proposed(), await proposed()];
    for (const code of codes)
      assert.equal((await act('approver', code, 'approve', { pin: PIN })).status, 200);
    const before = resultFiles();
    const [a, b] = await Promise.all([
      act('clerk', codes[0]!, 'release', { pin: PIN }),
      act('clerk2', codes[0]!, 'release', { pin: PIN }),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409], `${a.text} ${b.text}`);
    assert.equal(resultFiles(), before + 1, 'the losing release left no file');
    assert.equal((await act('clerk2', codes[1]!, 'release', { pin: PIN })).status, 200);
    const numbers = [];
    for (const code of codes)
      numbers.push((await t.deps.repos.results.latestForDossier((await dossier(code)).id))!.number!);
    assert.equal(numbers[1], numbers[0]! + 1, `consecutive numbers: ${numbers.join(', ')}`);
  });

  it('records a result issued on paper with its scan, numbered but unsigned', async () => {
    const code = await proposed();
    assert.equal((await act('approver', code, 'approve', { pin: PIN })).status, 200);
    const noScan = await act('clerk', code, 'release_paper', {});
    assert.equal(noScan.status, 422);
    const res = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/release_paper`)
      .set('Authorization', `Bearer ${tokens.clerk}`)
      .attach('attachment', samplePdf('Ban chup giay phep'), 'ban-chup.pdf');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const result = (await t.deps.repos.results.latestForDossier((await dossier(code)).id))!;
    assert.equal(result.kind, 'PAPER');
    assert.equal(result.sealCertificateId, null);
    assert.match(result.symbol ?? '', /\/GP-BQL$/);
    const download = await request(t.app)
      .get(`/api/v1/dossiers/${encodeURIComponent(code)}/result`)
      .set('Authorization', `Bearer ${tokens.business}`);
    assert.equal(download.status, 200);
  });
});
