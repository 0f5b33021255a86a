// Widths of text in the portal's fonts, for drawings pdfkit does not lay out itself (signature appearances).
import PDFDocument from 'pdfkit';
import { registerFonts } from './pdfFonts';

let measurer: PDFKit.PDFDocument | null = null;

/** The width in points of `text` set in DejaVu Serif (bold if asked) at `size`. */
export function measureText(text: string, size: number, bold = false): number {
  if (!measurer) {
    // Never ended or written anywhere: pdfkit only lays text out with it.
    measurer = new PDFDocument({ autoFirstPage: false });
    registerFonts(measurer);
  }
  return measurer
    .font(bold ? 'serif-bold' : 'serif')
    .fontSize(size)
    .widthOfString(text);
}
