import {
  X509Certificate,
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import forge from 'node-forge';
import { AppError } from '../errors';
import {
  type Asn1,
  children,
  der,
  derToPem,
  fromDerBuffer,
  isContextTag,
  pemToDer,
  toDerBuffer,
} from './derCodec';

/**
 * PKCS#12 (.p12/.pfx), the format CAs hand out a certificate and its key in.
 *
 * Reading goes through node-forge, which knows the legacy algorithms still found in files from older tools
 * (RC2-40 and 3DES with SHA-1) as well as PBES2. Writing is done here: forge's writer only takes RSA keys and
 * always MACs with SHA-1. Files written here use PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key,
 * HMAC-SHA256 for the integrity MAC and leave the certificates, which are public, unencrypted; OpenSSL 3
 * reads them without -legacy.
 */

export interface Pkcs12Contents {
  certificatePem: string;
  privateKeyPem: string;
  /** Issuers above the certificate, nearest first when the file lets us tell. */
  chainPem: string[];
}

export interface WritePkcs12Options extends Pkcs12Contents {
  password: string;
  /** Shown by Windows and browsers when the file is imported. */
  friendlyName?: string;
}

export class Pkcs12PasswordError extends AppError {
  constructor() {
    super('PKCS12_WRONG_PASSWORD', 422, 'signing.pkcs12WrongPassword');
  }
}

export class Pkcs12FormatError extends AppError {
  constructor(reason: string) {
    super('PKCS12_INVALID', 422, 'signing.pkcs12Invalid', { reason });
  }
}

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

const ITERATIONS = 10_000;

/**
 * forge derives the MAC key from the password's UTF-16 code units and PBES2 keys from its raw bytes, so a
 * password outside ASCII would open one and not the other; CA-issued files use ASCII passwords anyway.
 */
function assertAsciiPassword(password: string): void {
  if (!/^[\x20-\x7e]+$/.test(password)) {
    throw new AppError('PKCS12_PASSWORD_UNSUPPORTED', 422, 'signing.pkcs12PasswordUnsupported');
  }
}

function dataContentInfo(content: Buffer): Asn1 {
  return der.sequence([der.oid(OIDS.data), der.explicit(0, der.octetString(content))]);
}

function bagAttributes(localKeyId: Buffer, friendlyName: string | undefined): Asn1 {
  const attributes = [der.sequence([der.oid(OIDS.localKeyId), der.set([der.octetString(localKeyId)])])];
  if (friendlyName) {
    attributes.unshift(der.sequence([der.oid(OIDS.friendlyName), der.set([der.bmpString(friendlyName)])]));
  }
  return der.set(attributes);
}

/** PKCS#5 PBES2 EncryptedPrivateKeyInfo, computed with Node's crypto (forge's PBKDF2 is pure JS). */
function encryptPrivateKeyInfo(privateKeyInfo: Buffer, password: string): Asn1 {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(privateKeyInfo), cipher.final()]);
  key.fill(0);
  const algorithm = der.sequence([
    der.oid(OIDS.pbes2),
    der.sequence([
      der.sequence([
        der.oid(OIDS.pbkdf2),
        der.sequence([
          der.octetString(salt),
          der.smallInteger(ITERATIONS),
          der.sequence([der.oid(OIDS.hmacWithSha256), der.null()]),
        ]),
      ]),
      der.sequence([der.oid(OIDS.aes256Cbc), der.octetString(iv)]),
    ]),
  ]);
  return der.sequence([algorithm, der.octetString(encrypted)]);
}

/** RFC 7292 appendix B key derivation (ID 3, MAC key) with SHA-256, then HMAC-SHA256 over the AuthenticatedSafe. */
function macData(authenticatedSafe: Buffer, password: string): Asn1 {
  const salt = randomBytes(16);
  const macKey = forge.pkcs12.generateKey(
    password,
    forge.util.createBuffer(salt.toString('binary')),
    3,
    ITERATIONS,
    32,
    forge.md.sha256.create(),
  );
  const mac = createHmac('sha256', Buffer.from(macKey.getBytes(), 'binary'))
    .update(authenticatedSafe)
    .digest();
  return der.sequence([
    der.sequence([der.sequence([der.oid(OIDS.sha256), der.null()]), der.octetString(mac)]),
    der.octetString(salt),
    der.smallInteger(ITERATIONS),
  ]);
}

