import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { filePermitByApi, samplePdf, sendDossierForm, WORK_DEMAND } from '../helpers/fixtures';

export { WORK_DEMAND };
import { type Agent, DEMO_PASSWORD, login, type TestApp } from '../helpers/testApp';

// Shared by the security tests: who is who, a set of real dossiers in known states, and the means to
// prove that a refused request changed nothing (database rows and files under the storage folder).

/** Monday 23 November 2026, 09:00 in Vietnam. */
export const MONDAY_9AM = '2026-11-23T02:00:00.000Z';
export const PIN = '123456';

export const ROLES = [
  'anonymous',
  'citizen',
  'business',
  'reception',
  'specialist',
  'approver',
  'clerk',
  'agencyAdmin',
  'systemAdmin',
  'otherOfficer',
] as const;
export type Role = (typeof ROLES)[number];
export type SignedInRole = Exclude<Role, 'anonymous'>;

/** The demo account of each role. The officer of another agency is the commune's reception officer, so
 * that the commune's dossier shows the same officer allowed where the demo agency's is refused. */
export const EMAILS: Record<SignedInRole, string> = {
  citizen: 'citizen@demo.gov.vn',
  business: 'business@demo.gov.vn',
  reception: 'reception@demo.gov.vn',
  specialist: 'specialist@demo.gov.vn',
  approver: 'approver@demo.gov.vn',
  clerk: 'clerk@demo.gov.vn',
  agencyAdmin: 'agencyadmin@demo.gov.vn',
  systemAdmin: 'admin@demo.gov.vn',
  otherOfficer: 'reception.xa@demo.gov.vn',
};

/** The officers of the demo agency (Ban Quản lý các khu công nghiệp) that use the desk. */
export const DEMO_DESK: readonly Role[] = ['reception', 'specialist', 'approver', 'clerk', 'agencyAdmin'];

export const CIVIL_EXTRACT: Readonly<Record<string, string>> = {
  extractType: 'BIRTH',
  subjectName: 'Nguyễn Văn An',
  subjectBirthDate: '1990-04-12',
  relationship: 'SELF',
  copies: '1',
  purpose: 'Bổ sung hồ sơ xin việc',
};

export async function apiToken(app: Express, email: string, password = DEMO_PASSWORD): Promise<string> {
  const res = await request(app).post('/api/v1/tokens').send({ email, password });
  assert.equal(res.status, 201, `token of ${email}: ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Runs a workflow action through the API and insists that it worked. */
export async function act(
  app: Express,
  token: string,
  code: string,
  action: string,
  body: Record<string, unknown> = {},
): Promise<void> {
  const res = await request(app)
    .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/${action}`)
    .set(bearer(token))
    .send(body);
  assert.equal(res.status, 200, `${action} on ${code}: ${JSON.stringify(res.body)}`);
}

export async function userId(t: TestApp, email: string): Promise<number> {
  const row = (await t.deps.db('users').where({ email }).first()) as { id: number } | undefined;
  assert.ok(row, email);
  return Number(row.id);
}

/** Files the demand approval (BQL-LD-01) through the API: a dossier of the demo agency, SUBMITTED. */
export async function fileDemandByApi(
  app: Express,
  token: string,
  fields: Readonly<Record<string, string>> = WORK_DEMAND,
): Promise<string> {
  const req = request(app).post('/api/v1/dossiers').set(bearer(token)).field('procedure', 'BQL-LD-01');
  for (const [k, v] of Object.entries(fields)) req.field(k, v);
  const res = await req.attach('demand-report', samplePdf('Bao cao giai trinh'), 'bao-cao.pdf');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.code as string;
}

/** Files the commune's civil-status extract (XA-HT-01) as the demo citizen, with one paper. */
export async function fileExtractByApi(app: Express, token: string): Promise<string> {
  const req = request(app).post('/api/v1/dossiers').set(bearer(token)).field('procedure', 'XA-HT-01');
  for (const [k, v] of Object.entries(CIVIL_EXTRACT)) req.field(k, v);
  const res = await req.attach('authorisation', samplePdf('Giay uy quyen'), 'uy-quyen.pdf');
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.code as string;
}

export interface Scenario {
  tokens: Record<SignedInRole, string>;
  /** A work permit of the demo agency, filed by the demo business: supplement asked and sent, extended,
   * approved, signed and sealed (RESULT_READY), with its released result. */
  permit: { code: string; secret: string; fileId: number; publicId: string };
  /** A demand approval of the demo agency, just SUBMITTED. */
  demand: { code: string };
  /** The commune's civil-status extract of the demo citizen, SUPPLEMENT_REQUESTED by the commune. */
  extract: { code: string; secret: string; fileId: number };
  /** A draft of the demo business, with one paper. */
  draft: { id: number; fileId: number };
  /** A personal access token of the citizen that the revoke route may take away. */
  citizenSpareTokenId: number;
  specialistId: number;
  /** An officer of the commune, which the demo agency's administrator does not manage. */
  communeOfficerId: number;
  demoSealId: number;
  communeSealId: number;
}

