import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { AppError } from '../errors';
import { type Asn1, der, derToPem, fromDerBuffer, toDerBuffer, valueBytes, children } from './derCodec';
import { OID, readCertificate } from './x509Reader';

/**
 * A local certificate authority for development, tests and the demo seed. Production certificates come from
 * a licensed CA and are imported from PKCS#12; this module only has to produce certificates that the same
 * checks (and external tools: openssl, pdfsig) accept.
 *
 * node-forge's asn1 builds the structures; Node's crypto makes the keys and signatures, because forge can
 * neither make nor use EC keys and its pure-JS RSA key generation takes seconds.
 */

export const KEY_TYPES = ['RSA', 'ECDSA_P256'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const CERTIFICATE_KINDS = ['PERSONAL', 'AGENCY'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

export interface CaMaterial {
  certificatePem: string;
  /** PKCS#8, unencrypted: seal it with keyVault before it is stored anywhere. */
  privateKeyPem: string;
}

export interface IssuedCertificate extends CaMaterial {
  /** The issuer chain above the certificate, nearest first, ending with the root. */
  chainPem: string[];
}

export interface RootCaOptions {
  commonName: string;
  organization: string;
  country: 'VN';
  validFrom: Date;
  validTo: Date;
  keyType: KeyType;
}

export interface SubjectName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  /** The holder's position (chức vụ), shown by PDF readers beside the name. */
  title?: string;
  locality?: string;
  country: 'VN';
}

export interface IssueOptions {
  subject: SubjectName;
  kind: CertificateKind;
  validFrom: Date;
  validTo: Date;
  keyType: KeyType;
  /** Hexadecimal; a random 128-bit serial when omitted. */
  serialNumber?: string;
}

export class CertificateRequestError extends AppError {
  constructor(reason: string) {
    super('CERTIFICATE_REQUEST_INVALID', 422, 'signing.certificateRequestInvalid', { reason });
  }
}

// X.520 upper bounds, counted in characters.
const NAME_LIMITS: Record<keyof Omit<SubjectName, 'country'>, number> = {
  commonName: 64,
  organization: 64,
  organizationalUnit: 64,
  title: 64,
  locality: 128,
};

const KEY_USAGE_BIT = { digitalSignature: 0, nonRepudiation: 1, keyCertSign: 5, cRLSign: 6 } as const;

function generateKeyPair(keyType: KeyType): { publicKey: KeyObject; privateKey: KeyObject } {
  return keyType === 'RSA'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function signatureAlgorithm(signingKey: KeyObject): Asn1 {
  switch (signingKey.asymmetricKeyType) {
    case 'rsa':
      return der.sequence([der.oid(OID.sha256WithRsaEncryption), der.null()]);
    case 'ec':
      if (signingKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new CertificateRequestError('the CA key must be RSA or ECDSA P-256');
      }
      // RFC 5758 3.2: the parameters of ecdsa-with-SHA256 are absent, not NULL.
      return der.sequence([der.oid(OID.ecdsaWithSha256)]);
    default:
      throw new CertificateRequestError('the CA key must be RSA or ECDSA P-256');
  }
}

function encodeName(name: SubjectName): Asn1 {
  const rdn = (oid: string, value: Asn1): Asn1 => der.set([der.sequence([der.oid(oid), value])]);
  const text = (value: string): Asn1 => der.utf8String(value);
  // The conventional order, most general first; country is PrintableString as RFC 5280 requires.
  const rdns = [rdn(OID.country, der.printableString(name.country))];
  if (name.locality) rdns.push(rdn(OID.locality, text(name.locality)));
  if (name.organization) rdns.push(rdn(OID.organization, text(name.organization)));
  if (name.organizationalUnit) rdns.push(rdn(OID.organizationalUnit, text(name.organizationalUnit)));
  if (name.title) rdns.push(rdn(OID.title, text(name.title)));
  rdns.push(rdn(OID.commonName, text(name.commonName)));
  return der.sequence(rdns);
}

/**
 * Names are stored in NFC: Vietnamese typed with a decomposing input method would otherwise give a
 * different DN (and a different byte string to match) for the same person.
 */
function normalizeName(name: SubjectName): SubjectName {
  if (name.country !== 'VN') throw new CertificateRequestError('country must be VN');
  const normalized: SubjectName = { commonName: '', country: 'VN' };
  for (const field of Object.keys(NAME_LIMITS) as (keyof typeof NAME_LIMITS)[]) {
    const value = name[field]?.normalize('NFC').trim();
    if (!value) continue;
    if ([...value].length > NAME_LIMITS[field]) {
      throw new CertificateRequestError(`${field} is longer than ${NAME_LIMITS[field]} characters`);
    }
    normalized[field] = value;
  }
  if (!normalized.commonName) throw new CertificateRequestError('commonName is required');
  return normalized;
}

function serialBytes(serialNumber: string | undefined): Buffer {
  if (serialNumber === undefined) {
    // Positive and with a non-zero first octet, so the DER INTEGER is exactly 16 bytes.
    const bytes = randomBytes(16);
    bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
    return bytes;
  }
  const hex = serialNumber.replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]{1,40}$/.test(hex) || /^0+$/.test(hex)) {
    throw new CertificateRequestError('serialNumber must be 1 to 20 bytes of hexadecimal, not zero');
  }
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const bitString = children(fromDerBuffer(spkiDer))[1];
  if (!bitString) throw new TypeError('malformed SubjectPublicKeyInfo');
  return createHash('sha1').update(valueBytes(bitString).subarray(1)).digest();
}

