import assert from 'node:assert/strict';
import { X509Certificate, constants, createPrivateKey, verify } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type CaMaterial,
  type IssueOptions,
  type IssuedCertificate,
  type KeyType,
  createRootCa,
  issueCertificate,
} from '../../src/signing/certificateAuthority';
import {
  KeyEnvelopeError,
  WrongPinError,
  sealPrivateKey,
  unsealPrivateKey,
  unsealPrivateKeyAsync,
} from '../../src/signing/keyVault';
import { Pkcs12PasswordError, readPkcs12, writePkcs12 } from '../../src/signing/pkcs12';
import { ServerKeySigner, SignerKeyError, checkCertificateUsable } from '../../src/signing/signer';
import { readCertificate } from '../../src/signing/x509Reader';

const PERSON = 'Hoàng Văn Thắng';
const AGENCY = 'Ban Quản lý các khu công nghiệp tỉnh Bắc Giang';
const PIN = '246810';

const CA_FROM = new Date('2025-01-01T00:00:00Z');
const CA_TO = new Date('2045-01-01T00:00:00Z');
const LEAF_FROM = new Date('2026-01-01T00:00:00Z');
const LEAF_TO = new Date('2028-01-01T00:00:00Z');
const DURING = new Date('2026-06-15T03:00:00Z');

