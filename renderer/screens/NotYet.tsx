// Stand-in for a role's flow until it is built: says so, and leads back home.
import { useTranslation } from 'react-i18next';
import type { Role } from './Home.tsx';

export function NotYet({ role, onBack }: { role: Role; onBack(): void }) {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t(`role.${role}.title`)}</h1>
      <p>{t('screen.notYet')}</p>
      <button type="button" className="back" data-testid="back" onClick={onBack}>
        {t('screen.back')}
      </button>
    </>
  );
}
