// Language buttons (each shows the language's own name) and, for Arabic, the digit choice.
import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Digits, type Language } from '@api/index.ts';

interface Props {
  language: Language;
  digits: Digits;
  onLanguage(language: Language): void;
  onDigits(digits: Digits): void;
}

export function LanguageSwitch({ language, digits, onLanguage, onDigits }: Props) {
  const { t } = useTranslation();
  return (
    <div className="switches">
      <span className="switch-label">{t('language.label')}</span>
      {LANGUAGES.map((lng) => (
        <button key={lng} type="button" lang={lng} aria-pressed={lng === language} data-testid={`lang-${lng}`} onClick={() => onLanguage(lng)}>
          {t('language.self', { lng })}
        </button>
      ))}
      {language === 'ar' && (
        <>
          <span className="switch-label">{t('digits.label')}</span>
          {(['arab', 'latn'] as const).map((d) => (
            <button key={d} type="button" aria-pressed={d === digits} data-testid={`digits-${d}`} onClick={() => onDigits(d)}>
              {t(`digits.${d}`)}
            </button>
          ))}
        </>
      )}
    </div>
  );
}