/** Builds the dossiers the security tests need, through the API as a client system would. */
export async function buildScenario(t: TestApp, businessAgent?: Agent): Promise<Scenario> {
  const { app } = t;
  const tokens = {} as Record<SignedInRole, string>;
  for (const role of Object.keys(EMAILS) as SignedInRole[]) tokens[role] = await apiToken(app, EMAILS[role]);
  const specialistId = await userId(t, EMAILS.specialist);

  const permit = await filePermitByApi(app, tokens.business);
  await act(app, tokens.reception, permit, 'accept');
  await act(app, tokens.reception, permit, 'assign', { assignee: specialistId });
  await act(app, tokens.specialist, permit, 'request_supplement', {
    reason: 'Bản sao hộ chiếu bị mờ.',
    papers: ['passport'],
  });
  const resubmit = await request(app)
    .post(`/api/v1/dossiers/${encodeURIComponent(permit)}/actions/resubmit`)
    .set(bearer(tokens.business))
    .attach('passport', samplePdf('Ho chieu ro net'), 'ho-chieu.pdf');
  assert.equal(resubmit.status, 200, JSON.stringify(resubmit.body));
  await act(app, tokens.reception, permit, 'extend', {
    reason: 'Chờ ý kiến cơ quan công an.',
    newDueDate: '2026-12-11',
  });
  await act(app, tokens.specialist, permit, 'propose_approval');
  await act(app, tokens.approver, permit, 'approve', { pin: PIN });
  await act(app, tokens.clerk, permit, 'release', { pin: PIN });
  const permitRow = (await t.deps.repos.dossiers.findByCode(permit))!;
  const permitFile = (await t.deps.repos.dossiers.files(permitRow.id))[0]!;
  const result = (await t.deps.repos.results.latestForDossier(permitRow.id))!;
  assert.equal(result.status, 'ISSUED');

  const demand = await fileDemandByApi(app, tokens.business);

  const extract = await fileExtractByApi(app, tokens.citizen);
  await act(app, tokens.otherOfficer, extract, 'request_supplement', {
    reason: 'Đề nghị nộp văn bản ủy quyền có chứng thực.',
    papers: ['authorisation'],
  });
  const extractRow = (await t.deps.repos.dossiers.findByCode(extract))!;
  const extractFile = (await t.deps.repos.dossiers.files(extractRow.id))[0]!;

  const agent = businessAgent ?? (await login(app, EMAILS.business));
  const saved = await sendDossierForm(
    agent,
    '/procedures/BQL-LD-01/file',
    { jobTitle: 'Bản nháp' },
    [{ field: 'demand-report', name: 'nhap.pdf', content: samplePdf('Ban nhap') }],
    { intent: 'draft' },
  );
  assert.equal(saved.status, 303, saved.text);
  const draftId = Number(/^\/my\/drafts\/(\d+)$/.exec(saved.headers.location ?? '')?.[1]);
  assert.ok(draftId > 0, saved.headers.location);
  const draftFile = (await t.deps.repos.dossiers.files(draftId))[0]!;

  const citizen = (await t.deps.accounts.activeUser(await userId(t, EMAILS.citizen)))!;
  const spare = await t.deps.apiTokens.issue(
    citizen,
    { name: 'Máy tính cũ' },
    { ip: '127.0.0.1', userAgent: null },
  );

  const sealOf = async (agencyCode: string) => {
    const row = (await t.deps
      .db('certificates as c')
      .join('agencies as a', 'a.id', 'c.agency_id')
      .where({ 'a.code': agencyCode, 'c.holder_kind': 'AGENCY' })
      .first('c.id')) as { id: number } | undefined;
    assert.ok(row, `a seal of ${agencyCode}`);
    return Number(row.id);
  };

  return {
    tokens,
    permit: {
      code: permit,
      secret: permitRow.secret!,
      fileId: Number(permitFile.id),
      publicId: result.publicId,
    },
    demand: { code: demand },
    extract: { code: extract, secret: extractRow.secret!, fileId: Number(extractFile.id) },
    draft: { id: draftId, fileId: Number(draftFile.id) },
    citizenSpareTokenId: Number(spare.record.id),
    specialistId,
    communeOfficerId: await userId(t, 'approver.xa@demo.gov.vn'),
    demoSealId: await sealOf('000.00.12.H10'),
    communeSealId: await sealOf('000.20.21.H10'),
  };
}

/** Every table but the session store (every request moves a session's expiry), as one fingerprint per
 * table, so that a refused request can be shown to have changed no row anywhere. */
export async function databaseFingerprint(t: TestApp): Promise<Record<string, string>> {
  const tables = [
    'agencies',
    'users',
    'user_roles',
    'login_attempts',
    'audit_log',
    'audit_chain_head',
    'holidays',
    'procedures',
    'procedure_versions',
    'dossiers',
    'dossier_files',
    'dossier_events',
    'dossier_counters',
    'api_tokens',
    'notifications',
    'outbox',
    'certificates',
    'results',
    'document_counters',
    'ratings',
    'statistics_daily',
  ];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const rows = (await t.deps.db(table).select('*')) as Record<string, unknown>[];
    const lines = rows.map((r) => JSON.stringify(r)).sort();
    out[table] = `${rows.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}

export async function rowCounts(t: TestApp, tables: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    const row = (await t.deps.db(table).count({ n: '*' }).first()) as { n: number | string };
    out[table] = Number(row.n);
  }
  return out;
}

/** Every file under the storage folder except the SQLite database and its journals. */
export function storedFiles(t: TestApp): string[] {
  const root = t.database.storageDir;
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (!/^portal\.sqlite/.test(e.name)) out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

/** Signs every demo account in through the login form, one agent per role. */
export async function signInAll(app: Express): Promise<Record<SignedInRole, Agent>> {
  const agents = {} as Record<SignedInRole, Agent>;
  for (const role of Object.keys(EMAILS) as SignedInRole[]) agents[role] = await login(app, EMAILS[role]);
  return agents;
}

/** A response body as bytes (PDFs, CSV), whatever its content type. */
export function binary(req: request.Test): request.Test {
  return req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
}

/** 'METHOD /path' of every route the app answers, read from its router (nested routers included). */
export function enumerateRoutes(app: Express): string[] {
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
    rawPath?: string;
    slash?: boolean;
  }
  const found = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods))
          found.add(`${m.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack, prefix + (layer.slash ? '' : (layer.rawPath ?? '')));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...found].sort();
}
