import { z } from 'zod';

// What a procedure is, as data: checked when it is published, stored with each version.

const text = z.object({ vi: z.string().min(1), en: z.string().min(1) });
export type LocalText = z.infer<typeof text>;

export const FIELD_TYPES = [
  'text',
  'textarea',
  'number',
  'date',
  'select',
  'email',
  'phone',
  'citizenId',
  'taxCode',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Account details a field may be filled from when the form opens. */
export const PREFILL_SOURCES = [
  'fullName',
  'citizenId',
  'dateOfBirth',
  'email',
  'phone',
  'companyName',
  'taxCode',
] as const;

const fieldSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-zA-Z0-9]{0,39}$/, 'field names are camelCase identifiers'),
    type: z.enum(FIELD_TYPES),
    label: text,
    required: z.boolean(),
    help: text.optional(),
    pattern: z.string().optional(),
    patternMessage: text.optional(),
    maxLength: z.number().int().positive().max(5000).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    options: z.array(z.object({ value: z.string().min(1), label: text })).optional(),
    prefill: z.enum(PREFILL_SOURCES).optional(),
    /** For a date: must not be earlier than this other date field. */
    notBefore: z.string().optional(),
  })
  .superRefine((f, ctx) => {
    if (f.type === 'select' && (!f.options || f.options.length === 0)) {
      ctx.addIssue({ code: 'custom', message: `select field ${f.name} needs options` });
    }
    if (f.pattern) {
      try {
        new RegExp(f.pattern, 'u');
      } catch {
        ctx.addIssue({ code: 'custom', message: `field ${f.name} has an invalid pattern` });
      }
      if (!f.patternMessage)
        ctx.addIssue({ code: 'custom', message: `field ${f.name} needs a patternMessage` });
    }
  });
export type FieldDef = z.infer<typeof fieldSchema>;

export const PAPER_TYPES = ['pdf', 'jpg', 'png'] as const;
export type PaperType = (typeof PAPER_TYPES)[number];

const paperSchema = z.object({
  code: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'paper codes are kebab-case'),
  name: text,
  required: z.boolean(),
  copies: z.number().int().min(1).max(20),
  maxFiles: z.number().int().min(1).max(20),
  types: z.array(z.enum(PAPER_TYPES)).min(1),
  note: text.optional(),
});
export type PaperDef = z.infer<typeof paperSchema>;

export const procedureDefinitionSchema = z
  .object({
    code: z.string().regex(/^[A-Z0-9][A-Z0-9.-]{1,31}$/),
    agencyCode: z.string().min(1),
    name: text,
    sector: text,
    onlineLevel: z.enum(['FULL', 'PARTIAL']),
    applicantKinds: z.array(z.enum(['CITIZEN', 'BUSINESS'])).min(1),
    timeLimit: z.object({
      amount: z.number().int().positive().max(365),
      unit: z.enum(['WORKING_DAYS', 'WORKING_HOURS', 'CALENDAR_DAYS']),
    }),
    fee: z.object({ amount: z.number().int().min(0), text: text }),
    decidedBy: text,
    resultName: text,
    legalBasis: z.array(z.string().min(1)).min(1),
    fields: z.array(fieldSchema).min(1),
    papers: z.array(paperSchema),
    workflow: z.string().min(1),
    resultTemplate: z.string().min(1),
  })
  .superRefine((d, ctx) => {
    const dup = (names: string[]) => names.find((n, i) => names.indexOf(n) !== i);
    const f = dup(d.fields.map((x) => x.name));
    if (f) ctx.addIssue({ code: 'custom', message: `field ${f} appears twice` });
    const p = dup(d.papers.map((x) => x.code));
    if (p) ctx.addIssue({ code: 'custom', message: `paper ${p} appears twice` });
  });
export type ProcedureDefinition = z.infer<typeof procedureDefinitionSchema>;
export type TimeLimitLike = ProcedureDefinition['timeLimit'];

export function checkDefinition(def: unknown): ProcedureDefinition {
  const r = procedureDefinitionSchema.safeParse(def);
  if (!r.success) {
    throw new Error(
      `Invalid procedure definition: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return r.data;
}

export function localText(t: LocalText, lang: string): string {
  return lang === 'en' ? t.en : t.vi;
}
