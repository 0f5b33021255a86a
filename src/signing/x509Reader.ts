import {
  type Asn1,
  children,
  fromDerBuffer,
  isContextTag,
  oidOf,
  pemToDer,
  toDerBuffer,
  valueBytes,
} from './derCodec';

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

export const OID = {
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  title: '2.5.4.12',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  /** id-kp-documentSigning, RFC 9336. */
  documentSigning: '1.3.6.1.5.5.7.3.36',
  /** What Adobe and Microsoft tools issued before RFC 9336; accepted when reading. */
  msDocumentSigning: '1.3.6.1.4.1.311.10.3.12',
  adobeAuthenticDocuments: '1.2.840.113583.1.1.5',
  anyExtendedKeyUsage: '2.5.29.37.0',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

/** The parts of a certificate the portal decides on, read straight from the DER. */
export interface CertificateInfo {
  der: Buffer;
  /** Lower-case hex without leading zeros: the form revocation lists compare. */
  serialNumber: string;
  /** The encoded Names, byte for byte, so an issued certificate can copy its issuer's subject exactly. */
  subjectDer: Buffer;
  issuerDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyInfoDer: Buffer;
  subjectKeyIdentifier: Buffer | null;
  authorityKeyIdentifier: Buffer | null;
  isCa: boolean;
  /** null when the extension is absent, which RFC 5280 reads as "any usage". */
  keyUsage: ReadonlySet<KeyUsage> | null;
  extKeyUsage: readonly string[] | null;
}

export function normalizeSerial(serial: string): string {
  const hex = serial
    .replace(/[\s:]/g, '')
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw new TypeError('a serial number is written in hexadecimal');
  return hex;
}

function readTime(node: Asn1): Date {
  const text = valueBytes(node).toString('latin1');
  const utc = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (utc) {
    const [, yy, mo, dd, hh, mi, ss] = utc.map(Number) as number[];
    const year = (yy ?? 0) < 50 ? 2000 + (yy ?? 0) : 1900 + (yy ?? 0);
    return new Date(Date.UTC(year, (mo ?? 1) - 1, dd, hh, mi, ss));
  }
  const generalized = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (generalized) {
    const [, yyyy, mo, dd, hh, mi, ss] = generalized.map(Number) as number[];
    return new Date(Date.UTC(yyyy ?? 0, (mo ?? 1) - 1, dd, hh, mi, ss));
  }
  throw new TypeError(`unsupported certificate time ${text}`);
}

function readKeyUsage(extensionValue: Buffer): Set<KeyUsage> {
  const bits = valueBytes(fromDerBuffer(extensionValue));
  const usages = new Set<KeyUsage>();
  KEY_USAGE_BITS.forEach((name, index) => {
    const byte = bits[1 + (index >> 3)];
    if (byte !== undefined && byte & (0x80 >> (index & 7))) usages.add(name);
  });
  return usages;
}

export function readCertificate(certificate: string | Buffer): CertificateInfo {
  const certDer = typeof certificate === 'string' ? pemToDer(certificate, 'CERTIFICATE') : certificate;
  const [tbs] = children(fromDerBuffer(certDer));
  if (!tbs) throw new TypeError('not an X.509 certificate');
  const fields = children(tbs);
  // The version is an optional [0]; v1 certificates start directly with the serial number.
  const offset = fields[0] && isContextTag(fields[0], 0) ? 1 : 0;
  const at = (index: number): Asn1 => {
    const node = fields[index + offset];
    if (!node) throw new TypeError('truncated TBSCertificate');
    return node;
  };
  const [notBefore, notAfter] = children(at(3));
  if (!notBefore || !notAfter) throw new TypeError('malformed validity');

  const info: CertificateInfo = {
    der: certDer,
    serialNumber: normalizeSerial(valueBytes(at(0)).toString('hex')),
    issuerDer: toDerBuffer(at(2)),
    notBefore: readTime(notBefore),
    notAfter: readTime(notAfter),
    subjectDer: toDerBuffer(at(4)),
    subjectPublicKeyInfoDer: toDerBuffer(at(5)),
    subjectKeyIdentifier: null,
    authorityKeyIdentifier: null,
    isCa: false,
    keyUsage: null,
    extKeyUsage: null,
  };

  const extensionsTag = fields.slice(6 + offset).find((node) => isContextTag(node, 3));
  for (const extension of extensionsTag ? children(children(extensionsTag)[0] ?? extensionsTag) : []) {
    const parts = children(extension);
    const id = oidOf(parts[0] ?? extension);
    const value = valueBytes(parts[parts.length - 1] ?? extension);
    switch (id) {
      case OID.subjectKeyIdentifier:
        info.subjectKeyIdentifier = valueBytes(fromDerBuffer(value));
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = children(fromDerBuffer(value)).find((node) => isContextTag(node, 0));
        info.authorityKeyIdentifier = keyId ? valueBytes(keyId) : null;
        break;
      }
      case OID.basicConstraints: {
        const first = children(fromDerBuffer(value))[0];
        info.isCa = first?.type === 1 && valueBytes(first)[0] !== 0;
        break;
      }
      case OID.keyUsage:
        info.keyUsage = readKeyUsage(value);
        break;
      case OID.extKeyUsage:
        info.extKeyUsage = children(fromDerBuffer(value)).map(oidOf);
        break;
    }
  }
  return info;
}
