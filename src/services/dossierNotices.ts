import type { Db } from '../data/db';
import type { Dossier } from '../data/dossierRepository';
import type { OutboxRepository } from '../data/outboxRepository';
import { formatDateTime, translator } from '../i18n/messages';

const vi = translator('vi');

/** One person to tell of a transition, and what. */
export interface Outgoing {
  /** The applicant (links to their dossier page) or an officer (links to the desk). */
  toApplicant: boolean;
  userId: number;
  email: string;
  messageKey: string;
  params: Record<string, string | number>;
}

/** Delivery of notices, inside the transition's transaction (the outbox). */
export type EnqueueNotices = (
  trx: Db,
  dossier: Dossier,
  notices: readonly Outgoing[],
  now: Date,
) => Promise<void>;

/** The email for one notice of a transition: Vietnamese, with the status, the due date and a link. */
export function noticeEmail(n: Outgoing, d: Dossier, baseUrl: string) {
  const subject = vi(n.messageKey, n.params);
  const link = n.toApplicant
    ? `${baseUrl}/my/dossiers/${encodeURIComponent(d.code ?? '')}`
    : `${baseUrl}/desk/dossiers/${encodeURIComponent(d.code ?? '')}`;
  const lines = [
    subject + '.',
    '',
    `Thủ tục: ${n.params.procedure}`,
    `Trạng thái: ${vi(`dstatus.${d.status}`)}`,
    d.pausedAt
      ? 'Thời hạn giải quyết đang tạm dừng chờ bổ sung hồ sơ.'
      : `Hạn trả kết quả: ${formatDateTime('vi', d.dueAt)}`,
    '',
    `Xem chi tiết: ${link}`,
    '',
    'Thư này được gửi tự động từ Cổng Dịch vụ công; vui lòng không trả lời.',
  ];
  return { to: n.email, subject, text: lines.join('\n') };
}

/** Queues the notices of a transition as emails in the outbox, inside the transition's transaction.
 * The dedupe key names the dossier version, so a retried command never queues the same notice twice. */
export function outboxNotices(outbox: OutboxRepository, baseUrl: string): EnqueueNotices {
  return async (trx: Db, d: Dossier, notices: readonly Outgoing[], now: Date) => {
    for (const n of notices) {
      await outbox.enqueue(
        trx,
        {
          kind: 'EMAIL',
          dedupeKey: `dossier:${d.id}:v${d.version}:${n.userId}`,
          payload: noticeEmail(n, d, baseUrl),
        },
        now,
      );
    }
  };
}
