import type { Clock } from '../clock';
import type { AuditRepository } from '../data/auditRepository';
import type { Db } from '../data/db';
import type { OutboxRepository } from '../data/outboxRepository';
import type { OverdueDossier, OverdueRecipient, OverdueRepository } from '../data/overdueRepository';
import { formatDateTime } from '../i18n/messages';
import type { Logger } from '../logger';

export interface OverdueJobDeps {
  db: Db;
  overdue: OverdueRepository;
  audit: AuditRepository;
  outbox: OutboxRepository;
  clock: Clock;
  logger: Logger;
}

export interface OverdueJobOptions {
  publicBaseUrl: string;
  /** Dossiers per query; the job goes on while whole pages come back. */
  pageSize?: number;
}

/** The dedupe key of the overdue notice of one dossier to one officer: sent once, ever. */
/** One notice per lapse of a due date: an extension gives a new due date, whose lapse is news again. */
export const overdueDedupeKey = (dossierId: number, dueAt: Date, userId: number): string =>
  `overdue:${dossierId}:${dueAt.getTime()}:${userId}`;

export function overdueEmail(
  d: OverdueDossier,
  to: OverdueRecipient,
  publicBaseUrl: string,
): { subject: string; text: string } {
  return {
    subject: `Hồ sơ ${d.code} đã quá hạn giải quyết`,
    text: [
      `Kính gửi ${to.fullName},`,
      '',
      `Hồ sơ ${d.code} (thủ tục: ${d.procedureName}) đã quá hạn giải quyết.`,
      `Hạn giải quyết: ${formatDateTime('vi', d.dueAt)} (giờ Việt Nam).`,
      '',
      'Đề nghị đồng chí khẩn trương giải quyết hồ sơ; nếu cần thêm thời gian, thực hiện gia hạn và gửi',
      'Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) cho người nộp hồ sơ theo quy định.',
      '',
      `Đăng nhập Cổng để xem hồ sơ: ${publicBaseUrl}/login`,
      '',
      'Thư này được gửi tự động từ Cổng Dịch vụ công, vui lòng không trả lời.',
    ].join('\n'),
  };
}

/**
 * Marks dossiers that passed their due date as overdue, once each: the mark, its audit record and
 * the emails to the responsible officers commit together, so a crash never leaves a marked dossier
 * whose officers were not told, nor mail about a mark that did not happen. Answers how many it marked.
 */
export async function markOverdue(deps: OverdueJobDeps, opts: OverdueJobOptions): Promise<number> {
  const pageSize = opts.pageSize ?? 100;
  let marked = 0;
  for (;;) {
    const now = deps.clock.now();
    const page = await deps.overdue.findNewlyOverdue(now, pageSize);
    let failed = false;
    for (const d of page) {
      try {
        if (await markOne(deps, d, now, opts.publicBaseUrl)) marked += 1;
      } catch (err) {
        // One bad dossier must not hold up the others; the next run tries it again.
        failed = true;
        deps.logger.error({ err, dossierId: d.id }, 'could not mark a dossier overdue');
      }
    }
    // A failed dossier would come back on the next page: leave it to the next run instead of looping.
    if (failed || page.length < pageSize) break;
  }
  if (marked > 0) deps.logger.info({ marked }, 'dossiers marked overdue');
  return marked;
}

async function markOne(
  deps: OverdueJobDeps,
  d: OverdueDossier,
  now: Date,
  baseUrl: string,
): Promise<boolean> {
  return deps.db.transaction(async (trx) => {
    // Another process, or a decision taken meanwhile, got there first.
    if (!(await deps.overdue.markOverdue(trx, d.id, now))) return false;
    const recipients = await deps.overdue.recipients(trx, d);
    await deps.audit.append(trx, {
      occurredAt: now,
      actorUserId: null,
      actorEmail: null,
      action: 'DOSSIER_OVERDUE',
      subjectType: 'dossier',
      subjectId: d.code,
      agencyId: d.agencyId,
      details: { dueAt: d.dueAt.toISOString(), notified: recipients.map((r) => r.userId) },
    });
    for (const r of recipients) {
      await deps.outbox.enqueue(
        trx,
        {
          kind: 'EMAIL',
          dedupeKey: overdueDedupeKey(d.id, d.dueAt, r.userId),
          payload: { to: r.email, ...overdueEmail(d, r, baseUrl) },
        },
        now,
      );
    }
    return true;
  });
}
