// Translation keys are a typed union checked at compile time: t('k.payout.step.review') compiles, a key missing
// from the English catalogue (which ar.ts and ku.ts are typechecked against) does not, and neither does a key
// built from an untyped string. Error codes contain '_', so the context separator is one no key uses.
import type { resources } from './index.ts';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: (typeof resources)['en'];
    contextSeparator: '§';
  }
}
