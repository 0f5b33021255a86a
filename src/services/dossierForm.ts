import type { ApplicantSnapshot, DossierFile, NewDossierFile } from '../data/dossierRepository';
import type { User } from '../data/userRepository';
import { checkCitizenId, normalisePhone, normaliseTaxCode } from './identityNumbers';
import type { FieldDef, PaperDef, PaperType, ProcedureDefinition } from '../domain/procedureDefinition';
import { localText } from '../domain/procedureDefinition';

export type FormValue = string | number | null;
export type FormData = Record<string, FormValue>;

export interface FieldProblems {
  errors: Record<string, string>;
  params: Record<string, Record<string, string | number>>;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DEFAULT_MAX = { text: 500, textarea: 4000 } as const;

function one(raw: unknown): string {
  const v = Array.isArray(raw) ? raw[0] : raw;
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}

/** A real calendar date written 'YYYY-MM-DD' (no 30 February). */
export function isRealDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Checks one field; answers the value to keep, or an i18n key (with parameters) for the problem. */
function checkField(
  f: FieldDef,
  input: string,
): { value: FormValue } | { error: string; params?: Record<string, string | number> } {
  if (input === '') return f.required ? { error: 'v.required' } : { value: null };
  const max = f.maxLength ?? (f.type === 'textarea' ? DEFAULT_MAX.textarea : DEFAULT_MAX.text);
  if (input.length > max) return { error: 'v.maxLength', params: { max } };
  switch (f.type) {
    case 'number': {
      if (!/^-?\d+$/.test(input)) return { error: 'v.integer' };
      const n = Number(input);
      if (f.min !== undefined && n < f.min) return { error: 'v.min', params: { min: f.min } };
      if (f.max !== undefined && n > f.max) return { error: 'v.max', params: { max: f.max } };
      return { value: n };
    }
    case 'date':
      return isRealDate(input) ? { value: input } : { error: 'v.date' };
    case 'select':
      return f.options?.some((o) => o.value === input) ? { value: input } : { error: 'v.option' };
    case 'email':
      return EMAIL.test(input) ? { value: input.toLowerCase() } : { error: 'v.email' };
    case 'phone': {
      const phone = normalisePhone(input);
      return phone ? { value: phone } : { error: 'v.phone' };
    }
    case 'citizenId': {
      const problem = checkCitizenId(input);
      return problem ? { error: `v.citizenId.${problem}` } : { value: input };
    }
    case 'taxCode': {
      const code = normaliseTaxCode(input);
      return code ? { value: code } : { error: 'v.taxCode' };
    }
    default:
      if (f.pattern && !new RegExp(f.pattern, 'u').test(input)) return { error: `pattern:${f.name}` };
      return { value: input };
  }
}

/** Validates the form part of a dossier against its procedure's fields. */
export function checkFormData(
  def: ProcedureDefinition,
  raw: Record<string, unknown>,
): { data: FormData; problems: FieldProblems } {
  const data: FormData = {};
  const problems: FieldProblems = { errors: {}, params: {} };
  for (const f of def.fields) {
    const r = checkField(f, one(raw[f.name]));
    if ('error' in r) {
      problems.errors[f.name] = r.error;
      if (r.params) problems.params[f.name] = r.params;
    } else data[f.name] = r.value;
  }
  for (const f of def.fields) {
    const other = f.notBefore;
    const a = data[f.name];
    const b = other ? data[other] : null;
    if (other && typeof a === 'string' && typeof b === 'string' && a < b) {
      problems.errors[f.name] = 'v.notBefore';
      const label = def.fields.find((x) => x.name === other)?.label.vi ?? other;
      problems.params[f.name] = { other: label };
    }
  }
  return { data, problems };
}

/** Keeps what a draft may hold: known fields only, as typed, trimmed and cut to their length. */
export function draftFormData(def: ProcedureDefinition, raw: Record<string, unknown>): FormData {
  const data: FormData = {};
  for (const f of def.fields) {
    const v = one(raw[f.name]);
    if (v !== '') data[f.name] = v.slice(0, f.maxLength ?? DEFAULT_MAX.textarea);
  }
  return data;
}

export interface PaperFile {
  paperCode: string;
  originalName: string;
  detectedType: PaperType | null;
}

export function paperErrorKey(code: string): string {
  return `paper-${code}`;
}

/** Checks the papers of a dossier: known papers only, allowed types by content, counts, required ones. */
export function checkPapers(
  def: ProcedureDefinition,
  files: readonly PaperFile[],
  forSubmission: boolean,
): FieldProblems {
  const problems: FieldProblems = { errors: {}, params: {} };
  const byCode = new Map<string, PaperDef>(def.papers.map((p) => [p.code, p]));
  for (const f of files) {
    const paper = byCode.get(f.paperCode);
    if (!paper) {
      problems.errors._papers = 'upload.unknownPaper';
      problems.params._papers = { paper: f.paperCode };
      continue;
    }
    if (!f.detectedType || !paper.types.includes(f.detectedType)) {
      const key = paperErrorKey(paper.code);
      problems.errors[key] = 'upload.wrongType';
      problems.params[key] = {
        file: f.originalName,
        types: paper.types.map((t) => t.toUpperCase()).join(', '),
      };
    }
  }
  for (const paper of def.papers) {
    const key = paperErrorKey(paper.code);
    if (problems.errors[key]) continue;
    const count = files.filter((f) => f.paperCode === paper.code).length;
    if (count > paper.maxFiles) {
      problems.errors[key] = 'upload.tooManyForPaper';
      problems.params[key] = { max: paper.maxFiles };
    } else if (forSubmission && paper.required && count === 0) {
      problems.errors[key] = 'upload.missingPaper';
    }
  }
  return problems;
}

/** The paper type of a stored file, from the content type read from its bytes when it was uploaded. */
export function paperTypeOf(contentType: string): PaperType | null {
  switch (contentType) {
    case 'application/pdf':
      return 'pdf';
    case 'image/jpeg':
      return 'jpg';
    case 'image/png':
      return 'png';
    default:
      return null;
  }
}

/** A file already written to the file store for this request. */
export interface Upload {
  paperCode: string;
  originalName: string;
  relPath: string;
  size: number;
  sha256: string;
  detectedType: 'pdf' | 'jpg' | 'png' | null;
  contentType: string;
}

/** Who applies, as the dossier keeps it: the account's details at the time of filing. */
export function applicantSnapshot(user: User): ApplicantSnapshot {
  if (user.kind === 'BUSINESS') {
    return {
      kind: 'BUSINESS',
      name: user.companyName ?? user.fullName,
      idLabel: 'Mã số thuế',
      idNumber: user.taxCode ?? '',
      representative: user.fullName,
      email: user.email,
      phone: user.phone,
    };
  }
  return {
    kind: 'CITIZEN',
    name: user.fullName,
    idLabel: 'Số định danh cá nhân',
    idNumber: user.citizenId ?? '',
    representative: null,
    email: user.email,
    phone: user.phone,
  };
}

/** Rows for the files of a request, as the repository stores them. */
export function fileRows(uploads: readonly Upload[]): NewDossierFile[] {
  return uploads.map((u) => ({
    paperCode: u.paperCode,
    originalName: u.originalName,
    storedPath: u.relPath,
    contentType: u.contentType,
    size: u.size,
    sha256: u.sha256,
  }));
}

/** The papers of a dossier to check: those it keeps and those just uploaded. */
export function papersToCheck(kept: readonly DossierFile[], uploads: readonly Upload[]): PaperFile[] {
  return [
    ...kept.map((f) => ({
      paperCode: f.paperCode,
      originalName: f.originalName,
      detectedType: paperTypeOf(f.contentType),
    })),
    ...uploads,
  ];
}

/** A form value as a person reads it: an option's label, a date as dd/mm/yyyy. */
export function formatFieldValue(f: FieldDef, raw: FormValue | undefined, lang: string): string {
  if (raw === null || raw === undefined || raw === '') return '';
  const option = f.options?.find((o) => o.value === raw);
  if (option) return localText(option.label, lang);
  if (f.type === 'date' && typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const [y, m, d] = raw.split('-');
    return `${d}/${m}/${y}`;
  }
  return String(raw);
}
