import type { Knex } from 'knex';

// A dossier's clock events (filing, pauses, resumptions, extensions, closings) read from the index
// alone: a past period's figures read back the history of every dossier open at its end.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossier_events', (t) => {
    t.index(['dossier_id', 'action', 'occurred_at'], 'dossier_events_clock_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dossier_events', (t) => {
    t.dropIndex([], 'dossier_events_clock_index');
  });
}
