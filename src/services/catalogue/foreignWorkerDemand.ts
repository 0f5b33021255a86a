import type { ProcedureDefinition } from '../../domain/procedureDefinition';

/** The four kinds of foreign worker the labour rules name; both labour procedures use them. */
export const FOREIGN_WORKER_POSITIONS = [
  { value: 'MANAGER', label: { vi: 'Nhà quản lý', en: 'Manager' } },
  { value: 'EXECUTIVE', label: { vi: 'Giám đốc điều hành', en: 'Executive director' } },
  { value: 'EXPERT', label: { vi: 'Chuyên gia', en: 'Expert' } },
  { value: 'TECHNICIAN', label: { vi: 'Lao động kỹ thuật', en: 'Technical worker' } },
];

/** Approval of an employer's need to use foreign workers, for a business in an industrial zone. */
export const foreignWorkerDemand: ProcedureDefinition = {
  code: 'BQL-LD-01',
  agencyCode: '000.00.12.H10',
  name: {
    vi: 'Chấp thuận nhu cầu sử dụng người lao động nước ngoài (doanh nghiệp trong khu công nghiệp)',
    en: 'Approval of the need to employ foreign workers (businesses in industrial zones)',
  },
  sector: { vi: 'Việc làm, lao động', en: 'Employment and labour' },
  onlineLevel: 'FULL',
  applicantKinds: ['BUSINESS'],
  timeLimit: { amount: 10, unit: 'WORKING_DAYS' },
  fee: { amount: 0, text: { vi: 'Không thu phí', en: 'Free of charge' } },
  decidedBy: {
    vi: 'Trưởng ban Ban Quản lý các khu công nghiệp (được ủy quyền)',
    en: 'Head of the Industrial Zones Authority (by delegation)',
  },
  resultName: {
    vi: 'Văn bản chấp thuận nhu cầu sử dụng người lao động nước ngoài',
    en: 'Letter approving the need to employ foreign workers',
  },
  legalBasis: [
    'Bộ luật Lao động số 45/2019/QH14',
    'Nghị định số 152/2020/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định số 70/2023/NĐ-CP',
  ],
  fields: [
    {
      name: 'companyName',
      type: 'text',
      label: { vi: 'Tên doanh nghiệp', en: 'Company name' },
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
      name: 'industrialZone',
      type: 'text',
      label: { vi: 'Khu công nghiệp nơi doanh nghiệp hoạt động', en: 'Industrial zone of the business' },
      required: true,
      maxLength: 255,
      help: { vi: 'Ví dụ: Khu công nghiệp Quang Châu', en: 'For example: Quang Châu Industrial Zone' },
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
      name: 'workerCount',
      type: 'number',
      label: { vi: 'Số lượng người lao động nước ngoài', en: 'Number of foreign workers' },
      required: true,
      min: 1,
      max: 500,
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
      name: 'explanation',
      type: 'textarea',
      label: {
        vi: 'Lý do sử dụng người lao động nước ngoài',
        en: 'Why foreign workers are needed',
      },
      help: {
        vi: 'Nêu rõ lý do không tuyển được người lao động Việt Nam cho vị trí này.',
        en: 'Explain why no Vietnamese worker could be recruited for this position.',
      },
      required: true,
      maxLength: 4000,
    },
    {
      name: 'contactPhone',
      type: 'phone',
      label: { vi: 'Điện thoại liên hệ', en: 'Contact phone' },
      required: true,
      prefill: 'phone',
    },
  ],
  papers: [
    {
      code: 'demand-report',
      name: {
        vi: 'Báo cáo giải trình nhu cầu sử dụng người lao động nước ngoài (Mẫu số 01/PLI)',
        en: 'Report explaining the need for foreign workers (form 01/PLI)',
      },
      required: true,
      copies: 1,
      maxFiles: 1,
      types: ['pdf'],
    },
    {
      code: 'business-registration',
      name: {
        vi: 'Giấy chứng nhận đăng ký doanh nghiệp (bản sao)',
        en: 'Business registration certificate (copy)',
      },
      required: false,
      copies: 1,
      maxFiles: 1,
      types: ['pdf', 'jpg', 'png'],
    },
  ],
  workflow: 'one-stop-default',
  resultTemplate: 'approval-letter',
};
