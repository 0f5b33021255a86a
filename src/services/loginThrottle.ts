import type { Clock } from '../clock';
import type { LoginAttemptRepository } from '../data/loginAttemptRepository';

export interface ThrottlePolicy {
  windowMinutes: number;
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  lockMinutes: number;
}

export const defaultThrottlePolicy: ThrottlePolicy = {
  windowMinutes: 15,
  maxFailuresPerAccount: 5,
  maxFailuresPerIp: 30,
  lockMinutes: 15,
};

/** Counts failed logins in the database, so every web process sees the same lock. Accounts are
 * counted by the email typed, whether or not it exists, so a lock reveals nothing about accounts. */
export class LoginThrottle {
  constructor(
    private readonly attempts: LoginAttemptRepository,
    private readonly clock: Clock,
    readonly policy: ThrottlePolicy = defaultThrottlePolicy,
  ) {}

  /** Minutes until a new attempt is allowed, or 0 when it is allowed now. */
  async lockedFor(email: string, ip: string): Promise<number> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - this.policy.windowMinutes * 60_000);
    const checks = await Promise.all([
      this.attempts
        .failuresForEmail(email, since)
        .then((r) => ({ ...r, max: this.policy.maxFailuresPerAccount })),
      this.attempts.failuresForIp(ip, since).then((r) => ({ ...r, max: this.policy.maxFailuresPerIp })),
    ]);
    let minutes = 0;
    for (const c of checks) {
      if (c.count >= c.max && c.latest) {
        const until = c.latest.getTime() + this.policy.lockMinutes * 60_000;
        minutes = Math.max(minutes, Math.ceil((until - now.getTime()) / 60_000));
      }
    }
    return minutes;
  }

  record(email: string, ip: string, succeeded: boolean): Promise<void> {
    return this.attempts.record({ email, ip, succeeded, at: this.clock.now() });
  }
}
