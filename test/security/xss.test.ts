import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import PDFDocument from 'pdfkit';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { registerFonts } from '../../src/documents/pdfFonts';
import { PdfActiveContentScanner } from '../../src/files/pdfActiveContent';
import { createRootCa, issueCertificate } from '../../src/signing/certificateAuthority';
import { signPdf } from '../../src/signing/padesSigner';
import { ServerKeySigner } from '../../src/signing/signer';
import {
  type FileSpec,
  PERMIT_FIELDS,
  PERMIT_PAPERS,
  samplePdf,
  samplePng,
  sendDossierForm,
} from '../helpers/fixtures';
import { type Agent, csrfFrom, login, postForm, startTestApp, type TestApp } from '../helpers/testApp';
import {
  act,
  apiToken,
  binary,
  EMAILS,
  fileDemandByApi,
  MONDAY_9AM,
  PIN,
  userId,
  WORK_DEMAND,
} from './securityScenario';

// Stored and reflected XSS: a payload typed into every text field a person can fill in comes back escaped
// on every page that shows it (never raw), and as the same literal text in the PDFs (no script in them).

const P = `<script>alert(1)</script>"'><img src=x onerror=alert(1)>`;
/** The payload as HTML shows text: each of & < > " ' as a character reference. */
const ESCAPED = new RegExp(
  P.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&(?:#34|quot|#x22);')
    .replace(/'/g, '&(?:#39|apos|#x27);'),
);
/** A file name cannot hold a slash: the same attack without one (HTTP clients send its quote as %22). */
const FILE_NAME = `<img src=x onerror=alert(1)>"'.pdf`;
const FILE_NAME_ESCAPED = /&lt;img src=x onerror=alert\(1\)&gt;(?:&#34;|&quot;|%22)&(?:#39|apos);\.pdf/;

function assertEscaped(html: string, label: string, escaped: RegExp = ESCAPED): void {
  assert.ok(!html.includes(P), `${label}: the raw payload is in the page`);
  assert.doesNotMatch(html, /<script>alert\(1\)|<img src=x onerror/i, `${label}: live markup`);
  assert.match(html, escaped, `${label}: the payload, escaped`);
}

/** For pages that do not show the field at all: nothing of it, raw, either. */
function assertNotRaw(html: string, label: string): void {
  assert.ok(!html.includes(P), `${label}: the raw payload is in the page`);
  assert.doesNotMatch(html, /<script>alert\(1\)|<img src=x onerror/i, `${label}: live markup`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xss-pdf-'));

/** The text of a PDF as pdftotext reads it, and proof that it holds no script. */
function pdfFacts(pdf: Buffer, label: string): string {
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', label);
  const file = path.join(tmp, `f${Math.random().toString(36).slice(2)}.pdf`);
  fs.writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-raw', '-enc', 'UTF-8', file, '-'], {
    encoding: 'utf8',
  }).normalize('NFC');
  // Uncompressed and without object streams, every name of the file is in plain sight.
  execFileSync('qpdf', ['--qdf', '--object-streams=disable', file, `${file}.qdf`]);
  const plain = fs.readFileSync(`${file}.qdf`).toString('latin1');
  assert.doesNotMatch(plain, /\/(JS|JavaScript|Launch)[\s/<>[\]()]/, `${label}: a script action`);
  const scanner = new PdfActiveContentScanner();
  scanner.push(pdf);
  assert.equal(scanner.finish(), null, `${label}: active content`);
  return text;
}

function assertLiteralInPdf(pdf: Buffer, label: string, times = 1): void {
  const text = pdfFacts(pdf, label);
  // In the order the content stream draws it; a heading may print it in capitals.
  const squeeze = (s: string) => s.replace(/\s+/g, '').toLowerCase();
  const found = squeeze(text).split(squeeze(P)).length - 1;
  assert.ok(found >= times, `${label}: the payload verbatim ${times} time(s), found ${found} in ${text}`);
  assert.ok(!text.includes('&lt;'), `${label}: no HTML escaping in a PDF`);
}

describe('XSS: what people type comes back escaped in pages and literal in PDFs', () => {
  let t: TestApp;
  let tokens: Record<string, string>;
  let agents: Record<string, Agent>;
  /** The business that registered with the payload as its company name. */
  let xssBusiness: Agent;
  let permit: string;

  before(async () => {
    t = await startTestApp({ clock: new FixedClock(MONDAY_9AM) });
    tokens = {};
    agents = {};
    for (const role of ['citizen', 'reception', 'specialist', 'approver', 'clerk', 'systemAdmin'] as const) {
      tokens[role] = await apiToken(t.app, EMAILS[role]);
      agents[role] = await login(t.app, EMAILS[role]);
    }
  });
  after(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await t.close();
  });

  it('sets a Content-Security-Policy without inline script on every page', async () => {
    const csp = String((await request(t.app).get('/')).headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  });

  it('escapes registration names, in the form sent back and on the account pages', async () => {
    const citizen = request.agent(t.app);
    const refused = await postForm(citizen, '/register/citizen', '/register/citizen', {
      fullName: P,
      citizenId: '001301012345',
      dateOfBirth: '2001-03-04',
      email: 'xss.citizen@example.vn',
      phone: '0987654321',
      password: 'Hoa-Sen@2026',
      passwordConfirm: 'Hoa-Sen@2026',
      acceptTerms: 'yes',
    });
    assert.equal(refused.status, 422, 'a person’s name has no markup characters');
    assertEscaped(refused.text, 'citizen registration sent back');

    xssBusiness = request.agent(t.app);
    const registered = await postForm(xssBusiness, '/register/business', '/register/business', {
      companyName: P,
      taxCode: '0300588569',
      representativeName: 'Phan Quốc Việt',
      email: 'xss.business@example.vn',
      phone: '',
      password: 'Co-Khi#2026',
      passwordConfirm: 'Co-Khi#2026',
      acceptTerms: 'yes',
    });
    assert.equal(registered.status, 303, registered.text.slice(0, 400));
    assertEscaped((await xssBusiness.get('/account')).text, 'account page');
    const typo = await postForm(request.agent(t.app), '/register/business', '/register/business', {
      companyName: P,
      taxCode: P,
      representativeName: P,
      email: P,
    });
    assert.equal(typo.status, 422);
    assertEscaped(typo.text, 'business registration sent back');
  });

  it('escapes the dossier form’s fields and the papers’ names wherever the dossier is shown, and prints them literally', async () => {
    const fields = {
      ...PERMIT_FIELDS,
      companyName: P,
      taxCode: '0300588569',
      workerName: P,
      nationality: P,
      jobTitle: P,
      workplace: P,
      approvalReference: P.slice(0, 64),
    };
    const files: FileSpec[] = PERMIT_PAPERS.map((code) => ({
      field: code,
      name: FILE_NAME,
      content: samplePdf(code),
    }));
    files.push({ field: 'photo', name: 'anh.png', content: samplePng() });

    // Sent back with a problem: every value as typed, escaped.
    const bad = await sendDossierForm(
      xssBusiness,
      '/procedures/BQL-LD-02/file',
      { ...fields, passportNumber: P },
      files,
    );
    assert.equal(bad.status, 422);
    assertEscaped(bad.text, 'the filing form sent back');

    // A draft lists its papers by the names they were sent with.
    const draft = await sendDossierForm(xssBusiness, '/procedures/BQL-LD-02/file', fields, files, {
      intent: 'draft',
    });
    assert.equal(draft.status, 303);
    const draftPage = await xssBusiness.get(draft.headers.location!);
    assertEscaped(draftPage.text, 'the draft');
    assertEscaped(draftPage.text, 'the draft’s papers', FILE_NAME_ESCAPED);

    const sent = await sendDossierForm(xssBusiness, draft.headers.location!, fields, []);
    assert.equal(sent.status, 303, sent.text.slice(0, 500));
    permit = decodeURIComponent(/\/my\/dossiers\/([^/]+)\/submitted/.exec(sent.headers.location!)![1]!);
    const d = (await t.deps.repos.dossiers.findByCode(permit))!;
    const code = encodeURIComponent(permit);
    assertNotRaw((await xssBusiness.get(`/my/dossiers/${code}/submitted`)).text, 'confirmation page');
    assertEscaped((await xssBusiness.get(`/my/dossiers/${code}`)).text, 'dossier page');
    assertNotRaw((await xssBusiness.get('/my/dossiers')).text, 'my dossiers');
    assertEscaped(
      (await xssBusiness.get(`/my/dossiers/${code}`)).text,
      'papers on the dossier page',
      FILE_NAME_ESCAPED,
    );
    for (const page of ['/desk', `/desk?q=${encodeURIComponent('Phan')}`, `/desk/dossiers/${code}`])
      assertEscaped((await agents.reception!.get(page)).text, `desk ${page}`);
    assertEscaped(
      (await agents.reception!.get(`/desk/dossiers/${code}`)).text,
      'papers on the desk',
      FILE_NAME_ESCAPED,
    );
    assertLiteralInPdf(
      (await binary(xssBusiness.get(`/my/dossiers/${code}/receipt.pdf`))).body as Buffer,
      'receipt',
    );
    assert.ok(d.secret);
  });

  it('escapes officers’ names and positions, and the reasons of each workflow step; notices print them literally', async () => {
    const code = encodeURIComponent(permit);
    const specialistId = await userId(t, EMAILS.specialist);
    // The administrator gives the specialist the payload as a position (a name refuses it).
    const officerPage = `/admin/officers/${specialistId}`;
    const badName = await postForm(agents.systemAdmin!, officerPage, officerPage, {
      fullName: P,
      position: P,
      status: 'ACTIVE',
      roles: 'SPECIALIST',
    });
    assert.equal(badName.status, 422);
    assertEscaped(badName.text, 'officer form sent back');
    const positioned = await postForm(agents.systemAdmin!, officerPage, officerPage, {
      fullName: 'Phạm Minh Đức',
      position: P,
      status: 'ACTIVE',
      roles: 'SPECIALIST',
    });
    assert.equal(positioned.status, 303);
    const created = await postForm(agents.systemAdmin!, '/admin/officers/new', '/admin/officers', {
      fullName: 'Lê Thị Hoa',
      email: 'hoa.xss@demo.gov.vn',
      position: P,
      agencyId: String(
        ((await t.deps.db('agencies').where({ code: '000.00.12.H10' }).first()) as { id: number }).id,
      ),
      roles: 'SPECIALIST',
      password: 'Hoa-Le@2026xx',
      passwordConfirm: 'Hoa-Le@2026xx',
    });
    assert.equal(created.status, 303, created.text.slice(0, 300));
    assertNotRaw((await agents.systemAdmin!.get('/admin/officers')).text, 'officer list');
    assertEscaped((await agents.systemAdmin!.get(officerPage)).text, 'officer form');
    assertNotRaw((await agents.systemAdmin!.get('/admin/audit')).text, 'audit log');
    assertEscaped((await agents.specialist!.get('/account')).text, 'the specialist’s own account');

    await act(t.app, tokens.reception!, permit, 'accept');
    await act(t.app, tokens.reception!, permit, 'assign', { assignee: specialistId });
    await act(t.app, tokens.specialist!, permit, 'request_supplement', { reason: P, papers: ['passport'] });
    const d = (await t.deps.repos.dossiers.findByCode(permit))!;
    for (const [agent, page] of [
      [xssBusiness, `/my/dossiers/${code}`],
      [agents.reception!, `/desk/dossiers/${code}`],
      [request.agent(t.app), `/lookup?code=${code}&secret=${d.secret}`],
    ] as const)
      assertEscaped((await agent.get(page)).text, `supplement reason on ${page}`);
    assertNotRaw((await xssBusiness.get('/account/notifications')).text, 'notifications');
    const supplement = (await binary(xssBusiness.get(`/my/dossiers/${code}/notices/supplement.pdf`)))
      .body as Buffer;
    assertLiteralInPdf(supplement, 'supplement notice: the addressee, the reason, the officer’s position', 3);

    const page = `/my/dossiers/${code}`;
    const resubmitted = await xssBusiness
      .post(`${page}/resubmit`)
      .field('_csrf', csrfFrom((await xssBusiness.get(page)).text))
      .attach('passport', samplePdf('Ho chieu'), 'ho-chieu.pdf');
    assert.equal(resubmitted.status, 303);
    await act(t.app, tokens.reception!, permit, 'extend', { reason: P, newDueDate: '2026-12-18' });
    assertLiteralInPdf(
      (await binary(xssBusiness.get(`/my/dossiers/${code}/notices/apology.pdf`))).body as Buffer,
      'apology notice',
    );
    await act(t.app, tokens.specialist!, permit, 'propose_approval', { reason: P });
    const desk = `/desk/dossiers/${code}`;
    assertEscaped((await agents.approver!.get(desk)).text, 'proposal on the desk');
    const approved = await postForm(agents.approver!, desk, `${desk}/actions/approve`, { pin: PIN });
    assert.equal(approved.status, 303);
    const released = await postForm(agents.clerk!, desk, `${desk}/actions/release`, { pin: PIN });
    assert.equal(released.status, 303);
    const result = (await binary(xssBusiness.get(`/my/dossiers/${code}/result.pdf`))).body as Buffer;
    assertLiteralInPdf(result, 'signed result (worker’s name)');

    // The applicant's rating comment, on the dossier page.
    const rated = await postForm(xssBusiness, page, `${page}/rating`, { score: '2', comment: P });
    assert.equal(rated.status, 303);
    assertEscaped((await xssBusiness.get(page)).text, 'rating comment');

    // Withdrawn by the approver with the payload as the reason: the public verification says so.
    const revoked = await postForm(agents.approver!, desk, `${desk}/result/revoke`, { reason: P });
    assert.equal(revoked.status, 303);
    const issued = (await t.deps.repos.results.latestForDossier(d.id))!;
    assertEscaped((await request(t.app).get(`/verify/r/${issued.publicId}`)).text, 'verification page');
    const anonymous = request.agent(t.app);
    const form = await anonymous.get('/verify');
    const checked = await anonymous
      .post('/verify')
      .field('_csrf', csrfFrom(form.text))
      .attach('file', result, 'kq.pdf');
    assertNotRaw(checked.text, 'verification of the uploaded result');
  });

  it('escapes refusal and withdrawal reasons; the refusal notice prints the reason literally', async () => {
    const business = await apiToken(t.app, 'xss.business@example.vn', 'Co-Khi#2026');
    const refused = await fileDemandByApi(t.app, business, { ...WORK_DEMAND, taxCode: '0300588569' });
    await act(t.app, tokens.reception!, refused, 'refuse', { reason: P });
    const code = encodeURIComponent(refused);
    assertEscaped((await xssBusiness.get(`/my/dossiers/${code}`)).text, 'refusal on the applicant’s page');
    assertEscaped((await agents.reception!.get(`/desk/dossiers/${code}`)).text, 'refusal on the desk');
    assertLiteralInPdf(
      (await binary(xssBusiness.get(`/my/dossiers/${code}/notices/refusal.pdf`))).body as Buffer,
      'refusal notice',
    );
    const withdrawn = await fileDemandByApi(t.app, business, { ...WORK_DEMAND, taxCode: '0300588569' });
    const wd = `/my/dossiers/${encodeURIComponent(withdrawn)}`;
    assert.equal((await postForm(xssBusiness, wd, `${wd}/actions/withdraw`, { reason: P })).status, 303);
    assertEscaped((await xssBusiness.get(wd)).text, 'withdrawal reason');
    assertEscaped(
      (await agents.reception!.get(`/desk/dossiers/${encodeURIComponent(withdrawn)}`)).text,
      'withdrawal on the desk',
    );
    const sendBack = await fileDemandByApi(t.app, business, { ...WORK_DEMAND, taxCode: '0300588569' });
    await act(t.app, tokens.reception!, sendBack, 'accept');
    await act(t.app, tokens.reception!, sendBack, 'assign', { assignee: await userId(t, EMAILS.specialist) });
    await act(t.app, tokens.specialist!, sendBack, 'propose_refusal', { reason: P });
    await act(t.app, tokens.approver!, sendBack, 'send_back', { reason: P });
    assertEscaped(
      (await agents.specialist!.get(`/desk/dossiers/${encodeURIComponent(sendBack)}`)).text,
      'proposal and send-back reasons',
    );
  });

  it('escapes a walk-in applicant’s details typed at the counter; the receipt prints them literally', async () => {
    const intake = '/desk/intake/BQL-LD-01';
    const page = await agents.reception!.get(intake);
    const req = agents
      .reception!.post(intake)
      .field('_csrf', csrfFrom(page.text))
      .field('idempotencyKey', 'xss-counter-1')
      .field('applicantKind', 'BUSINESS')
      .field('applicantName', P)
      .field('applicantIdNumber', '0300588569')
      .field('applicantRepresentative', P);
    for (const [k, v] of Object.entries({ ...WORK_DEMAND, explanation: P })) req.field(k, v);
    const res = await req.attach('demand-report', samplePdf('Bao cao'), 'bao-cao.pdf');
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const desk = res.headers.location!;
    assertEscaped((await agents.reception!.get(desk)).text, 'counter dossier on the desk');
    assertEscaped((await agents.reception!.get('/desk')).text, 'the inbox');
    assertLiteralInPdf(
      (await binary(agents.reception!.get(`${desk}/receipt.pdf`))).body as Buffer,
      'counter receipt',
    );
    const badIntake = agents
      .reception!.post(intake)
      .field('_csrf', csrfFrom((await agents.reception!.get(intake)).text))
      .field('applicantKind', 'BUSINESS')
      .field('applicantName', P)
      .field('applicantIdNumber', P);
    const sentBack = await badIntake.attach('demand-report', samplePdf('x'), 'x.pdf');
    assert.equal(sentBack.status, 422);
    assertEscaped(sentBack.text, 'counter form sent back');
  });

  it('escapes holiday names, token names and certificate revocation reasons', async () => {
    const admin = agents.systemAdmin!;
    const saved = await postForm(admin, '/admin/holidays', '/admin/holidays', {
      date: '2027-03-17',
      kind: 'HOLIDAY',
      name: P,
    });
    assert.equal(saved.status, 303, saved.text.slice(0, 300));
    const listed = await admin.get(saved.headers.location!);
    assertEscaped(listed.text, 'holiday list with its flash message');
    assertEscaped((await admin.get('/admin/holidays?year=2027&edit=2027-03-17')).text, 'holiday edit form');
    const badDay = await postForm(admin, '/admin/holidays', '/admin/holidays', { date: P, kind: P, name: P });
    assert.equal(badDay.status, 422);
    assertEscaped(badDay.text, 'holiday form sent back');

    const made = await postForm(agents.citizen!, '/account/tokens', '/account/tokens', { name: P });
    assert.equal(made.status, 201);
    assertEscaped(made.text, 'token page after making one');
    assertEscaped((await agents.citizen!.get('/account/tokens')).text, 'token list');

    const seal = (await t.deps
      .db('certificates as c')
      .join('agencies as a', 'a.id', 'c.agency_id')
      .where({ 'a.code': '000.20.21.H10', 'c.holder_kind': 'AGENCY' })
      .first('c.id')) as { id: number };
    const certPage = `/admin/certificates/${seal.id}`;
    const badRevoke = await postForm(admin, certPage, `${certPage}/revoke`, { reason: P });
    assert.equal(badRevoke.status, 422);
    assertEscaped(badRevoke.text, 'revocation form sent back');
    const revoked = await postForm(admin, certPage, `${certPage}/revoke`, { reason: P, confirm: 'yes' });
    assert.equal(revoked.status, 303);
    assertEscaped((await admin.get(certPage)).text, 'revoked certificate');
  });

  it('escapes what is reflected from the address and from forms that are sent back', async () => {
    const q = encodeURIComponent(P);
    const anonymous = request.agent(t.app);
    for (const url of [
      `/procedures?q=${q}`,
      `/lookup?code=${q}&secret=${q}`,
      `/stats?agency=${q}&from=${q}&to=${q}`,
    ])
      assertEscaped((await anonymous.get(url)).text, url);
    for (const url of [`/desk?q=${q}`, `/desk/stats?agency=${q}&from=${q}`])
      assertEscaped((await agents.reception!.get(url)).text, url);
    assertEscaped((await agents.systemAdmin!.get(`/admin/holidays?year=${q}`)).text, 'holiday year');
    assertNotRaw(
      (await agents.systemAdmin!.get(`/admin/certificates/import?holder=${q}`)).text,
      'import holder',
    );

    // Pages that do not echo the value must not carry it raw either.
    for (const url of [`/procedures/${q}`, `/${q}`, `/login?next=${q}`, `/verify/r/${q}`]) {
      const res = await anonymous.get(url);
      assert.ok(!res.text.includes(P), url);
      assert.doesNotMatch(res.text, /<script>alert|<img src=x/i, url);
    }
    const loginPage = await anonymous.get('/login');
    const failed = await anonymous
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(loginPage.text), email: P, password: 'x' });
    assert.equal(failed.status, 401);
    assertEscaped(failed.text, 'login form sent back');
    const claim = await postForm(agents.citizen!, '/my/claim', '/my/claim', { code: P, secret: P });
    assert.equal(claim.status, 422);
    assertEscaped(claim.text, 'claim form sent back');
    const contact = await postForm(agents.citizen!, '/account', '/account/contact', { phone: P });
    assert.equal(contact.status, 422);
    assertEscaped(contact.text, 'contact form sent back');
  });

  it('escapes what a signed PDF says about itself on the verification page', async () => {
    // Anyone can upload a PDF signed with a certificate they made: its names are the attacker's text.
    const ca = createRootCa({
      commonName: P,
      organization: P,
      country: 'VN',
      validFrom: new Date('2025-01-01T00:00:00Z'),
      validTo: new Date('2035-01-01T00:00:00Z'),
      keyType: 'RSA',
    });
    const leaf = issueCertificate(ca, {
      subject: { commonName: P, organization: P, title: P, country: 'VN' },
      kind: 'PERSONAL',
      validFrom: new Date('2026-01-01T00:00:00Z'),
      validTo: new Date('2028-01-01T00:00:00Z'),
      keyType: 'RSA',
    });
    const unsigned = await new Promise<Buffer>((resolve, reject) => {
      const doc = new PDFDocument({ size: 'A4' });
      registerFonts(doc);
      const chunks: Buffer[] = [];
      doc.on('data', (c: Buffer) => chunks.push(c));
      doc.on('end', () => resolve(Buffer.concat(chunks)));
      doc.on('error', reject);
      doc.font('serif').fontSize(12).text('Van ban', 72, 72);
      doc.end();
    });
    const signed = await signPdf(unsigned, {
      signer: new ServerKeySigner(leaf.certificatePem, leaf.chainPem, createPrivateKey(leaf.privateKeyPem)),
      signingTime: new Date('2026-06-15T03:00:00Z'),
      fieldName: 'ChuKy',
      reason: P,
      widgets: [
        {
          pageIndex: 0,
          rect: [320, 80, 520, 150],
          items: [{ kind: 'text', x: 6, y: 30, size: 9, text: 'x' }],
        },
      ],
    });
    const anonymous = request.agent(t.app);
    const form = await anonymous.get('/verify');
    const res = await anonymous
      .post('/verify')
      .field('_csrf', csrfFrom(form.text))
      .attach('file', signed, FILE_NAME);
    assert.equal(res.status, 200);
    assertEscaped(res.text, 'signer shown by the verification page');
    const api = await request(t.app).post('/api/v1/verify').attach('file', signed, 'x.pdf');
    assert.equal(api.status, 200);
    assert.match(api.headers['content-type'] ?? '', /application\/json/);
    assert.equal(api.body.signatures[0].signer.commonName, P, 'JSON carries the text as it is');
  });
});
