import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Agent, csrfFrom, postForm, TestDatabase } from '../helpers/testApp';
import { inspect } from './checks';
import { actAt, apiToken, filePermitAt, loginAt, PortalProcess } from './portalProcess';

const OFFICERS = 20;
const PASSWORD = 'Mot-Cua@2026x';

describe('twenty officers acting on one dossier at the same moment', () => {
  let database: TestDatabase;
  let portal: PortalProcess;
  let inspector: Awaited<ReturnType<typeof inspect>>;
  /** The demo reception officer and nineteen colleagues of the same agency. */
  const emails = [
    'reception@demo.gov.vn',
    ...Array.from({ length: OFFICERS - 1 }, (_, i) => `mot-cua-${i + 1}@bqlkcn.example.vn`),
  ];
  let business: string;
  before(async () => {
    database = await TestDatabase.create();
    portal = await PortalProcess.start({ database });
    inspector = await inspect(database);
    const agency = (await inspector.repos.agencies.findByCode('000.00.12.H10'))!;
    const admin = await loginAt(portal.url, 'admin@demo.gov.vn');
    for (const email of emails.slice(1)) {
      const res = await postForm(admin, '/admin/officers/new', '/admin/officers', {
        fullName: 'Cán bộ Một Cửa',
        email,
        position: 'Chuyên viên',
        phone: '',
        agencyId: String(agency.id),
        roles: ['RECEPTION'],
        password: PASSWORD,
        passwordConfirm: PASSWORD,
      });
      assert.equal(res.status, 303, res.text.slice(0, 2000));
    }
    business = await apiToken(portal.url, 'business@demo.gov.vn');
  });
  after(async () => {
    await inspector?.close();
    await portal?.kill('SIGKILL');
    await database?.drop();
  });

  const password = (email: string) => (email.endsWith('@demo.gov.vn') ? undefined : PASSWORD);
  const fileOne = async (key: string) => {
    const res = await filePermitAt(portal.url, business, key);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.code as string;
  };

  /** One transition on record: the dossier moved once, with one event, one audit record, one notice. */
  const assertOneTransition = async (code: string, action: string, version: number) => {
    const d = (await inspector.repos.dossiers.findByCode(code))!;
    assert.equal(d.version, version, `version of ${code}`);
    const events = (await inspector.repos.dossiers.events(d.id)).filter((e) => e.action === action);
    assert.equal(events.length, 1, `${action} events of ${code}`);
    const audit = await inspector
      .db('audit_log')
      .where({ action: `DOSSIER_${action.toUpperCase()}`, subject_id: code });
    assert.equal(audit.length, 1, `${action} audit records of ${code}`);
    const outbox = await inspector.db('outbox').where('dedupe_key', 'like', `dossier:${d.id}:v${version}:%`);
    assert.equal(outbox.length, 1, `notices of ${code} v${version}`);
    assert.equal((await inspector.repos.audit.verifyChain()).ok, true);
    return d;
  };

  it('lets one of twenty officers at the desk accept it; the others get 409', async () => {
    const code = await fileOne('desk-race');
    const page = `/desk/dossiers/${encodeURIComponent(code)}`;
    const officers: Agent[] = await Promise.all(emails.map((e) => loginAt(portal.url, e, password(e))));
    // Each has the dossier open, with the form's CSRF token and the version they saw.
    const forms = await Promise.all(
      officers.map(async (agent) => {
        const html = (await agent.get(page)).text;
        const version = /name="version" value="(\d+)"/.exec(html)?.[1];
        assert.equal(version, '1');
        return { agent, csrf: csrfFrom(html), version };
      }),
    );
    const answers = await Promise.all(
      forms.map(({ agent, csrf, version }) =>
        agent.post(`${page}/actions/accept`).type('form').send({ _csrf: csrf, version }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(
      statuses,
      [303, ...Array<number>(OFFICERS - 1).fill(409)],
      `${statuses.join(',')}\n${portal.logs()}`,
    );
    for (const r of answers.filter((a) => a.status === 409)) {
      assert.match(r.text, /Dữ liệu đã được người khác thay đổi/);
    }
    const d = await assertOneTransition(code, 'accept', 2);
    assert.equal(d.status, 'ACCEPTED');
  });

  it('lets one of twenty API calls accept it, and one of twenty assign it at the version they read', async () => {
    const code = await fileOne('api-race');
    const tokens = await Promise.all(emails.map((e) => apiToken(portal.url, e, password(e))));
    const accepts = await Promise.all(tokens.map((tk) => actAt(portal.url, tk, code, 'accept')));
    const acceptStatuses = accepts.map((r) => r.status).sort();
    assert.deepEqual(
      acceptStatuses,
      [200, ...Array<number>(OFFICERS - 1).fill(409)],
      acceptStatuses.join(','),
    );
    for (const r of accepts.filter((a) => a.status === 409)) assert.equal(r.body.error.code, 'CONFLICT');
    await assertOneTransition(code, 'accept', 2);

    // Assigning may follow assigning, so only the version each officer read keeps them apart.
    const specialist = (await inspector.repos.users.findByEmail('specialist@demo.gov.vn'))!.id;
    const assigns = await Promise.all(
      tokens.map((tk) => actAt(portal.url, tk, code, 'assign', { assignee: specialist, version: 2 })),
    );
    const assignStatuses = assigns.map((r) => r.status).sort();
    assert.deepEqual(
      assignStatuses,
      [200, ...Array<number>(OFFICERS - 1).fill(409)],
      assignStatuses.join(','),
    );
    const d = await assertOneTransition(code, 'assign', 3);
    assert.equal(d.status, 'IN_REVIEW');
    assert.equal(d.assigneeUserId, specialist);
  });
});
