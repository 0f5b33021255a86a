import {
  type KeyObject,
  type ScryptOptions,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  randomBytes,
  scrypt,
  scryptSync,
} from 'node:crypto';
import { AppError } from '../errors';

/**
 * Private keys at rest are sealed with a key derived from the holder's PIN, like the PIN of a USB token:
 * the server alone cannot sign for an officer. The envelope is a JSON string that names its own
 * parameters, so they can be raised later without breaking keys sealed today.
 */

export class WrongPinError extends AppError {
  constructor() {
    super('WRONG_PIN', 403, 'signing.wrongPin');
  }
}

/** A stored envelope that is not one at all (corrupt column, wrong field): an operator problem, not a PIN. */
export class KeyEnvelopeError extends AppError {
  constructor(reason: string) {
    super('KEY_ENVELOPE_INVALID', 500, 'signing.keyEnvelopeInvalid', { reason });
  }
}

export const MIN_PIN_LENGTH = 6;

const VERSION = 1;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
// N=2^15, r=8 needs 128*N*r = 32 MiB, exactly Node's default ceiling; leave headroom for bigger N later.
const MAX_MEMORY = 256 * 1024 * 1024;

interface Envelope {
  v: number;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  alg: 'aes-256-gcm';
  iv: string;
  ct: string;
  tag: string;
}

/**
 * PINs are compared as NFC so the same PIN typed through different input methods unlocks the key.
 * Only sealing enforces the length; unsealing must still refuse a short PIN with WRONG_PIN.
 */
function pinBytes(pin: string): Buffer {
  return Buffer.from(pin.normalize('NFC'), 'utf8');
}

/** Every field but the ciphertext and tag is authenticated, so changing the parameters fails like a bad PIN. */
function associatedData(e: Pick<Envelope, 'v' | 'kdf' | 'N' | 'r' | 'p' | 'salt' | 'alg' | 'iv'>): Buffer {
  return Buffer.from(JSON.stringify([e.v, e.kdf, e.N, e.r, e.p, e.salt, e.alg, e.iv]), 'utf8');
}

export function sealPrivateKey(privateKeyPem: string, pin: string): string {
  if ([...pin.normalize('NFC')].length < MIN_PIN_LENGTH) {
    throw new AppError('PIN_TOO_SHORT', 422, 'signing.pinTooShort', { minLength: MIN_PIN_LENGTH });
  }
  // Re-encode as PKCS#8 DER: one format in the vault whatever PEM flavour the key arrived in.
  const plaintext = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(pinBytes(pin), salt, KEY_LENGTH, { ...SCRYPT, maxmem: MAX_MEMORY });
  try {
    const header = {
      v: VERSION,
      kdf: 'scrypt' as const,
      ...SCRYPT,
      salt: salt.toString('base64'),
      alg: 'aes-256-gcm' as const,
      iv: iv.toString('base64'),
    };
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associatedData(header));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const envelope: Envelope = {
      ...header,
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
    return JSON.stringify(envelope);
  } finally {
    key.fill(0);
    plaintext.fill(0);
  }
}

function parseEnvelope(text: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyEnvelopeError('not JSON');
  }
  const e = value as Partial<Envelope> | null;
  if (!e || typeof e !== 'object' || e.v !== VERSION) throw new KeyEnvelopeError('unsupported version');
  if (e.kdf !== 'scrypt' || e.alg !== 'aes-256-gcm') throw new KeyEnvelopeError('unsupported algorithm');
  // Bounds keep a doctored envelope from asking for gigabytes of memory or a trivially cheap derivation.
  const { N, r, p } = e;
  if (
    typeof N !== 'number' ||
    !Number.isInteger(Math.log2(N)) ||
    N < SCRYPT.N ||
    N > 2 ** 20 ||
    r !== SCRYPT.r ||
    typeof p !== 'number' ||
    !Number.isInteger(p) ||
    p < 1 ||
    p > 4
  ) {
    throw new KeyEnvelopeError('scrypt parameters out of range');
  }
  for (const field of ['salt', 'iv', 'ct', 'tag'] as const) {
    if (typeof e[field] !== 'string') throw new KeyEnvelopeError(`missing ${field}`);
  }
  return e as Envelope;
}

function openEnvelope(e: Envelope, key: Buffer): KeyObject {
  let plaintext: Buffer | undefined;
  try {
    const iv = Buffer.from(e.iv, 'base64');
    const tag = Buffer.from(e.tag, 'base64');
    if (iv.length !== 12 || tag.length !== 16) throw new WrongPinError();
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(associatedData(e));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(Buffer.from(e.ct, 'base64')), decipher.final()]);
    return createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' });
  } catch {
    // GCM cannot tell a wrong PIN from altered bytes, and the caller must not learn which.
    throw new WrongPinError();
  } finally {
    key.fill(0);
    plaintext?.fill(0);
  }
}

function scryptOptions(e: Envelope): ScryptOptions {
  return { N: e.N, r: e.r, p: e.p, maxmem: MAX_MEMORY };
}

export function unsealPrivateKey(envelope: string, pin: string): KeyObject {
  const e = parseEnvelope(envelope);
  return openEnvelope(
    e,
    scryptSync(pinBytes(pin), Buffer.from(e.salt, 'base64'), KEY_LENGTH, scryptOptions(e)),
  );
}

/** The same, with the ~100 ms derivation on libuv's pool instead of the event loop: use it in request paths. */
export async function unsealPrivateKeyAsync(envelope: string, pin: string): Promise<KeyObject> {
  const e = parseEnvelope(envelope);
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(pinBytes(pin), Buffer.from(e.salt, 'base64'), KEY_LENGTH, scryptOptions(e), (err, derived) =>
      err ? reject(err) : resolve(derived),
    ),
  );
  return openEnvelope(e, key);
}
