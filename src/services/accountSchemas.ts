import { z } from 'zod';
import { checkCitizenId, normalisePhone, normaliseTaxCode } from './identityNumbers';
import { checkPassword } from './passwordPolicy';
import { OFFICER_ROLES } from '../domain/roles';

// Every message is an i18n key (v.*), translated where it is shown.
const text = (max: number) =>
  z.string({ error: 'v.required' }).trim().min(1, { error: 'v.required' }).max(max, { error: 'v.tooLong' });

const personName = text(200).refine((s) => /^[\p{L}\p{M}][\p{L}\p{M}\s.'-]*$/u.test(s), {
  error: 'v.personName',
});

export const emailField = z
  .string({ error: 'v.required' })
  .trim()
  .min(1, { error: 'v.required' })
  .max(254, { error: 'v.tooLong' })
  .toLowerCase()
  .pipe(z.email({ error: 'v.email' }));

const phoneField = (required: boolean) =>
  z
    .string()
    .trim()
    .optional()
    .transform((s, ctx) => {
      if (!s) {
        if (required) ctx.addIssue({ code: 'custom', message: 'v.required' });
        return null;
      }
      const phone = normalisePhone(s);
      if (!phone) ctx.addIssue({ code: 'custom', message: 'v.phone' });
      return phone;
    });

const isoDate = z
  .string({ error: 'v.required' })
  .trim()
  .min(1, { error: 'v.required' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'v.date' })
  .refine(
    (s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
    },
    { error: 'v.date' },
  );

/** New password and its confirmation; `email` lets the policy refuse a password built from it. */
function withPassword<T extends z.ZodRawShape>(shape: T) {
  return z
    .object({
      ...shape,
      password: z.string({ error: 'v.required' }).min(1, { error: 'v.required' }),
      passwordConfirm: z.string({ error: 'v.required' }).min(1, { error: 'v.required' }),
    })
    .superRefine((val, ctx) => {
      const v = val as { password: string; passwordConfirm: string; email?: string };
      const problem = checkPassword(v.password, v.email);
      if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: `v.password.${problem}` });
      else if (v.password !== v.passwordConfirm) {
        ctx.addIssue({ code: 'custom', path: ['passwordConfirm'], message: 'v.passwordConfirm' });
      }
    });
}

export const citizenRegistrationSchema = withPassword({
  fullName: personName,
  citizenId: z.string({ error: 'v.required' }).trim().min(1, { error: 'v.required' }),
  dateOfBirth: isoDate,
  email: emailField,
  phone: phoneField(true),
  acceptTerms: z.literal('yes', { error: 'v.acceptTerms' }),
}).superRefine((v, ctx) => {
  const problem = checkCitizenId(v.citizenId, v.dateOfBirth);
  if (problem) ctx.addIssue({ code: 'custom', path: ['citizenId'], message: `v.citizenId.${problem}` });
  if (v.dateOfBirth > new Date().toISOString().slice(0, 10)) {
    ctx.addIssue({ code: 'custom', path: ['dateOfBirth'], message: 'v.dateInFuture' });
  }
});
export type CitizenRegistration = z.output<typeof citizenRegistrationSchema>;

export const businessRegistrationSchema = withPassword({
  companyName: text(255),
  taxCode: z
    .string({ error: 'v.required' })
    .trim()
    .min(1, { error: 'v.required' })
    .transform((s, ctx) => {
      const code = normaliseTaxCode(s);
      if (!code) ctx.addIssue({ code: 'custom', message: 'v.taxCode' });
      return code ?? s;
    }),
  representativeName: personName,
  email: emailField,
  phone: phoneField(false),
  acceptTerms: z.literal('yes', { error: 'v.acceptTerms' }),
});
export type BusinessRegistration = z.output<typeof businessRegistrationSchema>;

export const loginSchema = z.object({
  email: z.string().trim().toLowerCase().max(254).default(''),
  password: z.string().max(256).default(''),
});

export const changePasswordSchema = z
  .object({
    currentPassword: z.string({ error: 'v.required' }).min(1, { error: 'v.required' }),
    password: z.string({ error: 'v.required' }).min(1, { error: 'v.required' }),
    passwordConfirm: z.string({ error: 'v.required' }).min(1, { error: 'v.required' }),
  })
  .superRefine((v, ctx) => {
    const problem = checkPassword(v.password);
    if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: `v.password.${problem}` });
    else if (v.password === v.currentPassword) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'v.password.same' });
    } else if (v.password !== v.passwordConfirm) {
      ctx.addIssue({ code: 'custom', path: ['passwordConfirm'], message: 'v.passwordConfirm' });
    }
  });

export const contactSchema = z.object({ phone: phoneField(false) });

const rolesField = z
  .union([z.string(), z.array(z.string())], { error: 'v.roles' })
  .transform((r) => (Array.isArray(r) ? r : [r]))
  .pipe(z.array(z.enum(OFFICER_ROLES, { error: 'v.roles' })).min(1, { error: 'v.roles' }))
  .transform((r) => [...new Set(r)]);

export const officerCreateSchema = withPassword({
  fullName: personName,
  email: emailField,
  position: z
    .string()
    .trim()
    .max(120, { error: 'v.tooLong' })
    .optional()
    .transform((s) => s || null),
  phone: phoneField(false),
  agencyId: z.coerce.number({ error: 'v.agency' }).int({ error: 'v.agency' }).positive({ error: 'v.agency' }),
  roles: rolesField,
});
export type OfficerCreate = z.output<typeof officerCreateSchema>;

export const officerUpdateSchema = z.object({
  fullName: personName,
  position: z
    .string()
    .trim()
    .max(120, { error: 'v.tooLong' })
    .optional()
    .transform((s) => s || null),
  status: z.enum(['ACTIVE', 'DISABLED'], { error: 'v.invalid' }),
  roles: rolesField,
});
export type OfficerUpdate = z.output<typeof officerUpdateSchema>;

/** The walk-in applicant at the one-stop counter, as the officer records them from their papers. */
export const counterApplicantSchema = z
  .object({
    applicantKind: z.enum(['CITIZEN', 'BUSINESS'], { error: 'v.invalid' }),
    applicantName: text(255),
    applicantIdNumber: z.string({ error: 'v.required' }).trim().min(1, { error: 'v.required' }),
    applicantRepresentative: z.string().trim().max(200, { error: 'v.tooLong' }).optional(),
    applicantPhone: phoneField(false),
    applicantEmail: z
      .string()
      .trim()
      .toLowerCase()
      .max(254, { error: 'v.tooLong' })
      .optional()
      .transform((s) => s || null)
      .pipe(z.union([z.null(), z.email({ error: 'v.email' })])),
  })
  .transform((v, ctx) => {
    let idNumber = v.applicantIdNumber;
    if (v.applicantKind === 'CITIZEN') {
      const problem = checkCitizenId(idNumber);
      if (problem)
        ctx.addIssue({ code: 'custom', path: ['applicantIdNumber'], message: `v.citizenId.${problem}` });
    } else {
      const code = normaliseTaxCode(idNumber);
      if (!code) ctx.addIssue({ code: 'custom', path: ['applicantIdNumber'], message: 'v.taxCode' });
      idNumber = code ?? idNumber;
    }
    return {
      kind: v.applicantKind,
      name: v.applicantName,
      idLabel: v.applicantKind === 'CITIZEN' ? 'Số định danh cá nhân' : 'Mã số thuế',
      idNumber,
      representative: v.applicantKind === 'BUSINESS' ? v.applicantRepresentative || null : null,
      email: v.applicantEmail,
      phone: v.applicantPhone,
    };
  });
