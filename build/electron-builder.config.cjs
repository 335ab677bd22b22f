// electron-builder: Linux (deb, AppImage) and Windows (NSIS) installers for the kiosk.
// Real installers need Electron's download (and, for native modules, Electron's headers): see build/README.md.
/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.palmpay.terminal',
  productName: 'PalmPay',
  copyright: 'PalmPay',
  directories: { output: 'dist/installers', buildResources: 'build' },
  // Allowlist: only the bundles and the renderer. Production node_modules are added by electron-builder;
  // only the native ones are loaded at run time (everything else is bundled into main.cjs).
  files: [
    'dist/electron/*.cjs',
    'dist/renderer/**/*',
    'package.json',
    '!**/*.map',
    // Run-from-source tooling the bundled app never loads (it is a production dependency for `npm start`).
    '!node_modules/{tsx,esbuild,@esbuild,@types,@babel}{,/**}',
  ],
  extraMetadata: { main: 'dist/electron/main.cjs' },
  asar: true,
  // Native modules cannot be loaded from inside an asar archive.
  asarUnpack: [
    '**/*.node',
    'node_modules/better-sqlite3/**',
    'node_modules/node-hid/**',
    'node_modules/usb/**',
    'node_modules/@serialport/**',
    'node_modules/usearch/**',
  ],
  extraResources: [
    { from: 'build/linux/99-palmpay.rules', to: 'udev/99-palmpay.rules' },
    { from: 'build/linux/palmpay-kiosk.desktop', to: 'autostart/palmpay-kiosk.desktop' },
    { from: 'build/linux/palmpay-kiosk.service', to: 'autostart/palmpay-kiosk.service' },
  ],
  // Electron fuses, flipped by electron-builder in the packed binary right before signing. Fuses are compiled into
  // the binary: flipping them removes whole attack classes no runtime setting can.
  electronFuses: {
    // ELECTRON_RUN_AS_NODE would turn the signed kiosk binary into a general Node interpreter.
    runAsNode: false,
    enableCookieEncryption: true,
    // NODE_OPTIONS / --inspect would let anyone with a shell inject code into the main process.
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    // Validate app.asar against the hash electron-builder embeds (enforced on Windows and macOS).
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  },
  npmRebuild: true, // rebuild native modules against Electron's ABI
  linux: {
    target: ['deb', 'AppImage'],
    category: 'Finance',
    executableName: 'palmpay',
    maintainer: 'PalmPay <ops@palmpay.invalid>',
    synopsis: 'Offline-first palm-vein payment terminal',
  },
  deb: {
    depends: ['libusb-1.0-0', 'udev'],
    afterInstall: 'build/linux/after-install.sh',
    afterRemove: 'build/linux/after-remove.sh',
  },
  win: { target: ['nsis'], executableName: 'PalmPay' },
  nsis: { oneClick: false, perMachine: true, allowToChangeInstallationDirectory: false, createDesktopShortcut: true },
};
