import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Clock } from '../clock';
import { vietnamTimeParts } from '../clock';
import type { AgencyRepository } from '../data/agencyRepository';
import type { Db } from '../data/db';
import type { Dossier } from '../data/dossierRepository';
import type { Result, ResultLayout, ResultRepository } from '../data/resultRepository';
import type { User } from '../data/userRepository';
import { type ProcedureDefinition, localText } from '../domain/procedureDefinition';
import { placeAndDate, upper } from '../documents/adminDocumentLayout';
import { measureText } from '../documents/textMetrics';
import { renderResult, resultTemplate } from '../documents/resultDocument';
import { AppError, ConflictError, ForbiddenError, ValidationError } from '../errors';
import type { AuditRepository } from '../data/auditRepository';
import type { RequestContext } from './auditContext';
import type { FileStore } from '../files/fileStore';
import { type AppearanceItem, type SignatureWidget, signPdf } from '../signing/padesSigner';
import type { Signer } from '../signing/signer';
import { formatFieldValue } from './dossierForm';
import type { PkiService } from './pkiService';

export class NoSignedResultError extends AppError {
  constructor() {
    super('NO_SIGNED_RESULT', 409, 'result.noSigned');
  }
}

export class SigningFailedError extends AppError {
  constructor(reason: string) {
    super('SIGNING_FAILED', 500, 'result.signingFailed', { reason });
  }
}

/** What a result step needs done: before the transaction (may fail, changes nothing), inside it, and
 * the clean-up when the transaction does not commit. */
export interface ResultWork {
  apply(trx: Db): Promise<Record<string, unknown>>;
  discard(): Promise<void>;
}

const MAX_RESULT_BYTES = 20 * 1024 * 1024;
const BLUE: [number, number, number] = [0.05, 0.2, 0.55];
const RED: [number, number, number] = [0.85, 0.05, 0.05];
const BLACK: [number, number, number] = [0, 0, 0];

/** '23/11/2026 14:05:12 +07:00' */
function signingTimeText(d: Date): string {
  const t = vietnamTimeParts(d);
  return `${t.day}/${t.month}/${t.year} ${t.hour}:${t.minute}:${t.second} +07:00`;
}

function centred(
  text: string,
  size: number,
  width: number,
  y: number,
  bold = false,
  color = BLACK,
): AppearanceItem {
  const w = measureText(text, size, bold);
  return { kind: 'text', x: Math.max(0, (width - w) / 2), y, size, text, bold, color };
}

/** Splits words into lines no wider than `width` at `size`. */
function wrap(text: string, size: number, width: number, bold: boolean): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && measureText(next, size, bold) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

const sizeOf = (r: [number, number, number, number]) => ({ w: r[2] - r[0], h: r[3] - r[1] });

/** The approver's visible signature: name, position and signing time in a frame. */
export function approverAppearance(
  slot: ResultLayout['signature'],
  signer: { name: string; position: string },
  at: Date,
): SignatureWidget {
  const { w, h } = sizeOf(slot.rect);
  const items: AppearanceItem[] = [
    { kind: 'rect', x: 0.5, y: 0.5, width: w - 1, height: h - 1, lineWidth: 0.8, color: BLUE },
  ];
  // One font per update: each font in an appearance is one more subset to build and compress.
  const lines: [string, boolean][] = [
    ['Ký bởi: ' + signer.name, false],
    ['Chức vụ: ' + signer.position, false],
    ['Thời gian ký: ' + signingTimeText(at), false],
  ];
  let y = h - 22;
  for (const [text, bold] of lines) {
    for (const line of wrap(text, 8.5, w - 12, bold)) {
      items.push({ kind: 'text', x: 6, y, size: 8.5, text: line, bold, color: BLUE });
      y -= 12;
    }
  }
  return { pageIndex: slot.page, rect: slot.rect, items };
}

/** The clerk's update: the agency seal over the signature, and the number and the place-and-date lines
 * as read-only fields the seal signature covers. */
