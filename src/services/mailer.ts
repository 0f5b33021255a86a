import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { EmailPayload } from '../data/outboxRepository';
import type { Logger } from '../logger';

export type { EmailPayload };

export interface Mailer {
  /** Resolves once the server has accepted the message; rejects when it did not. `identity` names the
   * message for good: sent again under the same identity, it carries the same Message-ID. */
  send(p: EmailPayload, identity?: string): Promise<void>;
}

export interface ClosableMailer extends Mailer {
  close(): void;
}

export const DEFAULT_FROM = 'Cổng Dịch vụ công <no-reply@dichvucong.example.vn>';

/** Shorter than nodemailer's defaults (2 and 10 minutes): a send must end well within the worker's
 * lock on the message, or another worker could take it over and send it a second time. */
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

/** Sends through the SMTP server of `smtpUrl` (smtp:// or smtps://, credentials in the URL). */
export function createSmtpMailer(smtpUrl: string, from: string = DEFAULT_FROM): ClosableMailer {
  const transport = createTransport({ url: smtpUrl, ...SMTP_TIMEOUTS });
  return {
    async send(p, identity) {
      await transport.sendMail({
        from,
        to: p.to,
        subject: p.subject,
        text: p.text,
        html: p.html,
        ...(identity ? { messageId: messageIdFor(identity, from) } : {}),
      });
    },
    close() {
      transport.close();
    },
  };
}

/** A Message-ID that stays the same for the same message: a notice the outbox has to send again (the
 * process died after the mail server took it, before it was recorded as sent) arrives as the same
 * message, which mail systems and readers recognise as a copy. */
export function messageIdFor(identity: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
  return `<${createHash('sha256').update(identity).digest('hex').slice(0, 32)}@${domain}>`;
}

/** Without SMTP_URL (development), mail goes to the log: who and what about, never the body. */
export function createLogMailer(logger: Logger): ClosableMailer {
  return {
    async send(p) {
      logger.info({ to: p.to, subject: p.subject }, 'email not sent (no SMTP_URL); logged instead');
    },
    close() {},
  };
}
