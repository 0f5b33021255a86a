import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { type DocumentFont, type SharedFont, sharedFont } from '../documents/pdfFonts';
import { AppError } from '../errors';
import {
  type IncrementalUpdate,
  type PdfDict,
  type PdfRef,
  type PdfValue,
  array,
  dict,
  name,
  raw,
  serialize,
} from './pdfIncrementalUpdate';

/**
 * The visible part of a signature: each widget's normal appearance (/AP /N) is a form XObject drawn from a
 * few simple items. Text is set in DejaVu Serif, embedded into the update as a Type0/Identity-H subset with
 * a /ToUnicode map, so Vietnamese diacritics render on any reader and copy out as text. The document's own
 * fonts cannot be reused: pdfkit subsets them to the glyphs of the page, and an incremental update may not
 * change an object a signature already covers.
 */

export type RgbColor = [number, number, number];

/** Coordinates are in the widget's own space: points, origin at its bottom-left corner. */
export type AppearanceItem =
  | { kind: 'text'; x: number; y: number; size: number; text: string; bold?: boolean; color?: RgbColor }
  | { kind: 'rect'; x: number; y: number; width: number; height: number; lineWidth: number; color: RgbColor }
  | { kind: 'ellipse'; cx: number; cy: number; rx: number; ry: number; lineWidth: number; color: RgbColor };

export interface SignatureWidget {
  pageIndex: number;
  /** x1 y1 x2 y2 in the page's user space. */
  rect: [number, number, number, number];
  items: AppearanceItem[];
}

export class SignatureAppearanceError extends AppError {
  constructor(reason: string) {
    super('SIGNATURE_APPEARANCE_INVALID', 422, 'signing.signatureAppearanceInvalid', { reason });
  }
}

type FontkitFont = SharedFont;
type FontkitGlyph = ReturnType<SharedFont['layout']>['glyphs'][number];
type FontkitSubset = ReturnType<SharedFont['createSubset']>;

/** A number as PDF content writes it: fixed notation, at most three decimals. */
export function pdfNumber(value: number): string {
  if (!Number.isFinite(value)) throw new SignatureAppearanceError('a coordinate is not a finite number');
  const rounded = Math.round(value * 1000) / 1000;
  return (Object.is(rounded, -0) ? 0 : rounded).toFixed(3).replace(/\.?0+$/, '');
}

function colorOperands(color: RgbColor): string {
  if (color.length !== 3 || color.some((c) => !Number.isFinite(c) || c < 0 || c > 1))
    throw new SignatureAppearanceError('a colour component is outside 0..1');
  return color.map(pdfNumber).join(' ');
}

const hex4 = (value: number): string => value.toString(16).toUpperCase().padStart(4, '0');

/** A binary-safe stream object body, Flate-compressed. */
export function flateStream(entries: Record<string, PdfValue>, data: Buffer): string {
  const compressed = deflateSync(data);
  const head = dict({ ...entries, Filter: name('FlateDecode'), Length: raw(String(compressed.length)) });
  return `${serialize(head)}\nstream\n${compressed.toString('latin1')}\nendstream`;
}

/**
 * The characters of dates, times and numbers, given the first CIDs of every subset whatever the text.
 * The rest of an appearance (a signer's name and title, an agency's name, the labels) repeats from one
 * signature to the next while its time does not, so with these in a fixed place a signer's subsets are
 * the same glyphs in the same order, and their encoded font file can be reused.
 */
const FIXED_CHARACTERS = '0123456789:/.,-+() ';

/**
 * Encoded and compressed font files of recent subsets, by font and glyph list (in CID order): encoding a
 * subset and deflating it is most of an appearance's cost. A handful of signers and seals at an agency
 * make the same few subsets all day.
 */
const FONT_FILES = new Map<string, string>();
const FONT_FILES_KEPT = 64;

/** One font subset shared by every widget of the update. CIDs are the subset's glyph ids. */
class FontSubset {
  readonly ref: PdfRef;
  private readonly font: FontkitFont;
  private readonly subset: FontkitSubset;
  private readonly scale: number;
  /** Original glyph, by CID, for the CIDs the content uses. */
  private readonly glyphs: FontkitGlyph[] = [];

  constructor(
    private readonly documentFont: DocumentFont,
    update: IncrementalUpdate,
  ) {
    this.ref = update.allocate();
    // The process-wide parsed font (see pdfFonts.ts for why sharing it keeps ToUnicode maps whole).
    this.font = sharedFont(documentFont);
    this.subset = this.font.createSubset();
    this.scale = 1000 / this.font.unitsPerEm;
    this.showText(FIXED_CHARACTERS);
  }

