import type { Knex } from 'knex';

// An agency's open dossiers (completed_at IS NULL) in due-date order, read straight from one index: the
// desk's inbox reads its first page without walking past the closed dossiers due before the oldest open
// one, and the statistics count the open dossiers (paused, overdue) and those closed after a moment from
// the index alone. It begins with the columns of the index it replaces, so every use of that one stays.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossiers', (t) => {
    t.index(
      ['agency_id', 'completed_at', 'due_at', 'id', 'submitted_at', 'paused_at'],
      'dossiers_open_by_due_index',
    );
  });
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropIndex(['agency_id', 'completed_at', 'submitted_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossiers', (t) => {
    t.index(['agency_id', 'completed_at', 'submitted_at']);
  });
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropIndex([], 'dossiers_open_by_due_index');
  });
}