export function sealAppearance(
  layout: ResultLayout,
  agency: { name: string },
  symbol: string,
  at: Date,
): { seal: SignatureWidget; textFields: { name: string; value: string; widget: SignatureWidget }[] } {
  const seal = sizeOf(layout.seal.rect);
  const cx = seal.w / 2;
  const cy = seal.h / 2;
  const r = Math.min(seal.w, seal.h) / 2 - 1.5;
  const items: AppearanceItem[] = [
    { kind: 'ellipse', cx, cy, rx: r, ry: r, lineWidth: 1.8, color: RED },
    { kind: 'ellipse', cx, cy, rx: r * 0.72, ry: r * 0.72, lineWidth: 0.7, color: RED },
  ];
  // The agency's name inside the ring, the signing time under it, in the seal's red.
  const inner = r * 1.3;
  const nameLines = wrap(upper(agency.name), 5, inner, false).slice(0, 4);
  let y = cy + (nameLines.length * 6) / 2 - 1;
  for (const line of nameLines) {
    items.push(centred(line, 5, seal.w, y, false, RED));
    y -= 6;
  }
  const t = vietnamTimeParts(at);
  items.push(centred(`${t.day}/${t.month}/${t.year}`, 4.6, seal.w, y - 1, false, RED));
  items.push(centred(`${t.hour}:${t.minute}:${t.second} +07:00`, 4.6, seal.w, y - 6.5, false, RED));

  const number = sizeOf(layout.number.rect);
  const date = sizeOf(layout.date.rect);
  const numberText = `Số: ${symbol}`;
  const dateText = placeAndDate(layout.placeName, at);
  return {
    seal: { pageIndex: layout.seal.page, rect: layout.seal.rect, items },
    textFields: [
      {
        name: 'SoKyHieu',
        value: numberText,
        widget: {
          pageIndex: layout.number.page,
          rect: layout.number.rect,
          items: [centred(numberText, 13, number.w, 5)],
        },
      },
      {
        name: 'NgayBanHanh',
        value: dateText,
        widget: {
          pageIndex: layout.date.page,
          rect: layout.date.rect,
          items: [centred(dateText, 13, date.w, 5)],
        },
      },
    ],
  };
}

/**
 * The result document from approval to download: rendered and signed by the approver, numbered and sealed
 * by the clerk, kept in the results store with its SHA-256. Each step does its slow or failing work
 * before the workflow's transaction and its writes inside it, and cleans up when the transaction fails.
 */
export class ResultService {
  constructor(
    private readonly deps: {
      results: ResultRepository;
      agencies: AgencyRepository;
      pki: PkiService;
      store: FileStore;
      papers: FileStore;
      clock: Clock;
      publicBaseUrl: string;
      tsaUrl: string | undefined;
      db: Db;
      audit: AuditRepository;
    },
  ) {}

  /** Who may withdraw an issued result: the agency's approvers and administrators. */
  mayRevoke(actor: User, dossier: Dossier): boolean {
    return (
      actor.kind === 'OFFICER' &&
      actor.agencyId === dossier.agencyId &&
      actor.roles.some((r) => r === 'APPROVER' || r === 'AGENCY_ADMIN')
    );
  }

  /**
   * Withdraws an issued result (thu hồi): the file stays on record and its verification page says it is
   * no longer in force. The dossier's status does not change; the decision to withdraw is audited.
   */
  async revoke(actor: User, dossier: Dossier, reason: string, ctx: RequestContext): Promise<void> {
    if (!this.mayRevoke(actor, dossier)) throw new ForbiddenError();
    const text = reason.trim();
    if (text.length === 0 || text.length > 500) throw new ValidationError({ reason: 'v.required' });
    const now = this.deps.clock.now();
    await this.deps.db.transaction(async (trx) => {
      const result = await this.deps.results.latestForDossier(dossier.id, trx);
      if (!result || !(await this.deps.results.revoke(trx, result.id, text, now)))
        throw new ConflictError('result.notRevocable');
      await this.deps.audit.append(trx, {
        occurredAt: now,
        actorUserId: actor.id,
        actorEmail: actor.email,
        action: 'RESULT_REVOKED',
        subjectType: 'dossier',
        subjectId: dossier.code,
        agencyId: dossier.agencyId,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        details: { result: result.id, number: result.symbol, reason: text },
      });
    });
  }

  verifyUrl(publicId: string): string {
    return `${this.deps.publicBaseUrl}/verify/r/${publicId}`;
  }

  private async writeFile(bytes: Buffer, now: Date) {
    return this.deps.store.write(Readable.from([bytes]), MAX_RESULT_BYTES, now);
  }

