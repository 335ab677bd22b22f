// Shared test helpers: temporary databases for both backends, registered terminals with their signing keys.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { signerFromSecretKey, type Signer } from '../../src/protocol/sign.ts';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';
import type { Central } from '../../src/server/service.ts';
import type { OperatorRole } from '../../src/protocol/operator-roles.ts';
import { ChainWriter } from '../../bench/sync/loadgen.ts';
import { CentreClient } from '../../src/sync/client.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

export const PG_URL = process.env.PALMPAY_TEST_PG;

/** A fresh empty database URL and its cleanup, for 'sqlite' or 'postgres'. */
export async function tempDb(kind: 'sqlite' | 'postgres'): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'palmpay-server-'));
    return { url: `sqlite:${join(dir, 'centre.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!PG_URL) throw new Error('PALMPAY_TEST_PG unset');
  // A schema per test (much faster than a database per test): the URL pins search_path to it.
  const name = `palmpay_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    url: url.toString(),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await c.end();
    },
  };
}

export interface TestTerminal {
  id: string;
  signer: Signer;
  enc: { publicHex: string; privatePkcs8b64: string };
  chain: ChainWriter;
  client?: CentreClient;
}

/** Creates and registers a terminal directly on the service. */
/**
 * A terminal registered at the centre. `supervisors`: operator ids the centre grants the supervisor role there
 * (a refund, a void or a raised limit is accepted only when approved by one of them); `operators`: the other grants
 * there, by default `op-1` as supervisor.
 */
export async function registeredTerminal(central: Central, id: string, opts: { branch?: string; region?: string; url?: string; supervisors?: string[]; operators?: Record<string, OperatorRole> } = {}): Promise<TestTerminal> {
  const { code } = await central.addTerminal({ id, name: `counter ${id}`, branch: opts.branch ?? 'B1', region: opts.region ?? 'R1' });
  const signer = signerFromSecretKey(randomBytes(32));
  const enc = newEncKeyPair();
  const publicKey = Buffer.from(signer.publicKey).toString('hex');
  if (opts.url) {
    await new CentreClient({ baseUrl: opts.url }).register(code, publicKey, enc.publicHex);
  } else {
    await central.registerTerminal({ code, publicKey, encKey: enc.publicHex });
  }
  // Rule 16: every record names an operator the centre granted there. The fixtures sign as `op-1` (any work: a
  // supervisor's role covers the till and enrolment; it approves nothing it made itself).
  for (const [operatorId, role] of Object.entries(opts.operators ?? { 'op-1': 'supervisor' })) await central.grantOperator(id, { operatorId, name: operatorId, role, active: true });
  for (const operatorId of opts.supervisors ?? []) await central.grantOperator(id, { operatorId, name: operatorId, role: 'supervisor', active: true });
  const t: TestTerminal = { id, signer, enc, chain: new ChainWriter(id, signer) };
  if (opts.url) t.client = new CentreClient({ baseUrl: opts.url, credentials: { terminalId: id, sign: (m) => signer.sign(m) } });
  return t;
}

/**
 * Enrols and confirms a customer through the real path (signed enrolment record + templates). The template is, unless
 * given, the person's own left palm in three live captures (synthetic-codes.ts): the centre audits what it is sent.
 */
export async function enrolCustomer(central: Central, t: TestTerminal, personId: string, accountId: string, template: Buffer = enrolmentBytes(personId)) {
  const { createHash } = await import('node:crypto');
  const rec = t.chain.next({
    type: 'enrolment', operatorId: 'op-1', enrolmentId: `E-${personId}`, personId,
    person: { name: 'Test Person', idNumber: 'X123', accountId }, templateDigests: [createHash('sha256').update(template).digest('hex')],
    hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
  });
  const [res] = await central.ingest(t.id, [rec]);
  const terminal = (await central.repo.tx((r) => r.getTerminal(t.id)))!;
  const up = await central.uploadTemplates(terminal, personId, [template.toString('base64')]);
  return { record: rec, result: res!, registry: up, template };
}
