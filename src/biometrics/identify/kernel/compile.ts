// Compiles the stage-1 kernel (../assembly/scan.ts) with the AssemblyScript compiler from npm. Used by the build
// script (build.ts) and by the test that checks the embedded bytes are exactly what the source compiles to.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PalmPayError } from '../../../util/errors.ts';

export const KERNEL_SOURCE = fileURLToPath(new URL('../assembly/scan.ts', import.meta.url));

/** The exact compiler flags; changing them changes the committed bytes (the rebuild test will say so). */
export const ASC_FLAGS = ['-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--noExportMemory', '--enable', 'simd'];

export class KernelBuildError extends PalmPayError {
  constructor(message: string) {
    super('IDENTIFY_KERNEL_BUILD', `cannot build the identification kernel: ${message}`);
  }
}

export async function compileKernel(): Promise<Uint8Array> {
  const asc = (await import('assemblyscript/asc')).default;
  const source = await readFile(KERNEL_SOURCE, 'utf8');
  let errors = '';
  // main() takes the same flag list as the command line; an in-memory file system keeps it off the disk.
  let binary: Uint8Array | null = null;
  const result = await asc.main(['scan.ts', ...ASC_FLAGS, '-o', 'scan.wasm'], {
    readFile: (name) => (name === 'scan.ts' ? source : null),
    writeFile: (name, contents) => {
      if (name === 'scan.wasm' && typeof contents !== 'string') binary = contents;
    },
    listFiles: () => [],
    stderr: { write: (s: string | Uint8Array) => ((errors += String(s)), true) } as never,
    stdout: { write: () => true } as never,
  });
  if (result.error || !binary) throw new KernelBuildError(result.error?.message ?? (errors || 'no output'));
  return binary;
}
