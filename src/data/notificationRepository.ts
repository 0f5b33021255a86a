import { type Db, toDate, toDateOrNull } from './db';

export interface Notification {
  id: number;
  userId: number;
  dossierId: number | null;
  messageKey: string;
  params: Record<string, string | number>;
  createdAt: Date;
  readAt: Date | null;
}

/** In-portal notifications, written in the transaction of the change they announce. */
export class NotificationRepository {
  constructor(private readonly db: Db) {}

  async add(
    trx: Db,
    items: readonly {
      userId: number;
      dossierId: number | null;
      messageKey: string;
      params: Record<string, string | number>;
    }[],
    now: Date,
  ): Promise<void> {
    if (items.length === 0) return;
    await trx('notifications').insert(
      items.map((n) => ({
        user_id: n.userId,
        dossier_id: n.dossierId,
        message_key: n.messageKey,
        params: JSON.stringify(n.params),
        created_at: now,
      })),
    );
  }

  async listForUser(userId: number, limit = 20): Promise<Notification[]> {
    const rows = (await this.db('notifications')
      .where({ user_id: userId })
      .orderBy('id', 'desc')
      .limit(limit)) as {
      id: number;
      user_id: number;
      dossier_id: number | null;
      message_key: string;
      params: string;
      created_at: unknown;
      read_at: unknown;
    }[];
    return rows.map((r) => ({
      id: Number(r.id),
      userId: Number(r.user_id),
      dossierId: r.dossier_id === null ? null : Number(r.dossier_id),
      messageKey: r.message_key,
      params: JSON.parse(r.params) as Record<string, string | number>,
      createdAt: toDate(r.created_at),
      readAt: toDateOrNull(r.read_at),
    }));
  }

  async markAllRead(userId: number, now: Date): Promise<void> {
    await this.db('notifications').where({ user_id: userId }).whereNull('read_at').update({ read_at: now });
  }
}
