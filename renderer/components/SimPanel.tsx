// The demo's simulator panel: pick a demo hand and lay it on the simulated scanner. Shown only when the host
// offers it (`--demo` or tests); a production terminal answers SIM_PANEL_OFF and the panel stays hidden.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { HostApi } from '@api/index.ts';

export function SimPanel({ api }: { api: HostApi }) {
  const { t } = useTranslation();
  const [palms, setPalms] = useState<string[]>([]);
  const [palm, setPalm] = useState('');

  useEffect(() => {
    api['sim.palms']()
      .then((r) => {
        setPalms(r.palms);
        setPalm(r.palms[0] ?? '');
      })
      .catch(() => setPalms([]));
  }, [api]);

  if (palms.length === 0) return null;
  return (
    <aside className="sim-panel" data-testid="sim-panel" aria-label={t('sim.title')}>
      <span>{t('sim.title')}</span>
      <label>
        {t('sim.who')}{' '}
        <select value={palm} onChange={(e) => setPalm(e.target.value)} data-testid="sim-palm">
          {palms.map((p) => (
            <option key={p} value={p} lang="en" dir="ltr">
              {p}
            </option>
          ))}
        </select>
      </label>
      <button type="button" data-testid="sim-lay" onClick={() => void api['sim.present']({ palm }).catch(() => {})}>
        {t('sim.lay')}
      </button>
    </aside>
  );
}
