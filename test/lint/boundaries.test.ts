// The import boundaries between the top folders are enforced by ESLint (eslint.config.js). Prove the rules
// bite, and that the allowed imports pass, by linting snippets as if they lived in each folder.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

async function boundaryErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${filePath}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ["import { app } from 'electron';", 'src/x.ts'],
    ["import { app } from 'electron';", 'src/host/x.ts'],
    ["import { ipcMain } from 'electron/main';", 'src/x.ts'],
    ["export { App } from '../renderer/App.tsx';", 'src/x.ts'],
    ["import '../electron/main.ts';", 'src/host/x.ts'],
    ["import { app } from 'electron';", 'drivers/x.ts'],
    ["import Database from 'better-sqlite3';", 'drivers/x.ts'],
    ["import { PalmPayError } from '../src/util/errors.ts';", 'drivers/x.ts'],
    ["import { createHostService } from '../src/host/service.ts';", 'renderer/x.ts'],
    ["import { startRuntime } from '../../src/host/runtime.ts';", 'renderer/screens/x.tsx'],
    ["import { readFileSync } from 'node:fs';", 'renderer/x.ts'],
    ["import { ipcRenderer } from 'electron';", 'renderer/x.ts'],
    ["import { scan } from '../drivers/index.ts';", 'renderer/x.ts'],
    // The layers inside src/: the wire protocol is shared, so neither side of it reaches the other.
    ["import { startServer } from '../server/index.ts';", 'src/sync/x.ts'],
    ["import { Central } from '../server/service.ts';", 'src/sync/x.ts'],
    ["import { Uploader } from '../sync/uploader.ts';", 'src/server/x.ts'],
    ["import { openStore } from '../store/store.ts';", 'src/server/x.ts'],
    ["import { Ledger } from '../ledger/ledger.ts';", 'src/store/x.ts'],
    ["import { openStore } from '../store/store.ts';", 'src/protocol/x.ts'],
    ["import { Ledger } from '../ledger/ledger.ts';", 'src/protocol/x.ts'],
    ["import { runSyncBench } from '../../bench/sync/bench.ts';", 'src/host/x.ts'],
    // The API is the contract: it takes its state types from the flows, never from the host.
    ["import type { FlowView } from '../host/kiosk-part.ts';", 'src/api/x.ts'],
    ["export type { Kiosk } from '../host/compose.ts';", 'src/api/x.ts'],
    // The flows are pure: no module with I/O, no adapter, no layer that does I/O.
    ["import { readFileSync } from 'node:fs';", 'src/flows/x.ts'],
    ["import { randomUUID } from 'node:crypto';", 'src/flows/x.ts'],
    ["import Database from 'better-sqlite3';", 'src/flows/x.ts'],
    ["import type { Store } from '../store/store.ts';", 'src/flows/x.ts'],
    ["import { Ledger } from '../ledger/ledger.ts';", 'src/flows/x.ts'],
    ["import { createSync } from '../sync/index.ts';", 'src/flows/x.ts'],
    ["import { SqliteBank } from '../host/adapters/sqlite-bank.ts';", 'src/flows/x.ts'],
    ["import { ScannerClient } from '../../drivers/client/client.ts';", 'src/flows/x.ts'],
    ["import { createLogger } from '../util/log.ts';", 'src/flows/x.ts'],
    ["import { calls } from '../api/index.ts';", 'src/flows/x.ts'],
    // The host never reaches up into the command line.
    ["import { ensureBuilt } from '../cli/commands/build.ts';", 'src/host/x.ts'],
    ["import { program } from '../../cli/main.ts';", 'src/host/adapters/x.ts'],
    // ... embeds the centre only in the demo wiring ...
    ["import { startServer } from '../server/index.ts';", 'src/host/x.ts'],
    ["import { startServer } from '../../server/index.ts';", 'src/host/adapters/x.ts'],
    ["import { runSyncBench } from '../../../bench/sync/bench.ts';", 'src/host/demo/x.ts'],
    // ... and reaches the recogniser through its one entry.
    ["import { extract } from '../../biometrics/extract.ts';", 'src/host/adapters/x.ts'],
    ["import { ENTRY_CODE_BYTES } from '../../biometrics/identify/kernel/kernel.ts';", 'src/host/adapters/x.ts'],
  ])('refuses %s in %s', async (code, file) => {
    expect((await boundaryErrors(code, file)).length).toBeGreaterThan(0);
  });

  it.each([
    ["import { z } from 'zod';", 'src/x.ts'],
    ["import { calls } from '../api/index.ts';", 'src/host/x.ts'],
    ["import { something } from '../drivers/index.ts';", 'src/x.ts'],
    ["import { SerialPort } from 'serialport';", 'drivers/x.ts'],
    ["import { calls } from '@api/index.ts';", 'renderer/x.ts'],
    ["import { Home } from './screens/Home.tsx';", 'renderer/x.ts'],
    ["import { useState } from 'react';", 'renderer/x.ts'],
    ["import { app } from 'electron';", 'electron/x.ts'],
    ["import { startRuntime } from '../src/host/runtime.ts';", 'electron/x.ts'],
    ["import { authorizationHeader } from '../protocol/crypto.ts';", 'src/sync/x.ts'],
    ["import { authorizationHeader } from '../protocol/crypto.ts';", 'src/server/x.ts'],
    ["import type { Currency } from '../protocol/record.ts';", 'src/store/x.ts'],
    ["import { PalmPayError } from '../util/errors.ts';", 'src/protocol/x.ts'],
    ["import { canonicalJson } from './canonical.ts';", 'src/protocol/x.ts'],
    ["import { runSyncBench } from '../../../bench/sync/bench.ts';", 'src/cli/commands/x.ts'],
    ["import type { PayoutState } from '../flows/payout.ts';", 'src/api/x.ts'],
    ["import { UiEvent } from '../flows/ui-events.ts';", 'src/api/x.ts'],
    ["import { go, type Step } from './machine.ts';", 'src/flows/x.ts'],
    ["import { PalmPayError } from '../util/errors.ts';", 'src/flows/x.ts'],
    ["import { z } from 'zod';", 'src/flows/x.ts'],
    ["import { FlowHost } from '../flows/kiosk.ts';", 'src/host/x.ts'],
    ["import { ensureBuilt } from './app-build.ts';", 'src/host/x.ts'],
    ["import { extract, type Template } from '../../biometrics/index.ts';", 'src/host/adapters/x.ts'],
    ["import { startServer } from '../../server/index.ts';", 'src/host/demo/x.ts'],
    ["import { ensureBuilt } from '../../host/app-build.ts';", 'src/cli/commands/x.ts'],
  ])('allows %s in %s', async (code, file) => {
    expect(await boundaryErrors(code, file)).toEqual([]);
  });

  it('applies the React hooks rules to the renderer', async () => {
    const [result] = await eslint.lintText("import { useState } from 'react';\nexport function A({ on }: { on: boolean }) { if (on) { const [x] = useState(0); return x; } return 0; }\n", { filePath: `${ROOT}renderer/x.tsx` });
    expect(result?.messages.map((m) => m.ruleId)).toContain('react-hooks/rules-of-hooks');
  });

  it('passes on the real tree (lint is clean for the shell folders)', async () => {
    const results = await eslint.lintFiles(['src/api', 'src/flows', 'src/host', 'src/util', 'src/protocol', 'src/store', 'src/sync', 'src/server', 'electron', 'renderer', 'build', 'vite.config.ts']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(errors).toEqual([]);
  }, 120_000); // lints most of src/: slow on a shared 2-core machine
});
