import type { Clock } from '../clock';
import type { AgencyRepository, NewAgency } from '../data/agencyRepository';
import type { AuditRepository } from '../data/auditRepository';
import type { Db } from '../data/db';
import type { NewUser, UserRepository } from '../data/userRepository';
import type { OfficerRole } from '../domain/roles';
import type { PasswordHasher } from './passwordHasher';
import type { PkiService } from './pkiService';

export const DEMO_PASSWORD = 'Demo@12345';

// Agency codes follow the national dossier-code pattern; they are demo values, not official codes.
const AGENCIES: (NewAgency & { key: string; parentKey?: string })[] = [
  {
    key: 'province',
    code: '000.00.00.H10',
    name: 'Ủy ban nhân dân tỉnh Bắc Giang',
    nameEn: 'People’s Committee of Bắc Giang Province',
    shortName: 'UBND',
    level: 'PROVINCE',
    parentId: null,
    placeName: 'Bắc Giang',
    address: 'Số 82 đường Hùng Vương, phường Ngô Quyền, tỉnh Bắc Giang',
  },
  {
    key: 'bql',
    parentKey: 'province',
    code: '000.00.12.H10',
    name: 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang',
    nameEn: 'Bắc Giang Industrial Zones Authority',
    shortName: 'BQL',
    level: 'DEPARTMENT',
    parentId: null,
    placeName: 'Bắc Giang',
    address: 'Số 1 đường Hoàng Văn Thụ, tỉnh Bắc Giang',
  },
  {
    key: 'stp',
    parentKey: 'province',
    code: '000.00.15.H10',
    name: 'Sở Tư pháp tỉnh Bắc Giang',
    nameEn: 'Bắc Giang Department of Justice',
    shortName: 'STP',
    level: 'DEPARTMENT',
    parentId: null,
    placeName: 'Bắc Giang',
    address: 'Số 3 đường Nguyễn Văn Cừ, tỉnh Bắc Giang',
  },
  {
    key: 'district',
    parentKey: 'province',
    code: '000.20.00.H10',
    name: 'Ủy ban nhân dân huyện Lạng Giang',
    nameEn: 'People’s Committee of Lạng Giang District',
    shortName: 'UBND',
    level: 'DISTRICT',
    parentId: null,
    placeName: 'Lạng Giang',
    address: 'Thị trấn Vôi, huyện Lạng Giang, tỉnh Bắc Giang',
  },
  {
    key: 'commune',
    parentKey: 'district',
    code: '000.20.21.H10',
    name: 'Ủy ban nhân dân xã Tân Dĩnh',
    nameEn: 'People’s Committee of Tân Dĩnh Commune',
    shortName: 'UBND',
    level: 'COMMUNE',
    parentId: null,
    placeName: 'Tân Dĩnh',
    address: 'Xã Tân Dĩnh, huyện Lạng Giang, tỉnh Bắc Giang',
  },
];

type DemoUser = Omit<NewUser, 'passwordHash' | 'agencyId'> & { agencyKey?: string };

const officer = (
  email: string,
  fullName: string,
  agencyKey: string,
  roles: OfficerRole[],
  position: string,
): DemoUser => ({ kind: 'OFFICER', email, fullName, agencyKey, roles, position });

