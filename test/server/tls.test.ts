// The centre over native TLS: a real certificate (openssl), a real https listener on loopback, and a terminal-side
// fetch that trusts the centre only through the CA it was given (NODE_EXTRA_CA_CERTS), as a deployment does.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback, startServer, type RunningServer } from '../../src/server/index.ts';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'palmpay-tls-'));
const cert = join(dir, 'centre.crt');
const key = join(dir, 'centre.key');
let srv: RunningServer;

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=palmpay-centre-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  srv = await startServer({ db: `sqlite:${join(dir, 'c.db')}`, port: 0, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
});
afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** fetch(url) in a fresh Node process, as the terminal's CentreClient does it; returns the status or the error. */
async function fetchInChild(url: string, env: Record<string, string>): Promise<string> {
  // Asynchronous: the server under test runs in this process's event loop.
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', `fetch(${JSON.stringify(url)}).then(r => console.log('status', r.status), e => console.log('error', e.cause?.code ?? e.message))`], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
  });
  return stdout.trim();
}

describe('native TLS', () => {
  it('serves https, and a client that was given the centre CA reaches it', async () => {
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      get(`${srv.url}/health`, { ca: [readFileSync(cert)] }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    });
    expect(status).toBe(200);
    expect(await fetchInChild(`${srv.url}/health`, { NODE_EXTRA_CA_CERTS: cert })).toBe('status 200');
  });

  it('a client without the CA refuses the connection (no silent downgrade, no blind trust)', async () => {
    expect(await fetchInChild(`${srv.url}/health`, { NODE_EXTRA_CA_CERTS: '' })).toMatch(/^error (SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
  });

  it('plain http to the TLS port gets no answer from the API', async () => {
    expect(await fetchInChild(srv.url.replace('https:', 'http:') + '/health', {})).not.toBe('status 200');
  });
});

describe('where plain http is allowed', () => {
  it('only on loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.5', '192.0.2.7', '::', '127.0.0.1.evil', 'centre.example']) expect(isLoopback(h)).toBe(false);
  });

  it('the command line refuses half a TLS pair and a file that is not PEM, with one clear line', async () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errs.push(m);
    try {
      expect(await main(['node', 'palmpay', 'server', '--data', dir, '--tls-cert', cert])).toBe(1);
      expect(await main(['node', 'palmpay', 'server', '--data', dir, '--tls-cert', notPem, '--tls-key', key])).toBe(1);
      expect(await main(['node', 'palmpay', 'server', '--data', dir, '--host', '0.0.0.0'])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errs[0]).toMatch(/--tls-cert and --tls-key go together/);
    expect(errs[1]).toMatch(/is not a PEM file/);
    expect(errs[2]).toMatch(/plain http on 0\.0\.0\.0/);
  });
});
