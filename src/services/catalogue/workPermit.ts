import type { ProcedureDefinition } from '../../domain/procedureDefinition';
import { FOREIGN_WORKER_POSITIONS } from './foreignWorkerDemand';

/** Work permit for a foreign worker employed by a business in an industrial zone. */
export const workPermit: ProcedureDefinition = {
  code: 'BQL-LD-02',
  agencyCode: '000.00.12.H10',
  name: {
    vi: 'Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại khu công nghiệp',
    en: 'Work permit for a foreign worker employed in an industrial zone',
  },
  sector: { vi: 'Việc làm, lao động', en: 'Employment and labour' },
  onlineLevel: 'FULL',
  applicantKinds: ['BUSINESS'],
  timeLimit: { amount: 5, unit: 'WORKING_DAYS' },
  fee: {
    amount: 600000,
    text: {
      vi: '600.000 đồng/giấy phép (theo nghị quyết của Hội đồng nhân dân tỉnh)',
      en: 'VND 600,000 per permit (set by the provincial council)',
    },
  },
  decidedBy: {
    vi: 'Trưởng ban Ban Quản lý các khu công nghiệp (được ủy quyền)',
    en: 'Head of the Industrial Zones Authority (by delegation)',
  },
  resultName: { vi: 'Giấy phép lao động', en: 'Work permit' },
  legalBasis: [
    'Bộ luật Lao động số 45/2019/QH14',
    'Nghị định số 152/2020/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định số 70/2023/NĐ-CP',
  ],
  fields: [
    {
      name: 'companyName',
      type: 'text',
      label: { vi: 'Tên doanh nghiệp sử dụng lao động', en: 'Employer' },
      required: true,
      maxLength: 255,
      prefill: 'companyName',
    },
    {
      name: 'taxCode',
      type: 'taxCode',
      label: { vi: 'Mã số thuế', en: 'Tax code' },
      required: true,
      prefill: 'taxCode',
    },
    {
      name: 'workerName',
      type: 'text',
      label: { vi: 'Họ và tên người lao động (như hộ chiếu)', en: 'Worker’s full name (as in the passport)' },
      required: true,
      maxLength: 200,
    },
    {
      name: 'workerBirthDate',
      type: 'date',
      label: { vi: 'Ngày sinh', en: 'Date of birth' },
      required: true,
    },
    {
      name: 'sex',
      type: 'select',
      label: { vi: 'Giới tính', en: 'Sex' },
      required: true,
      options: [
        { value: 'M', label: { vi: 'Nam', en: 'Male' } },
        { value: 'F', label: { vi: 'Nữ', en: 'Female' } },
      ],
    },
    {
      name: 'nationality',
      type: 'text',
      label: { vi: 'Quốc tịch', en: 'Nationality' },
      required: true,
      maxLength: 100,
    },
    {
      name: 'passportNumber',
      type: 'text',
      label: { vi: 'Số hộ chiếu', en: 'Passport number' },
      required: true,
      pattern: '^[A-Z0-9]{6,12}$',
      patternMessage: {
        vi: 'Số hộ chiếu gồm 6 đến 12 chữ cái in hoa hoặc chữ số.',
        en: 'A passport number has 6 to 12 capital letters or digits.',
      },
    },
    {
      name: 'position',
      type: 'select',
      label: { vi: 'Vị trí công việc', en: 'Position' },
      required: true,
      options: FOREIGN_WORKER_POSITIONS,
    },
    {
      name: 'jobTitle',
      type: 'text',
      label: { vi: 'Chức danh công việc', en: 'Job title' },
      required: true,
      maxLength: 200,
    },
    {
      name: 'workplace',
      type: 'text',
      label: { vi: 'Địa điểm làm việc', en: 'Place of work' },
      required: true,
      maxLength: 255,
    },
    {
      name: 'periodFrom',
      type: 'date',
      label: { vi: 'Thời hạn làm việc từ ngày', en: 'Employment from' },
      required: true,
    },
    {
      name: 'periodTo',
      type: 'date',
      label: { vi: 'Đến ngày', en: 'Employment until' },
      required: true,
      notBefore: 'periodFrom',
    },
    {
      name: 'approvalReference',
      type: 'text',
      label: {
        vi: 'Số văn bản chấp thuận nhu cầu sử dụng lao động nước ngoài',
        en: 'Number of the letter approving the need',
      },
      required: true,
      maxLength: 64,
    },
  ],
  papers: [
    {
      code: 'application',
      name: {
        vi: 'Văn bản đề nghị cấp giấy phép lao động (Mẫu số 11/PLI)',
        en: 'Application for a work permit (form 11/PLI)',
      },
      required: true,
      copies: 1,
      maxFiles: 1,
      types: ['pdf'],
    },
    {
      code: 'health-certificate',
      name: {
        vi: 'Giấy chứng nhận sức khỏe (cấp trong vòng 12 tháng)',
        en: 'Health certificate (issued within 12 months)',
      },
      required: true,
      copies: 1,
      maxFiles: 2,
      types: ['pdf', 'jpg', 'png'],
    },
    {
      code: 'criminal-record',
      name: {
        vi: 'Phiếu lý lịch tư pháp hoặc văn bản xác nhận không phải là người phạm tội (cấp trong vòng 6 tháng)',
        en: 'Criminal record certificate (issued within 6 months)',
      },
      required: true,
      copies: 1,
      maxFiles: 2,
      types: ['pdf', 'jpg', 'png'],
    },
    {
      code: 'qualification',
      name: {
        vi: 'Văn bản chứng minh là nhà quản lý, giám đốc điều hành, chuyên gia hoặc lao động kỹ thuật',
        en: 'Proof of being a manager, executive, expert or technical worker',
      },
      required: true,
      copies: 1,
      maxFiles: 5,
      types: ['pdf', 'jpg', 'png'],
    },
    {
      code: 'photo',
      name: {
        vi: 'Ảnh màu 4 cm x 6 cm, phông nền trắng (chụp trong vòng 6 tháng)',
        en: 'Colour photo 4 x 6 cm, white background (taken within 6 months)',
      },
      required: true,
      copies: 2,
      maxFiles: 1,
      types: ['jpg', 'png'],
    },
    {
      code: 'passport',
      name: { vi: 'Bản sao hộ chiếu còn giá trị', en: 'Copy of a valid passport' },
      required: true,
      copies: 1,
      maxFiles: 2,
      types: ['pdf', 'jpg', 'png'],
    },
    {
      code: 'demand-approval',
      name: {
        vi: 'Văn bản chấp thuận nhu cầu sử dụng người lao động nước ngoài',
        en: 'Letter approving the need to employ foreign workers',
      },
      required: true,
      copies: 1,
      maxFiles: 1,
      types: ['pdf'],
    },
  ],
  workflow: 'one-stop-default',
  resultTemplate: 'work-permit',
};
