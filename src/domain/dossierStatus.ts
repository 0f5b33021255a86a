/** Where a dossier stands. The workflow engine moves dossiers between these; DRAFT is the applicant's
 * own, before submission, and has no code yet. */
export const DOSSIER_STATUSES = [
  'DRAFT',
  'SUBMITTED',
  'ACCEPTED',
  'IN_REVIEW',
  'SUPPLEMENT_REQUESTED',
  'PROPOSED_APPROVAL',
  'PROPOSED_REFUSAL',
  'APPROVED',
  'RESULT_READY',
  'RETURNED',
  'REFUSED',
  'WITHDRAWN',
] as const;
export type DossierStatus = (typeof DOSSIER_STATUSES)[number];

export const CHANNELS = ['ONLINE', 'COUNTER'] as const;
export type Channel = (typeof CHANNELS)[number];
