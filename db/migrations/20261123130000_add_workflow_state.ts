import type { Knex } from 'knex';

// What the workflow engine keeps on a dossier (assignee, step deadline, a paused legal clock, the
// overdue mark), the in-portal notifications, the transactional outbox for email, and leases that
// let one of several web processes run a periodic job.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossiers', (t) => {
    t.integer('assignee_user_id').unsigned().nullable();
    t.integer('returns_to_user_id').unsigned().nullable();
    t.datetime('step_due_at', { precision: 3 }).nullable();
    t.datetime('paused_at', { precision: 3 }).nullable();
    t.bigInteger('remaining_ms').nullable();
    t.datetime('overdue_at', { precision: 3 }).nullable();
    t.datetime('decided_at', { precision: 3 }).nullable();
    t.datetime('completed_at', { precision: 3 }).nullable();
    t.index(['assignee_user_id', 'status']);
    t.index(['status', 'due_at']);
    // The desk's inbox: an agency's dossiers in due-date order, read a page at a time by (due_at, id).
    t.index(['agency_id', 'due_at', 'id']);
  });

  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id').primary();
    t.integer('user_id').unsigned().notNullable();
    t.bigInteger('dossier_id').unsigned().nullable();
    t.string('message_key', 64).notNullable();
    t.text('params').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('read_at', { precision: 3 }).nullable();
    t.index(['user_id', 'read_at', 'id']);
  });

  // Written in the same transaction as the change it announces; a worker delivers it afterwards.
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.string('kind', 32).notNullable();
    t.string('dedupe_key', 191).notNullable().unique();
    t.text('payload', 'mediumtext').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('available_at', { precision: 3 }).notNullable();
    t.integer('attempts').unsigned().notNullable().defaultTo(0);
    t.text('last_error').nullable();
    t.string('locked_by', 64).nullable();
    t.datetime('locked_until', { precision: 3 }).nullable();
    t.datetime('sent_at', { precision: 3 }).nullable();
    t.index(['sent_at', 'available_at']);
  });

  await knex.schema.createTable('job_leases', (t) => {
    t.string('name', 64).primary();
    t.string('holder', 64).notNullable();
    t.datetime('expires_at', { precision: 3 }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('job_leases');
  await knex.schema.dropTableIfExists('outbox');
  await knex.schema.dropTableIfExists('notifications');
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropIndex(['assignee_user_id', 'status']);
    t.dropIndex(['status', 'due_at']);
    t.dropIndex(['agency_id', 'due_at', 'id']);
    for (const c of [
      'assignee_user_id',
      'returns_to_user_id',
      'step_due_at',
      'paused_at',
      'remaining_ms',
      'overdue_at',
      'decided_at',
      'completed_at',
    ]) {
      t.dropColumn(c);
    }
  });
}
