// The HTTP layer's duties beyond ingestion: no PII in the logs, graceful shutdown, plain http on loopback only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { REDACT } from '../../src/server/http.ts';
import { startServer } from '../../src/server/index.ts';
import { enrolCustomer, registeredTerminal } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('logs requests and refusals without names, ID numbers, phones, templates or keys', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => void (lines.push(String(chunk)), cb()) });
  const log = pino({ level: 'trace', redact: { paths: REDACT, censor: '[redacted]' } }, sink);
  const srv = await startServer({ db: `sqlite:${join(dir, 'a.db')}`, port: 0, log });
  try {
    const t = await registeredTerminal(srv.central, 'T1', { url: srv.url });
    const e = await enrolCustomer(srv.central, t, 'P1', 'A1');
    // an enrolment record carrying PII goes over HTTP, a refused request too
    await t.client!.upload([e.record]);
    await fetch(`${srv.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'PalmPay T1:1:' + 'a'.repeat(128) }, body: JSON.stringify({ records: [e.record] }) });
    log.info({ person: { name: 'Test Person', idNumber: 'X123', phone: '+963-PHONE' } }, 'a careless log line');
    // A palm module's feature is biometric like a template (issue 14 §2), in a body or one level down.
    log.info({ body: { moduleFeature: { family: 'PalmSim-L015', feature: 'UFNGMQ-FEATURE-BYTES' } } }, 'a careless body');
    log.info({ moduleFeature: { family: 'PalmSim-L015', feature: 'UFNGMQ-FEATURE-BYTES' } }, 'a careless feature');
  } finally {
    await srv.close();
  }
  const text = lines.join('');
  expect(lines.length).toBeGreaterThan(2); // requests were logged
  expect(text).not.toMatch(/Test Person|X123|PHONE|FEATURE-BYTES/);
  expect(text).toMatch(/\[redacted\]/);
});

it('finishes requests in flight when it shuts down, then refuses connections', async () => {
  const srv = await startServer({ db: `sqlite:${join(dir, 'b.db')}`, port: 0 });
  const t = await registeredTerminal(srv.central, 'T1', { url: srv.url });
  const { purchaseDraft } = await import('../../bench/sync/loadgen.ts');
  await enrolCustomer(srv.central, await registeredTerminal(srv.central, 'T0'), 'P1', 'A1');
  await srv.central.creditAccount('A1', 1e9, 'SYP');
  const batch = Array.from({ length: 1500 }, (_, i) => t.chain.next(purchaseDraft('T1', i, 'P1', 'A1', 1)));
  // Close exactly while the centre is processing the upload.
  const entered = new Promise<void>((resolve) => {
    const ingest = srv.central.ingest.bind(srv.central);
    srv.central.ingest = async (...args) => {
      resolve();
      return ingest(...args);
    };
  });
  const upload = t.client!.upload(batch);
  await entered;
  const closing = srv.close();
  const res = await upload;
  await closing;
  expect(res.results.every((r) => r.status === 'accepted')).toBe(true);
  await expect(fetch(`${srv.url}/health`)).rejects.toThrow();
});

it('refuses plain http on anything but loopback', async () => {
  await expect(startServer({ db: `sqlite:${join(dir, 'c.db')}`, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'SERVER_INSECURE' });
  await expect(startServer({ db: `sqlite:${join(dir, 'c.db')}`, host: '192.0.2.7' })).rejects.toMatchObject({ code: 'SERVER_INSECURE' });
});
