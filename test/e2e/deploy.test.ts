// A deployed counter, across real processes: `palmpay server` on its own, a technician's `terminal add` and
// `terminal provision` (one-time code, pinned centre key, first feed), then `palmpay terminal` WITHOUT --demo on
// a serial palm module (`palmpay sim serial` on a socat pty) and the remote centre: nothing simulated or embedded
// inside the terminal. Every way provisioning can go wrong is refused with its reason and changes nothing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTerminal } from '../../src/ledger/open.ts';
import { purchase } from '../ledger/helpers.ts';
import { HookClient } from './hooks.ts';
import { addTerminal, runCli, startCentre, startProcess, startTerminal, stopProcesses, type Centre, type CliProcess, type RunningTerminal } from './spawn-terminal.ts';

const scratch = mkdtempSync(join(tmpdir(), 'palmpay-deploy-'));
const counter = join(scratch, 'counter');

const provision = (centre: string, code: string, id = 'T-DEP', data = counter) =>
  runCli(['terminal', 'provision', '--data', data, '--centre', centre, '--code', code, '--terminal-id', id]);

async function statusOf(t: RunningTerminal): Promise<{ scanner: { state: string; kind: string; placeholder: boolean }; link: { state: string; server: string } }> {
  const api = await HookClient.open(t);
  try {
    return await api.call('status.get', {});
  } finally {
    api.close();
  }
}

let centre: Centre;
let otherCentre: Centre;
let modulePath: string;
let sim: CliProcess;

beforeAll(async () => {
  [centre, otherCentre] = await Promise.all([startCentre({ data: join(scratch, 'centre') }), startCentre({ data: join(scratch, 'other-centre') })]);
  sim = await startProcess(['sim', 'serial', '--size', '320x240', '--no-auto'], /; open (\S+) \(socat/);
  modulePath = sim.match[1]!;
}, 120_000);

afterAll(async () => {
  await stopProcesses();
  rmSync(scratch, { recursive: true, force: true });
});

describe('provisioning a counter', () => {
  it('refuses an unreachable centre, a code for another terminal, and a made-up code, leaving no configuration', async () => {
    const code = await addTerminal(centre, 'T-DEP');
    const unreachable = await provision('http://127.0.0.1:1', code);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the centre at http:\/\/127\.0\.0\.1:1/);
    const otherCode = await addTerminal(centre, 'T-OTHER');
    const wrongId = await provision(centre.url, otherCode);
    expect(wrongId.stderr).toMatch(/registers terminal T-OTHER at the centre, but this counter is T-DEP/);
    const madeUp = await provision(centre.url, 'not-a-real-code-123');
    expect(madeUp.stderr).toMatch(/refused the code/);
    expect(existsSync(join(counter, 'terminal-config.json'))).toBe(false);
    const insecure = await provision('http://192.0.2.1:8470', code);
    expect(insecure.stderr).toMatch(/plain http off this machine/);
    // the good code still works after all that
    const ok = await provision(centre.url, code);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/terminal T-DEP provisioned.*: key [0-9a-f]{16}…[0-9a-f]{8}/);
    expect(ok.stdout).toMatch(new RegExp(`centre ${centre.url.replace(/[.:/]/g, '\\$&')}, key [0-9a-f]{16}…[0-9a-f]{8} pinned; first feed`));
    expect(JSON.parse(readFileSync(join(counter, 'terminal-config.json'), 'utf8'))).toEqual({ centre: centre.url });
  }, 120_000);

  it('a used code, and a centre with another key, are refused and change nothing', async () => {
    const code = await addTerminal(centre, 'T-USED');
    const used = join(scratch, 'used');
    expect((await provision(centre.url, code, 'T-USED', used)).code).toBe(0);
    const again = await provision(centre.url, code, 'T-USED', used);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refused the code/);
    const foreign = await addTerminal(otherCentre, 'T-DEP');
    const moved = await provision(otherCentre.url, foreign);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toMatch(/signs with another key .* than the one pinned here/);
    expect(JSON.parse(readFileSync(join(counter, 'terminal-config.json'), 'utf8'))).toEqual({ centre: centre.url });
  }, 120_000);
});

