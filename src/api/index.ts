// The typed host API: the only thing the renderer may import from outside renderer/.
export * from './schemas.ts';
export * from './calls.ts';
export * from './events.ts';
export * from './wire.ts';
export * from './money.ts';
export * from './flows.ts';
export * from './setup.ts';
