// Electron main entry (bundled to dist/electron/main.cjs). Thin: all the logic is in shell.ts.
import * as electron from 'electron';
import { startShell } from './shell.ts';

startShell(electron, { argv: process.argv, baseDir: __dirname });
