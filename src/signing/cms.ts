import { type KeyObject, X509Certificate, createHash, verify as verifySignature } from 'node:crypto';
import forge from 'node-forge';
import { type Asn1, children, der, fromDerBuffer, pemToDer, toDerBuffer } from './derCodec';

/**
 * The CMS SignedData inside a PAdES signature (ETSI EN 319 142-1, baseline B-B): detached, one SignerInfo,
 * SHA-256, and exactly the signed attributes content-type, message-digest and signing-certificate-v2.
 * There is deliberately no signing-time attribute: PAdES puts the claimed time in the signature
 * dictionary's /M, and a second, possibly different, time in the CMS would only confuse a verifier.
 * forge.pkcs7's signer always adds signing-time, which is why the structure is built by hand here.
 */

export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

/** Signs `data` with SHA-256: RSASSA-PKCS1-v1_5 for RSA, a DER-encoded ECDSA signature for P-256. */
export type SignFunction = (data: Buffer) => Promise<Buffer>;

export interface CadesInput {
  /** SHA-256 of the signed bytes (for a PDF: the two byte ranges, concatenated). */
  contentDigest: Buffer;
  certificatePem: string;
  /** Issuers above the certificate, nearest first; included so a verifier can build the path offline. */
  chainPem: readonly string[];
  sign: SignFunction;
  /**
   * Asks a time-stamping authority for a token over the signature value (RFC 3161, as CAdES B-T does) and
   * answers the TimeStampToken, a DER ContentInfo; it becomes the unsigned attribute
   * id-aa-signatureTimeStampToken. Unsigned, because it can only be made once the signature exists.
   */
  timestamp?: (signatureValue: Buffer) => Promise<Buffer>;
}

export class CmsBuildError extends Error {
  readonly code = 'CMS_BUILD_FAILED';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const { Class, Type } = forge.asn1;

const SHA256_LENGTH = 32;

/** A parsed certificate whose pieces re-encode to exactly the bytes the issuer signed. */
interface ParsedCertificate {
  der: Buffer;
  node: Asn1;
  issuer: Asn1;
  serial: Asn1;
}

// A signer signs many documents with one certificate: parsing it (ASN.1 in JavaScript, X.509 in OpenSSL) once
// per process instead of once per signature is most of the signature step's cost. Parsed trees are never
// mutated after parsing. Bounded, so a portal that has seen many certificates does not grow without end.
const CACHE_LIMIT = 256;
const parsedCertificates = new Map<string, ParsedCertificate>();
const publicKeys = new Map<string, KeyObject>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
  }
  return value;
}

const publicKeyOf = (pem: string): KeyObject =>
  remember(publicKeys, pem, () => new X509Certificate(pem).publicKey);

function parseCertificate(pem: string): ParsedCertificate {
  return remember(parsedCertificates, pem, () => parseCertificateUncached(pem));
}

function parseCertificateUncached(pem: string): ParsedCertificate {
  const bytes = pemToDer(pem, 'CERTIFICATE');
  const node = fromDerBuffer(bytes);
  // The certificate is embedded by re-encoding the parsed tree; refuse anything that is not strict DER
  // rather than ship a certificate whose bytes no longer match its issuer's signature.
  if (!toDerBuffer(node).equals(bytes)) throw new CmsBuildError('certificate is not DER-encoded');
  const tbs = children(children(node)[0] as Asn1);
  const first = tbs[0];
  // The version is an optional [0] EXPLICIT in front of the serial number.
  const offset = first && first.tagClass === Class.CONTEXT_SPECIFIC && first.type === 0 ? 1 : 0;
  const serial = tbs[offset];
  const issuer = tbs[offset + 2];
  if (!serial || serial.type !== Type.INTEGER || !issuer || issuer.type !== Type.SEQUENCE)
    throw new CmsBuildError('certificate has no issuer or serial number');
  return { der: bytes, node, issuer, serial };
}

/** DER encodes a SET OF in the order of its elements' encodings (X.690 11.6). */
function derSetOf(elements: Asn1[]): Asn1[] {
  return elements
    .map((element) => ({ element, bytes: toDerBuffer(element) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ element }) => element);
}

const attribute = (oid: string, value: Asn1): Asn1 => der.sequence([der.oid(oid), der.set([value])]);

/**
 * ESSCertIDv2 (RFC 5035) binds the signature to this one certificate, so a different certificate with the
 * same key cannot be substituted. The hash algorithm is left out because SHA-256 is its DER default.
 */