  /**
   * The TJ operand for `text`: CIDs as hex strings, with an adjustment wherever the layout (kerning) moves a
   * glyph away from its nominal advance, so the drawn text matches what fontkit measured.
   */
  showText(text: string): string {
    // Precomposed letters (NFC) map to DejaVu's own accented glyphs; decomposed marks would need GPOS
    // placement that a plain TJ cannot express.
    const run = this.font.layout(text.normalize('NFC'));
    const parts: string[] = [];
    let pending = '';
    run.glyphs.forEach((glyph, i) => {
      const cid = this.subset.includeGlyph(glyph.id);
      // A copy: the glyph object is fontkit's own and shared with everything else that meets the glyph.
      if (this.glyphs[cid] === undefined)
        this.glyphs[cid] = {
          id: glyph.id,
          advanceWidth: glyph.advanceWidth,
          codePoints: [...glyph.codePoints],
        };
      pending += hex4(cid);
      const advance = run.positions[i]?.xAdvance ?? glyph.advanceWidth;
      const adjustment = Math.round((glyph.advanceWidth - advance) * this.scale);
      if (adjustment !== 0) {
        parts.push(`<${pending}>`, String(adjustment));
        pending = '';
      }
    });
    if (pending) parts.push(`<${pending}>`);
    return `[${parts.join(' ')}]`;
  }

  /** Writes the Type0 font, its CIDFont, descriptor, font file and ToUnicode map. */
  write(update: IncrementalUpdate): void {
    const key = `${this.documentFont}:${this.glyphs.map((g) => g.id).join(',')}`;
    // The subset tag only has to differ between different subsets of one font; a hash of the glyph set
    // makes the output reproducible.
    const digest = createHash('sha256').update(key).digest();
    const tag = [...digest.subarray(0, 6)].map((b) => String.fromCharCode(65 + (b % 26))).join('');
    const baseFont = name(`${tag}+${this.font.postscriptName.replace(/[^!-~]|[()<>[\]{}/%#]/g, '_')}`);
    const scaled = (v: number): PdfValue => raw(pdfNumber(v * this.scale));

    const familyClass = (this.font['OS/2']?.sFamilyClass ?? 0) >> 8;
    let flags = 4; // symbolic: the glyphs are addressed by CID, not by a standard encoding
    if (this.font.post.isFixedPitch) flags |= 1;
    if (familyClass >= 1 && familyClass <= 7) flags |= 2;
    if (this.font.italicAngle !== 0) flags |= 64;

    const fontFileRef = update.allocate();
    let fontFileObject = FONT_FILES.get(key);
    if (fontFileObject === undefined) {
      const fontFile = Buffer.from(this.subset.encode());
      fontFileObject = flateStream({ Length1: raw(String(fontFile.length)) }, fontFile);
      if (FONT_FILES.size >= FONT_FILES_KEPT) FONT_FILES.delete(FONT_FILES.keys().next().value!);
    } else FONT_FILES.delete(key);
    // Most recently used last, so that the oldest goes first.
    FONT_FILES.set(key, fontFileObject);
    update.set(fontFileRef, fontFileObject);

    const descriptorRef = update.allocate();
    const { bbox } = this.font;
    update.set(
      descriptorRef,
      dict({
        Type: name('FontDescriptor'),
        FontName: baseFont,
        Flags: raw(String(flags)),
        FontBBox: array([bbox.minX, bbox.minY, bbox.maxX, bbox.maxY].map(scaled)),
        ItalicAngle: raw(pdfNumber(this.font.italicAngle)),
        Ascent: scaled(this.font.ascent),
        Descent: scaled(this.font.descent),
        CapHeight: scaled(this.font.capHeight || this.font.ascent),
        XHeight: scaled(this.font.xHeight || 0),
        StemV: raw('0'),
        FontFile2: fontFileRef,
      }),
    );

    const widths: PdfValue[] = [];
    this.glyphs.forEach((glyph, cid) => {
      if (glyph) widths.push(raw(String(cid)), array([scaled(glyph.advanceWidth)]));
    });
    const cidFontRef = update.allocate();
    update.set(
      cidFontRef,
      dict({
        Type: name('Font'),
        Subtype: name('CIDFontType2'),
        BaseFont: baseFont,
        CIDSystemInfo: dict({ Registry: raw('(Adobe)'), Ordering: raw('(Identity)'), Supplement: raw('0') }),
        FontDescriptor: descriptorRef,
        W: array(widths),
        CIDToGIDMap: name('Identity'),
      }),
    );

    const toUnicodeRef = update.allocate();
    update.set(toUnicodeRef, flateStream({}, Buffer.from(this.toUnicodeCmap(), 'latin1')));

    update.set(
      this.ref,
      dict({
        Type: name('Font'),
        Subtype: name('Type0'),
        BaseFont: baseFont,
        Encoding: name('Identity-H'),
        DescendantFonts: array([cidFontRef]),
        ToUnicode: toUnicodeRef,
      }),
    );
  }

