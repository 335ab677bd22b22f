// The PIN rule lives in src/protocol/pin.ts (the centre checks PINs online too); the terminal side imports it here.
export * from '../protocol/pin.ts';
