import { type KeyObject, X509Certificate, createPublicKey, sign } from 'node:crypto';
import { AppError } from '../errors';
import type { KeyType } from './certificateAuthority';
import { OID, type CertificateInfo, normalizeSerial, readCertificate } from './x509Reader';

/**
 * Whatever holds the key. The workflow signs through this interface only, so a USB token, a remote signing
 * service or an HSM (PKCS#11) can replace the server-held key without touching it.
 */
export interface Signer {
  readonly certificatePem: string;
  /** Issuers above the certificate, nearest first. */
  readonly chainPem: readonly string[];
  readonly keyType: KeyType;
  /** SHA-256 over data: RSASSA-PKCS1-v1_5 for RSA, a DER-encoded ECDSA signature for P-256. */
  sign(data: Buffer): Promise<Buffer>;
}

export class SignerKeyError extends AppError {
  constructor(reason: string) {
    super('SIGNER_KEY_INVALID', 422, 'signing.signerKeyInvalid', { reason });
  }
}

export function keyTypeOf(key: KeyObject): KeyType {
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new SignerKeyError('RSA key under 2048 bits');
    return 'RSA';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ECDSA_P256';
  throw new SignerKeyError('only RSA and ECDSA P-256 keys can sign');
}

/** The first Signer: a key the server holds, unsealed from the key vault with the signer's PIN. */
export class ServerKeySigner implements Signer {
  readonly keyType: KeyType;
  readonly chainPem: readonly string[];
  // A private field, so the key never shows up when the signer is logged or serialised.
  readonly #privateKey: KeyObject;

  constructor(
    readonly certificatePem: string,
    chainPem: readonly string[],
    privateKey: KeyObject,
  ) {
    if (privateKey.type !== 'private') throw new SignerKeyError('not a private key');
    this.keyType = keyTypeOf(privateKey);
    const certificateKey = new X509Certificate(certificatePem).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const ownKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    if (!certificateKey.equals(ownKey))
      throw new SignerKeyError('the key does not belong to the certificate');
    this.chainPem = Object.freeze([...chainPem]);
    this.#privateKey = privateKey;
  }

  sign(data: Buffer): Promise<Buffer> {
    // The callback form runs on libuv's pool; RSA's defaults are PKCS#1 v1.5 and EC's are DER signatures.
    return new Promise((resolve, reject) =>
      sign('sha256', data, this.#privateKey, (err, signature) => (err ? reject(err) : resolve(signature))),
    );
  }
}

export const UNUSABLE_REASONS = [
  'EXPIRED',
  'NOT_YET_VALID',
  'REVOKED',
  'UNTRUSTED_CHAIN',
  'NO_SIGNING_USAGE',
] as const;
export type UnusableReason = (typeof UNUSABLE_REASONS)[number];

const SIGNING_EXTENDED_USAGES: readonly string[] = [
  OID.emailProtection,
  OID.documentSigning,
  OID.msDocumentSigning,
  OID.adobeAuthenticDocuments,
  OID.anyExtendedKeyUsage,
];

function hasSigningUsage(info: CertificateInfo): boolean {
  if (info.isCa) return false;
  if (info.keyUsage && !info.keyUsage.has('digitalSignature') && !info.keyUsage.has('nonRepudiation')) {
    return false;
  }
  return !info.extKeyUsage || info.extKeyUsage.some((oid) => SIGNING_EXTENDED_USAGES.includes(oid));
}

const within = (info: CertificateInfo, at: Date): boolean => info.notBefore <= at && at <= info.notAfter;

interface ChainCandidate {
  x509: X509Certificate;
  info: CertificateInfo;
  trusted: boolean;
}

/**
 * Walks from the certificate to a trusted root through the given chain. Each step needs the issuer's
 * name, a valid signature by its key, a CA certificate allowed to sign certificates, and validity at `at`.
 */
export function reachesTrustedRoot(
  certPem: string,
  chainPem: readonly string[],
  roots: readonly string[],
  at: Date,
): boolean {
  const candidate = (pem: string, trusted: boolean): ChainCandidate | null => {
    try {
      return { x509: new X509Certificate(pem), info: readCertificate(pem), trusted };
    } catch {
      return null;
    }
  };
  const issuers = [
    ...roots.map((pem) => candidate(pem, true)),
    ...chainPem.map((pem) => candidate(pem, false)),
  ]
    .filter((c): c is ChainCandidate => c !== null)
    .filter(
      (c) => c.info.isCa && (!c.info.keyUsage || c.info.keyUsage.has('keyCertSign')) && within(c.info, at),
    );

  let current = new X509Certificate(certPem);
  // The bound stops a loop of certificates that issue each other.
  for (let depth = 0; depth < 8; depth++) {
    const issuer = issuers.find((c) => current.checkIssued(c.x509) && current.verify(c.x509.publicKey));
    if (!issuer) return false;
    if (issuer.trusted) return true;
    current = issuer.x509;
  }
  return false;
}

/**
 * null when the portal may sign with the certificate at `at`, else the first reason found, checking the
 * certificate's own dates, then revocation, then the chain, then its usage. `revokedSerials` holds the
 * hexadecimal serials the portal revoked (case, colons and leading zeros do not matter); only the
 * certificate's own serial is looked up, since serials are unique per issuer, not across issuers.
 */
export function checkCertificateUsable(
  certPem: string,
  chainPem: readonly string[],
  trustedRootsPem: readonly string[],
  at: Date,
  revokedSerials: ReadonlySet<string>,
): UnusableReason | null {
  const info = readCertificate(certPem);
  if (at < info.notBefore) return 'NOT_YET_VALID';
  if (at > info.notAfter) return 'EXPIRED';
  const revoked = new Set([...revokedSerials].map(normalizeSerial));
  if (revoked.has(info.serialNumber)) return 'REVOKED';
  if (!reachesTrustedRoot(certPem, chainPem, trustedRootsPem, at)) return 'UNTRUSTED_CHAIN';
  if (!hasSigningUsage(info)) return 'NO_SIGNING_USAGE';
  return null;
}
