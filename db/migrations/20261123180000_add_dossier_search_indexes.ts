import type { Knex } from 'knex';

// Two searches on the officers' desk read an index instead of an agency's every dossier:
// - one procedure's open dossiers in due-date order: (procedure_id, completed_at, due_at, id);
// - the applicant's name, typed with or without diacritics, from any word on: each dossier has one
//   key per word of the name, the name folded (lower case, no diacritics, đ -> d) from that word to
//   its end ("nguyen van an", "van an", "an"), so a prefix search on the keys finds "Văn An" and "an"
//   in "Nguyễn Văn An", and "abc" in "Công ty TNHH ABC"; a business's representative is a name too,
//   and the identity number (or tax code) and phone are keys by their digits.
// The keys of existing dossiers are made here, a batch of dossiers at a time. The folding is written
// out below rather than imported: a migration keeps meaning what it meant when it landed.

const KEY_LENGTH = 100;
const MAX_KEYS_PER_NAME = 40;
const BATCH = 2_000;

function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** The names from any word on; the identity number (or tax code) and phone by their digits. */
function keysOf(names: readonly unknown[], numbers: readonly unknown[]): string[] {
  const keys = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string') continue;
    const words = fold(name).split(' ').filter(Boolean);
    for (let i = 0; i < words.length && i < MAX_KEYS_PER_NAME; i++) {
      const key = words.slice(i).join(' ').slice(0, KEY_LENGTH).trim();
      if (key) keys.add(key);
    }
  }
  for (const n of numbers) {
    const digits = typeof n === 'string' ? n.replace(/\D/g, '').slice(0, KEY_LENGTH) : '';
    if (digits) keys.add(digits);
  }
  return [...keys];
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dossier_name_keys', (t) => {
    t.integer('agency_id').unsigned().notNullable();
    t.string('name_key', KEY_LENGTH).notNullable();
    t.bigInteger('dossier_id').unsigned().notNullable().references('id').inTable('dossiers');
    t.primary(['agency_id', 'name_key', 'dossier_id']);
    t.index(['dossier_id']);
  });

  let after = 0;
  for (;;) {
    const rows = (await knex('dossiers')
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .select('id', 'agency_id', 'applicant')) as { id: number; agency_id: number; applicant: string }[];
    if (rows.length === 0) break;
    const keys: { agency_id: number; name_key: string; dossier_id: number }[] = [];
    for (const r of rows) {
      let names: unknown[] = [];
      let numbers: unknown[] = [];
      try {
        const a = JSON.parse(r.applicant) as Record<string, unknown>;
        names = [a.name, a.representative];
        numbers = [a.idNumber, a.phone];
      } catch {
        // A snapshot that is not JSON has nothing to search by.
      }
      for (const k of keysOf(names, numbers))
        keys.push({ agency_id: r.agency_id, name_key: k, dossier_id: r.id });
    }
    // Keys that differ only in what MySQL's collation ignores count as one.
    for (let i = 0; i < keys.length; i += 500)
      await knex('dossier_name_keys')
        .insert(keys.slice(i, i + 500))
        .onConflict(['agency_id', 'name_key', 'dossier_id'])
        .ignore();
    after = Number(rows[rows.length - 1]!.id);
  }

  await knex.schema.alterTable('dossiers', (t) => {
    t.index(['procedure_id', 'completed_at', 'due_at', 'id'], 'dossiers_open_by_procedure_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  // MySQL: the new index may be the one that serves the procedure foreign key (InnoDB drops the key's
  // own index when a new one can stand in for it), so the key gets one back before this one goes.
  if (knex.client.config.client === 'mysql2') {
    const [others] = (await knex.raw(
      `SELECT INDEX_NAME FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dossiers' AND SEQ_IN_INDEX = 1
          AND COLUMN_NAME = 'procedure_id' AND INDEX_NAME <> 'dossiers_open_by_procedure_index'`,
    )) as [unknown[], unknown];
    if (others.length === 0) {
      await knex.schema.alterTable('dossiers', (t) => {
        t.index(['procedure_id'], 'dossiers_procedure_id_foreign');
      });
    }
  }
  await knex.schema.alterTable('dossiers', (t) => {
    t.dropIndex([], 'dossiers_open_by_procedure_index');
  });
  await knex.schema.dropTable('dossier_name_keys');
}
