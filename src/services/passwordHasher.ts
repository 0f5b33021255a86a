import argon2 from 'argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time of one verification and answers false: used when there is no account, so a
   * login attempt takes as long whether or not the email exists. */
  verifyNothing(password: string): Promise<false>;
}

/** argon2id. Parameters follow OWASP's recommendation (19 MiB, 2 passes) unless given. */
export function createPasswordHasher(opts: { memoryCost?: number; timeCost?: number } = {}): PasswordHasher {
  const params = {
    type: argon2.argon2id as 2,
    memoryCost: opts.memoryCost ?? 19456,
    timeCost: opts.timeCost ?? 2,
    parallelism: 1,
  };
  let decoy: Promise<string> | undefined;
  const verify = async (hash: string, password: string) => {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  };
  return {
    hash: (password) => argon2.hash(password, params),
    verify,
    async verifyNothing(password) {
      decoy ??= argon2.hash('no-account-decoy', params);
      await verify(await decoy, password);
      return false;
    },
  };
}
