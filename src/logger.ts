import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'portal' },
    // Never write secrets to the log, whatever object a caller passes in.
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
        '*.password',
        '*.pin',
        '*.passwordHash',
        '*.password_hash',
      ],
      censor: '[redacted]',
    },
  });
}
