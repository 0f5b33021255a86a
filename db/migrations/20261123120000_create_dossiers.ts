import type { Knex } from 'knex';

// The procedure catalogue (versioned definitions), dossiers with their papers and history, the
// per-agency daily counter behind dossier codes, and personal API tokens.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('procedures', (t) => {
    t.increments('id').primary();
    t.string('code', 32).notNullable().unique();
    t.integer('agency_id').unsigned().notNullable().references('id').inTable('agencies');
    t.integer('current_version').unsigned().notNullable();
    t.string('status', 16).notNullable().defaultTo('ACTIVE');
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.index(['agency_id']);
  });

  // A published version never changes: a dossier keeps the version it was filed under.
  await knex.schema.createTable('procedure_versions', (t) => {
    t.increments('id').primary();
    t.integer('procedure_id').unsigned().notNullable().references('id').inTable('procedures');
    t.integer('version').unsigned().notNullable();
    t.string('name', 500).notNullable();
    t.string('name_en', 500).notNullable();
    t.string('sector', 64).notNullable();
    t.string('online_level', 16).notNullable();
    t.integer('time_limit_amount').unsigned().notNullable();
    t.string('time_limit_unit', 16).notNullable();
    t.bigInteger('fee_amount').unsigned().notNullable();
    // Code and names in lower case without diacritics, so "giay phep" finds "Giấy phép".
    t.string('search_text', 1200).notNullable();
    t.text('definition', 'mediumtext').notNullable();
    t.datetime('published_at', { precision: 3 }).notNullable();
    t.integer('published_by').unsigned().nullable();
    t.unique(['procedure_id', 'version']);
  });

  await knex.schema.createTable('dossiers', (t) => {
    t.bigIncrements('id').primary();
    t.string('code', 48).nullable().unique();
    t.string('secret', 16).nullable();
    t.integer('procedure_id').unsigned().notNullable().references('id').inTable('procedures');
    t.integer('procedure_version_id').unsigned().notNullable().references('id').inTable('procedure_versions');
    t.integer('agency_id').unsigned().notNullable().references('id').inTable('agencies');
    t.integer('applicant_user_id').unsigned().nullable().references('id').inTable('users');
    t.text('applicant').notNullable();
    t.text('form_data', 'mediumtext').notNullable();
    t.string('status', 32).notNullable();
    t.integer('version').unsigned().notNullable().defaultTo(1);
    t.string('channel', 16).notNullable();
    // '{submitter}:{key}': the account (or the counter officer) and the key the client sent.
    t.string('idempotency_key', 160).nullable().unique();
    t.datetime('submitted_at', { precision: 3 }).nullable();
    t.datetime('counting_from', { precision: 3 }).nullable();
    t.datetime('due_at', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.index(['applicant_user_id', 'status', 'updated_at']);
    t.index(['agency_id', 'status', 'due_at']);
  });

  await knex.schema.createTable('dossier_files', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('dossier_id').unsigned().notNullable().references('id').inTable('dossiers');
    t.string('paper_code', 64).notNullable();
    t.string('original_name', 255).notNullable();
    t.string('stored_path', 255).notNullable().unique();
    t.string('content_type', 100).notNullable();
    t.bigInteger('size').unsigned().notNullable();
    t.string('sha256', 64).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['dossier_id', 'paper_code']);
  });

  await knex.schema.createTable('dossier_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('dossier_id').unsigned().notNullable().references('id').inTable('dossiers');
    t.datetime('occurred_at', { precision: 3 }).notNullable();
    t.integer('actor_user_id').unsigned().nullable();
    t.string('actor_role', 32).notNullable();
    t.string('action', 48).notNullable();
    t.string('from_status', 32).nullable();
    t.string('to_status', 32).notNullable();
    t.text('note').nullable();
    t.text('details').notNullable();
    t.index(['dossier_id', 'id']);
  });

  // Counter per agency per local day; bumped in the submission's own transaction, so a rolled-back
  // submission gives its number back and the codes stay gap-free.
  await knex.schema.createTable('dossier_counters', (t) => {
    t.integer('agency_id').unsigned().notNullable();
    t.string('day', 6).notNullable();
    t.integer('last_value').unsigned().notNullable();
    t.primary(['agency_id', 'day']);
  });

  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users');
    t.string('name', 100).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.string('prefix', 12).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('last_used_at', { precision: 3 }).nullable();
    t.datetime('expires_at', { precision: 3 }).nullable();
    t.datetime('revoked_at', { precision: 3 }).nullable();
    t.index(['user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'api_tokens',
    'dossier_counters',
    'dossier_events',
    'dossier_files',
    'dossiers',
    'procedure_versions',
    'procedures',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