describe('the first operator of the provisioned counter', () => {
  // No palm exists anywhere yet, and enrolling one needs an enroller signed in: the centre's one-time operator
  // enrolment code lets the technician enrol the first operator's palm on the counter's own scanner.
  const enrolOperator = (code: string) => runCli(['terminal', 'enrol-operator', '--data', counter, '--scanner', `serial:${modulePath}`, '--code', code,
    '--name-ar', 'روجدا', '--name-latin', 'Rojda Ali', '--id-number', '0100200300', '--phone', '+963912345678', '--employer', 'BRANCH', '--consent'], 120_000);

  it('enrol-code at the centre, enrol-operator at the counter: the palm is enrolled under the operator id, once', async () => {
    await centre.admin(['operator', 'grant', 'T-DEP', 'OP-ROJDA', '--name', 'Rojda Ali', '--role', 'supervisor', '--pin-stdin'], '2580\n');
    const issued = await centre.admin(['operator', 'enrol-code', 'T-DEP', 'OP-ROJDA']);
    const [, code, codeId] = /enrolment code (\S+) \(id (OC-[0-9a-f]+);/.exec(issued)!;
    sim.send('present rojda'); // the operator's hand on the module's glass for every capture
    let r;
    try {
      r = await enrolOperator(code!);
    } finally {
      sim.send('remove');
    }
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`operator OP-ROJDA \\(Rojda Ali, supervisor\\) enrolled with code ${codeId}: left 3, right 3 captures; confirmed by the centre`));
    expect(await centre.admin(['operator', 'enrol-codes'])).toMatch(new RegExp(`${codeId}\\tT-DEP\\tOP-ROJDA\\tused\\t\\S+\\tT-DEP#1`));
    const again = await enrolOperator(code!);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/OPERATOR_CODE_INVALID|refused the code/);
  }, 240_000);
});

describe('a provisioned counter runs on what it was configured with', () => {
  let terminal: RunningTerminal;
  afterAll(async () => {
    await terminal?.stop();
  });

  it('reads palms from the serial module and syncs with the remote centre: no simulator, no embedded centre', async () => {
    terminal = await startTerminal(['--no-open', '--port', '0', '--data', counter, '--scanner', `serial:${modulePath}`], 120_000);
    expect(terminal.output()).toContain(`scanner: serial ${modulePath}; centre: ${centre.url}`);
    expect(terminal.output()).not.toMatch(/PLACEHOLDER scanner: simulated/);
    let s = await statusOf(terminal);
    for (let i = 0; i < 60 && (s.scanner.state !== 'ready' || s.link.state !== 'up'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      s = await statusOf(terminal);
    }
    expect(s.scanner).toMatchObject({ kind: 'serial', state: 'ready', placeholder: false });
    expect(s.link).toMatchObject({ state: 'up', server: centre.url });
    expect(existsSync(join(counter, 'centre.db'))).toBe(false); // no centre inside the terminal
  }, 180_000);

  it('refuses to re-provision while signed records wait for the centre', async () => {
    await terminal.stop();
    const t = openTerminal(counter);
    t.ledger.append(purchase({ amountMinor: 500 }));
    t.close();
    const code = await addTerminal(centre, 'T-DEP2');
    const r = await provision(centre.url, code);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 signed record\(s\) have neither reached the centre nor been exported/);
    // Exported to a stick: the records are safe, so provisioning goes on (and stops at the next check: that code is for T-DEP2).
    const exported = await runCli(['outbox', 'export', join(scratch, 'stick.jsonl'), '--data', counter]);
    expect(exported.code, exported.stderr).toBe(0);
    const after = await provision(centre.url, code);
    expect(after.stderr).not.toMatch(/neither reached/);
    expect(after.stderr).toMatch(/registers terminal T-DEP2 at the centre, but this counter is T-DEP/);
  }, 60_000);
});
