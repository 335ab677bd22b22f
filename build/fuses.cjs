/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: electron-builder require()s this file. */
// Electron fuses PalmPay flips at package time (see after-pack.cjs). Fuses are compiled into the Electron
// binary; flipping them removes whole attack classes no runtime setting can.
const { FuseV1Options, FuseVersion } = require('@electron/fuses');

const FUSES = {
  version: FuseVersion.V1,
  // ELECTRON_RUN_AS_NODE would turn the signed kiosk binary into a general Node interpreter.
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS / --inspect would let anyone with a shell inject code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // Validate app.asar against the hash electron-builder embeds (enforced on Windows and macOS).
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
};

/** The packed Electron executable inside appOutDir, per platform. */
function packedExecutable(context) {
  const { electronPlatformName, appOutDir, packager } = context;
  const path = require('node:path');
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${packager.appInfo.productFilename}.exe`);
  if (electronPlatformName === 'darwin') return path.join(appOutDir, `${packager.appInfo.productFilename}.app`);
  return path.join(appOutDir, packager.executableName);
}

module.exports = { FUSES, packedExecutable };