const workDir = mkdtempSync(join(tmpdir(), 'pki-test-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** Certificates only go to disk (openssl verify needs files); keys reach openssl through stdin. */
function certificateFile(name: string, pem: string): string {
  const path = join(workDir, name);
  writeFileSync(path, pem);
  return path;
}

function openssl(args: string[], input?: string | Buffer): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The same, with what OpenSSL prints on stderr (pkcs12 -info reports the MAC and bag algorithms there). */
function opensslWithDiagnostics(args: string[], input: Buffer): string {
  const run = spawnSync('openssl', args, { input, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`);
  return run.stdout + run.stderr;
}

function opensslVerify(rootPem: string, leafPem: string): string {
  return openssl([
    'verify',
    '-attime',
    String(Math.floor(DURING.getTime() / 1000)),
    '-CAfile',
    certificateFile('root.pem', rootPem),
    certificateFile('leaf.pem', leafPem),
  ]).trim();
}

function rootCa(keyType: KeyType, commonName = 'Cổng Dịch vụ công Thử nghiệm Root CA'): CaMaterial {
  return createRootCa({
    commonName,
    organization: 'Ủy ban nhân dân tỉnh Bắc Giang',
    country: 'VN',
    validFrom: CA_FROM,
    validTo: CA_TO,
    keyType,
  });
}

function personal(ca: CaMaterial, keyType: KeyType, extra: Partial<IssueOptions> = {}): IssuedCertificate {
  return issueCertificate(ca, {
    subject: {
      commonName: PERSON,
      organization: AGENCY,
      title: 'Phó Trưởng ban',
      locality: 'Bắc Giang',
      country: 'VN',
    },
    kind: 'PERSONAL',
    validFrom: LEAF_FROM,
    validTo: LEAF_TO,
    keyType,
    ...extra,
  });
}

const rsaRoot = rootCa('RSA');
const ecRoot = rootCa('ECDSA_P256');
const rsaLeaf = personal(rsaRoot, 'RSA');
const ecLeaf = personal(rsaRoot, 'ECDSA_P256');
const ecOnEcLeaf = personal(ecRoot, 'ECDSA_P256');
const agencyLeaf = issueCertificate(rsaRoot, {
  subject: { commonName: AGENCY, organization: 'Ủy ban nhân dân tỉnh Bắc Giang', country: 'VN' },
  kind: 'AGENCY',
  validFrom: LEAF_FROM,
  validTo: LEAF_TO,
  keyType: 'RSA',
});

describe('certificate authority', () => {
  it('issues RSA and ECDSA certificates that openssl verifies against the root', () => {
    assert.equal(
      opensslVerify(rsaRoot.certificatePem, rsaLeaf.certificatePem),
      `${join(workDir, 'leaf.pem')}: OK`,
    );
    assert.match(opensslVerify(rsaRoot.certificatePem, ecLeaf.certificatePem), /: OK$/);
    assert.match(opensslVerify(rsaRoot.certificatePem, agencyLeaf.certificatePem), /: OK$/);
    assert.match(opensslVerify(ecRoot.certificatePem, ecOnEcLeaf.certificatePem), /: OK$/);
    assert.match(opensslVerify(ecRoot.certificatePem, ecRoot.certificatePem), /: OK$/);
  });

  it('does not verify a leaf against a different root with the same name', () => {
    const impostor = rootCa('RSA');
    assert.throws(() => opensslVerify(impostor.certificatePem, rsaLeaf.certificatePem));
  });

  it('keeps Vietnamese names intact as UTF8String', () => {
    const subject = openssl(['x509', '-noout', '-subject', '-nameopt', 'utf8'], rsaLeaf.certificatePem);
    assert.match(subject, /CN=Hoàng Văn Thắng/);
    assert.match(subject, /O=Ban Quản lý các khu công nghiệp tỉnh Bắc Giang/);
    assert.match(subject, /title=Phó Trưởng ban/);
    const agency = openssl(['x509', '-noout', '-subject', '-nameopt', 'utf8'], agencyLeaf.certificatePem);
    assert.match(agency, /CN=Ban Quản lý các khu công nghiệp tỉnh Bắc Giang/);
    const parsed = openssl(['asn1parse'], rsaLeaf.certificatePem);
    assert.match(parsed, /UTF8STRING\s+:Hoàng Văn Thắng/);
    assert.match(parsed, /PRINTABLESTRING\s+:VN/);
    assert.doesNotMatch(parsed, /T61STRING|BMPSTRING/);
  });

  it('stores names in NFC whatever form they were typed in', () => {
    const typed = issueCertificate(rsaRoot, {
      subject: { commonName: PERSON.normalize('NFD'), country: 'VN' },
      kind: 'PERSONAL',
      validFrom: LEAF_FROM,
      validTo: LEAF_TO,
      keyType: 'ECDSA_P256',
    });
    assert.ok(new X509Certificate(typed.certificatePem).subject.includes(`CN=${PERSON}`));
  });

  it('sets the extensions of a signing certificate and of the CA', () => {
    const extensions =
      'basicConstraints,keyUsage,extendedKeyUsage,subjectKeyIdentifier,authorityKeyIdentifier';
    const leaf = openssl(['x509', '-noout', '-ext', extensions], rsaLeaf.certificatePem);
    assert.match(leaf, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(leaf, /Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    assert.match(leaf, /Extended Key Usage:\s+E-mail Protection, 1\.3\.6\.1\.5\.5\.7\.3\.36/);
    const root = openssl(['x509', '-noout', '-ext', extensions], rsaRoot.certificatePem);
    assert.match(root, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(root, /Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.doesNotMatch(root, /Extended Key Usage/);

    const rootInfo = readCertificate(rsaRoot.certificatePem);
    const leafInfo = readCertificate(rsaLeaf.certificatePem);
    assert.ok(rootInfo.subjectKeyIdentifier && leafInfo.authorityKeyIdentifier);
    assert.deepEqual(leafInfo.authorityKeyIdentifier, rootInfo.subjectKeyIdentifier);
    assert.deepEqual(leafInfo.issuerDer, rootInfo.subjectDer);
    assert.deepEqual([...(leafInfo.keyUsage ?? [])], ['digitalSignature', 'nonRepudiation']);
  });

  it('gives the chain and the validity asked for, and a given serial', () => {
    const leaf = personal(rsaRoot, 'RSA', { serialNumber: '0A1B2C3D' });
    const info = readCertificate(leaf.certificatePem);
    assert.equal(info.serialNumber, 'a1b2c3d');
    assert.equal(info.notBefore.toISOString(), LEAF_FROM.toISOString());
    assert.equal(info.notAfter.toISOString(), LEAF_TO.toISOString());
    assert.deepEqual(leaf.chainPem, [rsaRoot.certificatePem]);
    assert.match(leaf.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  it('encodes dates from 2050 as GeneralizedTime', () => {
    const longRoot = createRootCa({
      commonName: 'Root 2060',
      organization: 'Thử nghiệm',
      country: 'VN',
      validFrom: CA_FROM,
      validTo: new Date('2060-01-01T00:00:00Z'),
      keyType: 'ECDSA_P256',
    });
    assert.match(openssl(['asn1parse'], longRoot.certificatePem), /GENERALIZEDTIME\s+:20600101000000Z/);
    assert.equal(readCertificate(longRoot.certificatePem).notAfter.toISOString(), '2060-01-01T00:00:00.000Z');
  });

  it('refuses requests it must not sign', () => {
    const code = { code: 'CERTIFICATE_REQUEST_INVALID' };
    assert.throws(
      () =>
        issueCertificate(rsaRoot, {
          subject: { commonName: AGENCY, title: 'Trưởng ban', country: 'VN' },
          kind: 'AGENCY',
          validFrom: LEAF_FROM,
          validTo: LEAF_TO,
          keyType: 'RSA',
        }),
      code,
    );
    assert.throws(() => personal(rsaRoot, 'RSA', { validTo: new Date('2050-01-01T00:00:00Z') }), code);
    assert.throws(() => personal(rsaRoot, 'RSA', { validFrom: LEAF_TO, validTo: LEAF_FROM }), code);
    assert.throws(() => personal(rsaRoot, 'RSA', { serialNumber: '00' }), code);
    assert.throws(() => issueCertificate(rsaLeaf, { ...personalOptions(), keyType: 'RSA' }), code);
    assert.throws(
      () => issueCertificate({ ...rsaRoot, privateKeyPem: ecRoot.privateKeyPem }, personalOptions()),
      code,
    );
    assert.throws(
      () => personal(rsaRoot, 'RSA', { subject: { commonName: 'x'.repeat(65), country: 'VN' } }),
      code,
    );
  });
});

function personalOptions(): IssueOptions {
  return {
    subject: { commonName: PERSON, country: 'VN' },
    kind: 'PERSONAL',
    validFrom: LEAF_FROM,
    validTo: LEAF_TO,
    keyType: 'ECDSA_P256',
  };
}

describe('key vault', () => {
  const envelope = sealPrivateKey(rsaLeaf.privateKeyPem, PIN);

  it('seals into a self-describing envelope that does not contain the key', () => {
    const parsed = JSON.parse(envelope) as Record<string, unknown>;
    assert.equal(parsed.v, 1);
    assert.equal(parsed.kdf, 'scrypt');
    assert.deepEqual([parsed.N, parsed.r, parsed.p], [32768, 8, 1]);
    assert.equal(parsed.alg, 'aes-256-gcm');
    assert.equal(Buffer.from(String(parsed.salt), 'base64').length, 16);
    assert.equal(Buffer.from(String(parsed.iv), 'base64').length, 12);
    const keyBody = rsaLeaf.privateKeyPem.split('\n')[3] ?? '';
    assert.ok(keyBody.length > 40);
    assert.ok(!envelope.includes(keyBody));
    assert.ok(!envelope.includes(PIN));
    assert.notEqual(sealPrivateKey(rsaLeaf.privateKeyPem, PIN), envelope, 'fresh salt and IV each time');
  });

  it('unseals with the right PIN, synchronously or on the thread pool', async () => {
    const original = createPrivateKey(rsaLeaf.privateKeyPem);
    assert.ok(unsealPrivateKey(envelope, PIN).equals(original));
    assert.ok((await unsealPrivateKeyAsync(envelope, PIN)).equals(original));
    // The same PIN typed as decomposed Unicode opens a key sealed with the composed form.
    const accented = sealPrivateKey(ecLeaf.privateKeyPem, 'mãpin2026');
    assert.ok(
      unsealPrivateKey(accented, 'mãpin2026'.normalize('NFD')).equals(createPrivateKey(ecLeaf.privateKeyPem)),
    );
  });

  it('refuses a wrong PIN with a stable code', async () => {
    assert.throws(() => unsealPrivateKey(envelope, '246811'), WrongPinError);
    assert.throws(() => unsealPrivateKey(envelope, ''), { code: 'WRONG_PIN', status: 403 });
    await assert.rejects(unsealPrivateKeyAsync(envelope, '000000'), { code: 'WRONG_PIN' });
  });

  it('refuses a tampered envelope as it refuses a wrong PIN', () => {
    const parsed = JSON.parse(envelope) as Record<string, string | number>;
    const flip = (b64: string): string => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      return bytes.toString('base64');
    };
    for (const field of ['ct', 'tag', 'salt', 'iv']) {
      const tampered = JSON.stringify({ ...parsed, [field]: flip(String(parsed[field])) });
      assert.throws(() => unsealPrivateKey(tampered, PIN), WrongPinError, field);
    }
    assert.throws(() => unsealPrivateKey(JSON.stringify({ ...parsed, p: 2 }), PIN), WrongPinError);
  });

  it('tells a broken envelope apart from a wrong PIN', () => {
    const parsed = JSON.parse(envelope) as Record<string, unknown>;
    assert.throws(() => unsealPrivateKey('not json', PIN), KeyEnvelopeError);
    assert.throws(() => unsealPrivateKey(JSON.stringify({ ...parsed, v: 2 }), PIN), KeyEnvelopeError);
    assert.throws(() => unsealPrivateKey(JSON.stringify({ ...parsed, N: 2 ** 30 }), PIN), KeyEnvelopeError);
    assert.throws(() => unsealPrivateKey(JSON.stringify({ ...parsed, N: 1024 }), PIN), KeyEnvelopeError);
  });

  it('refuses to seal with a short PIN', () => {
    assert.throws(() => sealPrivateKey(rsaLeaf.privateKeyPem, '12345'), { code: 'PIN_TOO_SHORT' });
  });
});

describe('server key signer', () => {
  const data = Buffer.from('%PDF-1.7 nội dung cần ký');

  it('signs with RSA (PKCS#1 v1.5, SHA-256)', async () => {
    const signer = new ServerKeySigner(
      rsaLeaf.certificatePem,
      rsaLeaf.chainPem,
      unsealPrivateKey(sealPrivateKey(rsaLeaf.privateKeyPem, PIN), PIN),
    );
    assert.equal(signer.keyType, 'RSA');
    const signature = await signer.sign(data);
    assert.equal(signature.length, 256);
    const publicKey = new X509Certificate(signer.certificatePem).publicKey;
    assert.ok(verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature));
    assert.ok(!verify('sha256', Buffer.from('khác'), publicKey, signature));
    assert.deepEqual(await signer.sign(data), signature, 'PKCS#1 v1.5 is deterministic');
  });

  it('signs with ECDSA P-256 (DER)', async () => {
    const signer = new ServerKeySigner(
      ecLeaf.certificatePem,
      ecLeaf.chainPem,
      createPrivateKey(ecLeaf.privateKeyPem),
    );
    assert.equal(signer.keyType, 'ECDSA_P256');
    const signature = await signer.sign(data);
    assert.equal(signature[0], 0x30, 'a DER SEQUENCE');
    const publicKey = new X509Certificate(signer.certificatePem).publicKey;
    assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, signature));
  });

  it('does not expose the key and keeps the chain read-only', () => {
    const signer = new ServerKeySigner(
      rsaLeaf.certificatePem,
      rsaLeaf.chainPem,
      createPrivateKey(rsaLeaf.privateKeyPem),
    );
    assert.ok(!JSON.stringify(signer).includes('PRIVATE'));
    assert.deepEqual(Object.keys(signer).sort(), ['certificatePem', 'chainPem', 'keyType']);
    assert.throws(() => (signer.chainPem as string[]).push('x'));
  });

  it('refuses a key that is not the certificate’s', () => {
    assert.throws(
      () => new ServerKeySigner(rsaLeaf.certificatePem, [], createPrivateKey(agencyLeaf.privateKeyPem)),
      SignerKeyError,
    );
  });
});

describe('checkCertificateUsable', () => {
  const roots = [rsaRoot.certificatePem];
  const none = new Set<string>();

  it('accepts a valid certificate that chains to a trusted root', () => {
    assert.equal(checkCertificateUsable(rsaLeaf.certificatePem, rsaLeaf.chainPem, roots, DURING, none), null);
    assert.equal(checkCertificateUsable(agencyLeaf.certificatePem, [], roots, DURING, none), null);
    assert.equal(
      checkCertificateUsable(ecOnEcLeaf.certificatePem, [], [ecRoot.certificatePem], DURING, none),
      null,
    );
    assert.equal(checkCertificateUsable(rsaLeaf.certificatePem, [], roots, LEAF_FROM, none), null);
    assert.equal(checkCertificateUsable(rsaLeaf.certificatePem, [], roots, LEAF_TO, none), null);
  });

  it('refuses outside the validity period', () => {
    const before = new Date(LEAF_FROM.getTime() - 1000);
    const afterEnd = new Date(LEAF_TO.getTime() + 1000);
    assert.equal(checkCertificateUsable(rsaLeaf.certificatePem, [], roots, before, none), 'NOT_YET_VALID');
    assert.equal(checkCertificateUsable(rsaLeaf.certificatePem, [], roots, afterEnd, none), 'EXPIRED');
  });

  it('refuses a revoked certificate whatever way its serial is written', () => {
    const serial = new X509Certificate(rsaLeaf.certificatePem).serialNumber; // upper-case hex
    const written = `00:${serial.match(/../g)?.join(':')}`;
    assert.equal(
      checkCertificateUsable(rsaLeaf.certificatePem, [], roots, DURING, new Set([written])),
      'REVOKED',
    );
    assert.equal(checkCertificateUsable(ecLeaf.certificatePem, [], roots, DURING, new Set([written])), null);
  });

  it('refuses a chain that does not reach a trusted root', () => {
    const impostor = rootCa('RSA');
    const check = (trusted: string[], chain: string[] = []): string | null =>
      checkCertificateUsable(rsaLeaf.certificatePem, chain, trusted, DURING, none);
    assert.equal(check([impostor.certificatePem]), 'UNTRUSTED_CHAIN');
    assert.equal(check([ecRoot.certificatePem], rsaLeaf.chainPem), 'UNTRUSTED_CHAIN');
    assert.equal(check([]), 'UNTRUSTED_CHAIN');
    // A certificate that is not a CA cannot stand in as an issuer.
    assert.equal(check([agencyLeaf.certificatePem]), 'UNTRUSTED_CHAIN');
  });

  it('refuses a certificate not meant for signing documents', () => {
    assert.equal(checkCertificateUsable(rsaRoot.certificatePem, [], roots, DURING, none), 'NO_SIGNING_USAGE');
  });
});

describe('PKCS#12', () => {
  const password = 'Mat-khau 2026';

  for (const [name, material] of [
    ['RSA', rsaLeaf],
    ['ECDSA', ecOnEcLeaf],
  ] as const) {
    it(`round-trips an ${name} certificate, key and chain`, () => {
      const file = writePkcs12({ ...material, password, friendlyName: PERSON });
      const read = readPkcs12(file, password);
      assert.equal(read.certificatePem, material.certificatePem);
      assert.deepEqual(read.chainPem, material.chainPem);
      assert.ok(createPrivateKey(read.privateKeyPem).equals(createPrivateKey(material.privateKeyPem)));
    });
  }

  it('writes a file OpenSSL 3 reads without -legacy: PBES2 AES-256, SHA-256 MAC', () => {
    const file = writePkcs12({ ...rsaLeaf, password, friendlyName: PERSON });
    const info = opensslWithDiagnostics(['pkcs12', '-info', '-nokeys', '-passin', `pass:${password}`], file);
    assert.match(info, /MAC: sha256/);
    assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
    // OpenSSL 3.0 prints a BMPString friendly name lossily, so check the encoded UTF-16BE bytes instead.
    assert.match(info, /friendlyName: /);
    assert.ok(
      file.includes(
        Buffer.concat([Buffer.from([0x1e, PERSON.length * 2]), Buffer.from(PERSON, 'utf16le').swap16()]),
      ),
    );
    assert.equal(info.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2);
    const key = openssl(['pkcs12', '-nocerts', '-nodes', '-passin', `pass:${password}`], file);
    assert.ok(createPrivateKey(key).equals(createPrivateKey(rsaLeaf.privateKeyPem)));
    assert.throws(() => openssl(['pkcs12', '-info', '-nokeys', '-passin', 'pass:wrong'], file));
  });

  it('reads files OpenSSL writes, with current and with older algorithms', () => {
    const bundle = ecOnEcLeaf.privateKeyPem + ecOnEcLeaf.certificatePem + ecRoot.certificatePem;
    const current = execFileSync('openssl', ['pkcs12', '-export', '-passout', `pass:${password}`], {
      input: bundle,
    });
    assert.equal(readPkcs12(current, password).certificatePem, ecOnEcLeaf.certificatePem);

    const rsaBundle = rsaLeaf.privateKeyPem + rsaLeaf.certificatePem + rsaRoot.certificatePem;
    const older = execFileSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-passout',
        `pass:${password}`,
        '-keypbe',
        'PBE-SHA1-3DES',
        '-certpbe',
        'PBE-SHA1-3DES',
        '-macalg',
        'sha1',
      ],
      { input: rsaBundle },
    );
    const read = readPkcs12(older, password);
    assert.equal(read.certificatePem, rsaLeaf.certificatePem);
    assert.deepEqual(read.chainPem, [rsaRoot.certificatePem]);
    assert.ok(createPrivateKey(read.privateKeyPem).equals(createPrivateKey(rsaLeaf.privateKeyPem)));
  });

  it('refuses a wrong password with a stable code', () => {
    const file = writePkcs12({ ...ecLeaf, password });
    assert.throws(() => readPkcs12(file, 'mat-khau-sai'), Pkcs12PasswordError);
    assert.throws(() => readPkcs12(file, 'mat-khau-sai'), { code: 'PKCS12_WRONG_PASSWORD' });
  });

  it('refuses a key that does not match the certificate', () => {
    assert.throws(() => writePkcs12({ ...rsaLeaf, privateKeyPem: agencyLeaf.privateKeyPem, password }));
  });
});
