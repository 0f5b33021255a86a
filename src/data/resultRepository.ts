import { type Db, dialectOf, insertedId, toDate, toDateOrNull } from './db';

export type ResultKind = 'ELECTRONIC' | 'PAPER';
export type ResultStatus = 'SIGNED' | 'ISSUED' | 'REVOKED' | 'REPLACED';

/** Where, on which page, the release fills in what the approver could not know: number, date, seal. */
export interface SlotRect {
  page: number;
  /** PDF user space, points from the bottom left: x1 y1 x2 y2. */
  rect: [number, number, number, number];
}
export interface ResultLayout {
  number: SlotRect;
  date: SlotRect;
  signature: SlotRect;
  seal: SlotRect;
  /** Printed around the number: 'GP-BQL' in 'Số: 12/GP-BQL'. */
  symbolSuffix: string;
  placeName: string;
}

export interface Result {
  id: number;
  dossierId: number;
  agencyId: number;
  publicId: string;
  kind: ResultKind;
  status: ResultStatus;
  documentType: string;
  year: number | null;
  number: number | null;
  symbol: string | null;
  layout: ResultLayout;
  signedPath: string | null;
  signedSha256: string | null;
  approverUserId: number | null;
  approverCertificateId: number | null;
  signedAt: Date | null;
  finalPath: string | null;
  finalSha256: string | null;
  finalSize: number | null;
  clerkUserId: number | null;
  sealCertificateId: number | null;
  issuedAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  replacedById: number | null;
  createdAt: Date;
}

interface Row {
  id: number;
  dossier_id: number;
  agency_id: number;
  public_id: string;
  kind: ResultKind;
  status: ResultStatus;
  document_type: string;
  year: number | null;
  number: number | null;
  symbol: string | null;
  layout: string;
  signed_path: string | null;
  signed_sha256: string | null;
  approver_user_id: number | null;
  approver_certificate_id: number | null;
  signed_at: unknown;
  final_path: string | null;
  final_sha256: string | null;
  final_size: number | null;
  clerk_user_id: number | null;
  seal_certificate_id: number | null;
  issued_at: unknown;
  revoked_at: unknown;
  revoked_reason: string | null;
  replaced_by_id: number | null;
  created_at: unknown;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const toResult = (r: Row): Result => ({
  id: Number(r.id),
  dossierId: Number(r.dossier_id),
  agencyId: Number(r.agency_id),
  publicId: r.public_id,
  kind: r.kind,
  status: r.status,
  documentType: r.document_type,
  year: num(r.year),
  number: num(r.number),
  symbol: r.symbol,
  layout: JSON.parse(r.layout) as ResultLayout,
  signedPath: r.signed_path,
  signedSha256: r.signed_sha256,
  approverUserId: num(r.approver_user_id),
  approverCertificateId: num(r.approver_certificate_id),
  signedAt: toDateOrNull(r.signed_at),
  finalPath: r.final_path,
  finalSha256: r.final_sha256,
  finalSize: num(r.final_size),
  clerkUserId: num(r.clerk_user_id),
  sealCertificateId: num(r.seal_certificate_id),
  issuedAt: toDateOrNull(r.issued_at),
  revokedAt: toDateOrNull(r.revoked_at),
  revokedReason: r.revoked_reason,
  replacedById: num(r.replaced_by_id),
  createdAt: toDate(r.created_at),
});

export interface NewSignedResult {
  dossierId: number;
  agencyId: number;
  publicId: string;
  documentType: string;
  layout: ResultLayout;
  signedPath: string;
  signedSha256: string;
  approverUserId: number;
  approverCertificateId: number;
  signedAt: Date;
}

export interface IssuedResult {
  kind: ResultKind;
  year: number;
  number: number;
  symbol: string;
  finalPath: string;
  finalSha256: string;
  finalSize: number;
  clerkUserId: number;
  sealCertificateId: number | null;
  issuedAt: Date;
}

/** Results of dossiers: the approver-signed draft, then the issued (numbered, sealed) document. */
export class ResultRepository {
  constructor(private readonly db: Db) {}

  async insertSigned(trx: Db, r: NewSignedResult, now: Date): Promise<number> {
    return insertedId(
      await trx('results').insert({
        dossier_id: r.dossierId,
        agency_id: r.agencyId,
        public_id: r.publicId,
        kind: 'ELECTRONIC',
        status: 'SIGNED',
        document_type: r.documentType,
        layout: JSON.stringify(r.layout),
        signed_path: r.signedPath,
        signed_sha256: r.signedSha256,
        approver_user_id: r.approverUserId,
        approver_certificate_id: r.approverCertificateId,
        signed_at: r.signedAt,
        created_at: now,
      }),
    );
  }

