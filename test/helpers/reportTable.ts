// Reads the statistics report's table back from `pdftotext -layout`, as a person checking a printout
// would: a row is a line ending in the figures, and a long agency name goes on over the lines after it.

/** A figure as the report prints it (1.234 or 88,9) or the dash of a ratio with nothing to divide. */
const FIGURE = /^(?:\d{1,3}(?:\.\d{3})*(?:,\d+)?|–)$/;

export interface TableLine {
  /** The row's number, '' for the total row. */
  order: string;
  /** What the first line holds of the name. */
  nameStart: string;
  figures: string[];
  /** Where the row starts in `lines`, to read the rest of a wrapped name. */
  index: number;
}

export function layoutLines(text: string): string[] {
  return text.normalize('NFC').split('\n');
}

/** The lines that end in exactly `columns` figures: the table's rows, in order. */
export function tableLines(lines: readonly string[], columns: number): TableLine[] {
  const rows: TableLine[] = [];
  lines.forEach((line, index) => {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    let k = tokens.length;
    while (k > 0 && FIGURE.test(tokens[k - 1]!)) k -= 1;
    if (tokens.length - k !== columns || k === 0) return;
    const lead = tokens.slice(0, k);
    const order = /^\d+$/.test(lead[0]!) ? lead.shift()! : '';
    rows.push({ order, nameStart: lead.join(' '), figures: tokens.slice(k), index });
  });
  return rows;
}

/**
 * The row's name, joined over the lines after its first for as long as it still reads as `expected`:
 * answers `expected` only when the whole name is there, in order, right under the row's first line.
 */
export function nameOf(lines: readonly string[], row: TableLine, expected: string): string {
  let name = row.nameStart;
  for (let i = row.index + 1; name !== expected && i < lines.length; i += 1) {
    const next = `${name} ${lines[i]!.trim()}`;
    if (!expected.startsWith(next)) break;
    name = next;
  }
  return name;
}

/** A CSV reader for the report (quoted cells, doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r') continue;
    else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}
