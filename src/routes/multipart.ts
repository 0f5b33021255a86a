import { Transform } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../errors';
import { FileTooLargeError, type FileStore, type StoredFile } from '../files/fileStore';
import { PdfActiveContentScanner } from '../files/pdfActiveContent';
import type { Upload } from '../services/dossierForm';

export interface UploadLimits {
  fileBytes: number;
  totalBytes: number;
  files: number;
}

export interface UploadedFile {
  /** The form part's name: the paper's code. */
  field: string;
  /** The name the client gave, kept only for display (never used as a path). */
  originalName: string;
  stored: StoredFile;
}

export interface MultipartBody {
  fields: Record<string, string | string[]>;
  files: UploadedFile[];
}

export class UploadError extends AppError {
  /** The form's fields read before the upload failed, so that the form can be shown again with what
   * was typed (browsers send the fields before the files that follow them in the form). */
  fields: Record<string, string | string[]> = {};

  constructor(code: string, status: number, messageKey: string, details?: Record<string, unknown>) {
    super(code, status, messageKey, details);
  }
}

/** A name that tries to be a path ("../../etc/passwd.pdf", "..\\x.pdf"): browsers send a bare name, so
 * such a name is refused rather than quietly cut down to its last part. */
export function isPathLikeFileName(name: string): boolean {
  return /[\\/]/.test(name) || /^\.+$/.test(name.trim());
}

/** Keeps a display name: no path, no control characters, at most 200 characters. */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // Control characters would corrupt headers and logs where the name is shown.
  // eslint-disable-next-line no-control-regex
  const CONTROL = /[\u0000-\u001f\u007f]/g;
  const clean = base.replace(CONTROL, '').trim().slice(0, 200);
  return clean || 'tep-dinh-kem';
}

/**
 * Streams a multipart form into the file store. Fields must come before files (browsers send parts in
 * the form's order), so `beforeFiles` can check the CSRF token and the applicant before one byte of a
 * file is stored. On any failure every file written so far is removed and an UploadError is thrown.
 */
export function parseMultipart(
  req: Request,
  store: FileStore,
  limits: UploadLimits,
  now: Date,
  beforeFiles?: (fields: Record<string, string | string[]>) => void,
): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        // The name as sent, so that a path in it is seen and refused (busboy would cut it silently).
        preservePath: true,
        limits: { fields: 200, fieldSize: 64 * 1024, files: limits.files + 1, parts: 400 },
      });
    } catch {
      reject(new UploadError('BAD_MULTIPART', 400, 'upload.badRequest'));
      return;
    }
    const fields: Record<string, string | string[]> = {};
    const files: UploadedFile[] = [];
    const writes: Promise<void>[] = [];
    // Bytes of every file so far, counted as they stream: busboy hands over the next file only once
    // this one has been read, so each file's allowance sees all the bytes before it.
    let streamed = 0;
    let failed: unknown;
    let checked = false;
    let started = 0;

    const fail = (err: unknown) => {
      if (failed) return;
      failed = err;
      if (err instanceof UploadError) err.fields = { ...fields };
      req.unpipe(bb);
      // Read the rest of the upload into nothing, so the client receives the answer.
      req.resume();
      Promise.allSettled(writes)
        .then(() => store.removeAll(files.map((f) => f.stored.relPath)))
        .finally(() => reject(err));
    };

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new UploadError('FIELD_TOO_LONG', 413, 'upload.fieldTooLong'));
      const prev = fields[name];
      fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    });

    bb.on('file', (field, stream, info) => {
      if (failed) return stream.resume();
      if (!checked && beforeFiles) {
        try {
          beforeFiles(fields);
          checked = true;
        } catch (err) {
          stream.resume();
          return fail(err);
        }
      }
      // An empty file input is sent as a part with no name and no bytes: nothing was chosen.
      if (!info.filename) return stream.resume();
      started += 1;
      if (started > limits.files) {
        stream.resume();
        return fail(new UploadError('TOO_MANY_FILES', 413, 'upload.tooManyFiles', { max: limits.files }));
      }
      const originalName = cleanFileName(info.filename);
      if (isPathLikeFileName(info.filename)) {
        stream.resume();
        return fail(
          new UploadError('BAD_FILE_NAME', 422, 'upload.badFileName', { file: originalName, paper: field }),
        );
      }
      const room = Math.min(limits.fileBytes, limits.totalBytes - streamed);
      // A PDF is read for JavaScript as it streams by: papers are opened by officers in their browsers.
      const scanner = new PdfActiveContentScanner();
      const counted = stream.pipe(
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            streamed += chunk.length;
            scanner.push(chunk);
            done(null, chunk);
          },
        }),
      );
      stream.on('error', (err) => counted.destroy(err));
      const write = store.write(counted, room, now).then(
        (stored) => {
          files.push({ field, originalName, stored });
          if (stored.size === 0) {
            fail(new UploadError('EMPTY_FILE', 422, 'upload.empty', { file: originalName, paper: field }));
          } else if (stored.detectedType === 'pdf' && scanner.finish()) {
            fail(
              new UploadError('ACTIVE_CONTENT', 422, 'upload.activeContent', {
                file: originalName,
                paper: field,
              }),
            );
          }
        },
        (err: unknown) => {
          stream.resume();
          if (err instanceof FileTooLargeError) {
            const perFile = room === limits.fileBytes;
            fail(
              new UploadError(
                'FILE_TOO_LARGE',
                413,
                perFile ? 'upload.fileTooLarge' : 'upload.dossierTooLarge',
                {
                  file: originalName,
                  paper: field,
                  maxMb: Math.floor((perFile ? limits.fileBytes : limits.totalBytes) / 1048576),
                },
              ),
            );
          } else fail(err);
        },
      );
      writes.push(write);
    });

    bb.on('filesLimit', () =>
      fail(new UploadError('TOO_MANY_FILES', 413, 'upload.tooManyFiles', { max: limits.files })),
    );
    bb.on('partsLimit', () =>
      fail(new UploadError('TOO_MANY_PARTS', 413, 'upload.tooManyFiles', { max: limits.files })),
    );
    bb.on('error', () => fail(new UploadError('BAD_MULTIPART', 400, 'upload.badRequest')));
    bb.on('close', () => {
      if (failed) return;
      Promise.all(writes).then(
        () => {
          if (failed) return;
          if (!checked && beforeFiles) {
            try {
              beforeFiles(fields);
            } catch (err) {
              return fail(err);
            }
          }
          resolve({ fields, files });
        },
        (err: unknown) => fail(err),
      );
    });
    req.on('aborted', () => fail(new UploadError('ABORTED', 400, 'upload.badRequest')));
    req.pipe(bb);
  });
}

