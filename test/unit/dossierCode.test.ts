import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vietnamDayStamp } from '../../src/services/calendarService';
import { checkFormData, checkPapers } from '../../src/services/dossierForm';
import { workPermit } from '../../src/services/catalogue/workPermit';
import { newLookupSecret } from '../../src/workflows/commands/submitDossier';

describe('dossier codes and secrets', () => {
  it('stamps the day in Vietnam time, whatever the UTC date', () => {
    assert.equal(vietnamDayStamp(new Date('2026-11-23T02:00:00Z')), '261123');
    assert.equal(
      vietnamDayStamp(new Date('2026-11-22T17:00:00Z')),
      '261123',
      'midnight in Hà Nội is 17:00 UTC',
    );
    assert.equal(vietnamDayStamp(new Date('2026-11-22T16:59:59Z')), '261122');
    assert.equal(vietnamDayStamp(new Date('2026-12-31T17:30:00Z')), '270101');
  });
  it('makes 8-character secrets without look-alike characters, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const s = newLookupSecret();
      assert.match(s, /^[A-HJ-NP-Z2-9]{8}$/);
      seen.add(s);
    }
    assert.equal(seen.size, 2000);
  });
});

describe('dossier form checks', () => {
  const good = {
    companyName: 'Công ty TNHH A',
    taxCode: '0300588569',
    workerName: 'JOHN SMITH',
    workerBirthDate: '1980-01-31',
    sex: 'M',
    nationality: 'Anh',
    passportNumber: 'AB1234567',
    position: 'EXPERT',
    jobTitle: 'Kỹ sư',
    workplace: 'KCN Quang Châu',
    periodFrom: '2027-01-01',
    periodTo: '2027-12-31',
    approvalReference: '1/BQL',
  };
  it('accepts a complete form and normalises values', () => {
    const r = checkFormData(workPermit, { ...good, taxCode: '0300 588 569' });
    assert.deepEqual(r.problems.errors, {});
    assert.equal(r.data.taxCode, '0300588569');
  });
  it('names each bad field with a message key', () => {
    const r = checkFormData(workPermit, {
      ...good,
      sex: 'X',
      workerBirthDate: '1980-02-30',
      passportNumber: 'ab',
      periodTo: '2026-01-01',
      workerName: ['A', 'B'],
    });
    assert.equal(r.problems.errors.sex, 'v.option');
    assert.equal(r.problems.errors.workerBirthDate, 'v.date');
    assert.equal(r.problems.errors.passportNumber, 'pattern:passportNumber');
    assert.equal(r.problems.errors.periodTo, 'v.notBefore');
    assert.equal(r.data.workerName, 'A', 'a repeated field keeps its first value');
  });
  it('checks papers: required, allowed types by content, counts, unknown papers', () => {
    const files = [
      { paperCode: 'photo', originalName: 'a.pdf', detectedType: 'pdf' as const },
      { paperCode: 'application', originalName: 'b.pdf', detectedType: 'pdf' as const },
      { paperCode: 'application', originalName: 'c.pdf', detectedType: 'pdf' as const },
      { paperCode: 'virus', originalName: 'd.exe', detectedType: null },
    ];
    const p = checkPapers(workPermit, files, true);
    assert.equal(p.errors['paper-photo'], 'upload.wrongType');
    assert.equal(p.errors['paper-application'], 'upload.tooManyForPaper');
    assert.equal(p.errors['paper-passport'], 'upload.missingPaper');
    assert.equal(p.errors._papers, 'upload.unknownPaper');
    assert.equal(
      checkPapers(workPermit, [], false).errors['paper-passport'],
      undefined,
      'a draft may lack papers',
    );
  });
});