  private toUnicodeCmap(): string {
    const entries: string[] = [];
    this.glyphs.forEach((glyph, cid) => {
      if (!glyph || glyph.codePoints.length === 0) return;
      const utf16 = Buffer.from(String.fromCodePoint(...glyph.codePoints), 'utf16le').swap16();
      entries.push(`<${hex4(cid)}> <${utf16.toString('hex').toUpperCase()}>`);
    });
    const blocks: string[] = [];
    // A bfchar block holds at most 100 entries (PDF 32000-1, 9.10.3).
    for (let i = 0; i < entries.length; i += 100) {
      const chunk = entries.slice(i, i + 100);
      blocks.push(`${chunk.length} beginbfchar\n${chunk.join('\n')}\nendbfchar`);
    }
    return [
      '/CIDInit /ProcSet findresource begin',
      '12 dict begin',
      'begincmap',
      '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
      '/CMapName /Adobe-Identity-UCS def',
      '/CMapType 2 def',
      '1 begincodespacerange',
      '<0000> <FFFF>',
      'endcodespacerange',
      ...blocks,
      'endcmap',
      'CMapName currentdict /CMap defineresource pop',
      'end',
      'end',
      '',
    ].join('\n');
  }
}

// Four Bézier arcs approximate an ellipse to within 0.03% of its radius.
const KAPPA = 0.5522847498;

function ellipsePath(cx: number, cy: number, rx: number, ry: number): string {
  const n = pdfNumber;
  const ox = rx * KAPPA;
  const oy = ry * KAPPA;
  return [
    `${n(cx + rx)} ${n(cy)} m`,
    `${n(cx + rx)} ${n(cy + oy)} ${n(cx + ox)} ${n(cy + ry)} ${n(cx)} ${n(cy + ry)} c`,
    `${n(cx - ox)} ${n(cy + ry)} ${n(cx - rx)} ${n(cy + oy)} ${n(cx - rx)} ${n(cy)} c`,
    `${n(cx - rx)} ${n(cy - oy)} ${n(cx - ox)} ${n(cy - ry)} ${n(cx)} ${n(cy - ry)} c`,
    `${n(cx + ox)} ${n(cy - ry)} ${n(cx + rx)} ${n(cy - oy)} ${n(cx + rx)} ${n(cy)} c`,
    'S',
  ].join('\n');
}

const RESOURCE_NAMES: Record<'serif' | 'serif-bold', string> = { serif: 'F1', 'serif-bold': 'F2' };

/** Builds the appearance streams of one update; call `finish` once after the last widget. */
export class AppearanceBuilder {
  private readonly fonts = new Map<'serif' | 'serif-bold', FontSubset>();

  constructor(private readonly update: IncrementalUpdate) {}

  private font(key: 'serif' | 'serif-bold'): FontSubset {
    let font = this.fonts.get(key);
    if (!font) {
      font = new FontSubset(key, this.update);
      this.fonts.set(key, font);
    }
    return font;
  }

  /** Writes the widget's form XObject and answers its reference. */
  formXObject(widget: SignatureWidget): PdfRef {
    const [x1, y1, x2, y2] = widget.rect;
    const width = x2 - x1;
    const height = y2 - y1;
    const used = new Set<'serif' | 'serif-bold'>();
    const operations: string[] = [];
    for (const item of widget.items) {
      switch (item.kind) {
        case 'text': {
          if (!(item.size > 0)) throw new SignatureAppearanceError('a text size must be positive');
          const key = item.bold ? 'serif-bold' : 'serif';
          used.add(key);
          operations.push(
            [
              'BT',
              `/${RESOURCE_NAMES[key]} ${pdfNumber(item.size)} Tf`,
              `${colorOperands(item.color ?? [0, 0, 0])} rg`,
              `${pdfNumber(item.x)} ${pdfNumber(item.y)} Td`,
              `${this.font(key).showText(item.text)} TJ`,
              'ET',
            ].join('\n'),
          );
          break;
        }
        case 'rect':
          operations.push(
            [
              'q',
              `${pdfNumber(item.lineWidth)} w`,
              `${colorOperands(item.color)} RG`,
              `${[item.x, item.y, item.width, item.height].map(pdfNumber).join(' ')} re`,
              'S',
              'Q',
            ].join('\n'),
          );
          break;
        case 'ellipse':
          operations.push(
            [
              'q',
              `${pdfNumber(item.lineWidth)} w`,
              `${colorOperands(item.color)} RG`,
              ellipsePath(item.cx, item.cy, item.rx, item.ry),
              'Q',
            ].join('\n'),
          );
          break;
        default:
          throw new SignatureAppearanceError('unknown appearance item');
      }
    }

    const fontResources = new Map<string, PdfValue>();
    for (const key of used) fontResources.set(RESOURCE_NAMES[key], this.font(key).ref);
    const resources: PdfDict = dict({ ProcSet: array([name('PDF'), name('Text')]) });
    if (fontResources.size > 0) resources.entries.set('Font', { kind: 'dict', entries: fontResources });

    const formRef = this.update.allocate();
    this.update.set(
      formRef,
      flateStream(
        {
          Type: name('XObject'),
          Subtype: name('Form'),
          FormType: raw('1'),
          BBox: array([raw('0'), raw('0'), raw(pdfNumber(width)), raw(pdfNumber(height))]),
          Resources: resources,
        },
        Buffer.from(operations.join('\n'), 'latin1'),
      ),
    );
    return formRef;
  }

  /** Writes the shared font objects; the forms written so far already point at them. */
  finish(): void {
    for (const font of this.fonts.values()) font.write(this.update);
  }
}