const USERS: DemoUser[] = [
  {
    kind: 'CITIZEN',
    email: 'citizen@demo.gov.vn',
    fullName: 'Nguyễn Văn An',
    citizenId: '024090001234',
    dateOfBirth: '1990-05-12',
    phone: '0912345678',
  },
  {
    kind: 'BUSINESS',
    email: 'business@demo.gov.vn',
    fullName: 'Trần Thị Bình',
    companyName: 'Công ty TNHH Điện tử Quang Minh',
    taxCode: '2400123458',
    phone: '0204385678',
  },
  officer('reception@demo.gov.vn', 'Lê Thị Hoa', 'bql', ['RECEPTION'], 'Chuyên viên bộ phận một cửa'),
  officer(
    'specialist@demo.gov.vn',
    'Phạm Minh Đức',
    'bql',
    ['SPECIALIST'],
    'Chuyên viên Phòng Quản lý lao động',
  ),
  officer('approver@demo.gov.vn', 'Hoàng Văn Thắng', 'bql', ['APPROVER'], 'Phó Trưởng ban'),
  officer('clerk@demo.gov.vn', 'Đỗ Thu Trang', 'bql', ['CLERK'], 'Văn thư'),
  officer('agencyadmin@demo.gov.vn', 'Vũ Quốc Huy', 'bql', ['AGENCY_ADMIN'], 'Chánh Văn phòng'),
  officer('reception.tp@demo.gov.vn', 'Ngô Thị Lan', 'stp', ['RECEPTION'], 'Chuyên viên bộ phận một cửa'),
  officer(
    'specialist.tp@demo.gov.vn',
    'Bùi Văn Khánh',
    'stp',
    ['SPECIALIST'],
    'Chuyên viên Phòng Hành chính tư pháp',
  ),
  officer('approver.tp@demo.gov.vn', 'Đặng Thị Mai', 'stp', ['APPROVER'], 'Phó Giám đốc'),
  officer('clerk.tp@demo.gov.vn', 'Trịnh Văn Nam', 'stp', ['CLERK'], 'Văn thư'),
  officer('reception.xa@demo.gov.vn', 'Lý Thị Ngọc', 'commune', ['RECEPTION'], 'Công chức Tư pháp - Hộ tịch'),
  officer(
    'approver.xa@demo.gov.vn',
    'Dương Văn Phúc',
    'commune',
    ['APPROVER'],
    'Chủ tịch Ủy ban nhân dân xã',
  ),
  officer('clerk.xa@demo.gov.vn', 'Mai Thị Quyên', 'commune', ['CLERK'], 'Văn thư'),
  officer('admin@demo.gov.vn', 'Quản trị hệ thống', 'province', ['SYSTEM_ADMIN'], 'Quản trị hệ thống'),
];

export const DEMO_ACCOUNTS = USERS.map((u) => u.email);

/** Seeds the demo agencies and accounts into an empty database; does nothing when agencies exist. */
export async function seedDemoData(
  deps: { db: Db; agencies: AgencyRepository; users: UserRepository; audit: AuditRepository },
  hasher: PasswordHasher,
  clock: Clock,
): Promise<boolean> {
  if ((await deps.agencies.count()) > 0) return false;
  const now = clock.now();
  const hashes = await Promise.all(USERS.map(() => hasher.hash(DEMO_PASSWORD)));
  await deps.db.transaction(async (trx) => {
    const ids = new Map<string, number>();
    for (const { key, parentKey, ...a } of AGENCIES) {
      ids.set(
        key,
        await deps.agencies.insert({ ...a, parentId: parentKey ? ids.get(parentKey)! : null }, now, trx),
      );
    }
    for (const [i, { agencyKey, ...u }] of USERS.entries()) {
      await deps.users.insert(
        { ...u, passwordHash: hashes[i]!, agencyId: agencyKey ? ids.get(agencyKey)! : null },
        now,
        trx,
      );
    }
    await deps.audit.append(trx, {
      occurredAt: now,
      actorUserId: null,
      actorEmail: null,
      action: 'DEMO_DATA_SEEDED',
      ip: 'system',
      details: { agencies: AGENCIES.length, accounts: USERS.length },
    });
  });
  return true;
}

/** PIN of every demo signing key, as published in the contract. */
export const DEMO_PIN = '123456';

/**
 * Certificates from the local development CA for the demo approvers (personal, RSA) and for the agencies
 * that have a clerk (the seal, ECDSA P-256), so both key types sign in every demo release.
 */
export async function seedDemoCertificates(deps: {
  pki: PkiService;
  users: UserRepository;
  agencies: AgencyRepository;
}): Promise<number> {
  const agencies = await deps.agencies.listAll();
  const byKey = new Map(AGENCIES.map((a) => [a.key, agencies.find((x) => x.code === a.code)]));
  let issued = 0;
  for (const u of USERS) {
    const agency = u.agencyKey ? byKey.get(u.agencyKey) : undefined;
    if (!agency || !u.roles?.includes('APPROVER')) continue;
    const user = await deps.users.findByEmail(u.email);
    if (!user) continue;
    await deps.pki.issueLocal(
      { kind: 'PERSONAL', userId: user.id, agencyId: null },
      {
        commonName: user.fullName,
        organization: agency.name,
        title: user.position ?? undefined,
        locality: agency.placeName,
      },
      DEMO_PIN,
      { keyType: 'RSA' },
    );
    issued += 1;
  }
  for (const key of new Set(USERS.filter((u) => u.roles?.includes('CLERK')).map((u) => u.agencyKey))) {
    const agency = key ? byKey.get(key) : undefined;
    if (!agency) continue;
    await deps.pki.issueLocal(
      { kind: 'AGENCY', userId: null, agencyId: agency.id },
      { commonName: agency.name, organization: agency.name, locality: agency.placeName },
      DEMO_PIN,
      { keyType: 'ECDSA_P256' },
    );
    issued += 1;
  }
  return issued;
}