/** The stored files of a form as the dossier commands take them. */
export function uploadsOf(body: MultipartBody): Upload[] {
  return body.files.map((f) => ({
    paperCode: f.field,
    originalName: f.originalName,
    relPath: f.stored.relPath,
    size: f.stored.size,
    sha256: f.stored.sha256,
    detectedType: f.stored.detectedType,
    contentType: f.stored.contentType,
  }));
}

export interface InMemoryForm {
  fields: Record<string, string>;
  file: { name: string; data: Buffer } | null;
}

/**
 * Reads a small form with at most one file into memory, for files that must not reach the file store: a
 * PKCS#12 file (it carries a private key) or a PDF someone wants verified (the portal keeps nothing of it).
 * `beforeFile` runs on the fields sent before the file (the CSRF token) before one byte of the file is read,
 * and again at the end when no file came.
 */
export function readFormInMemory(
  req: Request,
  opts: {
    fileField: string;
    maxFileBytes: number;
    tooLarge: UploadError;
    beforeFile?: (fields: Record<string, string>) => void;
  },
): Promise<InMemoryForm> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fields: 20, fieldSize: 4096, files: 1, fileSize: opts.maxFileBytes, parts: 30 },
      });
    } catch {
      reject(new UploadError('BAD_MULTIPART', 400, 'upload.badRequest'));
      return;
    }
    const fields = new Map<string, string>();
    let file: InMemoryForm['file'] = null;
    let failed = false;
    let checked = false;
    const check = () => {
      if (!checked) opts.beforeFile?.(Object.fromEntries(fields));
      checked = true;
    };
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      // Read the rest of the upload into nothing, so the client receives the answer.
      req.resume();
      reject(err);
    };

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new UploadError('FIELD_TOO_LONG', 413, 'upload.fieldTooLong'));
      if (!fields.has(name)) fields.set(name, value);
    });
    bb.on('file', (name, stream, info) => {
      if (failed) return stream.resume();
      try {
        check();
      } catch (err) {
        stream.resume();
        return fail(err);
      }
      // An empty file input still sends a part, with no name and no bytes: nothing was chosen.
      const filename = info.filename;
      if (name !== opts.fileField || !filename) return stream.resume();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(opts.tooLarge));
      stream.on('end', () => {
        if (!stream.truncated) file = { name: cleanFileName(filename), data: Buffer.concat(chunks) };
      });
    });
    bb.on('filesLimit', () =>
      fail(new UploadError('TOO_MANY_FILES', 413, 'upload.tooManyFiles', { max: 1 })),
    );
    bb.on('fieldsLimit', () => fail(new UploadError('TOO_MANY_PARTS', 413, 'upload.badRequest')));
    bb.on('partsLimit', () => fail(new UploadError('TOO_MANY_PARTS', 413, 'upload.badRequest')));
    bb.on('error', () => fail(new UploadError('BAD_MULTIPART', 400, 'upload.badRequest')));
    bb.on('close', () => {
      if (failed) return;
      try {
        check();
      } catch (err) {
        return fail(err);
      }
      resolve({ fields: Object.fromEntries(fields), file });
    });
    req.on('aborted', () => fail(new UploadError('ABORTED', 400, 'upload.badRequest')));
    req.pipe(bb);
  });
}
