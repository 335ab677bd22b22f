/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: electron-builder require()s this file. */
// electron-builder afterPack: flip the Electron fuses (RunAsNode off, asar integrity on, …) in the packed
// binary, before any signing or installer step.
const { flipFuses } = require('@electron/fuses');
const { FUSES, packedExecutable } = require('./fuses.cjs');

exports.default = async function afterPack(context) {
  const executable = packedExecutable(context);
  await flipFuses(executable, { ...FUSES, resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' });
  console.log(`  • palmpay: fuses flipped in ${executable}`);
};
