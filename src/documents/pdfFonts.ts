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

/** The part of fontkit's font object the portal uses (fontkit ships without type declarations). */
export interface SharedFont {
  postscriptName: string;
  unitsPerEm: number;
  ascent: number;
  descent: number;
  capHeight: number;
  xHeight: number;
  italicAngle: number;
  bbox: { minX: number; minY: number; maxX: number; maxY: number };
  post: { isFixedPitch: number };
  'OS/2'?: { sFamilyClass?: number };
  characterSet: number[];
  glyphForCodePoint(codePoint: number): { id: number; codePoints: number[] };
  getGlyph(id: number): object;
  layout(text: string): {
    glyphs: { id: number; advanceWidth: number; codePoints: number[] }[];
    positions: { xAdvance: number; yAdvance: number; xOffset: number; yOffset: number }[];
  };
  createSubset(): { includeGlyph(glyphId: number): number; encode(): Uint8Array };
}

// pdfkit depends on fontkit and loads its CommonJS build the same way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fontkit = require('fontkit') as { create(buffer: Buffer): SharedFont };

let sharedFonts: ReadonlyMap<DocumentFont, SharedFont> | null = null;

/**
 * Parsing a font (its layout tables above all) costs far more than laying out a page, so each font is
 * parsed once per process and every document shares the parsed object; each document still makes its own
 * subset. fontkit caches glyph objects with the characters they were first met for, and encoding a subset
 * meets composite glyphs' parts (the "ư" inside "ừ") with none: a later document laying out a plain "ư"
 * would then get a glyph without characters and a hole in its ToUnicode map. Meeting every mapped
 * character once, before any subset is encoded, gives every such glyph its characters for good.
 */
interface DecodableGlyph {
  _font: { _variationProcessor?: unknown };
  _decode(): unknown;
  portalDecoded?: unknown;
}

/**
 * Every subset a document embeds decodes the outline of each glyph it holds, although a glyph's outline
 * never changes: about a quarter of the time to render a result. With the glyph objects shared for the life
 * of the process, the decoded outline is kept on the glyph. fontkit reads it and never writes to it, except
 * for variable fonts, which are left alone.
 */
function keepDecodedOutlines(font: SharedFont): void {
  const prototype = Object.getPrototypeOf(font.getGlyph(0)) as DecodableGlyph & { portalMemo?: boolean };
  if (prototype.portalMemo) return;
  const decode = prototype._decode;
  prototype._decode = function (this: DecodableGlyph) {
    if (this._font._variationProcessor) return decode.call(this);
    if (!('portalDecoded' in this)) this.portalDecoded = decode.call(this);
    return this.portalDecoded;
  };
  prototype.portalMemo = true;
}

function loadSharedFonts(): ReadonlyMap<DocumentFont, SharedFont> {
  if (!sharedFonts) {
    const fonts = new Map<DocumentFont, SharedFont>();
    for (const [name, data] of loadFonts()) {
      const font = fontkit.create(data);
      for (const codePoint of font.characterSet) font.glyphForCodePoint(codePoint);
      keepDecodedOutlines(font);
      fonts.set(name, font);
    }
    sharedFonts = fonts;
  }
  return sharedFonts;
}

/** The parsed font, shared by every document of the process. */
export function sharedFont(font: DocumentFont): SharedFont {
  const parsed = loadSharedFonts().get(font);
  if (!parsed) throw new TypeError(`unknown document font ${String(font)}`);
  return parsed;
}

/**
 * Shaping a word (fontkit's substitution and positioning lookups) costs more than anything else in a
 * page, and pdfkit keeps what it shaped only for the life of one document. The runs depend on the font
 * alone (pdfkit copies a position before changing it, and each document still makes its own subset), so
 * one cache per font serves every document. It holds words of documents, so it is bounded: past
 * LAYOUT_CACHE_WORDS it starts again empty.
 */
const LAYOUT_CACHE_WORDS = 20_000;
const layoutCaches = new Map<DocumentFont, { words: Record<string, unknown>; documents: number }>();

interface LaidOutFont {
  layoutCache?: Record<string, unknown>;
}

function sharedLayoutCache(name: DocumentFont): Record<string, unknown> {
  let cache = layoutCaches.get(name);
  // Counting the words costs a little, so only every hundred documents.
  if (cache && ++cache.documents % 100 === 0 && Object.keys(cache.words).length > LAYOUT_CACHE_WORDS)
    cache = undefined;
  if (!cache) {
    cache = { words: Object.create(null) as Record<string, unknown>, documents: 0 };
    layoutCaches.set(name, cache);
  }
  return cache.words;
}

/** Registers 'serif', 'serif-bold', 'serif-italic' and 'serif-bold-italic' on a document, with the
 * process's shaped words; the document's font is 'serif' afterwards. */
export function registerFonts(doc: PDFKit.PDFDocument): void {
  // pdfkit 0.17+ takes a parsed fontkit font wherever it takes font bytes.
  for (const [name, font] of loadSharedFonts()) {
    doc.registerFont(name, font as unknown as PDFKit.Mixins.PDFFontSource);
    // Opening a font embeds nothing: only a font that sets text is written into the file.
    const opened = (doc.font(name) as unknown as { _font: LaidOutFont })._font;
    if (opened.layoutCache) opened.layoutCache = sharedLayoutCache(name);
  }
  doc.font('serif');
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
