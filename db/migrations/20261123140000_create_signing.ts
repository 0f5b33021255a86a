import type { Knex } from 'knex';

// Signing: the certificates officers and agencies sign with (the private key sealed by the holder's PIN),
// the results the portal issues, and the register counter behind their numbers and symbols.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('certificates', (t) => {
    t.increments('id').primary();
    // PERSONAL: an officer's own certificate; AGENCY: the agency's seal, used by its clerks.
    t.string('holder_kind', 16).notNullable();
    t.integer('user_id').unsigned().nullable();
    t.integer('agency_id').unsigned().nullable();
    t.string('common_name', 255).notNullable();
    t.string('subject', 1000).notNullable();
    t.string('issuer', 1000).notNullable();
    t.string('serial_number', 64).notNullable();
    t.string('fingerprint', 64).notNullable().unique();
    t.datetime('not_before', { precision: 3 }).notNullable();
    t.datetime('not_after', { precision: 3 }).notNullable();
    t.string('key_type', 16).notNullable();
    t.text('certificate_pem').notNullable();
    t.text('chain_pem', 'mediumtext').notNullable();
    t.text('sealed_key').notNullable();
    t.string('status', 16).notNullable();
    t.datetime('revoked_at', { precision: 3 }).nullable();
    t.string('revoked_reason', 500).nullable();
    // Like a token's PIN counter: reset by a right PIN, the key locks for a while after too many wrong ones.
    t.integer('failed_pin_count').unsigned().notNullable().defaultTo(0);
    t.datetime('locked_until', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.integer('created_by_user_id').unsigned().nullable();
    t.index(['user_id', 'status']);
    t.index(['agency_id', 'holder_kind', 'status']);
    t.index(['serial_number']);
  });

  await knex.schema.createTable('results', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('dossier_id').unsigned().notNullable();
    t.integer('agency_id').unsigned().notNullable();
    // The random id in the QR code and the public verification link; not guessable, unlike `id`.
    t.string('public_id', 32).notNullable().unique();
    // ELECTRONIC: signed and sealed PDF; PAPER: issued on paper, a scan on record.
    t.string('kind', 16).notNullable();
    // SIGNED: signed by the approver, waiting for the clerk; ISSUED; REVOKED; REPLACED.
    t.string('status', 16).notNullable();
    t.string('document_type', 16).notNullable();
    t.integer('year').unsigned().nullable();
    t.integer('number').unsigned().nullable();
    t.string('symbol', 64).nullable();
    t.text('layout').notNullable();
    t.string('signed_path', 255).nullable();
    t.string('signed_sha256', 64).nullable();
    t.integer('approver_user_id').unsigned().nullable();
    t.integer('approver_certificate_id').unsigned().nullable();
    t.datetime('signed_at', { precision: 3 }).nullable();
    t.string('final_path', 255).nullable();
    t.string('final_sha256', 64).nullable();
    t.integer('final_size').unsigned().nullable();
    t.integer('clerk_user_id').unsigned().nullable();
    t.integer('seal_certificate_id').unsigned().nullable();
    t.datetime('issued_at', { precision: 3 }).nullable();
    t.datetime('revoked_at', { precision: 3 }).nullable();
    t.string('revoked_reason', 500).nullable();
    t.bigInteger('replaced_by_id').unsigned().nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['dossier_id', 'id']);
    t.index(['final_sha256']);
    t.index(['agency_id', 'issued_at']);
    t.unique(['agency_id', 'document_type', 'year', 'number']);
  });

  // Register numbers restart each year, per agency and document type; bumped inside the release
  // transaction, so a failed release gives its number back.
  await knex.schema.createTable('document_counters', (t) => {
    t.integer('agency_id').unsigned().notNullable();
    t.integer('year').unsigned().notNullable();
    t.string('document_type', 16).notNullable();
    t.integer('last_value').unsigned().notNullable();
    t.primary(['agency_id', 'year', 'document_type']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('document_counters');
  await knex.schema.dropTableIfExists('results');
  await knex.schema.dropTableIfExists('certificates');
}
