import type { Knex } from 'knex';

// The holiday table of the working-time calendar, seeded for 2025-2027. An administrator edits it
// afterwards: the government fixes Tết and the bridge days year by year, often only months ahead.
//
// Sources:
// - Bộ luật Lao động 2019 (Luật số 45/2019/QH14), Điều 112 (ngày nghỉ lễ, tết) and Điều 111 khoản 3
//   (a holiday on a weekly rest day gives a compensatory day off on the next working day).
// - 2025: Công văn số 8726/VPCP-KGVX ngày 26/11/2024 của Văn phòng Chính phủ về việc nghỉ Tết Âm lịch
//   và một số dịp nghỉ lễ năm 2025; Thông báo số 6150/TB-LĐTBXH của Bộ Lao động - Thương binh và Xã
//   hội thực hiện công văn đó (Tết 25/1-2/2 with 27/1-31/1 off; 2/5 swapped with Saturday 26/4;
//   Quốc khánh 1/9-2/9).
// - 2026: Công văn số 12729/VPCP-KGVX ngày 25/12/2025 của Văn phòng Chính phủ về việc nghỉ Tết Dương lịch
//   năm 2026 (2/1 swapped with Saturday 10/1); văn bản của Văn phòng Chính phủ tháng 10/2025 truyền đạt ý
//   kiến Thủ tướng đồng ý phương án của Bộ Nội vụ về nghỉ Tết Âm lịch, nghỉ lễ Quốc khánh năm 2026 (Tết
//   14/2-22/2 with 16/2-20/2 off; 31/8 swapped with Saturday 22/8; Quốc khánh 1/9-2/9). Giỗ Tổ Hùng
//   Vương (Sunday 26/4, so Monday 27/4 off) and 30/4-1/5 follow the Labour Code; no swap was announced.
// - 2027: nothing decided yet. Statutory days only; the lunar dates (Tết 6/2/2027, 10/3 âm lịch
//   16/4/2027) computed for UTC+7. Tết follows the 2021 pattern for a Tết near a weekend (two days
//   before, three after, weekend days compensated) and Quốc khánh the 2021 choice for a Thursday 2/9
//   (Friday 3/9); both marked "(dự kiến)".
// - Ngày Văn hóa Việt Nam 24/11: Nghị quyết 80-NQ/TW (01/2026) and Nghị quyết 30/NQ-CP (02/2026) plan to
//   add it to Điều 112, but the Labour Code was not amended yet, so it is not seeded; add it once in force.

const SEED: readonly (readonly [date: string, kind: 'HOLIDAY' | 'WORKING_DAY', name: string])[] = [
  // 2025
  ['2025-01-01', 'HOLIDAY', 'Tết Dương lịch'],
  ['2025-01-27', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2025-01-28', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2025-01-29', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2025-01-30', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2025-01-31', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2025-04-07', 'HOLIDAY', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'],
  ['2025-04-26', 'WORKING_DAY', 'Làm bù cho ngày nghỉ thứ Sáu 2/5/2025'],
  ['2025-04-30', 'HOLIDAY', 'Ngày Chiến thắng (30/4)'],
  ['2025-05-01', 'HOLIDAY', 'Ngày Quốc tế Lao động (1/5)'],
  ['2025-05-02', 'HOLIDAY', 'Nghỉ hoán đổi (làm bù thứ Bảy 26/4/2025)'],
  ['2025-09-01', 'HOLIDAY', 'Nghỉ lễ Quốc khánh (ngày liền kề trước 2/9)'],
  ['2025-09-02', 'HOLIDAY', 'Ngày Quốc khánh'],
  // 2026
  ['2026-01-01', 'HOLIDAY', 'Tết Dương lịch'],
  ['2026-01-02', 'HOLIDAY', 'Nghỉ hoán đổi (làm bù thứ Bảy 10/1/2026)'],
  ['2026-01-10', 'WORKING_DAY', 'Làm bù cho ngày nghỉ thứ Sáu 2/1/2026'],
  ['2026-02-16', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2026-02-17', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2026-02-18', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2026-02-19', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2026-02-20', 'HOLIDAY', 'Tết Nguyên đán'],
  ['2026-04-26', 'HOLIDAY', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'],
  ['2026-04-27', 'HOLIDAY', 'Nghỉ bù Giỗ Tổ Hùng Vương (trùng Chủ nhật 26/4)'],
  ['2026-04-30', 'HOLIDAY', 'Ngày Chiến thắng (30/4)'],
  ['2026-05-01', 'HOLIDAY', 'Ngày Quốc tế Lao động (1/5)'],
  ['2026-08-22', 'WORKING_DAY', 'Làm bù cho ngày nghỉ thứ Hai 31/8/2026'],
  ['2026-08-31', 'HOLIDAY', 'Nghỉ hoán đổi (làm bù thứ Bảy 22/8/2026)'],
  ['2026-09-01', 'HOLIDAY', 'Nghỉ lễ Quốc khánh (ngày liền kề trước 2/9)'],
  ['2026-09-02', 'HOLIDAY', 'Ngày Quốc khánh'],
  // 2027
  ['2027-01-01', 'HOLIDAY', 'Tết Dương lịch'],
  ['2027-02-04', 'HOLIDAY', 'Tết Nguyên đán (dự kiến)'],
  ['2027-02-05', 'HOLIDAY', 'Tết Nguyên đán (dự kiến)'],
  ['2027-02-06', 'HOLIDAY', 'Tết Nguyên đán (dự kiến)'],
  ['2027-02-07', 'HOLIDAY', 'Tết Nguyên đán (dự kiến)'],
  ['2027-02-08', 'HOLIDAY', 'Tết Nguyên đán (dự kiến)'],
  ['2027-02-09', 'HOLIDAY', 'Nghỉ bù Tết Nguyên đán (trùng thứ Bảy 6/2) (dự kiến)'],
  ['2027-02-10', 'HOLIDAY', 'Nghỉ bù Tết Nguyên đán (trùng Chủ nhật 7/2) (dự kiến)'],
  ['2027-04-16', 'HOLIDAY', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'],
  ['2027-04-30', 'HOLIDAY', 'Ngày Chiến thắng (30/4)'],
  ['2027-05-01', 'HOLIDAY', 'Ngày Quốc tế Lao động (1/5)'],
  ['2027-05-03', 'HOLIDAY', 'Nghỉ bù Ngày Quốc tế Lao động (trùng thứ Bảy 1/5)'],
  ['2027-09-02', 'HOLIDAY', 'Ngày Quốc khánh'],
  ['2027-09-03', 'HOLIDAY', 'Nghỉ lễ Quốc khánh (ngày liền kề sau 2/9) (dự kiến)'],
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('holidays', (t) => {
    // 'YYYY-MM-DD' in local time: a day off is a local date, not a UTC instant.
    t.string('date', 10).primary();
    t.string('kind', 16).notNullable();
    t.string('name', 255).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
  });
  const now = new Date();
  await knex('holidays').insert(SEED.map(([date, kind, name]) => ({ date, kind, name, updated_at: now })));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('holidays');
}