  /** Approval: renders the result, signs it with the approver's certificate, stores the file. */
  async prepareSignature(
    dossier: Dossier,
    def: ProcedureDefinition,
    approver: User,
    pin: string,
    now: Date,
  ): Promise<ResultWork> {
    const certificate = await this.deps.pki.certificateFor({ userId: approver.id });
    const signer = await this.deps.pki.openSigner(certificate, pin);
    const agency = await this.deps.agencies.findById(dossier.agencyId);
    if (!agency) throw new Error(`agency ${dossier.agencyId} not found`);
    const parent = agency.parentId ? await this.deps.agencies.findById(agency.parentId) : undefined;
    const template = resultTemplate(def.resultTemplate);
    const publicId = randomBytes(12).toString('base64url');
    const signerInfo = { name: approver.fullName, position: approver.position ?? '' };
    const rendered = await renderResult({
      template: def.resultTemplate,
      agencyName: agency.name,
      parentAgencyName: parent?.name ?? null,
      placeName: agency.placeName,
      dossierCode: dossier.code ?? '',
      procedureName: def.name.vi,
      applicantName: dossier.applicant.name,
      legalBasis: def.legalBasis,
      particulars: def.fields
        .filter((f) => !['email', 'phone'].includes(f.type) && dossier.formData[f.name] !== undefined)
        .map((f) => ({
          label: localText(f.label, 'vi'),
          value: formatFieldValue(f, dossier.formData[f.name], 'vi'),
        }))
        .filter((p) => p.value !== ''),
      signer: signerInfo,
      recipients: ['Lưu: VT, bộ phận giải quyết.'],
      verifyUrl: this.verifyUrl(publicId),
      signedAt: now,
    });
    const layout: ResultLayout = {
      number: rendered.numberSlot,
      date: rendered.dateSlot,
      signature: rendered.signatureSlot,
      seal: rendered.sealSlot,
      symbolSuffix: template.symbol(agency.shortName),
      placeName: agency.placeName,
    };
    const signed = await this.sign(rendered.pdf, signer, {
      fieldName: 'ChuKyNguoiCoThamQuyen',
      name: approver.fullName,
      reason: `Phê duyệt kết quả hồ sơ ${dossier.code ?? ''}`,
      location: agency.placeName,
      signingTime: now,
      widgets: [approverAppearance(layout.signature, signerInfo, now)],
    });
    const file = await this.writeFile(signed, now);
    return {
      apply: async (trx) => {
        const id = await this.deps.results.insertSigned(
          trx,
          {
            dossierId: dossier.id,
            agencyId: dossier.agencyId,
            publicId,
            documentType: template.documentType,
            layout,
            signedPath: file.relPath,
            signedSha256: file.sha256,
            approverUserId: approver.id,
            approverCertificateId: certificate.id,
            signedAt: now,
          },
          now,
        );
        await this.deps.results.replaceEarlier(trx, dossier.id, id);
        return { result: { id, publicId, sha256: file.sha256, certificate: certificate.serialNumber } };
      },
      discard: () => this.deps.store.remove(file.relPath),
    };
  }

  private async sign(
    pdf: Buffer,
    signer: Signer,
    options: Omit<Parameters<typeof signPdf>[1], 'signer' | 'timestampUrl'>,
  ): Promise<Buffer> {
    try {
      return await signPdf(pdf, { ...options, signer, timestampUrl: this.deps.tsaUrl });
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new SigningFailedError(err instanceof Error ? err.message : String(err));
    }
  }

  private async signedResult(dossier: Dossier): Promise<Result> {
    const result = await this.deps.results.latestForDossier(dossier.id);
    if (!result || result.status !== 'SIGNED' || !result.signedPath) throw new NoSignedResultError();
    return result;
  }

