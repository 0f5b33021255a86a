import type { ProcedureDefinition } from '../../domain/procedureDefinition';

/** A certified copy of a civil-status extract (birth, marriage or death registration) at a commune. */
export const civilStatusExtract: ProcedureDefinition = {
  code: 'XA-HT-01',
  agencyCode: '000.20.21.H10',
  name: {
    vi: 'Cấp bản sao trích lục hộ tịch',
    en: 'Certified copy of a civil-status extract',
  },
  sector: { vi: 'Hộ tịch', en: 'Civil status' },
  onlineLevel: 'FULL',
  applicantKinds: ['CITIZEN'],
  timeLimit: { amount: 1, unit: 'WORKING_DAYS' },
  fee: {
    amount: 8000,
    text: { vi: '8.000 đồng/bản sao trích lục', en: 'VND 8,000 per copy' },
  },
  decidedBy: { vi: 'Chủ tịch Ủy ban nhân dân xã', en: 'Chair of the Commune People’s Committee' },
  resultName: { vi: 'Bản sao trích lục hộ tịch', en: 'Certified copy of the civil-status extract' },
  legalBasis: [
    'Luật Hộ tịch số 60/2014/QH13',
    'Nghị định số 123/2015/NĐ-CP',
    'Thông tư số 281/2016/TT-BTC (phí cấp bản sao trích lục hộ tịch)',
  ],
  fields: [
    {
      name: 'extractType',
      type: 'select',
      label: { vi: 'Loại trích lục', en: 'Kind of extract' },
      required: true,
      options: [
        { value: 'BIRTH', label: { vi: 'Trích lục khai sinh', en: 'Birth registration extract' } },
        { value: 'MARRIAGE', label: { vi: 'Trích lục kết hôn', en: 'Marriage registration extract' } },
        { value: 'DEATH', label: { vi: 'Trích lục khai tử', en: 'Death registration extract' } },
      ],
    },
    {
      name: 'subjectName',
      type: 'text',
      label: {
        vi: 'Họ, chữ đệm, tên người được cấp trích lục',
        en: 'Full name of the person the extract is about',
      },
      required: true,
      maxLength: 200,
      prefill: 'fullName',
    },
    {
      name: 'subjectBirthDate',
      type: 'date',
      label: { vi: 'Ngày sinh', en: 'Date of birth' },
      required: true,
      prefill: 'dateOfBirth',
    },
    {
      name: 'relationship',
      type: 'select',
      label: { vi: 'Quan hệ của người yêu cầu với người được cấp', en: 'Your relationship to that person' },
      required: true,
      options: [
        { value: 'SELF', label: { vi: 'Bản thân', en: 'Myself' } },
        { value: 'PARENT', label: { vi: 'Cha, mẹ', en: 'Parent' } },
        { value: 'CHILD', label: { vi: 'Con', en: 'Child' } },
        { value: 'SPOUSE', label: { vi: 'Vợ, chồng', en: 'Spouse' } },
        { value: 'AUTHORISED', label: { vi: 'Người được ủy quyền', en: 'Authorised person' } },
      ],
    },
    {
      name: 'registrationNumber',
      type: 'text',
      label: { vi: 'Số đăng ký (nếu biết)', en: 'Registration number (if known)' },
      required: false,
      maxLength: 50,
    },
    {
      name: 'registrationDate',
      type: 'date',
      label: { vi: 'Ngày đăng ký (nếu biết)', en: 'Registration date (if known)' },
      required: false,
    },
    {
      name: 'copies',
      type: 'number',
      label: { vi: 'Số bản sao yêu cầu', en: 'Number of copies' },
      required: true,
      min: 1,
      max: 10,
    },
    {
      name: 'purpose',
      type: 'textarea',
      label: { vi: 'Mục đích sử dụng', en: 'Purpose' },
      required: false,
      maxLength: 1000,
    },
  ],
  papers: [
    {
      code: 'authorisation',
      name: {
        vi: 'Văn bản ủy quyền (khi yêu cầu thay người khác không phải cha, mẹ, con, vợ, chồng)',
        en: 'Letter of authorisation (when asking for someone other than a parent, child or spouse)',
      },
      required: false,
      copies: 1,
      maxFiles: 1,
      types: ['pdf', 'jpg', 'png'],
    },
  ],
  workflow: 'commune-simple',
  resultTemplate: 'civil-status-extract',
};
