import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCitizenId, normalisePhone, normaliseTaxCode } from '../../src/services/identityNumbers';

describe('citizen ID numbers', () => {
  it('accepts a 12-digit number whose province, century and year match the date of birth', () => {
    assert.equal(checkCitizenId('024090001234', '1990-05-12'), null);
    assert.equal(checkCitizenId('001305012345', '2005-01-01'), null); // woman born in the 2000s
    assert.equal(checkCitizenId('079188000001'), null); // no date given: province and digits only
  });
  it('refuses wrong lengths and letters', () => {
    assert.equal(checkCitizenId('02409000123'), 'format');
    assert.equal(checkCitizenId('0240900012345'), 'format');
    assert.equal(checkCitizenId('02409000123A'), 'format');
    assert.equal(checkCitizenId('024 090 001 234'), 'format');
  });
  it('refuses an unknown province code', () => {
    assert.equal(checkCitizenId('003090001234', '1990-05-12'), 'province');
    assert.equal(checkCitizenId('099090001234', '1990-05-12'), 'province');
  });
  it('refuses a number that contradicts the year of birth', () => {
    assert.equal(checkCitizenId('024091001234', '1990-05-12'), 'birthYear'); // year digits 91
    assert.equal(checkCitizenId('024290001234', '1990-05-12'), 'birthYear'); // century digit says 2000s
    assert.equal(checkCitizenId('024790001234'), 'birthYear'); // no such century digit
  });
});

describe('tax codes', () => {
  it('accepts real codes with a correct check digit', () => {
    assert.equal(normaliseTaxCode('0300588569'), '0300588569');
    assert.equal(normaliseTaxCode('0101248141'), '0101248141');
    assert.equal(normaliseTaxCode('0100109106'), '0100109106');
  });
  it('normalises branch codes to 10 digits, a dash and 3 digits', () => {
    assert.equal(normaliseTaxCode('0100109106-001'), '0100109106-001');
    assert.equal(normaliseTaxCode('0100109106001'), '0100109106-001');
    assert.equal(normaliseTaxCode(' 0100109106 - 012 '.replace(/ /g, '')), '0100109106-012');
  });
  it('refuses a wrong check digit, wrong lengths and a branch 000', () => {
    assert.equal(normaliseTaxCode('0300588568'), null);
    assert.equal(normaliseTaxCode('030058856'), null);
    assert.equal(normaliseTaxCode('03005885691'), null);
    assert.equal(normaliseTaxCode('0100109106-000'), null);
    assert.equal(normaliseTaxCode('01001091O6'), null);
  });
});

describe('phone numbers', () => {
  it('accepts 10 digits from 0 and the +84 form', () => {
    assert.equal(normalisePhone('0912 345 678'), '0912345678');
    assert.equal(normalisePhone('+84912345678'), '0912345678');
  });
  it('refuses other shapes', () => {
    assert.equal(normalisePhone('912345678'), null);
    assert.equal(normalisePhone('09123456789'), null);
    assert.equal(normalisePhone('phone'), null);
  });
});
