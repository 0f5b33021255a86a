import type { Knex } from 'knex';

// The office hours every legal deadline is counted in, which a system administrator sets for the
// province (many work 07:30-11:30 and 13:00-17:00, others 07:00-11:30 and 13:30-17:00). One row; the
// values the portal used before they could be set are its first contents, so no deadline moves by
// this migration. The offset from UTC is not a setting: Vietnam has one time zone, UTC+7.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('working_time', (t) => {
    t.integer('id').primary();
    t.string('morning_start', 5).notNullable();
    t.string('morning_end', 5).notNullable();
    t.string('afternoon_start', 5).notNullable();
    t.string('afternoon_end', 5).notNullable();
    // Received at or after this time of a working day, a dossier counts from the next working morning.
    t.string('cutoff', 5).notNullable();
    // Week days off, 0 = Sunday ... 6 = Saturday, as a comma-separated list ("0,6").
    t.string('weekend_days', 20).notNullable();
    t.datetime('updated_at', { precision: 3 }).nullable();
    t.integer('updated_by').unsigned().nullable().references('id').inTable('users');
  });
  await knex('working_time').insert({
    id: 1,
    morning_start: '07:30',
    morning_end: '11:30',
    afternoon_start: '13:00',
    afternoon_end: '17:00',
    cutoff: '16:00',
    weekend_days: '0,6',
    updated_at: null,
    updated_by: null,
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('working_time');
}
