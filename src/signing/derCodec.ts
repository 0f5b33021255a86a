import forge from 'node-forge';

/**
 * Small DER helpers on node-forge's asn1 so the certificate, PKCS#12 and (later) CMS code build and read
 * structures the same way. forge keeps byte values as "binary strings"; these helpers take and give Buffers
 * so the rest of the module never sees that representation.
 */

export type Asn1 = forge.asn1.Asn1;

const { Class, Type } = forge.asn1;

const bin = (bytes: Buffer): string => bytes.toString('binary');

export const der = {
  sequence: (children: Asn1[]): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, children),
  set: (children: Asn1[]): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.SET, true, children),
  oid: (oid: string): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(oid).getBytes()),
  null: (): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.NULL, false, ''),
  boolean: (value: boolean): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\x00'),
  /** A non-negative INTEGER from its big-endian magnitude; a 0x00 is prepended when the top bit is set. */
  unsignedInteger: (magnitude: Buffer): Asn1 => {
    let start = 0;
    while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
    let bytes = magnitude.subarray(start);
    if (bytes.length === 0) bytes = Buffer.from([0]);
    if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, bin(bytes));
  },
  smallInteger: (value: number): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, forge.asn1.integerToDer(value).getBytes()),
  octetString: (bytes: Buffer): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bin(bytes)),
  /** A BIT STRING holding whole bytes (signatures, keys). */
  bitString: (bytes: Buffer): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, '\x00' + bin(bytes)),
  /** A named-bit BIT STRING (keyUsage): DER drops trailing zero bits and counts them in the first octet. */
  namedBits: (bits: readonly number[]): Asn1 => {
    const highest = Math.max(...bits);
    const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
    for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
    const unused = 7 - (highest & 7);
    return forge.asn1.create(
      Class.UNIVERSAL,
      Type.BITSTRING,
      false,
      String.fromCharCode(unused) + bin(bytes),
    );
  },
  utf8String: (text: string): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.UTF8, false, bin(Buffer.from(text, 'utf8'))),
  printableString: (text: string): Asn1 =>
    forge.asn1.create(Class.UNIVERSAL, Type.PRINTABLESTRING, false, text),
  /** forge writes a BMPSTRING's JavaScript string as UTF-16BE itself. */
  bmpString: (text: string): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.BMPSTRING, false, text),
  /** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
  time: (date: Date): Asn1 => {
    const year = date.getUTCFullYear();
    return year >= 1950 && year < 2050
      ? forge.asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, forge.asn1.dateToUtcTime(date))
      : forge.asn1.create(
          Class.UNIVERSAL,
          Type.GENERALIZEDTIME,
          false,
          forge.asn1.dateToGeneralizedTime(date),
        );
  },
  /** [n] EXPLICIT: a constructed context tag around one element. */
  explicit: (tag: number, child: Asn1): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [child]),
  /** [n] IMPLICIT on a primitive value. */
  implicitPrimitive: (tag: number, bytes: Buffer): Asn1 =>
    forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, false, bin(bytes)),
};

export function toDerBuffer(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

/**
 * Parses DER strictly. BIT STRINGs are left undecoded so their bytes re-encode exactly, which matters when a
 * parsed piece (a public key, a foreign certificate) is embedded in a structure that gets signed.
 */
export function fromDerBuffer(bytes: Buffer): Asn1 {
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
  // @types/node-forge only declares the legacy boolean form of the options argument.
  return forge.asn1.fromDer(bin(bytes), options as unknown as boolean);
}

export function valueBytes(node: Asn1): Buffer {
  if (typeof node.value !== 'string') throw new TypeError('expected a primitive ASN.1 value');
  return Buffer.from(node.value, 'binary');
}

export function children(node: Asn1): Asn1[] {
  if (!Array.isArray(node.value)) throw new TypeError('expected a constructed ASN.1 value');
  return node.value;
}

export function oidOf(node: Asn1): string {
  if (node.type !== Type.OID) throw new TypeError('expected an OBJECT IDENTIFIER');
  return forge.asn1.derToOid(valueBytes(node).toString('binary'));
}

export function isContextTag(node: Asn1, tag: number): boolean {
  return node.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag;
}

export function pemToDer(pem: string, label: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!match?.[1]) throw new TypeError(`not a PEM ${label}`);
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

export function derToPem(bytes: Buffer, label: string): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Splits a PEM bundle into its certificates, in file order. */
export function splitCertificatePems(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
