import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { FixedClock } from '../../src/clock';
import { civilStatusExtract } from '../../src/services/catalogue/civilStatusExtract';
import { parseCsv } from '../helpers/reportTable';
import { filePermitByApi, samplePdf } from '../helpers/fixtures';
import {
  type Agent,
  csrfFrom,
  DEMO_PASSWORD,
  login,
  postForm,
  startTestApp,
  type TestApp,
} from '../helpers/testApp';

// The scripted dossiers below start on Monday 23 November 2026 at 09:00 in Vietnam.
const PIN = '123456';
const PROVINCE = '000.00.00.H10';
const AUTHORITY = '000.00.12.H10';
const JUSTICE = '000.00.15.H10';
const DISTRICT = '000.20.00.H10';
const COMMUNE = '000.20.21.H10';

/** An instant given in Vietnam time. */
const vn = (dateTime: string) => new Date(`${dateTime}:00.000+07:00`).toISOString();

const extractFields: Record<string, string> = {
  extractType: 'BIRTH',
  subjectName: 'Nguyễn Văn An',
  subjectBirthDate: '1990-05-12',
  relationship: 'SELF',
  copies: '1',
};

type Json = Record<string, unknown>;

/** The figures of an agency's own dossiers that the script below produces, by agency. */
const zero = {
  received: { total: 0, online: 0, counter: 0 },
  procedures: { offered: 0, fullOnline: 0 },
  resolved: { total: 0, early: 0, onTime: 0, late: 0, released: 0, refused: 0 },
  onTimeRate: null,
  averageProcessingDays: null,
  inProgress: { total: 0, notYetDue: 0, overdue: 0, paused: 0 },
  supplementRequests: 0,
  refusals: 0,
  withdrawals: 0,
  results: {
    issued: 0,
    signedAndSealed: 0,
    withApproverSignature: 0,
    withAgencySeal: 0,
    paper: 0,
    signingRate: null,
  },
  certificates: { personal: 0, agency: 0, expiringSoon: { personal: 0, agency: 0 } },
  ratings: { count: 0, average: null, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } },
};

