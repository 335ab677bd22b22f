// The offline limits rule lives in src/protocol/offline-limits.ts (the centre re-checks it on every purchase); the
// terminal side imports it here.
export * from '../protocol/offline-limits.ts';
