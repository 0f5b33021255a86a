import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applicantSearchKeys, foldForSearch, nameSearchKeys } from '../../src/data/searchText';

describe('search keys of an applicant', () => {
  it('folds diacritics, đ and case, and keys a name from each of its words', () => {
    assert.equal(foldForSearch('  Đặng   THỊ Ánh '), 'dang thi anh');
    assert.deepEqual(nameSearchKeys('Nguyễn Văn An'), ['nguyen van an', 'van an', 'an']);
  });

  it('reaches the end of a long business name and adds the representative and the numbers', () => {
    const name =
      'Công ty Trách nhiệm hữu hạn Một thành viên Sản xuất Thương mại Dịch vụ Xuất nhập khẩu Hoàng Long Việt Nam';
    const keys = applicantSearchKeys({
      name,
      representative: 'Trần Thị Bình',
      idNumber: '2400 123 458',
      phone: '0204.385.678',
    });
    assert.ok(keys.includes('hoang long viet nam'));
    assert.ok(keys.includes('viet nam'));
    assert.ok(keys.includes('tran thi binh'));
    assert.ok(keys.includes('2400123458'));
    assert.ok(keys.includes('0204385678'));
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(keys.every((k) => k.length <= 100));
  });
});
