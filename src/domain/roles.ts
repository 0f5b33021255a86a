/** Officer roles. Workflow definitions name these roles for each action; accounts hold them. */
export const OFFICER_ROLES = [
  'RECEPTION',
  'SPECIALIST',
  'APPROVER',
  'CLERK',
  'AGENCY_ADMIN',
  'SYSTEM_ADMIN',
] as const;
export type OfficerRole = (typeof OFFICER_ROLES)[number];

export const ACCOUNT_KINDS = ['CITIZEN', 'BUSINESS', 'OFFICER'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export const AGENCY_LEVELS = ['PROVINCE', 'DEPARTMENT', 'DISTRICT', 'COMMUNE'] as const;
export type AgencyLevel = (typeof AGENCY_LEVELS)[number];

export function isOfficerRole(value: string): value is OfficerRole {
  return (OFFICER_ROLES as readonly string[]).includes(value);
}
