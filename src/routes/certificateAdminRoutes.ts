import { X509Certificate } from 'node:crypto';
import type { Request, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { Deps } from '../container';
import type { StoredCertificate } from '../data/certificateRepository';
import type { User } from '../data/userRepository';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../errors';
import { requireRole } from '../middleware/auth';
import { assertCsrfToken } from '../middleware/csrf';
import { requestContext } from '../middleware/requestContext';
import { isSystemAdmin } from '../services/officerService';
import {
  type CertificateHolder,
  type CertificateView,
  CertificateUnusableError,
  EXPIRY_WARNING_DAYS,
  LOCK_MINUTES,
  PIN_ATTEMPTS,
} from '../services/pkiService';
import { parseInput } from '../services/validation';
import { MIN_PIN_LENGTH } from '../signing/keyVault';
import { Pkcs12FormatError, Pkcs12PasswordError } from '../signing/pkcs12';
import { SignerKeyError } from '../signing/signer';
import { translatedErrors } from './forms';
import { type InMemoryForm, readFormInMemory, UploadError } from './multipart';

/** A PKCS#12 file holds one certificate, its chain and a key: a few kilobytes, far below this. */
export const MAX_P12_BYTES = 100 * 1024;
const MAX_PIN_LENGTH = 64;
const IMPORT_FIELDS = ['holder', 'file', 'password', 'pin', 'pinConfirm'] as const;
const REVOKE_FIELDS = ['reason', 'confirm'] as const;

const pinLength = (pin: string) => [...pin.normalize('NFC')].length;

const importSchema = z.object({
  holder: z.string().regex(/^(user|agency):\d{1,10}$/, 'v.certHolder'),
  password: z.string().min(1, 'v.certPassword').max(256, 'v.tooLong'),
  // Counted as the key vault counts it, so a PIN accepted here is never refused when the key is sealed.
  pin: z
    .string()
    .refine((p) => pinLength(p) >= MIN_PIN_LENGTH, 'v.certPinShort')
    .refine((p) => pinLength(p) <= MAX_PIN_LENGTH, 'v.certPinLong'),
  pinConfirm: z.string(),
});

const revokeSchema = z.object({
  reason: z.string().trim().min(1, 'v.certRevokeReason').max(500, 'v.tooLong'),
  confirm: z.literal('yes', 'v.certRevokeConfirm'),
});

/** Reads the import form into memory. Unlike papers, a PKCS#12 file carries a private key, so it never
 * goes through the file store: nothing of it reaches the disk but the key the vault seals with the PIN. */
function readP12Form(req: Request): Promise<InMemoryForm> {
  return readFormInMemory(req, {
    fileField: 'file',
    maxFileBytes: MAX_P12_BYTES,
    tooLarge: new UploadError('FILE_TOO_LARGE', 413, 'v.certFileTooLarge', { maxKb: MAX_P12_BYTES / 1024 }),
    beforeFile: (fields) => assertCsrfToken(req, fields._csrf),
  });
}

function idParam(req: Request): number {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError();
  return id;
}

/**
 * "AB:CD:..." as certificate viewers show a fingerprint, so it can be compared by eye, in lines of eight
 * bytes: one 95-character word would not wrap.
 */
function fingerprintLines(hex: string): string[] {
  const bytes = hex.replace(/:/g, '').toUpperCase().match(/.{2}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) lines.push(bytes.slice(i, i + 8).join(':'));
  return lines;
}

/** One field of a distinguished name as Node prints it ("CN=...\nO=..."). */
function nameField(name: string, field: string): string | undefined {
  return name
    .split('\n')
    .find((l) => l.startsWith(`${field}=`))
    ?.slice(field.length + 1);
}

/** Subject, issuer and validity of each certificate from the holder's up to the root, for the details page. */
function presentChain(c: StoredCertificate) {
  return [c.certificatePem, ...c.chainPem].map((pem) => {
    const x = new X509Certificate(pem);
    return {
      subject: x.subject.replace(/\n/g, ', '),
      issuer: x.issuer.replace(/\n/g, ', '),
      serial: x.serialNumber,
      validFrom: new Date(x.validFrom),
      validTo: new Date(x.validTo),
      fingerprint: fingerprintLines(x.fingerprint256),
      isRoot: x.subject === x.issuer,
    };
  });
}

/**
 * Certificate administration: the certificates of the agencies an administrator manages, importing one
 * from a PKCS#12 file, and revoking one. A system administrator sees them all; an agency administrator
 * only their agency's seal and the personal certificates of their agency's officers. Another agency's
 * certificate answers 404, as if it did not exist.
 */
export function certificateAdminRoutes(deps: Deps): Router {
  const router = Router();
  router.use('/admin/certificates', requireRole('SYSTEM_ADMIN', 'AGENCY_ADMIN'));

  const agencyName = (req: Request, a: { name: string; nameEn: string }) =>
    req.lang === 'en' ? a.nameEn : a.name;

  /** Who this administrator may give a certificate to, and whose certificates they may see. */
  const scopeOf = async (user: User) => {
    const [officers, agencies] = await Promise.all([
      deps.officers.listOfficers(user),
      deps.officers.manageableAgencies(user),
    ]);
    return {
      all: isSystemAdmin(user),
      officers: new Map(officers.map((o) => [o.id, o])),
      agencies: new Map(agencies.map((a) => [a.id, a])),
      // An agency administrator without an agency manages nothing, never everything.
      listAgencyId: isSystemAdmin(user) ? null : (user.agencyId ?? -1),
    };
  };
  type Scope = Awaited<ReturnType<typeof scopeOf>>;

  const manages = (scope: Scope, c: StoredCertificate) =>
    scope.all ||
    (c.holderKind === 'PERSONAL'
      ? c.userId !== null && scope.officers.has(c.userId)
      : c.agencyId !== null && scope.agencies.has(c.agencyId));

  const holderName = (req: Request, scope: Scope, c: StoredCertificate): string => {
    if (c.holderKind === 'PERSONAL') {
      const o = c.userId === null ? undefined : scope.officers.get(c.userId);
      return o ? `${o.fullName} (${o.email})` : `#${c.userId ?? ''}`;
    }
    const a = c.agencyId === null ? undefined : scope.agencies.get(c.agencyId);
    return a ? agencyName(req, a) : `#${c.agencyId ?? ''}`;
  };

  const present = (req: Request, scope: Scope, c: CertificateView) => {
    const now = deps.clock.now();
    return {
      id: c.id,
      holderName: holderName(req, scope, c),
      holderKind: c.holderKind,
      commonName: c.commonName,
      issuerName: nameField(new X509Certificate(c.certificatePem).issuer, 'CN') ?? c.issuer,
      serial: c.serialNumber,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      state: c.state,
      warning: c.state !== 'ACTIVE',
      lockedUntil: c.lockedUntil && c.lockedUntil > now ? c.lockedUntil : null,
    };
  };

  /** The certificate if this administrator manages it; otherwise 404, not 403, so ids reveal nothing. */
  const managedCertificate = async (req: Request, scope: Scope): Promise<CertificateView> => {
    const c = await deps.pki.get(idParam(req));
    if (!manages(scope, c)) throw new NotFoundError();
    return deps.pki.view(c);
  };

  router.get('/admin/certificates', async (req, res) => {
    const scope = await scopeOf(req.user!);
    const certificates = await deps.pki.list(scope.listAgencyId);
    res.render('pages/admin/certificates', {
      title: req.t('cert.title'),
      certificates: certificates.map((c) => present(req, scope, c)),
      expiring: certificates.filter((c) => c.state === 'EXPIRING').length,
      expired: certificates.filter((c) => c.state === 'EXPIRED').length,
      warningDays: EXPIRY_WARNING_DAYS,
    });
  });

  const holderChoices = (req: Request, scope: Scope) => ({
    officers: [...scope.officers.values()]
      .filter((o) => o.status === 'ACTIVE')
      .map((o) => {
        const agency = o.agencyId === null ? undefined : scope.agencies.get(o.agencyId);
        const where = agency ? ` – ${agencyName(req, agency)}` : '';
        return { value: `user:${o.id}`, label: `${o.fullName} (${o.email})${where}` };
      }),
    agencies: [...scope.agencies.values()].map((a) => ({
      value: `agency:${a.id}`,
      label: agencyName(req, a),
    })),
  });

  const importPage = (
    req: Request,
    res: Response,
    scope: Scope,
    status: number,
    values: Record<string, string>,
    errors: Record<string, string>,
  ) =>
    res.status(status).render('pages/admin/certificate-import', {
      title: req.t('cert.importTitle'),
      holders: holderChoices(req, scope),
      maxKb: MAX_P12_BYTES / 1024,
      minPin: MIN_PIN_LENGTH,
      pinAttempts: PIN_ATTEMPTS,
      lockMinutes: LOCK_MINUTES,
      values,
      errors,
    });

  router.get('/admin/certificates/import', async (req, res) => {
    const holder = typeof req.query.holder === 'string' ? req.query.holder : '';
    importPage(req, res, await scopeOf(req.user!), 200, { holder }, {});
  });

  /** The form's holder, if it is one this administrator manages. */
  const holderOf = (
    scope: Scope,
    value: string,
  ): { holder: CertificateHolder; label: string } | undefined => {
    const [kind, rawId] = value.split(':');
    const id = Number(rawId);
    if (kind === 'user') {
      const o = scope.officers.get(id);
      if (!o || o.status !== 'ACTIVE') return undefined;
      return { holder: { kind: 'PERSONAL', userId: o.id, agencyId: null }, label: o.fullName };
    }
    const a = scope.agencies.get(id);
    if (kind !== 'agency' || !a) return undefined;
    return { holder: { kind: 'AGENCY', userId: null, agencyId: a.id }, label: a.name };
  };

  /** Every problem of the form at once, as field -> message key, before anything is decrypted. */
  const checkImport = (scope: Scope, form: InMemoryForm) => {
    const errors: Record<string, string> = {};
    const params: Record<string, Record<string, string | number>> = {
      pin: { min: MIN_PIN_LENGTH, max: MAX_PIN_LENGTH },
      file: { maxKb: MAX_P12_BYTES / 1024 },
    };
    let input: z.output<typeof importSchema> | undefined;
    try {
      input = parseInput(importSchema, form.fields);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      Object.assign(errors, err.fieldErrors);
    }
    const holder = holderOf(scope, form.fields.holder ?? '');
    if (!holder) errors.holder = 'v.certHolder';
    if (!form.file || form.file.data.length === 0) errors.file = 'v.certFile';
    if (!errors.pin && form.fields.pin !== form.fields.pinConfirm) errors.pinConfirm = 'v.certPinConfirm';
    if (Object.keys(errors).length > 0 || !input || !holder || !form.file) {
      throw new ValidationError(errors, params);
    }
    return { ...input, ...holder, file: form.file.data };
  };

  /** The import's refusals, as messages beside the field they are about. */
  const importRefusal = (err: unknown): ValidationError | undefined => {
    if (err instanceof Pkcs12PasswordError) return new ValidationError({ password: 'v.certWrongPassword' });
    if (err instanceof Pkcs12FormatError) return new ValidationError({ file: 'v.certDamaged' });
    if (err instanceof CertificateUnusableError) {
      return new ValidationError({ file: `v.certUnusable.${err.reason}` });
    }
    if (err instanceof SignerKeyError) return new ValidationError({ file: 'v.certKeyUnsupported' });
    if (err instanceof ConflictError) return new ValidationError({ file: 'v.certDuplicate' });
    if (err instanceof AppError && err.code === 'PIN_TOO_SHORT') {
      return new ValidationError({ pin: 'v.certPinShort' }, { pin: { min: MIN_PIN_LENGTH } });
    }
    return undefined;
  };

  router.post('/admin/certificates/import', async (req, res) => {
    const scope = await scopeOf(req.user!);
    let form: InMemoryForm;
    try {
      form = await readP12Form(req);
    } catch (err) {
      if (!(err instanceof UploadError)) throw err;
      const message = req.t(err.messageKey, err.details as Record<string, string | number> | undefined);
      return importPage(req, res, scope, err.status, {}, { file: message });
    }
    // Only the holder is shown again: never the password or the PIN.
    const values = { holder: form.fields.holder ?? '' };
    let id: number;
    let label: string;
    try {
      const input = checkImport(scope, form);
      label = input.label;
      id = await deps.pki.importPkcs12(
        input.holder,
        input.file,
        input.password,
        input.pin,
        req.user!,
        requestContext(req),
      );
    } catch (err) {
      const refusal = err instanceof ValidationError ? err : importRefusal(err);
      if (!refusal) throw err;
      return importPage(req, res, scope, 422, values, translatedErrors(req, refusal, IMPORT_FIELDS));
    }
    const stored = await deps.pki.get(id);
    req.session.flash = {
      kind: 'success',
      key: 'cert.imported',
      params: { name: stored.commonName, holder: label },
    };
    res.redirect(303, `/admin/certificates/${id}`);
  });

  const detailPage = async (
    req: Request,
    res: Response,
    scope: Scope,
    c: CertificateView,
    status = 200,
    values: Record<string, string> = {},
    errors: Record<string, string> = {},
  ) => {
    res.status(status).render('pages/admin/certificate', {
      title: req.t('cert.detailTitle'),
      certificate: {
        ...present(req, scope, c),
        subject: c.subject,
        issuer: c.issuer,
        keyType: c.keyType,
        fingerprint: fingerprintLines(c.fingerprint),
        createdAt: c.createdAt,
        revokedAt: c.revokedAt,
        revokedReason: c.revokedReason,
        failedPinCount: c.failedPinCount,
      },
      chain: presentChain(c),
      warningDays: EXPIRY_WARNING_DAYS,
      values,
      errors,
    });
  };

  router.get('/admin/certificates/:id', async (req, res) => {
    const scope = await scopeOf(req.user!);
    await detailPage(req, res, scope, await managedCertificate(req, scope));
  });

  router.post('/admin/certificates/:id/revoke', async (req, res) => {
    const scope = await scopeOf(req.user!);
    const c = await managedCertificate(req, scope);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { reason: typeof body.reason === 'string' ? body.reason : '' };
    try {
      const input = parseInput(revokeSchema, body);
      await deps.pki.revoke(c.id, input.reason, req.user!, requestContext(req));
    } catch (err) {
      if (err instanceof ValidationError) {
        return detailPage(req, res, scope, c, 422, values, translatedErrors(req, err, REVOKE_FIELDS));
      }
      if (err instanceof ConflictError) {
        // Revoked meanwhile (another administrator, another tab): show it as it is now.
        res.locals.flash = { kind: 'error', text: req.t('cert.alreadyRevoked') };
        return detailPage(req, res, scope, deps.pki.view(await deps.pki.get(c.id)), 409);
      }
      throw err;
    }
    req.session.flash = { kind: 'success', key: 'cert.revoked', params: { name: c.commonName } };
    res.redirect(303, `/admin/certificates/${c.id}`);
  });

  return router;
}