  /** Marks the signed draft issued; false when someone else issued or replaced it meanwhile. */
  async markIssued(trx: Db, id: number, r: IssuedResult): Promise<boolean> {
    const n = await trx('results').where({ id, status: 'SIGNED' }).update({
      kind: r.kind,
      status: 'ISSUED',
      year: r.year,
      number: r.number,
      symbol: r.symbol,
      final_path: r.finalPath,
      final_sha256: r.finalSha256,
      final_size: r.finalSize,
      clerk_user_id: r.clerkUserId,
      seal_certificate_id: r.sealCertificateId,
      issued_at: r.issuedAt,
    });
    return n === 1;
  }

  /** Earlier results of the dossier still in force are superseded by a new one. */
  async replaceEarlier(trx: Db, dossierId: number, newId: number): Promise<void> {
    await trx('results')
      .where({ dossier_id: dossierId })
      .whereIn('status', ['SIGNED', 'ISSUED'])
      .whereNot({ id: newId })
      .update({ status: 'REPLACED', replaced_by_id: newId });
  }

  async revoke(trx: Db, id: number, reason: string, now: Date): Promise<boolean> {
    const n = await trx('results')
      .where({ id, status: 'ISSUED' })
      .update({ status: 'REVOKED', revoked_at: now, revoked_reason: reason });
    return n === 1;
  }

  async findById(id: number, trx: Db = this.db): Promise<Result | undefined> {
    const row = (await trx('results').where({ id }).first()) as Row | undefined;
    return row && toResult(row);
  }

  async findByPublicId(publicId: string): Promise<Result | undefined> {
    const row = (await this.db('results').where({ public_id: publicId }).first()) as Row | undefined;
    return row && toResult(row);
  }

  /** Results whose issued file has this SHA-256 (normally one). */
  async findByFinalSha256(sha256: string): Promise<Result[]> {
    const rows = (await this.db('results').where({ final_sha256: sha256 }).select()) as Row[];
    return rows.map(toResult);
  }

  /** The dossier's latest result, whatever its state. */
  async latestForDossier(dossierId: number, trx: Db = this.db): Promise<Result | undefined> {
    const row = (await trx('results').where({ dossier_id: dossierId }).orderBy('id', 'desc').first()) as
      Row | undefined;
    return row && toResult(row);
  }

  /** Issued results of the dossiers an applicant account filed, newest first. */
  async issuedForApplicant(
    userId: number,
    limit = 500,
  ): Promise<(Result & { dossierCode: string; procedureVersionId: number })[]> {
    const rows = (await this.db('results as r')
      .join('dossiers as d', 'd.id', 'r.dossier_id')
      .where('d.applicant_user_id', userId)
      .whereIn('r.status', ['ISSUED', 'REVOKED', 'REPLACED'])
      .whereNotNull('r.issued_at')
      .orderBy('r.issued_at', 'desc')
      .limit(limit)
      .select('r.*', 'd.code as dossier_code', 'd.procedure_version_id as procedure_version_id')) as (Row & {
      dossier_code: string;
      procedure_version_id: number;
    })[];
    return rows.map((r) => ({
      ...toResult(r),
      dossierCode: r.dossier_code,
      procedureVersionId: Number(r.procedure_version_id),
    }));
  }

  /** Next register number of an agency for a year and document type, in the caller's transaction: the
   * counter row stays locked until it commits, and a rollback gives the number back. */
  async nextNumber(trx: Db, agencyId: number, year: number, documentType: string): Promise<number> {
    const values = [agencyId, year, documentType];
    if (dialectOf(trx) === 'mysql') {
      await trx.raw(
        'INSERT INTO document_counters (agency_id, year, document_type, last_value) VALUES (?, ?, ?, 1) ON DUPLICATE KEY UPDATE last_value = last_value + 1',
        values,
      );
    } else {
      await trx.raw(
        'INSERT INTO document_counters (agency_id, year, document_type, last_value) VALUES (?, ?, ?, 1) ON CONFLICT (agency_id, year, document_type) DO UPDATE SET last_value = last_value + 1',
        values,
      );
    }
    const row = (await trx('document_counters')
      .where({ agency_id: agencyId, year, document_type: documentType })
      .first('last_value')) as { last_value: number };
    return Number(row.last_value);
  }
}
