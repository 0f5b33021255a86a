import type { Request, Response } from 'express';
import { Router } from 'express';
import type { Deps } from '../container';
import { AppError } from '../errors';
import { assertCsrfToken } from '../middleware/csrf';
import type { VerificationReport } from '../services/verificationService';
import { readFormInMemory, UploadError } from './multipart';

/** A signed result is a few hundred kilobytes; a scanned annex may be larger. Checking costs CPU on the
 * event loop in proportion to the size (about 0.4 s per MB for the worst crafted files), hence the limit. */
export const MAX_VERIFY_BYTES = 10 * 1024 * 1024;
/** Uploads being read or checked at once in this process; more wait for a later try (503). */
const MAX_CONCURRENT_VERIFICATIONS = 4;
let inFlight = 0;

export class VerifierBusyError extends AppError {
  constructor() {
    super('VERIFIER_BUSY', 503, 'verify.busy');
  }
}

const tooLarge = () =>
  new UploadError('FILE_TOO_LARGE', 413, 'verify.tooLarge', { maxMb: MAX_VERIFY_BYTES / 1048576 });

export class NoFileError extends AppError {
  constructor() {
    super('NO_FILE', 422, 'verify.noFile');
  }
}

/** The uploaded PDF, read into memory: the portal keeps nothing of a file someone asks it to check. */
export async function uploadedPdf(req: Request, checkCsrf: boolean): Promise<Buffer> {
  const form = await readFormInMemory(req, {
    fileField: 'file',
    maxFileBytes: MAX_VERIFY_BYTES,
    tooLarge: tooLarge(),
    beforeFile: checkCsrf ? (fields) => assertCsrfToken(req, fields._csrf) : undefined,
  });
  if (!form.file || form.file.data.length === 0) throw new NoFileError();
  return form.file.data;
}

/** Reads and checks an upload, at most a few at a time per process, so memory and CPU stay bounded. */
export async function verifyUpload(
  deps: Deps,
  req: Request,
  checkCsrf: boolean,
): Promise<VerificationReport> {
  if (inFlight >= MAX_CONCURRENT_VERIFICATIONS) {
    req.resume();
    throw new VerifierBusyError();
  }
  inFlight += 1;
  try {
    return await deps.verification.verify(await uploadedPdf(req, checkCsrf));
  } finally {
    inFlight -= 1;
  }
}

/** The report as JSON (the API) or as the page shows it: the same facts. */
export function reportJson(report: VerificationReport) {
  return {
    sha256: report.sha256,
    isPdf: report.isPdf,
    problems: report.problems,
    issuedByPortal: report.issuedByPortal,
    result: report.result,
    allSignaturesGood: report.allSignaturesGood,
    signatures: report.signatures,
  };
}

/** The public verification pages: upload a PDF or follow a result's QR code; no login. */
export function verifyRoutes(deps: Deps): Router {
  const router = Router();

  const page = (res: Response, status: number, locals: Record<string, unknown>) => {
    res.set('Cache-Control', 'no-store');
    res.status(status).render('pages/public/verify', {
      title: res.locals.t('verify.title'),
      report: null,
      error: null,
      fileName: null,
      issued: null,
      ...locals,
    });
  };

  router.get('/verify', (_req, res) => page(res, 200, {}));

  router.post('/verify', async (req, res) => {
    try {
      page(res, 200, { report: await verifyUpload(deps, req, true) });
    } catch (err) {
      if (!(err instanceof AppError) || err.code === 'CSRF_INVALID') throw err;
      if (err.status === 503) res.set('Retry-After', '5');
      page(res, err.status, {
        error: req.t(err.messageKey, err.details as Record<string, string | number> | undefined),
      });
    }
  });

  router.get('/verify/trusted-roots.pem', (_req, res) => {
    res.set({
      'Content-Type': 'application/x-pem-file',
      'Content-Disposition': 'attachment; filename="trusted-roots.pem"',
      'Cache-Control': 'public, max-age=3600',
    });
    res.send(deps.pki.trustedRoots().join(''));
  });

  router.get('/verify/r/:publicId', async (req, res) => {
    const found = await deps.verification.byPublicId(String(req.params.publicId));
    if (!found) {
      return page(res, 404, { error: req.t('verify.unknownResult') });
    }
    page(res, 200, { issued: found.result, report: found.report });
  });

  // The electronic original behind a QR code, as the page offers it; a paper result's scan is not public.
  router.get('/verify/r/:publicId/file.pdf', async (req, res) => {
    const publicId = String(req.params.publicId);
    const result = /^[A-Za-z0-9_-]{8,32}$/.test(publicId)
      ? await deps.repos.results.findByPublicId(publicId)
      : undefined;
    if (!result || result.kind !== 'ELECTRONIC' || result.status === 'SIGNED' || !result.finalPath) {
      return page(res, 404, { error: req.t('verify.unknownResult') });
    }
    const pdf = await deps.results.file(result);
    res.set({
      'Content-Type': 'application/pdf',
      'Content-Disposition': `attachment; filename="${result.symbol?.replace(/[^A-Za-z0-9-]+/g, '-') ?? 'ket-qua'}.pdf"`,
      'Cache-Control': 'private, no-store',
    });
    res.send(pdf);
  });

  return router;
}
