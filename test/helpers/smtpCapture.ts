import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  envelopeTo: string[];
  raw: string;
  /** The From header, decoded. */
  from: string;
  /** Decoded from its RFC 2047 encoded words. */
  subject: string;
  /** The text/plain body, decoded from its transfer encoding. */
  text: string;
  messageId: string;
}

/** A real SMTP server on loopback that keeps what it accepts, and can refuse the next messages with
 * a temporary error (451) the way a busy mail server does. */
export class SmtpCapture {
  readonly messages: CapturedMail[] = [];
  /** Messages still to be refused before the server accepts again. */
  failNext = 0;
  refused = 0;

  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (this.failNext > 0) {
          this.failNext -= 1;
          this.refused += 1;
          callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('latin1');
        const envelopeTo = session.envelope.rcptTo.map((a) => a.address);
        this.messages.push({ envelopeTo, raw, ...parseMessage(raw) });
        callback();
      });
    },
  });
  private port = 0;

  private constructor() {}

  static async start(): Promise<SmtpCapture> {
    const capture = new SmtpCapture();
    await new Promise<void>((resolve) => capture.server.listen(0, '127.0.0.1', resolve));
    capture.port = (capture.server.server.address() as AddressInfo).port;
    return capture;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  withSubject(subject: string): CapturedMail[] {
    return this.messages.filter((m) => m.subject === subject);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(resolve));
  }
}

/** Just enough MIME for single-part text mail as nodemailer writes it; the test must not trust the
 * sender's own encoder, so this decodes by the RFC rather than by calling nodemailer back. */
export function parseMessage(raw: string): {
  from: string;
  subject: string;
  text: string;
  messageId: string;
} {
  const split = raw.indexOf('\r\n\r\n');
  // Unfold: a line break followed by white space continues the header above.
  const head = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '');
  const body = raw.slice(split + 4);
  const header = (name: string): string => {
    const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
    return m ? m[1]!.trim() : '';
  };
  const type = header('Content-Type');
  if (!/^text\/plain/i.test(type)) throw new Error(`expected a single text/plain part, got ${type}`);
  if (!/charset="?utf-8"?/i.test(type)) throw new Error(`expected UTF-8, got ${type}`);
  const cte = header('Content-Transfer-Encoding').toLowerCase();
  let bytes: Buffer;
  if (cte === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (cte === 'quoted-printable') bytes = decodeQuotedPrintable(body);
  else bytes = Buffer.from(body, 'latin1');
  return {
    from: decodeEncodedWords(header('From')),
    subject: decodeEncodedWords(header('Subject')),
    messageId: header('Message-ID'),
    text: bytes.toString('utf8').replace(/\r\n/g, '\n'),
  };
}

function decodeQuotedPrintable(s: string): Buffer {
  const unwrapped = s.replace(/=\r\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < unwrapped.length; i += 1) {
    const ch = unwrapped[i]!;
    if (ch === '=' && /^[0-9A-F]{2}$/i.test(unwrapped.slice(i + 1, i + 3))) {
      out.push(parseInt(unwrapped.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(unwrapped.charCodeAt(i));
    }
  }
  return Buffer.from(out);
}

/** RFC 2047: bytes of adjacent encoded words join before UTF-8 decoding (a character may be split
 * between two words), and the white space between them is not part of the text. */
function decodeEncodedWords(value: string): string {
  const joined = value.replace(/\?=\s+(?==\?)/g, '?=');
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of joined.matchAll(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g)) {
    if (m[1]!.toLowerCase() !== 'utf-8') throw new Error(`unexpected charset ${m[1]}`);
    parts.push(Buffer.from(joined.slice(last, m.index), 'latin1'));
    parts.push(m[2]!.toUpperCase() === 'B' ? Buffer.from(m[3]!, 'base64') : decodeQ(m[3]!));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(joined.slice(last), 'latin1'));
  return Buffer.concat(parts).toString('utf8');
}

function decodeQ(s: string): Buffer {
  return decodeQuotedPrintable(s.replace(/_/g, ' '));
}
