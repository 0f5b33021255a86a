import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './paths';

export type DatabaseConfig = { client: 'sqlite'; filename: string } | { client: 'mysql'; url: string };

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  storageDir: string;
  database: DatabaseConfig;
  sessionSecret: string;
  sessionIdleMinutes: number;
  secureCookies: boolean;
  smtpUrl: string | undefined;
  tsaUrl: string | undefined;
  trustedRootsFile: string | undefined;
  trustProxy: string | false;
  logLevel: string;
  seedDemoData: boolean;
  publicBaseUrl: string;
  uploads: { fileBytes: number; totalBytes: number; files: number };
}

export class ConfigError extends Error {}

const DEV_SESSION_SECRET = 'development-only-session-secret-change-me';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  STORAGE_DIR: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^mysql2?:\/\//, 'DATABASE_URL must start with mysql:// (absent: SQLite under STORAGE_DIR)')
    .optional(),
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters').optional(),
  SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  SECURE_COOKIES: z.enum(['true', 'false']).optional(),
  SMTP_URL: z.string().url().optional(),
  TSA_URL: z.string().url().optional(),
  TRUSTED_ROOTS: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  SEED_DEMO_DATA: z.enum(['true', 'false']).optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  // Behind a reverse proxy: which hops to trust for the client address (express "trust proxy").
  TRUST_PROXY: z.string().min(1).optional(),
  // Real dossiers carry large scans: generous defaults, per file and per dossier.
  UPLOAD_MAX_FILE_MB: z.coerce.number().int().min(1).max(2048).default(50),
  UPLOAD_MAX_DOSSIER_MB: z.coerce.number().int().min(1).max(10240).default(200),
  UPLOAD_MAX_FILES: z.coerce.number().int().min(1).max(500).default(40),
});

/** Reads the environment once into a typed config; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as they do in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const missing: string[] = [];
  if (production && !e.SESSION_SECRET) missing.push('SESSION_SECRET (at least 32 random characters)');
  if (missing.length > 0) {
    throw new ConfigError(`Missing required settings in production:\n  ${missing.join('\n  ')}`);
  }
  const storageDir = path.resolve(projectRoot, e.STORAGE_DIR ?? 'storage');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    storageDir,
    database: e.DATABASE_URL
      ? { client: 'mysql', url: e.DATABASE_URL }
      : { client: 'sqlite', filename: path.join(storageDir, 'portal.sqlite') },
    sessionSecret: e.SESSION_SECRET ?? DEV_SESSION_SECRET,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    secureCookies: e.SECURE_COOKIES ? e.SECURE_COOKIES === 'true' : production,
    smtpUrl: e.SMTP_URL,
    tsaUrl: e.TSA_URL,
    trustedRootsFile: e.TRUSTED_ROOTS,
    trustProxy: e.TRUST_PROXY ?? false,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    // Demo accounts have a published password: never in production, whatever the flag says.
    seedDemoData: !production && e.SEED_DEMO_DATA !== 'false',
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    uploads: {
      fileBytes: e.UPLOAD_MAX_FILE_MB * 1048576,
      totalBytes: e.UPLOAD_MAX_DOSSIER_MB * 1048576,
      files: e.UPLOAD_MAX_FILES,
    },
  };
}
