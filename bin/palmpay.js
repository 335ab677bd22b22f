#!/usr/bin/env node
// The one command-line entry. Runs the TypeScript sources through tsx, so no build step is needed for the host side.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
