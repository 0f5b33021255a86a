import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Clock, vietnamTimeParts } from '../clock';
import type { AuditRepository } from '../data/auditRepository';
import type { CertificateRepository, HolderKind, StoredCertificate } from '../data/certificateRepository';
import { type Db, isUniqueViolation } from '../data/db';
import type { User, UserRepository } from '../data/userRepository';
import { AppError, ConflictError, NotFoundError } from '../errors';
import {
  type CaMaterial,
  type KeyType,
  createRootCa,
  issueCertificate,
} from '../signing/certificateAuthority';
import { splitCertificatePems } from '../signing/derCodec';
import { WrongPinError, sealPrivateKey, unsealPrivateKeyAsync } from '../signing/keyVault';
import { readPkcs12 } from '../signing/pkcs12';
import {
  type Signer,
  type UnusableReason,
  ServerKeySigner,
  checkCertificateUsable,
  keyTypeOf,
} from '../signing/signer';
import { readCertificate } from '../signing/x509Reader';
import type { RequestContext } from './auditContext';
import { createPrivateKey } from 'node:crypto';

/** After this many wrong PINs in a row the key locks for LOCK_MINUTES, like a USB token's retry counter. */
export const PIN_ATTEMPTS = 5;
export const LOCK_MINUTES = 15;
/** Administrators are warned this many days before a certificate expires. */
export const EXPIRY_WARNING_DAYS = 30;

export class NoCertificateError extends AppError {
  constructor(kind: HolderKind) {
    super(
      'NO_CERTIFICATE',
      422,
      kind === 'PERSONAL' ? 'signing.noPersonalCertificate' : 'signing.noSealCertificate',
    );
  }
}

export class CertificateUnusableError extends AppError {
  constructor(readonly reason: UnusableReason) {
    super('CERTIFICATE_UNUSABLE', 422, `signing.unusable.${reason}`);
  }
}

export class KeyLockedError extends AppError {
  constructor(until: Date) {
    const t = vietnamTimeParts(until);
    super('KEY_LOCKED', 423, 'signing.keyLocked', {
      until: `${t.hour}:${t.minute} ${t.day}/${t.month}/${t.year}`,
    });
  }
}

export class WrongPinCountedError extends AppError {
  constructor(left: number) {
    super('WRONG_PIN', 403, 'signing.wrongPinLeft', { left });
  }
}

export interface CertificateHolder {
  kind: HolderKind;
  userId: number | null;
  agencyId: number | null;
}

export interface CertificateView extends StoredCertificate {
  /** 'ACTIVE', 'REVOKED', 'EXPIRED', 'NOT_YET_VALID', or 'EXPIRING' inside the warning window. */
  state: 'ACTIVE' | 'REVOKED' | 'EXPIRED' | 'NOT_YET_VALID' | 'EXPIRING';
}

/**
 * The portal's certificates and keys: the trusted roots, the local development CA, importing from
 * PKCS#12, revocation, and opening a signer with the holder's PIN. A key leaves its sealed envelope only
 * inside `openSigner`, for one signature, and is never logged.
 */
export class PkiService {
  private roots: string[] | null = null;

  constructor(
    private readonly deps: {
      db: Db;
      certificates: CertificateRepository;
      audit: AuditRepository;
      users: UserRepository;
      clock: Clock;
      storageDir: string;
      /** A PEM bundle file of further roots (TRUSTED_ROOTS), such as the national CA's. */
      trustedRootsFile: string | undefined;
    },
  ) {}

  private get caDir(): string {
    return path.join(this.deps.storageDir, 'pki');
  }

  private get caCertificatePath(): string {
    return path.join(this.caDir, 'local-root-ca.pem');
  }

  /** The local development CA's certificate, or null when this portal has none (production). */
  localRootPem(): string | null {
    return fs.existsSync(this.caCertificatePath) ? fs.readFileSync(this.caCertificatePath, 'utf8') : null;
  }

  /** Roots verification and signing trust: the local CA's, then those of TRUSTED_ROOTS. */
  trustedRoots(): string[] {
    if (!this.roots) {
      const roots: string[] = [];
      const local = this.localRootPem();
      if (local) roots.push(local);
      if (this.deps.trustedRootsFile) {
        roots.push(...splitCertificatePems(fs.readFileSync(this.deps.trustedRootsFile, 'utf8')));
      }
      this.roots = roots;
    }
    return this.roots;
  }

