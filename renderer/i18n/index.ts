// i18n: i18next with the three bundled languages. Arabic is the default and the fallback.
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Digits, Language } from '@api/index.ts';
import { ar } from './ar.ts';
import { en } from './en.ts';
import { ku } from './ku.ts';
import { kAr } from '../flows/i18n/ar.ts';
import { kEn } from '../flows/i18n/en.ts';
import { kKu } from '../flows/i18n/ku.ts';

// The kiosk flows' messages live beside their screens (renderer/flows/i18n), under the key `k`.
export const resources = {
  ar: { translation: { ...ar, k: kAr } },
  ku: { translation: { ...ku, k: kKu } },
  en: { translation: { ...en, k: kEn } },
} as const;

export async function initI18n(language: Language = 'ar'): Promise<i18n> {
  const instance = i18next.createInstance();
  await instance.use(initReactI18next).init({
    resources,
    lng: language,
    fallbackLng: 'ar',
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
    showSupportNotice: false, // no console chatter in a kiosk
    contextSeparator: '§', // error codes contain '_' (see i18next.d.ts)
  });
  return instance;
}

/** The Intl locale for a language and digit choice (Arabic-Indic digits are an Arabic-only option). */
export function intlLocale(language: Language, digits: Digits): string {
  if (language === 'ar') return `ar-u-nu-${digits}-ca-gregory`;
  if (language === 'ku') return 'ku-Latn-u-nu-latn';
  return 'en-u-nu-latn';
}

export function textDirection(language: Language): 'rtl' | 'ltr' {
  return language === 'ar' ? 'rtl' : 'ltr';
}
