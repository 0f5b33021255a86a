import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPassword } from '../../src/services/passwordPolicy';

describe('password policy', () => {
  it('accepts a long password of three kinds of characters', () => {
    assert.equal(checkPassword('Demo@12345'), null);
    assert.equal(checkPassword('mật khẩu Dài 2026'), null);
  });
  it('refuses short, one-kind, common and email-based passwords', () => {
    assert.equal(checkPassword('Ab1!'), 'tooShort');
    assert.equal(checkPassword('abcdefghijkl'), 'tooSimple');
    assert.equal(checkPassword('abcdefgh1234'), 'tooSimple');
    assert.equal(checkPassword('Password123'), 'common');
    assert.equal(checkPassword('Nguyenvan@2026', 'nguyenvan@example.vn'), 'containsEmail');
    assert.equal(checkPassword('A1!'.repeat(50)), 'tooLong');
  });
});
