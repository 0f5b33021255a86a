import type { Knex } from 'knex';

// Agencies, accounts, roles, sessions, login attempts and the audit log: what every later part needs.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('agencies', (t) => {
    t.increments('id').primary();
    t.string('code', 32).notNullable().unique();
    t.string('name', 255).notNullable();
    t.string('name_en', 255).notNullable();
    t.string('short_name', 32).notNullable();
    t.string('level', 16).notNullable();
    t.integer('parent_id').unsigned().nullable().references('id').inTable('agencies');
    t.string('place_name', 64).notNullable();
    t.string('address', 255).notNullable().defaultTo('');
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['parent_id']);
  });

  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('email', 254).notNullable().unique();
    t.string('password_hash', 255).notNullable();
    t.string('kind', 16).notNullable();
    t.string('full_name', 200).notNullable();
    t.string('phone', 20).nullable();
    t.string('citizen_id', 12).nullable().unique();
    t.date('date_of_birth').nullable();
    t.string('company_name', 255).nullable();
    t.string('tax_code', 14).nullable().unique();
    t.string('position', 120).nullable();
    t.integer('agency_id').unsigned().nullable().references('id').inTable('agencies');
    t.string('status', 16).notNullable().defaultTo('ACTIVE');
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.datetime('password_changed_at', { precision: 3 }).notNullable();
    t.datetime('last_login_at', { precision: 3 }).nullable();
    t.index(['agency_id', 'kind']);
  });

  await knex.schema.createTable('user_roles', (t) => {
    t.integer('user_id').unsigned().notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('role', 32).notNullable();
    t.primary(['user_id', 'role']);
  });

  // express-session sessions, shared by every web process.
  await knex.schema.createTable('sessions', (t) => {
    t.string('sid', 255).primary();
    t.text('sess', 'mediumtext').notNullable();
    t.datetime('expired', { precision: 3 }).notNullable().index();
  });

  await knex.schema.createTable('login_attempts', (t) => {
    t.bigIncrements('id').primary();
    t.string('email', 254).notNullable();
    t.string('ip', 64).notNullable();
    t.boolean('succeeded').notNullable();
    t.datetime('attempted_at', { precision: 3 }).notNullable();
    t.index(['email', 'attempted_at']);
    t.index(['ip', 'attempted_at']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.datetime('occurred_at', { precision: 3 }).notNullable();
    t.integer('actor_user_id').unsigned().nullable();
    t.string('actor_email', 254).nullable();
    t.string('action', 64).notNullable();
    t.string('subject_type', 32).nullable();
    t.string('subject_id', 64).nullable();
    t.integer('agency_id').unsigned().nullable();
    t.string('ip', 64).nullable();
    t.string('user_agent', 255).nullable();
    t.text('details').notNullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable().unique();
    t.index(['actor_user_id', 'occurred_at']);
    t.index(['subject_type', 'subject_id']);
    t.index(['occurred_at']);
  });

  // One row that every audit insert locks first, so the hash chain has one order across processes.
  await knex.schema.createTable('audit_chain_head', (t) => {
    t.integer('id').primary();
    t.bigInteger('last_audit_id').notNullable();
    t.string('last_hash', 64).notNullable();
  });
  await knex('audit_chain_head').insert({ id: 1, last_audit_id: 0, last_hash: '0'.repeat(64) });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'audit_chain_head',
    'audit_log',
    'login_attempts',
    'sessions',
    'user_roles',
    'users',
    'agencies',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