export function writePkcs12(options: WritePkcs12Options): Buffer {
  assertAsciiPassword(options.password);
  const certificateDer = pemToDer(options.certificatePem, 'CERTIFICATE');
  const privateKey = createPrivateKey(options.privateKeyPem);
  const certificateKey = new X509Certificate(certificateDer).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  if (!createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).equals(certificateKey)) {
    throw new Pkcs12FormatError('the key does not belong to the certificate');
  }
  // The key and its certificate are paired by this attribute, conventionally the certificate's SHA-1.
  const localKeyId = createHash('sha1').update(certificateDer).digest();

  const certBag = (der_: Buffer, attributes: Asn1 | null): Asn1 =>
    der.sequence([
      der.oid(OIDS.certBag),
      der.explicit(0, der.sequence([der.oid(OIDS.x509Certificate), der.explicit(0, der.octetString(der_))])),
      ...(attributes ? [attributes] : []),
    ]);
  const certificates = der.sequence([
    certBag(certificateDer, bagAttributes(localKeyId, options.friendlyName)),
    ...options.chainPem.map((pem) => certBag(pemToDer(pem, 'CERTIFICATE'), null)),
  ]);

  const privateKeyInfo = privateKey.export({ type: 'pkcs8', format: 'der' });
  const keyBag = der.sequence([
    der.sequence([
      der.oid(OIDS.pkcs8ShroudedKeyBag),
      der.explicit(0, encryptPrivateKeyInfo(privateKeyInfo, options.password)),
      bagAttributes(localKeyId, options.friendlyName),
    ]),
  ]);
  privateKeyInfo.fill(0);

  const authenticatedSafe = toDerBuffer(
    der.sequence([dataContentInfo(toDerBuffer(certificates)), dataContentInfo(toDerBuffer(keyBag))]),
  );
  return toDerBuffer(
    der.sequence([
      der.smallInteger(3),
      dataContentInfo(authenticatedSafe),
      macData(authenticatedSafe, options.password),
    ]),
  );
}

/**
 * forge only models RSA certificates; for those it re-encodes from parsed fields, which could change the
 * bytes of a certificate it did not make. Rebuilding from the parsed TBSCertificate and the signature keeps
 * them exactly; the outer algorithm must equal the TBS's own one (RFC 5280 4.1.1.2).
 */
function certificateDerFromBag(bag: forge.pkcs12.Bag): Buffer {
  const cert = bag.cert as (forge.pki.Certificate & { tbsCertificate?: Asn1 }) | undefined;
  if (!cert) return toDerBuffer(bag.asn1);
  const tbs = cert.tbsCertificate;
  if (!tbs) throw new Pkcs12FormatError('certificate without TBSCertificate');
  const fields = children(tbs);
  const algorithm = fields[fields[0] && isContextTag(fields[0], 0) ? 2 : 1];
  if (!algorithm) throw new Pkcs12FormatError('malformed certificate');
  const signature = Buffer.from(cert.signature as string, 'binary');
  return toDerBuffer(der.sequence([tbs, fromDerBuffer(toDerBuffer(algorithm)), der.bitString(signature)]));
}

function privateKeyDerFromBag(bag: forge.pkcs12.Bag): Buffer {
  if (bag.key) return toDerBuffer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)));
  return toDerBuffer(bag.asn1);
}

/** Orders the other certificates from the leaf's issuer upwards; ones that are not on the path go last. */
function orderChain(leaf: X509Certificate, others: X509Certificate[]): X509Certificate[] {
  const ordered: X509Certificate[] = [];
  const rest = [...others];
  let current = leaf;
  for (;;) {
    const index = rest.findIndex((candidate) => current.checkIssued(candidate));
    if (index < 0) break;
    const [issuer] = rest.splice(index, 1);
    if (!issuer) break;
    ordered.push(issuer);
    current = issuer;
  }
  return [...ordered, ...rest];
}

export function readPkcs12(buffer: Buffer, password: string): Pkcs12Contents {
  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    // Non-strict: files from Windows and older tools use BER (indefinite lengths) in places.
    const asn1 = forge.asn1.fromDer(buffer.toString('binary'), false);
    pfx = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/password|MAC could not be verified/i.test(message)) throw new Pkcs12PasswordError();
    throw new Pkcs12FormatError('unreadable PKCS#12');
  }

  const bags = pfx.safeContents.flatMap((contents) => contents.safeBags);
  const keyBags = bags.filter((b) => b.type === OIDS.keyBag || b.type === OIDS.pkcs8ShroudedKeyBag);
  if (keyBags.length !== 1 || !keyBags[0]) {
    throw new Pkcs12FormatError(`expected one private key, found ${keyBags.length}`);
  }
  const privateKey = createPrivateKey({
    key: privateKeyDerFromBag(keyBags[0]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });

  const certificates = bags
    .filter((b) => b.type === OIDS.certBag)
    .map((bag) => new X509Certificate(certificateDerFromBag(bag)));
  const leaf = certificates.find((c) =>
    c.publicKey.export({ type: 'spki', format: 'der' }).equals(publicKey),
  );
  if (!leaf) throw new Pkcs12FormatError('no certificate for the private key');

  return {
    certificatePem: derToPem(leaf.raw, 'CERTIFICATE'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chainPem: orderChain(
      leaf,
      certificates.filter((c) => c !== leaf),
    ).map((c) => derToPem(c.raw, 'CERTIFICATE')),
  };
}