describe('statistics: the figures from the event log, with pages, CSV, API and ratings', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const codes: Record<string, string> = {};
  let business: Agent;
  let citizen: Agent;

  const at = (dateTime: string) => t.clock.set(vn(dateTime));
  const act = async (who: string, code: string, action: string, body: Json = {}) => {
    const res = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(code)}/actions/${action}`)
      .set('Authorization', `Bearer ${tokens[who]}`)
      .send(body);
    assert.equal(res.status, 200, `${who} ${action} ${code}: ${JSON.stringify(res.body)}`);
    return res.body as Json;
  };
  const userId = async (email: string) =>
    ((await t.deps.db('users').where({ email }).first()) as { id: number }).id;

  /** A work permit filed online by the demo business at the industrial-zones authority. */
  const filePermit = () => filePermitByApi(t.app, tokens.business!);
  /** A civil-status extract filed online by the demo citizen at the commune. */
  const fileExtract = async () => {
    const req = request(t.app)
      .post('/api/v1/dossiers')
      .set('Authorization', `Bearer ${tokens.citizen}`)
      .field('procedure', 'XA-HT-01');
    for (const [k, v] of Object.entries(extractFields)) req.field(k, v);
    const res = await req;
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.code as string;
  };
  /** A civil-status extract taken in at the commune's counter for a walk-in applicant. */
  const fileAtCounter = async () => {
    const reception = await login(t.app, 'reception.xa@demo.gov.vn');
    const token = csrfFrom((await reception.get('/desk/intake/XA-HT-01')).text);
    const req = reception.post('/desk/intake/XA-HT-01');
    const fields: Record<string, string> = {
      _csrf: token,
      idempotencyKey: 'stats-counter-1',
      applicantKind: 'CITIZEN',
      applicantName: 'Trần Văn Cường',
      applicantIdNumber: '024090009876',
      applicantPhone: '0912000111',
      ...extractFields,
      subjectName: 'Trần Văn Cường',
      intent: 'submit',
    };
    for (const [k, v] of Object.entries(fields)) req.field(k, v);
    const res = await req;
    assert.equal(res.status, 303, res.text.slice(0, 500));
    return decodeURIComponent(/\/desk\/dossiers\/(.+)$/.exec(res.headers.location!)![1]!);
  };
  const toReview = async (code: string) => {
    await act('reception', code, 'accept');
    await act('reception', code, 'assign', { assignee: await userId('specialist@demo.gov.vn') });
  };
  const approve = async (code: string) => {
    await act('specialist', code, 'propose_approval');
    await act('approver', code, 'approve', { pin: PIN });
  };
  const rate = (agent: Agent, code: string, fields: Record<string, string>) => {
    const page = `/my/dossiers/${encodeURIComponent(code)}`;
    return postForm(agent, page, `${page}/rating`, fields);
  };
  const stats = async (query: string) => {
    const res = await request(t.app).get(`/api/v1/stats?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Json & { byAgency: (Json & { code: string; figures: Json })[] };
  };
  const own = (report: { byAgency: { code: string; figures: Json }[] }, code: string) =>
    report.byAgency.find((a) => a.code === code)!.figures;
  /** The headline figures of a report, without its lists. */
  const headline = (r: Json) => {
    const {
      agency: _a,
      period: _p,
      byAgency: _b,
      ratingsByProcedure: _r,
      monthly: _m,
      definitions: _d,
      ...f
    } = r;
    return f;
  };

  before(async () => {
    t = await startTestApp({ clock: new FixedClock(vn('2026-11-23T09:00')) });
    const who = [
      'business',
      'citizen',
      'reception',
      'specialist',
      'approver',
      'clerk',
      'reception.xa',
      'approver.xa',
      'clerk.xa',
    ];
    for (const w of who) {
      const res = await request(t.app)
        .post('/api/v1/tokens')
        .send({ email: `${w}@demo.gov.vn`, password: DEMO_PASSWORD });
      tokens[w] = res.body.token;
    }
    business = await login(t.app, 'business@demo.gov.vn');
    citizen = await login(t.app, 'citizen@demo.gov.vn');

    // A procedure the commune offers only partly online, beside its fully online one.
    await t.deps.procedures.publish(
      {
        ...civilStatusExtract,
        code: 'XA-HT-02',
        onlineLevel: 'PARTIAL',
        name: { vi: 'Thủ tục thử nghiệm một phần trực tuyến', en: 'A partly online test procedure' },
      },
      null,
    );
    // A personal certificate that ends on 2 January 2027, and one revoked on 30 November.
    await t.deps.pki.issueLocal(
      { kind: 'PERSONAL', userId: await userId('specialist@demo.gov.vn'), agencyId: null },
      { commonName: 'Phạm Minh Đức' },
      PIN,
      { validTo: new Date(vn('2027-01-02T09:00')) },
    );
    const revokedLater = await t.deps.pki.issueLocal(
      { kind: 'PERSONAL', userId: await userId('agencyadmin@demo.gov.vn'), agencyId: null },
      { commonName: 'Vũ Quốc Huy' },
      PIN,
    );

    // Monday 23, 09:00: nine dossiers come in, seven at the authority (due Monday 30, 09:00) and two
    // at the commune (due Tuesday 24, 09:00), one of them at the counter.
    for (const k of ['early', 'paused', 'late', 'overdue', 'refused', 'withdrawn', 'extended']) {
      codes[k] = await filePermit();
    }
    codes.communeEarly = await fileExtract();
    codes.communeLate = await fileAtCounter();
    for (const k of ['early', 'paused', 'late', 'extended']) await toReview(codes[k]!);
    await act('reception', codes.overdue!, 'accept');
    await act('reception.xa', codes.communeEarly!, 'accept');
    await act('reception.xa', codes.communeLate!, 'accept');

    at('2026-11-23T10:00');
    await act('reception', codes.refused!, 'refuse', { reason: 'Doanh nghiệp không thuộc khu công nghiệp.' });

    at('2026-11-23T15:00');
    await act('approver.xa', codes.communeEarly!, 'approve', { pin: PIN });
    await act('clerk.xa', codes.communeEarly!, 'release', { pin: PIN });
    assert.equal(
      (await rate(citizen, codes.communeEarly!, { score: '5', comment: 'Nhanh, chu đáo.' })).status,
      303,
    );

    at('2026-11-24T09:00');
    await act('specialist', codes.paused!, 'request_supplement', {
      reason: 'Bản sao hộ chiếu bị mờ.',
      papers: ['passport'],
    });
    at('2026-11-24T10:00');
    await act('business', codes.withdrawn!, 'withdraw', { reason: 'Người lao động không sang nữa.' });

    at('2026-11-25T09:00');
    await act('approver.xa', codes.communeLate!, 'approve', { pin: PIN });
    await act('clerk.xa', codes.communeLate!, 'release', { pin: PIN });

    at('2026-11-26T09:00');
    await approve(codes.early!);
    at('2026-11-26T10:00');
    await act('clerk', codes.early!, 'release', { pin: PIN });
    assert.equal((await rate(business, codes.early!, { score: '4' })).status, 303);

    // Friday 27, 09:00: the supplement arrives; 32 working hours were left, so the due date moves to
    // Thursday 3 December, 09:00.
    at('2026-11-27T09:00');
    const resumed = await act('business', codes.paused!, 'resubmit');
    assert.equal(resumed.dueAt, vn('2026-12-03T09:00'));

    at('2026-11-30T12:00');
    await t.deps.repos.certificates.revoke(revokedLater, 'Nghỉ hưu', t.clock.now());

    // Tuesday 1 December, 06:30 in Vietnam (still 30 November in UTC): a dossier for December.
    at('2026-12-01T06:30');
    codes.notYetDue = await filePermit();
    await act('reception', codes.notYetDue, 'accept');

    at('2026-12-01T09:00');
    const extended = await act('approver', codes.extended!, 'extend', {
      reason: 'Chờ ý kiến cơ quan công an.',
      newDueDate: '2026-12-04',
    });
    assert.equal(extended.dueAt, vn('2026-12-04T17:00'));

    at('2026-12-01T10:00');
    await approve(codes.late!);
    const paper = await request(t.app)
      .post(`/api/v1/dossiers/${encodeURIComponent(codes.late!)}/actions/release_paper`)
      .set('Authorization', `Bearer ${tokens.clerk}`)
      .attach('attachment', samplePdf('Ban chup giay phep'), 'ban-chup.pdf');
    assert.equal(paper.status, 200, JSON.stringify(paper.body));

    at('2026-12-03T08:00');
    await approve(codes.paused!);
    await act('clerk', codes.paused!, 'release', { pin: PIN });

    at('2026-12-04T10:00');
    await approve(codes.extended!);
    await act('clerk', codes.extended!, 'release', { pin: PIN });

    at('2026-12-04T12:00');
  });
  after(() => t.close());

  it('gives exactly the expected figures for the authority, the commune and the province', async () => {
    const r = await stats(`agency=${PROVINCE}&from=2026-11-01&to=2026-12-31`);
    assert.deepEqual(r.agency, { code: PROVINCE, name: 'Ủy ban nhân dân tỉnh Bắc Giang', level: 'PROVINCE' });
    assert.deepEqual(r.period, {
      from: '2026-11-01',
      to: '2026-12-31',
      start: '2026-10-31T17:00:00.000Z',
      end: '2026-12-31T17:00:00.000Z',
      asOf: vn('2026-12-04T12:00'),
    });
    assert.deepEqual(
      r.byAgency.map((a) => [a.code, a.parent]),
      [
        [PROVINCE, null],
        [AUTHORITY, PROVINCE],
        [JUSTICE, PROVINCE],
        [DISTRICT, PROVINCE],
        [COMMUNE, DISTRICT],
      ],
    );

    // The authority: A early (Thursday), E refused on the first morning (early), B on time on the due day
    // its pause moved it to, G late (released by the date its extension gave, after its receipt's), C late
    // and on paper; D overdue and H not yet due; working time 25 + 1 + 39 + 73 + 49 hours over 5 dossiers = 4.675 days.
    const authority = {
      received: { total: 8, online: 8, counter: 0 },
      procedures: { offered: 2, fullOnline: 2 },
      resolved: { total: 5, early: 2, onTime: 1, late: 2, released: 4, refused: 1 },
      onTimeRate: 60,
      averageProcessingDays: 4.68,
      inProgress: { total: 2, notYetDue: 1, overdue: 1, paused: 0 },
      supplementRequests: 1,
      refusals: 1,
      withdrawals: 1,
      results: {
        issued: 4,
        signedAndSealed: 3,
        withApproverSignature: 3,
        withAgencySeal: 3,
        paper: 1,
        signingRate: 75,
      },
      certificates: { personal: 2, agency: 1, expiringSoon: { personal: 1, agency: 0 } },
      ratings: { count: 1, average: 4, distribution: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 0 } },
    };
    assert.deepEqual(own(r, AUTHORITY), authority);

    // The commune: K early (4.5 working hours), L from the counter late (16 hours).
    const commune = {
      ...zero,
      received: { total: 2, online: 1, counter: 1 },
      procedures: { offered: 2, fullOnline: 1 },
      resolved: { total: 2, early: 1, onTime: 0, late: 1, released: 2, refused: 0 },
      onTimeRate: 50,
      averageProcessingDays: 1.28,
      results: {
        issued: 2,
        signedAndSealed: 2,
        withApproverSignature: 2,
        withAgencySeal: 2,
        paper: 0,
        signingRate: 100,
      },
      certificates: { personal: 1, agency: 1, expiringSoon: { personal: 0, agency: 0 } },
      ratings: { count: 1, average: 5, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 1 } },
    };
    assert.deepEqual(own(r, COMMUNE), commune);
    assert.deepEqual(own(r, DISTRICT), zero, 'the district handles no dossier itself');
    assert.deepEqual(own(r, PROVINCE), zero);
    assert.deepEqual(own(r, JUSTICE), {
      ...zero,
      certificates: { personal: 1, agency: 1, expiringSoon: { personal: 0, agency: 0 } },
    });

    // The commune's dossiers roll up into the district and, with the authority's, into the province.
    assert.deepEqual(headline(await stats(`agency=${DISTRICT}&from=2026-11-01&to=2026-12-31`)), commune);
    assert.deepEqual(headline(r), {
      received: { total: 10, online: 9, counter: 1 },
      procedures: { offered: 4, fullOnline: 3 },
      resolved: { total: 7, early: 3, onTime: 1, late: 3, released: 6, refused: 1 },
      onTimeRate: 57.1,
      averageProcessingDays: 3.71,
      inProgress: { total: 2, notYetDue: 1, overdue: 1, paused: 0 },
      supplementRequests: 1,
      refusals: 1,
      withdrawals: 1,
      results: {
        issued: 6,
        signedAndSealed: 5,
        withApproverSignature: 5,
        withAgencySeal: 5,
        paper: 1,
        signingRate: 83.3,
      },
      certificates: { personal: 4, agency: 3, expiringSoon: { personal: 1, agency: 0 } },
      ratings: { count: 2, average: 4.5, distribution: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 1 } },
    });
    assert.deepEqual(r.ratingsByProcedure, [
      {
        procedure: 'BQL-LD-02',
        name: 'Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại khu công nghiệp',
        agency: AUTHORITY,
        count: 1,
        average: 4,
        distribution: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 0 },
      },
      {
        procedure: 'XA-HT-01',
        name: 'Cấp bản sao trích lục hộ tịch',
        agency: COMMUNE,
        count: 1,
        average: 5,
        distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 1 },
      },
    ]);
  });

  it('reads past moments from the history: a pause then, and an overdue date later extended', async () => {
    // At the end of Thursday 26 November B was waiting for its supplement and nothing was due yet.
    const thursday = await stats(`agency=${PROVINCE}&from=2026-11-23&to=2026-11-26`);
    assert.deepEqual(thursday.inProgress, { total: 4, notYetDue: 4, overdue: 0, paused: 1 });
    assert.deepEqual(thursday.resolved, { total: 4, early: 3, onTime: 0, late: 1, released: 3, refused: 1 });
    assert.deepEqual(thursday.certificates, {
      personal: 5,
      agency: 3,
      expiringSoon: { personal: 0, agency: 0 },
    });

    // At the end of November C, D and G were overdue: G's extension came on 1 December.
    const november = await stats(`agency=${PROVINCE}&from=2026-11-01&to=2026-11-30`);
    assert.equal((november.period as Json).asOf, vn('2026-12-01T00:00'));
    assert.deepEqual(
      november.received,
      { total: 9, online: 8, counter: 1 },
      'H came in December, Vietnam time',
    );
    assert.deepEqual(november.inProgress, { total: 4, notYetDue: 1, overdue: 3, paused: 0 });
    assert.equal(november.onTimeRate, 75);
    assert.equal(november.averageProcessingDays, 1.45, '(1 + 4.5 + 16 + 25) / 4 hours, in days of 8 hours');
    assert.deepEqual(november.certificates, {
      personal: 4,
      agency: 3,
      expiringSoon: { personal: 0, agency: 0 },
    });
    assert.equal((november.results as Json).issued, 3);
    assert.equal((november.ratings as Json).count, 2);
  });

  it('charts the last twelve months, received against resolved on time', async () => {
    const r = await stats(`agency=${PROVINCE}&from=2026-11-01&to=2026-12-31`);
    const monthly = r.monthly as {
      month: string;
      received: number;
      resolved: number;
      resolvedOnTime: number;
    }[];
    assert.deepEqual(
      monthly.map((m) => m.month),
      [
        '2026-01',
        '2026-02',
        '2026-03',
        '2026-04',
        '2026-05',
        '2026-06',
        '2026-07',
        '2026-08',
        '2026-09',
        '2026-10',
        '2026-11',
        '2026-12',
      ],
    );
    assert.deepEqual(monthly[10], { month: '2026-11', received: 9, resolved: 4, resolvedOnTime: 3 });
    assert.deepEqual(monthly[11], { month: '2026-12', received: 1, resolved: 3, resolvedOnTime: 1 });
    assert.ok(monthly.slice(0, 10).every((m) => m.received === 0 && m.resolved === 0));

    const page = await request(t.app).get(`/stats?agency=${PROVINCE}&from=2026-11-01&to=2026-12-31`);
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      /<svg viewBox="0 0 720 280" role="img" aria-labelledby="chart-svg-title chart-svg-desc"/,
    );
    assert.doesNotMatch(page.text, /<script|https?:\/\/(?!www\.w3\.org)/, 'nothing from elsewhere');
    // The table beside the chart carries the same numbers.
    assert.match(page.text, /<th scope="row">11\/2026<\/th><td>9<\/td><td>4<\/td><td>3<\/td>/);
    assert.match(page.text, /<th scope="row">12\/2026<\/th><td>1<\/td><td>3<\/td><td>1<\/td>/);
  });

  it('shows the figures and their definitions on the public page, the province by default', async () => {
    const page = await request(t.app).get('/stats');
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      /Ủy ban nhân dân tỉnh Bắc Giang<\/strong>\. Kỳ báo cáo từ 01\/01\/2026 đến 04\/12\/2026/,
    );
    assert.match(page.text, /Tỷ lệ đúng hạn<\/th>\s*<td>\s*57,1 %/);
    assert.match(page.text, /Thời gian giải quyết trung bình<\/th>\s*<td>\s*3,71 ngày làm việc/);
    assert.match(page.text, /Trước hạn: giải quyết vào một ngày trước ngày hẹn trả/);
    assert.doesNotMatch(page.text, /\/desk\/stats\/dossiers/, 'no drill-down for the public');
    const en = await request(t.app).get('/stats').set('Cookie', 'lang=en');
    assert.match(en.text, /On-time rate<\/th>\s*<td>\s*57\.1 %/);

    const bad = await request(t.app).get('/stats?from=2026-02-30&to=2026-01-01&agency=nope');
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="agency-error"/);
  });

  it('exports the monthly report as CSV, one row per agency, with the numbers of the page and the API', async () => {
    const res = await request(t.app).get(`/stats/report.csv?agency=${PROVINCE}&month=2026-11`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type']!, /^text\/csv; charset=utf-8/);
    assert.match(
      res.headers['content-disposition']!,
      /attachment; filename="bao-cao-000\.00\.00\.H10-2026-11-01-2026-11-30\.csv"/,
    );
    const [header, ...rows] = parseCsv(res.text);
    const col = (name: string) => header!.indexOf(name);
    assert.deepEqual(
      rows.map((r) => [r[col('scope')], r[col('agency_code')], r[col('parent_code')]]),
      [
        ['OWN', PROVINCE, ''],
        ['OWN', AUTHORITY, PROVINCE],
        ['OWN', JUSTICE, PROVINCE],
        ['OWN', DISTRICT, PROVINCE],
        ['OWN', COMMUNE, DISTRICT],
        ['TOTAL', PROVINCE, ''],
      ],
    );
    const api = await stats(`agency=${PROVINCE}&from=2026-11-01&to=2026-11-30`);
    const total = rows[rows.length - 1]!;
    const expected: Record<string, unknown> = {
      period_from: '2026-11-01',
      period_to: '2026-11-30',
      received: (api.received as Json).total,
      received_online: (api.received as Json).online,
      received_counter: (api.received as Json).counter,
      procedures_full_online: (api.procedures as Json).fullOnline,
      resolved: (api.resolved as Json).total,
      resolved_early: (api.resolved as Json).early,
      resolved_on_time: (api.resolved as Json).onTime,
      resolved_late: (api.resolved as Json).late,
      on_time_rate: api.onTimeRate,
      average_processing_days: api.averageProcessingDays,
      in_progress_overdue: (api.inProgress as Json).overdue,
      supplement_requests: api.supplementRequests,
      refusals: api.refusals,
      withdrawals: api.withdrawals,
      results_issued: (api.results as Json).issued,
      signing_rate: (api.results as Json).signingRate,
      certificates_personal: (api.certificates as Json).personal,
      ratings: (api.ratings as Json).count,
      rating_average: (api.ratings as Json).average,
    };
    for (const [name, value] of Object.entries(expected)) {
      assert.equal(total[col(name)], String(value), name);
    }
    assert.equal(total[col('on_time_rate')], '75');
    // The agencies' own rows add up to the total for every count.
    for (const name of [
      'received',
      'resolved',
      'resolved_late',
      'in_progress',
      'results_issued',
      'ratings',
    ]) {
      const sum = rows.slice(0, -1).reduce((s, r) => s + Number(r[col(name)]), 0);
      assert.equal(String(sum), total[col(name)], name);
    }
    // The page for the same period shows the same numbers.
    const page = await request(t.app).get(`/stats?agency=${PROVINCE}&from=2026-11-01&to=2026-11-30`);
    assert.match(page.text, /Hồ sơ tiếp nhận<\/th>\s*<td>\s*9\s*<\/td>/);
    assert.match(page.text, /Tỷ lệ đúng hạn<\/th>\s*<td>\s*75 %/);
    assert.match(
      page.text,
      /href="\/stats\/report\.csv\?agency=000\.00\.00\.H10&amp;from=2026-11-01&amp;to=2026-11-30"/,
    );
  });

  it('answers the API with clear 422s for a bad query', async () => {
    const cases: [string, string][] = [
      ['from=2026-02-30', 'from'],
      ['from=yesterday', 'from'],
      ['from=2026-12-01&to=2026-11-01', 'to'],
      ['from=2020-01-01&to=2026-01-02', 'to'],
      ['agency=000.99.99.H10', 'agency'],
      ['month=2026-13', 'month'],
    ];
    for (const [query, field] of cases) {
      const res = await request(t.app).get(`/api/v1/stats?${query}`).set('Accept-Language', 'en');
      assert.equal(res.status, 422, query);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      assert.ok(res.body.error.fields[field], `${query}: ${JSON.stringify(res.body)}`);
    }
    const fine = await stats('');
    assert.equal((fine.agency as Json).code, PROVINCE, 'the province by default');
    assert.deepEqual(fine.period && [(fine.period as Json).from, (fine.period as Json).to], [
      '2026-01-01',
      '2026-12-04',
    ]);
    const doc = await request(t.app).get('/api/v1/openapi.json');
    assert.ok(doc.body.paths['/stats'].get);
  });

  it('lets officers drill down from a figure to the dossiers behind it, within their agency', async () => {
    const admin = await login(t.app, 'admin@demo.gov.vn');
    const dash = await admin.get('/desk/stats?from=2026-11-01&to=2026-11-30');
    assert.equal(dash.status, 200);
    assert.match(
      dash.text,
      /href="\/desk\/stats\/dossiers\?figure=overdue&amp;agency=000\.00\.00\.H10&amp;from=2026-11-01&amp;to=2026-11-30">3<\/a>/,
    );
    const list = async (agent: Agent, query: string) => {
      const res = await agent.get(`/desk/stats/dossiers?${query}`);
      assert.equal(res.status, 200, query);
      return [...res.text.matchAll(/<td>(?:<a href="[^"]+">)?(\d{3}\.\d{2}\.\d{2}\.H10-\d{6}-\d{4})/g)].map(
        (m) => m[1],
      );
    };
    assert.deepEqual(
      (await list(admin, 'figure=overdue&from=2026-11-01&to=2026-11-30')).sort(),
      [codes.late, codes.overdue, codes.extended].sort(),
    );
    assert.deepEqual(await list(admin, 'figure=paused&from=2026-11-23&to=2026-11-26'), [codes.paused]);
    assert.deepEqual(await list(admin, 'figure=resolved-late&from=2026-11-01&to=2026-12-31'), [
      codes.communeLate,
      codes.late,
      codes.extended,
    ]);
    assert.deepEqual(await list(admin, 'figure=received-counter&from=2026-11-01&to=2026-12-31'), [
      codes.communeLate,
    ]);
    assert.deepEqual(await list(admin, 'figure=results-signed&from=2026-12-01&to=2026-12-31'), [
      codes.paused,
      codes.extended,
    ]);

    // An officer of the authority sees its own dossiers, with links to them, and not the commune's.
    const reception = await login(t.app, 'reception@demo.gov.vn');
    const onTime = await reception.get(
      '/desk/stats/dossiers?figure=resolved-on-time&from=2026-11-01&to=2026-12-31',
    );
    assert.match(onTime.text, new RegExp(`href="/desk/dossiers/${codes.paused!.replace(/\./g, '\\.')}"`));
    assert.deepEqual(await list(reception, 'figure=resolved-early&from=2026-11-01&to=2026-12-31'), [
      codes.refused,
      codes.early,
    ]);
    assert.equal((await reception.get(`/desk/stats?agency=${COMMUNE}`)).status, 422);
    assert.equal((await reception.get('/desk/stats/dossiers?figure=nothing')).status, 422);
    assert.equal((await citizen.get('/desk/stats')).status, 403);
    assert.equal((await request(t.app).get('/desk/stats')).status, 303);
  });

  it('takes ratings only from the applicant, once, after the result', async () => {
    const page = async (agent: Agent, code: string) =>
      (await agent.get(`/my/dossiers/${encodeURIComponent(code)}`)).text;
    // Rated: the page shows the rating, and a second one is refused.
    assert.match(await page(citizen, codes.communeEarly!), /Bạn đã đánh giá 5\/5 lúc 15:00, 23\/11\/2026/);
    assert.equal((await rate(citizen, codes.communeEarly!, { score: '3' })).status, 409);
    // Not released yet: no form, and a rating is refused.
    assert.doesNotMatch(await page(business, codes.overdue!), /name="score"/);
    assert.equal((await rate(business, codes.overdue!, { score: '3' })).status, 409);
    // Released but not yet rated: the form; bad input answers 422 and stores nothing.
    assert.match(await page(business, codes.paused!), /name="score" value="5"/);
    const noScore = await rate(business, codes.paused!, { comment: 'Tốt' });
    assert.equal(noScore.status, 422);
    assert.match(noScore.text, /Chọn mức độ hài lòng từ 1 đến 5\./);
    assert.match(noScore.text, />Tốt<\/textarea>/, 'what was typed stays');
    assert.equal((await rate(business, codes.paused!, { score: '6' })).status, 422);
    assert.equal(
      (await rate(business, codes.paused!, { score: '4', comment: 'x'.repeat(1001) })).status,
      422,
    );
    // Someone else's dossier, or an officer: forbidden.
    const other = `/my/dossiers/${encodeURIComponent(codes.paused!)}/rating`;
    assert.equal((await postForm(citizen, '/my/dossiers', other, { score: '1' })).status, 403);
    const officer = await login(t.app, 'reception@demo.gov.vn');
    assert.equal((await postForm(officer, '/desk', other, { score: '1' })).status, 403);
    // Without the form's token nothing happens.
    assert.equal((await business.post(other).type('form').send('score=4')).status, 403);
    const stored = await t.deps.db('ratings').orderBy('id');
    assert.deepEqual(
      stored.map((r: { score: number; comment: string | null }) => [Number(r.score), r.comment]),
      [
        [5, 'Nhanh, chu đáo.'],
        [4, null],
      ],
    );
  });

  it('keeps daily counts that a recount from the event log confirms, and rebuilds them when they drift', async () => {
    const stats = t.deps.statistics;
    assert.deepEqual(await stats.check(), [], 'every count the commands kept is what the log says');
    const kept = await t.deps.db('statistics_daily').orderBy(['agency_id', 'day', 'procedure_id']);
    assert.ok(kept.length > 0);
    // A count changed behind the portal's back is found, named, and put right by the rebuild.
    const row = kept.find((r: { released: number }) => Number(r.released) > 0)!;
    await t.deps
      .db('statistics_daily')
      .where({ agency_id: row.agency_id, day: row.day, procedure_id: row.procedure_id })
      .update({ released: Number(row.released) + 7 });
    await t.deps.db('statistics_daily').insert({
      agency_id: row.agency_id,
      day: '2020-01-01',
      procedure_id: row.procedure_id,
      withdrawals: 1,
    });
    const drift = await stats.check();
    assert.deepEqual(
      drift.map((d) => [d.day, d.count, d.kept, d.recounted]),
      [
        ['2020-01-01', 'withdrawals', 1, 0],
        [row.day, 'released', Number(row.released) + 7, Number(row.released)],
      ],
    );
    assert.deepEqual(await stats.rebuild(), { rows: kept.length, reclassified: 0 });
    assert.deepEqual(await stats.check(), []);
    const rebuilt = await t.deps.db('statistics_daily').orderBy(['agency_id', 'day', 'procedure_id']);
    const plain = (rows: Record<string, unknown>[]) =>
      rows.map((r) => JSON.stringify(Object.values(r).map(String)));
    assert.deepEqual(plain(rebuilt), plain(kept));
  });

  it('judges past resolutions again only when asked: after an upgrade of the rules, not after new office hours', async () => {
    const stats = t.deps.statistics;
    const kept = await t.deps.db('statistics_daily').orderBy(['agency_id', 'day', 'procedure_id']);
    const plain = (rows: Record<string, unknown>[]) =>
      rows.map((r) => JSON.stringify(Object.values(r).map(String)));
    // New office hours: what was resolved stays as it was judged on its day.
    const admin = (await t.deps.accounts.activeUser(await userId('admin@demo.gov.vn')))!;
    const ctx = { ip: '127.0.0.1', userAgent: 'test' };
    const installed = (await t.deps.repos.holidays.workingTime()).settings;
    await t.deps.holidays.saveWorkingTime(
      admin,
      {
        morningStart: '07:00',
        morningEnd: '11:30',
        afternoonStart: '13:30',
        afternoonEnd: '17:00',
        cutoff: '17:00',
        weekendDays: ['0', '6'],
      },
      ctx,
    );
    assert.deepEqual(await stats.check(), []);
    assert.ok(
      (await stats.check({ reclassify: true })).some((d) => d.count === 'working_ms'),
      'judged again with the new hours, the working time spent would change',
    );
    await t.deps.holidays.saveWorkingTime(
      admin,
      { ...installed, weekendDays: installed.weekendDays.map(String) },
      ctx,
    );

    // G as a portal that counted an extension as more time left it: on time, on the dossier and in the
    // day's counts. Consistent by that rule; judged again, late.
    const g = (await t.deps.repos.dossiers.findByCode(codes.extended!))!;
    const day = { agency_id: g.agencyId, day: '2026-12-04', procedure_id: g.procedureId };
    await t.deps.db('dossiers').where({ id: g.id }).update({ timeliness: 'ON_TIME' });
    await t.deps
      .db('statistics_daily')
      .where(day)
      .increment('resolved_on_time', 1)
      .decrement('resolved_late', 1);
    assert.deepEqual(await stats.check(), []);
    const judged = await stats.check({ reclassify: true });
    assert.deepEqual(
      judged.map((d) => [d.day, d.count, d.kept, d.recounted, d.dossier]),
      [
        ['2026-12-04', 'resolved_on_time', 1, 0, undefined],
        ['2026-12-04', 'resolved_late', 0, 1, undefined],
        ['2026-12-04', 'timeliness', 'ON_TIME', 'LATE', codes.extended],
      ],
    );
    assert.deepEqual(await stats.rebuild({ reclassify: true }), { rows: kept.length, reclassified: 1 });
    assert.deepEqual(await stats.check(), []);
    assert.equal((await t.deps.repos.dossiers.findByCode(codes.extended!))!.timeliness, 'LATE');
    assert.deepEqual(
      plain(await t.deps.db('statistics_daily').orderBy(['agency_id', 'day', 'procedure_id'])),
      plain(kept),
    );
  });
});
