import type { Clock } from '../clock';
import type { AgencyRepository } from '../data/agencyRepository';
import type { Result, ResultRepository } from '../data/resultRepository';
import { type PdfVerification, verifyPdf } from '../signing/pdfVerifier';
import type { PkiService } from './pkiService';
import type { ResultService } from './resultService';

export interface IssuedResultFacts {
  publicId: string;
  symbol: string | null;
  kind: Result['kind'];
  /** ISSUED: in force; REVOKED; REPLACED by a later result of the same dossier. */
  status: Result['status'];
  issuedAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  agency: string | null;
}

export interface VerificationReport extends PdfVerification {
  /** The file is, byte for byte, a result this portal issued (matched by its SHA-256). */
  issuedByPortal: boolean;
  /** That result, and whether it is still in force. */
  result: IssuedResultFacts | null;
  /** Every signature valid and trusted, none modified after, the last one covering the whole file. */
  allSignaturesGood: boolean;
}

/** Checks an uploaded PDF's signatures, and tells whether it is a result the portal issued and still valid. */
export class VerificationService {
  constructor(
    private readonly deps: {
      pki: PkiService;
      results: ResultRepository;
      resultFiles: ResultService;
      agencies: AgencyRepository;
      clock: Clock;
    },
  ) {}

  async verify(bytes: Buffer): Promise<VerificationReport> {
    const revocations = await this.deps.pki.revocations();
    const report = verifyPdf(bytes, {
      trustedRootsPem: this.deps.pki.trustedRoots(),
      revokedAt: (serial) => revocations.get(serial) ?? null,
      now: this.deps.clock.now(),
    });
    const [match] = await this.deps.results.findByFinalSha256(report.sha256);
    const last = report.signatures[report.signatures.length - 1];
    return {
      ...report,
      issuedByPortal: match !== undefined,
      result: match ? await this.facts(match) : null,
      allSignaturesGood:
        report.signatures.length > 0 &&
        report.signatures.every((s) => s.valid && s.trusted && !s.modifiedAfter) &&
        last!.coversWholeDocument,
    };
  }

  /** The issued result behind a QR link, with the report of its stored file. */
  async byPublicId(
    publicId: string,
  ): Promise<{ result: IssuedResultFacts; report: VerificationReport | null } | null> {
    if (!/^[A-Za-z0-9_-]{8,32}$/.test(publicId)) return null;
    const result = await this.deps.results.findByPublicId(publicId);
    if (!result || !result.finalPath || result.status === 'SIGNED') return null;
    const report =
      result.kind === 'ELECTRONIC' ? await this.verify(await this.deps.resultFiles.file(result)) : null;
    return { result: await this.facts(result), report };
  }

  private async facts(r: Result): Promise<IssuedResultFacts> {
    const agency = await this.deps.agencies.findById(r.agencyId);
    return {
      publicId: r.publicId,
      symbol: r.symbol,
      kind: r.kind,
      status: r.status,
      issuedAt: r.issuedAt?.toISOString() ?? null,
      revokedAt: r.revokedAt?.toISOString() ?? null,
      revokedReason: r.revokedReason,
      agency: agency?.name ?? null,
    };
  }
}