  private async readAll(store: FileStore, relPath: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of store.read(relPath)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Release: unlocks the agency's seal with the clerk's PIN now; inside the transaction allocates the
   * number, writes number, date and seal in one incremental update signed with the seal, and stores it.
   */
  async prepareSeal(dossier: Dossier, clerk: User, pin: string): Promise<ResultWork> {
    const result = await this.signedResult(dossier);
    const certificate = await this.deps.pki.certificateFor({ agencyId: dossier.agencyId });
    const signer = await this.deps.pki.openSigner(certificate, pin);
    const agency = await this.deps.agencies.findById(dossier.agencyId);
    if (!agency) throw new Error(`agency ${dossier.agencyId} not found`);
    const signed = await this.readAll(this.deps.store, result.signedPath!);
    // The seal covers what the approver signed, byte for byte, or nothing.
    if (createHash('sha256').update(signed).digest('hex') !== result.signedSha256)
      throw new SigningFailedError('the approved document does not match its recorded SHA-256');
    let written: string | null = null;
    return {
      apply: async (trx) => {
        const { at, year, number, symbol } = await this.nextNumber(trx, result);
        const appearance = sealAppearance(result.layout, agency, symbol, at);
        const sealed = await this.sign(signed, signer, {
          fieldName: 'ChuKyCoQuan',
          name: agency.name,
          reason: `Ban hành văn bản số ${symbol}`,
          location: agency.placeName,
          signingTime: at,
          widgets: [appearance.seal],
          textFields: appearance.textFields,
        });
        const file = await this.writeFile(sealed, at);
        written = file.relPath;
        const ok = await this.deps.results.markIssued(trx, result.id, {
          kind: 'ELECTRONIC',
          year,
          number,
          symbol,
          finalPath: file.relPath,
          finalSha256: file.sha256,
          finalSize: file.size,
          clerkUserId: clerk.id,
          sealCertificateId: certificate.id,
          issuedAt: at,
        });
        if (!ok) throw new ConflictError();
        return {
          result: { id: result.id, number: symbol, sha256: file.sha256, seal: certificate.serialNumber },
        };
      },
      discard: async () => {
        if (written) await this.deps.store.remove(written);
      },
    };
  }

  /**
   * The next number of the agency's register for the year and the result's document type, in the release
   * transaction. The clock is read here: a result is dated when it gets its number.
   */
  private async nextNumber(trx: Db, result: Result) {
    const at = this.deps.clock.now();
    const year = Number(vietnamTimeParts(at).year);
    const number = await this.deps.results.nextNumber(trx, result.agencyId, year, result.documentType);
    return { at, year, number, symbol: `${number}/${result.layout.symbolSuffix}` };
  }

  /** A result issued on paper: numbered like any other, the scan on record; no seal signature. */
  async preparePaper(
    dossier: Dossier,
    clerk: User,
    scan: { relPath: string; sha256: string; size: number },
  ): Promise<ResultWork> {
    const result = await this.signedResult(dossier);
    return {
      apply: async (trx) => {
        const { at, year, number, symbol } = await this.nextNumber(trx, result);
        const ok = await this.deps.results.markIssued(trx, result.id, {
          kind: 'PAPER',
          year,
          number,
          symbol,
          finalPath: scan.relPath,
          finalSha256: scan.sha256,
          finalSize: scan.size,
          clerkUserId: clerk.id,
          sealCertificateId: null,
          issuedAt: at,
        });
        if (!ok) throw new ConflictError();
        return { result: { id: result.id, number: symbol, kind: 'PAPER', sha256: scan.sha256 } };
      },
      discard: async () => undefined,
    };
  }

  /** The issued result of a dossier, if any: only the final file is ever offered. */
  async issued(dossierId: number): Promise<Result | undefined> {
    const result = await this.deps.results.latestForDossier(dossierId);
    return result && result.status !== 'SIGNED' && result.finalPath ? result : undefined;
  }

  /** The bytes of an issued result, checked against the SHA-256 recorded when it was issued. */
  async file(result: Result): Promise<Buffer> {
    if (!result.finalPath || !result.finalSha256) throw new NoSignedResultError();
    const store = result.kind === 'PAPER' ? this.deps.papers : this.deps.store;
    const bytes = await this.readAll(store, result.finalPath);
    if (createHash('sha256').update(bytes).digest('hex') !== result.finalSha256) {
      throw new Error(`result ${result.id} does not match its recorded SHA-256`);
    }
    return bytes;
  }

  fileName(result: Result, dossierCode: string): string {
    const number = result.symbol ? result.symbol.replace(/[^A-Za-z0-9-]+/g, '-') : 'ket-qua';
    return `${dossierCode}_${number}.pdf`;
  }
}
