import type { Knex } from 'knex';

// Statistics: the applicants' ratings, each dossier's resolution as classified when it happened, and the
// daily counts the figures are summed from. The counts are a projection of the event log and the ratings,
// written by the same transaction as the event; `portal stats check` recomputes them from the log.
export async function up(knex: Knex): Promise<void> {
  // One rating per dossier, by its applicant, once the result is released. The agency and procedure are
  // copied from the dossier (which never changes either) so that an agency's ratings are one index range.
  await knex.schema.createTable('ratings', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('dossier_id').unsigned().notNullable().unique().references('id').inTable('dossiers');
    t.integer('user_id').unsigned().notNullable();
    t.integer('agency_id').unsigned().notNullable();
    t.integer('procedure_id').unsigned().notNullable();
    t.tinyint('score').unsigned().notNullable();
    t.string('comment', 1000).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['agency_id', 'created_at']);
  });

  await knex.schema.alterTable('dossiers', (t) => {
    // Set once, by the release or the refusal: when, whether by the due date, and the working time spent
    // (pauses for a supplement taken out), read with the calendar in force that day.
    t.datetime('resolved_at', { precision: 3 }).nullable();
    t.string('timeliness', 8).nullable();
    t.bigInteger('working_ms').nullable();
    // Dossiers received, resolved, and still open at a moment, per agency: the drill-down lists.
    t.index(['agency_id', 'submitted_at']);
    t.index(['agency_id', 'resolved_at']);
    t.index(['agency_id', 'completed_at', 'submitted_at']);
  });

  await knex.schema.alterTable('dossier_events', (t) => {
    // Supplement requests, refusals and withdrawals in a period; the recount reads by action.
    t.index(['action', 'occurred_at']);
  });

  // Per agency, procedure and Vietnam-time day: what happened that day. A period's figures are a sum
  // over at most a few thousand of these rows, whatever the number of dossiers.
  await knex.schema.createTable('statistics_daily', (t) => {
    t.integer('agency_id').unsigned().notNullable();
    t.string('day', 10).notNullable();
    t.integer('procedure_id').unsigned().notNullable();
    for (const c of DAILY_COLUMNS) t.integer(c).unsigned().notNullable().defaultTo(0);
    t.bigInteger('working_ms').unsigned().notNullable().defaultTo(0);
    t.primary(['agency_id', 'day', 'procedure_id']);
  });
}

// Listed here rather than imported: a migration never changes once landed, whatever src/ becomes.
const DAILY_COLUMNS = [
  'received_online',
  'received_counter',
  'resolved_early',
  'resolved_on_time',
  'resolved_late',
  'released',
  'released_paper',
  'refused',
  'supplement_requests',
  'withdrawals',
  'ratings',
  'rating_sum',
  'rated_1',
  'rated_2',
  'rated_3',
  'rated_4',
  'rated_5',
];

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('statistics_daily');
  await knex.schema.alterTable('dossier_events', (t) => {
    t.dropIndex(['action', 'occurred_at']);
  });
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropIndex(['agency_id', 'submitted_at']);
    t.dropIndex(['agency_id', 'resolved_at']);
    t.dropIndex(['agency_id', 'completed_at', 'submitted_at']);
    t.dropColumns('resolved_at', 'timeliness', 'working_ms');
  });
  await knex.schema.dropTableIfExists('ratings');
}
