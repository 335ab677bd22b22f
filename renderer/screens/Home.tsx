// The home screen: the three roles. Each opens its flow (built in a later issue).
import { useTranslation } from 'react-i18next';

export const ROLES = ['salary', 'purchase', 'enrolment'] as const;
export type Role = (typeof ROLES)[number];

export function Home({ onOpen }: { onOpen(role: Role): void }) {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t('home.heading')}</h1>
      <div className="roles">
        {ROLES.map((role) => (
          <button key={role} type="button" className="role" data-testid={`role-${role}`} onClick={() => onOpen(role)}>
            <span className="role-title">{t(`role.${role}.title`)}</span>
            <span className="role-hint">{t(`role.${role}.hint`)}</span>
          </button>
        ))}
      </div>
    </>
  );
}
