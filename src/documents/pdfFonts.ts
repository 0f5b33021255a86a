/// <reference types="pdfkit" />
// Fonts for every generated PDF. Decree 30/2020/NĐ-CP asks for Times New Roman, which may not be
// redistributed; DejaVu Serif is the nearest free substitute available from npm, with complete
// Vietnamese coverage. Its metrics are close but not identical (it sets somewhat wider), so layouts
// measure text rather than assume Times widths. Each font is embedded as a subset, so diacritics render
// without fonts on the reader's side and extract as text.
import fs from 'node:fs';
import path from 'node:path';

const FONT_FILES = {
  serif: 'DejaVuSerif.ttf',
  'serif-bold': 'DejaVuSerif-Bold.ttf',
  'serif-italic': 'DejaVuSerif-Italic.ttf',
  'serif-bold-italic': 'DejaVuSerif-BoldItalic.ttf',
} as const;

export type DocumentFont = keyof typeof FONT_FILES;

// A receipt is rendered on every submission: reading ~1.5 MB of TTF per document would be wasted
// disk I/O, so the buffers are read on first use and kept for the life of the process.
let fontBuffers: ReadonlyMap<DocumentFont, Buffer> | null = null;
let fileReads = 0;

function loadFonts(): ReadonlyMap<DocumentFont, Buffer> {
  if (!fontBuffers) {
    const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    const buffers = new Map<DocumentFont, Buffer>();
    for (const [name, file] of Object.entries(FONT_FILES) as [DocumentFont, string][]) {
      buffers.set(name, fs.readFileSync(path.join(dir, file)));
      fileReads += 1;
    }
    fontBuffers = buffers;
  }
  return fontBuffers;
}

/** Registers 'serif', 'serif-bold', 'serif-italic' and 'serif-bold-italic' on a document. */
export function registerFonts(doc: PDFKit.PDFDocument): void {
  for (const [name, data] of loadFonts()) doc.registerFont(name, data);
}

/** How many font files this process has read from disk; tests use it to check the cache holds. */
export function fontFileReadCount(): number {
  return fileReads;
}

/** The TTF bytes of one font, from the same per-process cache; signature appearances embed subsets of it. */
export function fontBuffer(font: DocumentFont): Buffer {
  const buffer = loadFonts().get(font);
  if (!buffer) throw new TypeError(`unknown document font ${String(font)}`);
  return buffer;
}