function extension(oid: string, critical: boolean, value: Asn1): Asn1 {
  const parts = [der.oid(oid)];
  if (critical) parts.push(der.boolean(true));
  parts.push(der.octetString(toDerBuffer(value)));
  return der.sequence(parts);
}

interface TbsInput {
  serial: Buffer;
  issuerDer: Buffer;
  subject: Asn1;
  validFrom: Date;
  validTo: Date;
  subjectPublicKeyDer: Buffer;
  isCa: boolean;
  authorityKeyId: Buffer;
  signingKey: KeyObject;
}

function buildCertificate(input: TbsInput): string {
  if (!(input.validFrom < input.validTo))
    throw new CertificateRequestError('validFrom must be before validTo');
  const subjectKeyId = keyIdentifier(input.subjectPublicKeyDer);
  const keyUsageBits = input.isCa
    ? [KEY_USAGE_BIT.keyCertSign, KEY_USAGE_BIT.cRLSign]
    : [KEY_USAGE_BIT.digitalSignature, KEY_USAGE_BIT.nonRepudiation];
  const extensions = [
    extension(OID.basicConstraints, true, der.sequence(input.isCa ? [der.boolean(true)] : [])),
    extension(OID.keyUsage, true, der.namedBits(keyUsageBits)),
  ];
  if (!input.isCa) {
    // emailProtection is what NSS (pdfsig) and `openssl cms -verify` look for in a signer's certificate;
    // documentSigning states the purpose for readers that know RFC 9336.
    extensions.push(
      extension(
        OID.extKeyUsage,
        false,
        der.sequence([der.oid(OID.emailProtection), der.oid(OID.documentSigning)]),
      ),
    );
  }
  extensions.push(
    extension(OID.subjectKeyIdentifier, false, der.octetString(subjectKeyId)),
    extension(
      OID.authorityKeyIdentifier,
      false,
      der.sequence([der.implicitPrimitive(0, input.authorityKeyId)]),
    ),
  );

  const algorithm = signatureAlgorithm(input.signingKey);
  const tbs = der.sequence([
    der.explicit(0, der.smallInteger(2)),
    der.unsignedInteger(input.serial),
    algorithm,
    fromDerBuffer(input.issuerDer),
    der.sequence([der.time(input.validFrom), der.time(input.validTo)]),
    input.subject,
    fromDerBuffer(input.subjectPublicKeyDer),
    der.explicit(3, der.sequence(extensions)),
  ]);
  const tbsDer = toDerBuffer(tbs);
  // RSA keys sign with PKCS#1 v1.5 by default; EC signatures come out DER-encoded as X.509 wants.
  const signature = sign('sha256', tbsDer, input.signingKey);
  return derToPem(
    toDerBuffer(
      der.sequence([fromDerBuffer(tbsDer), signatureAlgorithm(input.signingKey), der.bitString(signature)]),
    ),
    'CERTIFICATE',
  );
}

function exportPrivateKey(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function createRootCa(options: RootCaOptions): CaMaterial {
  const name = normalizeName({
    commonName: options.commonName,
    organization: options.organization,
    country: options.country,
  });
  const { publicKey, privateKey } = generateKeyPair(options.keyType);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = encodeName(name);
  const certificatePem = buildCertificate({
    serial: serialBytes(undefined),
    issuerDer: toDerBuffer(subject),
    subject,
    validFrom: options.validFrom,
    validTo: options.validTo,
    subjectPublicKeyDer: spki,
    isCa: true,
    authorityKeyId: keyIdentifier(spki),
    signingKey: privateKey,
  });
  return { certificatePem, privateKeyPem: exportPrivateKey(privateKey) };
}

/** `ca.chainPem`, when the issuer is itself an intermediate, is appended after the issuer's certificate. */
export function issueCertificate(
  ca: CaMaterial & { chainPem?: string[] },
  options: IssueOptions,
): IssuedCertificate {
  const name = normalizeName(options.subject);
  if (options.kind === 'AGENCY' && name.title) {
    // An agency (seal) certificate names the organisation, not a person holding a position.
    throw new CertificateRequestError('an agency certificate has no title');
  }
  const caInfo = readCertificate(ca.certificatePem);
  if (!caInfo.isCa) throw new CertificateRequestError('the issuer is not a CA certificate');
  const caKey = createPrivateKey(ca.privateKeyPem);
  const caSpki = createPublicKey(caKey).export({ type: 'spki', format: 'der' });
  if (!caSpki.equals(caInfo.subjectPublicKeyInfoDer)) {
    throw new CertificateRequestError('the CA key does not belong to the CA certificate');
  }
  if (options.validFrom < caInfo.notBefore || options.validTo > caInfo.notAfter) {
    throw new CertificateRequestError('the validity must lie within the CA certificate validity');
  }

  const { publicKey, privateKey } = generateKeyPair(options.keyType);
  const certificatePem = buildCertificate({
    serial: serialBytes(options.serialNumber),
    issuerDer: caInfo.subjectDer,
    subject: encodeName(name),
    validFrom: options.validFrom,
    validTo: options.validTo,
    subjectPublicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    isCa: false,
    authorityKeyId: caInfo.subjectKeyIdentifier ?? keyIdentifier(caInfo.subjectPublicKeyInfoDer),
    signingKey: caKey,
  });
  return {
    certificatePem,
    privateKeyPem: exportPrivateKey(privateKey),
    chainPem: [derToPem(caInfo.der, 'CERTIFICATE'), ...(ca.chainPem ?? [])],
  };
}
