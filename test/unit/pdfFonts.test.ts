import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openAdminDocument } from '../../src/documents/adminDocumentLayout';
import { extractText } from '../helpers/pdfTools';

async function textOf(words: string): Promise<string> {
  const { doc, finish } = openAdminDocument({
    title: 'Kiểm tra phông chữ',
    agencyName: 'Cơ quan',
    code: 'X',
    issuedAt: new Date('2026-11-23T02:00:00Z'),
  });
  doc.font('serif').fontSize(13).text(words);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fonts-')), 'a.pdf');
  fs.writeFileSync(file, await finish());
  return extractText(file);
}

describe('fonts shared by every document of the process', () => {
  it('keep the text extractable in a later document that uses the parts of an earlier composite letter', async () => {
    // "ừ" and "Ự" are built from "ư" and "Ư"; encoding the first subset meets those parts on their own.
    assert.match(await textOf('Trừ Ự ở ờ'), /Trừ Ự ở ờ/);
    assert.match(await textOf('Thư Ư ơ'), /Thư Ư ơ/);
    assert.match(await textOf('người trưởng'), /người trưởng/);
  });

  it('share shaped words between documents, each with its own subset and the right text', async () => {
    // The second document shapes nothing new; its subset must still hold its glyphs and their letters.
    const words = 'Giấy phép lao động được cấp cho người lao động nước ngoài';
    assert.match(await textOf(`${words} Ủy ban`), /Giấy phép lao động được cấp/);
    const again = await textOf(`Ủy ban ${words}`);
    assert.match(again.replace(/\s+/g, ' '), new RegExp(`Ủy ban ${words}`));
    const bold = openAdminDocument({ title: 'x', agencyName: 'y', code: 'z', issuedAt: new Date() });
    // The serif face is the document's font after registration, as every layout expects.
    assert.equal((bold.doc as unknown as { _font: { name: string } })._font.name, 'DejaVuSerif');
    await bold.finish();
  });
});