function signingCertificateV2(certificate: ParsedCertificate): Asn1 {
  const certHash = createHash('sha256').update(certificate.der).digest();
  const issuerSerial = der.sequence([
    // GeneralNames holding one directoryName ([4], explicit because Name is a CHOICE).
    der.sequence([der.explicit(4, certificate.issuer)]),
    certificate.serial,
  ]);
  return der.sequence([der.sequence([der.sequence([der.octetString(certHash), issuerSerial])])]);
}

function signatureAlgorithm(certificatePem: string): { identifier: Asn1; verifyDigest: string | null } {
  const key = publicKeyOf(certificatePem);
  if (key.asymmetricKeyType === 'rsa')
    // rsaEncryption with the digest from digestAlgorithm is what RFC 5754 and most PAdES signers use.
    return { identifier: der.sequence([der.oid(CMS_OID.rsaEncryption), der.null()]), verifyDigest: 'sha256' };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    // RFC 5758: the parameters of ecdsa-with-SHA256 are absent, not NULL.
    return { identifier: der.sequence([der.oid(CMS_OID.ecdsaWithSha256)]), verifyDigest: 'sha256' };
  throw new CmsBuildError('only RSA and ECDSA P-256 certificates can sign');
}

/** Builds a detached CAdES signature (a DER ContentInfo holding SignedData) over `contentDigest`. */
export async function buildCadesDetached(input: CadesInput): Promise<Buffer> {
  if (input.contentDigest.length !== SHA256_LENGTH)
    throw new CmsBuildError('the content digest must be a SHA-256 digest');
  const signerCertificate = parseCertificate(input.certificatePem);
  const chain = input.chainPem.map(parseCertificate);
  const algorithm = signatureAlgorithm(input.certificatePem);
  const sha256 = der.sequence([der.oid(CMS_OID.sha256)]);

  const attributes = derSetOf([
    attribute(CMS_OID.contentType, der.oid(CMS_OID.data)),
    attribute(CMS_OID.messageDigest, der.octetString(input.contentDigest)),
    attribute(CMS_OID.signingCertificateV2, signingCertificateV2(signerCertificate)),
  ]);
  // RFC 5652 5.4: the signature covers the attributes encoded as a universal SET, although they are
  // stored under the [0] IMPLICIT tag.
  const signedBytes = toDerBuffer(der.set(attributes));
  const signature = await input.sign(signedBytes);

  // A signature that does not verify (a key that does not match the certificate, a token that answered
  // with raw r||s) would be published in a legal document; catch it here instead.
  const publicKey = publicKeyOf(input.certificatePem);
  if (!verifySignature(algorithm.verifyDigest, signedBytes, publicKey, signature))
    throw new CmsBuildError('the signature does not verify with the signer certificate');

  const signerInfoFields = [
    der.smallInteger(1),
    der.sequence([signerCertificate.issuer, signerCertificate.serial]),
    sha256,
    forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, true, attributes),
    algorithm.identifier,
    der.octetString(signature),
  ];
  if (input.timestamp) {
    const tokenBytes = await input.timestamp(signature);
    let token: Asn1;
    try {
      token = fromDerBuffer(tokenBytes);
    } catch {
      throw new CmsBuildError('the time-stamp token is not DER');
    }
    // Re-encoded like the certificates, so anything but strict DER would alter the TSA's signed bytes.
    if (!toDerBuffer(token).equals(tokenBytes)) throw new CmsBuildError('the time-stamp token is not DER');
    signerInfoFields.push(
      forge.asn1.create(Class.CONTEXT_SPECIFIC, 1, true, [attribute(CMS_OID.signatureTimeStampToken, token)]),
    );
  }
  const signerInfo = der.sequence(signerInfoFields);

  const seen = new Set<string>();
  const certificates = [signerCertificate, ...chain].filter((c) => {
    const fingerprint = c.der.toString('base64');
    if (seen.has(fingerprint)) return false;
    seen.add(fingerprint);
    return true;
  });

  const signedData = der.sequence([
    der.smallInteger(1),
    der.set([sha256]),
    der.sequence([der.oid(CMS_OID.data)]),
    // CertificateSet is a SET OF, so DER orders it too; verifiers find the signer by issuer and serial.
    forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, true, derSetOf(certificates.map((c) => c.node))),
    der.set([signerInfo]),
  ]);
  return toDerBuffer(der.sequence([der.oid(CMS_OID.signedData), der.explicit(0, signedData)]));
}
