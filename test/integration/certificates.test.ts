import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { formatDateTime } from '../../src/i18n/messages';
import { projectRoot } from '../../src/paths';
import { CertificateUnusableError, WrongPinCountedError } from '../../src/services/pkiService';
import { type CaMaterial, createRootCa, issueCertificate } from '../../src/signing/certificateAuthority';
import { writePkcs12 } from '../../src/signing/pkcs12';
import { type Agent, login, postForm, startTestApp, type TestApp, tokenFor } from '../helpers/testApp';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const P12_PASSWORD = 'Tep-P12@2026';
const NEW_PIN = '246810';

/** Every file under a folder, so a test can tell that a refused upload left nothing behind. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

describe('administrators manage the signing certificates', () => {
  let t: TestApp;
  let bqlId: number;
  let stpId: number;
  let specialistId: number;
  let approverTpId: number;

  before(async () => {
    t = await startTestApp();
    bqlId = (await t.deps.repos.agencies.findByCode('000.00.12.H10'))!.id;
    stpId = (await t.deps.repos.agencies.findByCode('000.00.15.H10'))!.id;
    specialistId = (await t.deps.repos.users.findByEmail('specialist@demo.gov.vn'))!.id;
    approverTpId = (await t.deps.repos.users.findByEmail('approver.tp@demo.gov.vn'))!.id;
  });
  after(() => t.close());

  const localCa = (): CaMaterial => t.deps.pki.ensureLocalCa();

  /** A PKCS#12 file as a CA hands it out: the certificate, its chain and the key, under a password. */
  const p12 = (
    opts: { ca?: CaMaterial; commonName?: string; validFrom?: Date; validTo?: Date; password?: string } = {},
  ) => {
    const now = t.clock.now();
    const issued = issueCertificate(opts.ca ?? localCa(), {
      subject: {
        commonName: opts.commonName ?? 'Phạm Minh Đức',
        organization: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
        title: 'Chuyên viên Phòng Quản lý lao động',
        country: 'VN',
      },
      kind: 'PERSONAL',
      validFrom: opts.validFrom ?? new Date(now.getTime() - HOUR),
      validTo: opts.validTo ?? new Date(now.getTime() + 365 * DAY),
      keyType: 'ECDSA_P256',
    });
    return writePkcs12({ ...issued, password: opts.password ?? P12_PASSWORD, friendlyName: 'test' });
  };

  const certificateCount = async () => Number((await t.deps.db('certificates').count({ n: '*' }))[0]!.n);
  const auditCount = async (action: string) =>
    Number((await t.deps.db('audit_log').where({ action }).count({ n: '*' }))[0]!.n);

  /** Posts the import form as a browser does: the token first, then the fields, the file last. */
  const postImport = async (
    agent: Agent,
    fields: { holder?: string; password?: string; pin?: string; pinConfirm?: string },
    file?: { data: Buffer; name: string },
    token?: string | null,
  ) => {
    const csrf = token === undefined ? await tokenFor(agent, '/admin/certificates/import') : token;
    const req = agent.post('/admin/certificates/import');
    if (csrf !== null) req.field('_csrf', csrf);
    const all = { holder: `user:${specialistId}`, password: P12_PASSWORD, pin: NEW_PIN, pinConfirm: NEW_PIN };
    for (const [k, v] of Object.entries({ ...all, ...fields })) req.field(k, v);
    if (file) req.attach('file', file.data, file.name);
    return req;
  };

  const nothingStored = async (before: { certificates: number; added: number }) => {
    assert.equal(await certificateCount(), before.certificates, 'no certificate stored');
    assert.equal(await auditCount('CERTIFICATE_ADDED'), before.added, 'nothing audited');
  };
  const counts = async () => ({
    certificates: await certificateCount(),
    added: await auditCount('CERTIFICATE_ADDED'),
  });

  it('lists the demo certificates with their holders, issuer and validity in Vietnam time', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const res = await admin.get('/admin/certificates');
    assert.equal(res.status, 200);
    assert.match(res.text, /<a href="\/admin\/certificates" aria-current="page">Chứng thư số<\/a>/);
    assert.match(res.text, /<td>Hoàng Văn Thắng \(approver@demo\.gov\.vn\)<\/td>\s*<td>Cá nhân<\/td>/);
    assert.match(res.text, /<td>Đặng Thị Mai \(approver\.tp@demo\.gov\.vn\)<\/td>/);
    assert.match(
      res.text,
      /<td>Ban Quản lý các khu công nghiệp tỉnh Bắc Giang<\/td>\s*<td>Cơ quan \(con dấu\)<\/td>/,
    );
    assert.match(res.text, /<td>Cổng Dịch vụ công Bắc Giang - CA thử nghiệm<\/td>/);
    assert.match(res.text, /Đang hoạt động/);
    assert.doesNotMatch(res.text, /id="expiring-banner"/, 'nothing expires soon');
    assert.doesNotMatch(res.text, /<script|style="/, 'no inline script or style');

    const seal = await t.deps.db('certificates').where({ holder_kind: 'AGENCY', agency_id: bqlId }).first();
    const notAfter = (await t.deps.pki.get(Number(seal.id))).notAfter;
    assert.ok(res.text.includes(`<td>${formatDateTime('vi', notAfter)}</td>`), 'valid-to in Vietnam time');
    assert.ok(res.text.includes(seal.serial_number));

    const demo = await t.deps.db('certificates').count({ n: '*' });
    assert.equal(
      res.text.match(/<a href="\/admin\/certificates\/\d+">Chi tiết/g)?.length,
      Number(demo[0]!.n),
      'a system administrator sees every certificate',
    );
  });

  it('shows an agency administrator only the certificates of their agency and its officers', async () => {
    const agencyAdmin = await login(t.app, 'agencyadmin@demo.gov.vn');
    const res = await agencyAdmin.get('/admin/certificates');
    assert.equal(res.status, 200);
    assert.match(res.text, /Hoàng Văn Thắng/);
    assert.match(res.text, /<td>Ban Quản lý các khu công nghiệp tỉnh Bắc Giang<\/td>/);
    assert.doesNotMatch(res.text, /Đặng Thị Mai|Sở Tư pháp|Tân Dĩnh/);

    const form = await agencyAdmin.get('/admin/certificates/import');
    assert.equal(form.status, 200);
    assert.match(form.text, new RegExp(`<option value="user:${specialistId}"`));
    assert.match(form.text, new RegExp(`<option value="agency:${bqlId}"`));
    assert.doesNotMatch(form.text, new RegExp(`value="user:${approverTpId}"|value="agency:${stpId}"`));
    assert.match(form.text, /enctype="multipart\/form-data"/);
    assert.match(form.text, /USB token/, 'the PIN is explained as a token PIN');
  });

  it('keeps citizens and other officers out', async () => {
    for (const email of ['citizen@demo.gov.vn', 'clerk@demo.gov.vn', 'approver@demo.gov.vn']) {
      const agent = await login(t.app, email);
      assert.equal((await agent.get('/admin/certificates')).status, 403, email);
      assert.equal((await agent.get('/admin/certificates/import')).status, 403, email);
    }
    const anonymous = await request(t.app).get('/admin/certificates');
    assert.equal(anonymous.status, 303);
    assert.match(anonymous.headers.location as string, /^\/login\?next=/);
  });

  it('imports a PKCS#12 file for the specialist, sealed with the new PIN, and audits it', async () => {
    const agencyAdmin = await login(t.app, 'agencyadmin@demo.gov.vn');
    const papersBefore = filesUnder(t.deps.files.papers.root);
    const file = p12();
    const res = await postImport(agencyAdmin, {}, { data: file, name: 'pham-minh-duc.p12' });
    assert.equal(res.status, 303, res.text);
    const id = Number(/^\/admin\/certificates\/(\d+)$/.exec(res.headers.location as string)?.[1]);
    assert.ok(id > 0);

    const page = await agencyAdmin.get(`/admin/certificates/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Đã nhập chứng thư số “Phạm Minh Đức” cho Phạm Minh Đức\./);
    assert.match(page.text, /CN=Phạm Minh Đức/);
    assert.match(page.text, /Cổng Dịch vụ công Bắc Giang - CA thử nghiệm/);
    assert.match(page.text, /Chứng thư số gốc/, 'the chain reaches the root');

    const row = await t.deps.db('certificates').where({ id }).first();
    assert.equal(row.holder_kind, 'PERSONAL');
    assert.equal(Number(row.user_id), specialistId);
    assert.equal(row.status, 'ACTIVE');
    assert.doesNotMatch(row.sealed_key, /PRIVATE KEY/, 'the key is stored sealed');
    const fingerprint = (row.fingerprint as string).toUpperCase().match(/.{2}/g)!;
    assert.ok(page.text.includes(fingerprint.slice(0, 8).join(':')), 'SHA-256 fingerprint shown');

    const audit = await t.deps
      .db('audit_log')
      .where({ action: 'CERTIFICATE_ADDED', subject_type: 'certificate', subject_id: String(id) })
      .first();
    assert.equal(audit.actor_email, 'agencyadmin@demo.gov.vn');
    assert.deepEqual(filesUnder(t.deps.files.papers.root), papersBefore, 'the file was never stored');

    // The holder signs with the PIN chosen at import, and only with it.
    const stored = await t.deps.pki.get(id);
    const signer = await t.deps.pki.openSigner(stored, NEW_PIN);
    assert.ok((await signer.sign(Buffer.from('x'))).length > 0);
    await assert.rejects(t.deps.pki.openSigner(stored, '999999'), WrongPinCountedError);
    await t.deps.repos.certificates.resetPinCount(id);

    const list = await agencyAdmin.get('/admin/certificates');
    assert.match(list.text, /<td>Phạm Minh Đức \(specialist@demo\.gov\.vn\)<\/td>/);

    // The same certificate again is refused, and nothing is added.
    const before = await counts();
    const again = await postImport(agencyAdmin, {}, { data: file, name: 'pham-minh-duc.p12' });
    assert.equal(again.status, 422);
    assert.match(again.text, /id="file-error">Chứng thư số này đã có trên Cổng/);
    await nothingStored(before);
  });

  it('refuses a wrong file password with a clear message, echoes no secret and stores nothing', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const before = await counts();
    const res = await postImport(
      admin,
      { password: 'sai-mat-khau', pin: '135790', pinConfirm: '135790' },
      { data: p12({ commonName: 'Phạm Minh Đức B' }), name: 'duc.pfx' },
    );
    assert.equal(res.status, 422);
    assert.match(res.text, /id="password-error">Mật khẩu của tệp không đúng/);
    assert.match(res.text, /class="error-summary"/);
    assert.match(
      res.text,
      new RegExp(`<option value="user:${specialistId}" selected>`),
      'the holder is kept',
    );
    assert.doesNotMatch(res.text, /sai-mat-khau|135790/, 'neither password nor PIN comes back');
    await nothingStored(before);
  });

  it('refuses a damaged file', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const before = await counts();
    const good = p12({ commonName: 'Phạm Minh Đức C' });
    for (const data of [Buffer.from('không phải tệp PKCS#12'), good.subarray(0, good.length / 2)]) {
      const res = await postImport(admin, {}, { data, name: 'hong.p12' });
      assert.equal(res.status, 422);
      assert.match(res.text, /id="file-error">Tệp không đọc được/);
    }
    await nothingStored(before);
  });

  it('refuses a certificate from a CA the portal does not trust, and an expired one', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const before = await counts();
    const now = t.clock.now();
    const ownRoot = createRootCa({
      commonName: 'CA tự lập',
      organization: 'Không ai tin',
      country: 'VN',
      validFrom: new Date(now.getTime() - DAY),
      validTo: new Date(now.getTime() + 3650 * DAY),
      keyType: 'ECDSA_P256',
    });
    const untrusted = await postImport(admin, {}, { data: p12({ ca: ownRoot }), name: 'tu-lap.p12' });
    assert.equal(untrusted.status, 422);
    assert.match(untrusted.text, /id="file-error">Chứng thư số không do tổ chức/);

    const expired = p12({
      commonName: 'Phạm Minh Đức D',
      validFrom: new Date(now.getTime() - 20 * HOUR),
      validTo: new Date(now.getTime() - HOUR),
    });
    const res = await postImport(admin, {}, { data: expired, name: 'het-han.p12' });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="file-error">Chứng thư số trong tệp đã hết hạn/);
    await nothingStored(before);
  });

  it('shows every problem of the form at once: holder, file, password, PIN mismatch', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const before = await counts();
    const res = await postImport(admin, { holder: '', password: '', pin: '123456', pinConfirm: '654321' });
    assert.equal(res.status, 422);
    assert.match(res.text, /id="holder-error">Vui lòng chọn cán bộ hoặc cơ quan/);
    assert.match(res.text, /id="file-error">Vui lòng chọn tệp chứng thư số/);
    assert.match(res.text, /id="password-error">Vui lòng nhập mật khẩu của tệp/);
    assert.match(res.text, /id="pinConfirm-error">Hai mã PIN không khớp nhau/);

    const short = await postImport(
      admin,
      { pin: '12345', pinConfirm: '12345' },
      { data: p12({ commonName: 'Phạm Minh Đức E' }), name: 'e.p12' },
    );
    assert.equal(short.status, 422);
    assert.match(short.text, /id="pin-error">Mã PIN phải có ít nhất 6 ký tự/);

    const tooBig = await postImport(admin, {}, { data: Buffer.alloc(150 * 1024, 1), name: 'lon.p12' });
    assert.equal(tooBig.status, 413);
    assert.match(tooBig.text, /id="file-error">Tệp chứng thư số không được lớn hơn 100 KB/);
    await nothingStored(before);
  });

  it('refuses an import without a valid CSRF token before reading the file', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const before = await counts();
    const file = { data: p12({ commonName: 'Phạm Minh Đức F' }), name: 'f.p12' };
    const missing = await postImport(admin, {}, file, null);
    assert.equal(missing.status, 403);
    const wrong = await postImport(admin, {}, file, 'x'.repeat(64));
    assert.equal(wrong.status, 403);
    await nothingStored(before);
  });

  it('does not let an agency administrator see, revoke or give certificates of another agency', async () => {
    const agencyAdmin = await login(t.app, 'agencyadmin@demo.gov.vn');
    const other = await t.deps
      .db('certificates')
      .where({ holder_kind: 'PERSONAL', user_id: approverTpId })
      .first();
    const otherSeal = await t.deps
      .db('certificates')
      .where({ holder_kind: 'AGENCY', agency_id: stpId })
      .first();
    for (const c of [other, otherSeal]) {
      assert.equal((await agencyAdmin.get(`/admin/certificates/${c.id}`)).status, 404);
      const res = await postForm(agencyAdmin, '/admin/certificates', `/admin/certificates/${c.id}/revoke`, {
        reason: 'Thử thu hồi',
        confirm: 'yes',
      });
      assert.equal(res.status, 404);
      assert.equal((await t.deps.db('certificates').where({ id: c.id }).first()).status, 'ACTIVE');
    }
    const before = await counts();
    for (const holder of [`user:${approverTpId}`, `agency:${stpId}`]) {
      const res = await postImport(
        agencyAdmin,
        { holder },
        { data: p12({ commonName: 'Đặng Thị Mai' }), name: 'mai.p12' },
      );
      assert.equal(res.status, 422);
      assert.match(res.text, /id="holder-error">/);
    }
    await nothingStored(before);
  });

  it('revokes a certificate with a reason and a confirmation; it is audited and signs no more', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const row = await t.deps
      .db('certificates')
      .where({ holder_kind: 'PERSONAL', user_id: approverTpId })
      .first();
    const id = Number(row.id);
    const page = await admin.get(`/admin/certificates/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Thu hồi chứng thư số/);
    assert.match(page.text, /Dấu vân tay SHA-256/);

    const incomplete = await postForm(
      admin,
      `/admin/certificates/${id}`,
      `/admin/certificates/${id}/revoke`,
      {
        reason: '  ',
      },
    );
    assert.equal(incomplete.status, 422);
    assert.match(incomplete.text, /id="reason-error">Vui lòng nhập lý do thu hồi/);
    assert.match(incomplete.text, /id="confirm-error">Vui lòng đánh dấu xác nhận/);
    assert.equal((await t.deps.pki.get(id)).status, 'ACTIVE');

    const res = await postForm(admin, `/admin/certificates/${id}`, `/admin/certificates/${id}/revoke`, {
      reason: 'Cán bộ chuyển công tác',
      confirm: 'yes',
    });
    assert.equal(res.status, 303);
    const after = await admin.get(`/admin/certificates/${id}`);
    assert.match(after.text, /Đã thu hồi chứng thư số “Đặng Thị Mai”/);
    assert.match(after.text, /Cán bộ chuyển công tác/);
    assert.doesNotMatch(
      after.text,
      /action="\/admin\/certificates\/\d+\/revoke"/,
      'no second revocation form',
    );

    const stored = await t.deps.pki.get(id);
    assert.equal(stored.status, 'REVOKED');
    assert.equal(stored.revokedReason, 'Cán bộ chuyển công tác');
    const audit = await t.deps
      .db('audit_log')
      .where({ action: 'CERTIFICATE_REVOKED', subject_type: 'certificate', subject_id: String(id) })
      .first();
    assert.equal(audit.actor_email, 'admin@demo.gov.vn');
    await assert.rejects(
      t.deps.pki.openSigner(stored, '123456'),
      (err: unknown) => err instanceof CertificateUnusableError && err.reason === 'REVOKED',
    );

    const again = await postForm(admin, '/admin/certificates', `/admin/certificates/${id}/revoke`, {
      reason: 'Lần hai',
      confirm: 'yes',
    });
    assert.equal(again.status, 409);
    assert.match(again.text, /đã được thu hồi trước đó/);
    assert.equal(await auditCount('CERTIFICATE_REVOKED'), 1);

    const list = await admin.get('/admin/certificates');
    assert.match(list.text, /<tr class="urgency-overdue">\s*<td>Đặng Thị Mai[^<]*<\/td>[\s\S]*?⚠ Đã thu hồi/);
  });

  it('warns about certificates that expire within 30 days, have expired, or have a locked PIN', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const seal = await t.deps.db('certificates').where({ holder_kind: 'AGENCY', agency_id: bqlId }).first();
    const notAfter = (await t.deps.pki.get(Number(seal.id))).notAfter;
    const start = t.clock.now();
    try {
      await t.deps
        .db('certificates')
        .where({ id: seal.id })
        .update({ locked_until: new Date(start.getTime() + 15 * 60_000) });
      const locked = await admin.get('/admin/certificates');
      assert.match(locked.text, /Đã khoá PIN đến/);

      t.clock.set(new Date(notAfter.getTime() - 10 * DAY));
      const soon = await admin.get('/admin/certificates');
      assert.match(soon.text, /id="expiring-banner"/);
      assert.match(soon.text, /chứng thư số sẽ hết hạn trong 30 ngày tới/);
      assert.match(soon.text, /⚠ Sắp hết hạn/);

      t.clock.set(new Date(notAfter.getTime() + DAY));
      const expired = await admin.get('/admin/certificates');
      assert.match(expired.text, /⚠ Đã hết hạn/);
      assert.match(expired.text, /đã hết hạn/);
    } finally {
      t.clock.set(start);
      await t.deps.repos.certificates.resetPinCount(Number(seal.id));
    }
  });

  it('issues, lists and revokes certificates from the command line', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(projectRoot, 'src/cli/portal.ts'), 'pki', ...args],
        { env: { ...process.env, ...t.database.env(env) }, encoding: 'utf8' },
      );
    const init = cli(['init-ca']);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /Local CA already present/, 'the demo seed made it');

    const refused = cli(['issue', '--agency', '000.00.00.H10'], {
      NODE_ENV: 'production',
      SESSION_SECRET: 'a'.repeat(40),
      SIGNING_PIN: '314159',
    });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /not for production/);

    const noPin = cli(['issue', '--agency', '000.00.00.H10']);
    assert.equal(noPin.status, 2);
    assert.match(noPin.stderr, /SIGNING_PIN/);

    const issued = cli(
      ['issue', '--agency', '000.00.00.H10', '--pin-env', 'SEAL_PIN', '--key-type', 'ECDSA_P256'],
      {
        SEAL_PIN: '314159',
      },
    );
    assert.equal(issued.status, 0, issued.stderr);
    const id = Number(/Issued certificate #(\d+)/.exec(issued.stdout)?.[1]);
    const stored = await t.deps.pki.get(id);
    assert.equal(stored.holderKind, 'AGENCY');
    assert.equal(stored.commonName, 'Ủy ban nhân dân tỉnh Bắc Giang');
    await t.deps.pki.openSigner(stored, '314159');

    const list = cli(['list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(
      list.stdout,
      new RegExp(`^#${id}\\tAGENCY\\t000\\.00\\.00\\.H10\\tỦy ban nhân dân tỉnh Bắc Giang\\t`, 'm'),
    );

    const revoked = cli(['revoke', '--id', String(id), '--reason', 'Thử nghiệm']);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.equal((await t.deps.pki.get(id)).status, 'REVOKED');
    const twice = cli(['revoke', '--id', String(id), '--reason', 'Thử nghiệm']);
    assert.equal(twice.status, 2);

    const dir = fs.mkdtempSync(path.join(t.database.storageDir, 'p12-'));
    const file = path.join(dir, 'duc.p12');
    fs.writeFileSync(file, p12({ commonName: 'Phạm Minh Đức CLI' }));
    const wrong = cli(['import', '--email', 'specialist@demo.gov.vn', '--file', file], {
      PKCS12_PASSWORD: 'sai',
      SIGNING_PIN: NEW_PIN,
    });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /PKCS12_WRONG_PASSWORD/);
    const imported = cli(['import', '--email', 'specialist@demo.gov.vn', '--file', file], {
      PKCS12_PASSWORD: P12_PASSWORD,
      SIGNING_PIN: NEW_PIN,
    });
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(
      imported.stdout,
      /Imported certificate #\d+ for specialist@demo\.gov\.vn: Phạm Minh Đức CLI/,
    );
  });
});
