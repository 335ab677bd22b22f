// The committed kernel bytes must be exactly what the AssemblyScript source compiles to (npm run build:wasm).
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../src/biometrics/identify/kernel/compile.ts';
import { SCAN_WASM_BASE64 } from '../../src/biometrics/identify/kernel/scan-wasm.generated.ts';

describe('identification kernel build', () => {
  it('the embedded wasm is identical to a fresh build of assembly/scan.ts', async () => {
    const fresh = await compileKernel();
    const embedded = new Uint8Array(Buffer.from(SCAN_WASM_BASE64, 'base64'));
    expect(fresh.length).toBeGreaterThan(0);
    expect(Buffer.from(fresh).equals(Buffer.from(embedded)), 'embedded kernel is stale: run npm run build:wasm').toBe(true);
  });
});
