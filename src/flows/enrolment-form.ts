// The enrolment form's rules, pure: names in Arabic and Latin script, national ID number, phone, and an employer
// or an account. Digits may be typed as Arabic-Indic; they are stored Latin.
import { toLatinDigits } from './digits.ts';

export interface PersonDraft {
  nameAr: string;
  nameLatin: string;
  idNumber: string;
  phone: string;
  employer: string;
  accountId: string;
}

export type FieldError = 'required' | 'script-arabic' | 'script-latin' | 'id-format' | 'phone-format' | 'employer-or-account' | 'code-format' | 'too-long';

/** Employer and account codes as the centre issues them (the ledger's id format). */
const CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export type FormErrors = Partial<Record<keyof PersonDraft, FieldError>>;

export const EMPTY_DRAFT: PersonDraft = { nameAr: '', nameLatin: '', idNumber: '', phone: '', employer: '', accountId: '' };

const ARABIC_NAME = /^[\u0600-\u06FF\u0750-\u077F\s'-]+$/u; // Arabic letters (incl. Kurdish Sorani ones), spaces
const LATIN_NAME = /^[A-Za-z\u00C0-\u024F\s'.-]+$/u; // Latin incl. Kurmanji ê î û ç ş

/** Trims, collapses spaces and turns Arabic-Indic digits into Latin ones. */
export function normaliseDraft(d: PersonDraft): PersonDraft {
  const clean = (s: string) => s.replace(/\s+/g, ' ').trim();
  return {
    nameAr: clean(d.nameAr),
    nameLatin: clean(d.nameLatin),
    idNumber: toLatinDigits(d.idNumber).replace(/[\s-]/g, ''),
    phone: normalisePhone(d.phone),
    employer: clean(d.employer),
    accountId: toLatinDigits(clean(d.accountId)),
  };
}

/** Syrian mobile numbers in the +963 form: "0912 345 678", "00963912345678" and "+963912345678" all agree. */
export function normalisePhone(raw: string): string {
  const p = toLatinDigits(raw).replace(/[\s()-]/g, '');
  if (/^09[0-9]{8}$/.test(p)) return `+963${p.slice(1)}`;
  if (/^00963[0-9]{9}$/.test(p)) return `+${p.slice(2)}`;
  return p;
}

export function validateDraft(raw: PersonDraft): { ok: true; draft: PersonDraft } | { ok: false; errors: FormErrors; draft: PersonDraft } {
  const d = normaliseDraft(raw);
  const errors: FormErrors = {};
  if (!d.nameAr) errors.nameAr = 'required';
  else if (d.nameAr.length > 120) errors.nameAr = 'too-long';
  else if (!ARABIC_NAME.test(d.nameAr)) errors.nameAr = 'script-arabic';
  if (!d.nameLatin) errors.nameLatin = 'required';
  else if (d.nameLatin.length > 120) errors.nameLatin = 'too-long';
  else if (!LATIN_NAME.test(d.nameLatin)) errors.nameLatin = 'script-latin';
  if (!d.idNumber) errors.idNumber = 'required';
  else if (!/^[0-9]{6,20}$/.test(d.idNumber)) errors.idNumber = 'id-format';
  if (!d.phone) errors.phone = 'required';
  else if (!/^\+[0-9]{8,15}$/.test(d.phone)) errors.phone = 'phone-format';
  if (!d.employer && !d.accountId) errors.employer = 'employer-or-account';
  else {
    if (d.employer && !CODE.test(d.employer)) errors.employer = 'code-format';
    if (d.accountId && !CODE.test(d.accountId)) errors.accountId = 'code-format';
  }
  return Object.keys(errors).length === 0 ? { ok: true, draft: d } : { ok: false, errors, draft: d };
}