  /**
   * Creates the local development CA under STORAGE_DIR/pki unless it exists. Its key is a file readable
   * by the portal's user only: it issues demo and test certificates, nothing a real agency relies on.
   */
  ensureLocalCa(keyType: KeyType = 'RSA'): CaMaterial {
    const keyPath = path.join(this.caDir, 'local-root-ca.key');
    if (fs.existsSync(this.caCertificatePath) && fs.existsSync(keyPath)) {
      return {
        certificatePem: fs.readFileSync(this.caCertificatePath, 'utf8'),
        privateKeyPem: fs.readFileSync(keyPath, 'utf8'),
      };
    }
    const now = this.deps.clock.now();
    const ca = createRootCa({
      commonName: 'Cổng Dịch vụ công Bắc Giang - CA thử nghiệm',
      organization: 'Ủy ban nhân dân tỉnh Bắc Giang',
      country: 'VN',
      validFrom: new Date(now.getTime() - 24 * 3600_000),
      validTo: new Date(now.getTime() + 10 * 365 * 24 * 3600_000),
      keyType,
    });
    fs.mkdirSync(this.caDir, { recursive: true, mode: 0o700 });
    // Key first, certificate last: a certificate on disk means the pair is complete.
    fs.writeFileSync(keyPath, ca.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(this.caCertificatePath, ca.certificatePem, { mode: 0o644 });
    this.roots = null;
    return ca;
  }

  /** Issues a certificate from the local CA and stores it with its key sealed by `pin`. */
  async issueLocal(
    holder: CertificateHolder,
    subject: {
      commonName: string;
      organization?: string;
      organizationalUnit?: string;
      title?: string;
      locality?: string;
    },
    pin: string,
    opts: { keyType?: KeyType; validFrom?: Date; validTo?: Date; actor?: User | null; trx?: Db } = {},
  ): Promise<number> {
    const ca = this.ensureLocalCa();
    const now = this.deps.clock.now();
    const issued = issueCertificate(ca, {
      subject: { ...subject, country: 'VN' },
      kind: holder.kind,
      validFrom: opts.validFrom ?? new Date(now.getTime() - 3600_000),
      validTo: opts.validTo ?? new Date(now.getTime() + 2 * 365 * 24 * 3600_000),
      keyType: opts.keyType ?? 'RSA',
    });
    return this.store(holder, issued.certificatePem, issued.chainPem, issued.privateKeyPem, pin, {
      actor: opts.actor ?? null,
      trx: opts.trx,
      source: 'LOCAL_CA',
    });
  }

  /**
   * Imports a certificate and its key from a PKCS#12 file. The chain must reach a trusted root and the
   * certificate must be usable now: a certificate that cannot sign is refused at the door, not at the
   * first signature.
   */
  async importPkcs12(
    holder: CertificateHolder,
    file: Buffer,
    password: string,
    pin: string,
    actor: User,
    ctx: RequestContext,
  ): Promise<number> {
    const contents = readPkcs12(file, password);
    const reason = checkCertificateUsable(
      contents.certificatePem,
      contents.chainPem,
      this.trustedRoots(),
      this.deps.clock.now(),
      new Set((await this.deps.certificates.revocations()).keys()),
    );
    if (reason) throw new CertificateUnusableError(reason);
    return this.store(holder, contents.certificatePem, contents.chainPem, contents.privateKeyPem, pin, {
      actor,
      ctx,
      source: 'PKCS12',
    });
  }

  private async store(
    holder: CertificateHolder,
    certificatePem: string,
    chainPem: string[],
    privateKeyPem: string,
    pin: string,
    opts: { actor: User | null; ctx?: RequestContext; trx?: Db; source: string },
  ): Promise<number> {
    const info = readCertificate(certificatePem);
    const x509 = new X509Certificate(certificatePem);
    const keyType = keyTypeOf(createPrivateKey(privateKeyPem));
    const sealedKey = sealPrivateKey(privateKeyPem, pin);
    const now = this.deps.clock.now();
    const auditAgency = await this.agencyOf(holder);
    const work = async (trx: Db): Promise<number> => {
      const id = await this.deps.certificates.insert(
        {
          holderKind: holder.kind,
          userId: holder.userId,
          agencyId: holder.agencyId,
          commonName: commonNameOf(x509.subject),
          subject: x509.subject.replace(/\n/g, ', '),
          issuer: x509.issuer.replace(/\n/g, ', '),
          serialNumber: info.serialNumber,
          fingerprint: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
          notBefore: info.notBefore,
          notAfter: info.notAfter,
          keyType,
          certificatePem,
          chainPem,
          sealedKey,
          createdByUserId: opts.actor?.id ?? null,
        },
        now,
        trx,
      );
      await this.deps.audit.append(trx, {
        occurredAt: now,
        actorUserId: opts.actor?.id ?? null,
        actorEmail: opts.actor?.email ?? null,
        action: 'CERTIFICATE_ADDED',
        subjectType: 'certificate',
        subjectId: id,
        agencyId: auditAgency,
        ip: opts.ctx?.ip ?? 'system',
        userAgent: opts.ctx?.userAgent,
        details: {
          holder: holder.kind,
          userId: holder.userId,
          serial: info.serialNumber,
          source: opts.source,
        },
      });
      return id;
    };
    try {
      return opts.trx ? await work(opts.trx) : await this.deps.db.transaction(work);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('signing.certificateExists');
      throw err;
    }
  }

  /** The agency whose audit log shows a certificate's events: the seal's agency, or the officer's. */
  private async agencyOf(holder: { agencyId: number | null; userId: number | null }): Promise<number | null> {
    if (holder.agencyId !== null) return holder.agencyId;
    return holder.userId === null
      ? null
      : ((await this.deps.users.findById(holder.userId))?.agencyId ?? null);
  }

  view(c: StoredCertificate): CertificateView {
    const now = this.deps.clock.now();
    let state: CertificateView['state'] = 'ACTIVE';
    if (c.status === 'REVOKED') state = 'REVOKED';
    else if (now > c.notAfter) state = 'EXPIRED';
    else if (now < c.notBefore) state = 'NOT_YET_VALID';
    else if (c.notAfter.getTime() - now.getTime() < EXPIRY_WARNING_DAYS * 24 * 3600_000) state = 'EXPIRING';
    return { ...c, state };
  }

  async list(agencyId: number | null): Promise<CertificateView[]> {
    return (await this.deps.certificates.list(agencyId)).map((c) => this.view(c));
  }

  async get(id: number): Promise<StoredCertificate> {
    const c = await this.deps.certificates.findById(id);
    if (!c) throw new NotFoundError();
    return c;
  }

  async revoke(id: number, reason: string, actor: User | null, ctx: RequestContext): Promise<void> {
    const now = this.deps.clock.now();
    const found = await this.deps.certificates.findById(id);
    if (!found) throw new NotFoundError();
    const auditAgency = await this.agencyOf(found);
    await this.deps.db.transaction(async (trx) => {
      const c = await this.deps.certificates.findById(id, trx);
      if (!c) throw new NotFoundError();
      if (!(await this.deps.certificates.revoke(id, reason, now, trx)))
        throw new ConflictError('signing.alreadyRevoked');
      await this.deps.audit.append(trx, {
        occurredAt: now,
        actorUserId: actor?.id ?? null,
        actorEmail: actor?.email ?? null,
        action: 'CERTIFICATE_REVOKED',
        subjectType: 'certificate',
        subjectId: id,
        agencyId: auditAgency,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { serial: c.serialNumber, reason },
      });
    });
  }

  /** Serial (normalised hex) to revocation time, for the verifier. */
  async revocations(): Promise<Map<string, Date>> {
    return this.deps.certificates.revocations();
  }

  /** The certificate a holder signs with now: the newest active one. */
  async certificateFor(holder: { userId: number } | { agencyId: number }): Promise<StoredCertificate> {
    const active = await this.deps.certificates.activeFor(holder);
    const now = this.deps.clock.now();
    // The most recently added certificate valid now; failing that, the newest, so the refusal names why.
    const current = active.find((c) => c.notBefore <= now && now <= c.notAfter) ?? active[0];
    if (!current) throw new NoCertificateError('userId' in holder ? 'PERSONAL' : 'AGENCY');
    return current;
  }

  /**
   * Unlocks the certificate's key with the PIN for a signature. Refuses a locked key, then a certificate
   * that is expired, not yet valid, revoked or not chained to a trusted root, then a wrong PIN (counted;
   * too many lock the key).
   */
  async openSigner(certificate: StoredCertificate, pin: string): Promise<Signer> {
    const now = this.deps.clock.now();
    const revoked = new Set((await this.deps.certificates.revocations()).keys());
    const reason = checkCertificateUsable(
      certificate.certificatePem,
      certificate.chainPem,
      this.trustedRoots(),
      now,
      revoked,
    );
    if (reason) throw new CertificateUnusableError(reason);
    const envelope = await this.deps.certificates.sealedKeyOf(certificate.id);
    if (!envelope) throw new NotFoundError();
    // The attempt is counted before the PIN is tried: parallel requests cannot try more than the limit.
    if (!(await this.deps.certificates.reservePinAttempt(certificate.id, PIN_ATTEMPTS, now))) {
      const until = await this.deps.certificates.lockedUntil(certificate.id);
      if (until && until > now) throw new KeyLockedError(until);
      // Not locked: as many attempts as the limit allows are being checked right now (a double click, or
      // someone trying PINs in parallel). This one is not tried; the person reloads and tries again.
      throw new ConflictError('signing.busy');
    }
    let key;
    try {
      key = await unsealPrivateKeyAsync(envelope, pin);
    } catch (err) {
      if (!(err instanceof WrongPinError)) throw err;
      const lockUntil = new Date(now.getTime() + LOCK_MINUTES * 60_000);
      const after = await this.deps.certificates.settleWrongPin(certificate.id, PIN_ATTEMPTS, lockUntil);
      if (after.lockedUntil && after.lockedUntil > now) throw new KeyLockedError(after.lockedUntil);
      throw new WrongPinCountedError(Math.max(0, PIN_ATTEMPTS - after.count));
    }
    await this.deps.certificates.resetPinCount(certificate.id);
    return new ServerKeySigner(certificate.certificatePem, certificate.chainPem, key);
  }
}

function commonNameOf(subject: string): string {
  const line = subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : subject;
}
