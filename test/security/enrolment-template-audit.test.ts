// A malicious (or stolen) terminal signs whatever enrolment it likes, so the centre re-checks the templates it is
// sent before it believes them (src/biometrics/template-audit.ts, wired into PUT /v1/enrolments/:person/templates):
// random bytes, one capture copied three times, a template of another coder, a capture of another person's palm
// slipped into one hand. Each is refused (422) with its typed code; nothing is stored (the person stays provisional
// without templates, never payable, and an honest terminal may send again); the refusal is in the review queue for a
// supervisor, once. An honest enrolment of the same person then confirms.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeTemplate } from '../../src/biometrics/template.ts';
import type { Template } from '../../src/biometrics/types.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { CentreRefusal } from '../../src/sync/client.ts';
import { PG_URL, tempDb } from '../server/helpers.ts';
import { capture, enrolmentBytes, enrolmentTemplate, handTemplate, palmCode } from '../support/synthetic-codes.ts';
import { registeredTerminal, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(backends)('a terminal uploads templates the centre must not believe (%s)', (kind) => {
  let server: RunningServer;
  let cleanup: () => Promise<void>;
  let t1: TestTerminal;
  beforeEach(async () => {
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    server = await startServer({ db: db.url, port: 0 });
    t1 = await registeredTerminal(server.central, 'T1', { url: server.url });
  });
  afterEach(async () => {
    await server.close();
    await cleanup();
  });

  /** The signed enrolment record pinning exactly these bytes (so the digest check passes: the audit is what refuses). */
  async function signedEnrolment(personId: string, templates: Buffer[], hands: Array<'left' | 'right'> = ['left']) {
    const rec = t1.chain.next({
      type: 'enrolment', operatorId: 'op-1', enrolmentId: `E-${personId}`, personId, person: { name: 'Test Person', idNumber: 'X1', accountId: `A-${personId}` },
      templateDigests: templates.map((b) => createHash('sha256').update(b).digest('hex')), hands,
      consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
    });
    expect((await server.central.ingest(t1.id, [rec]))[0]).toMatchObject({ status: 'accepted' });
    return rec;
  }
  const upload = (personId: string, templates: Buffer[]) => t1.client!.uploadTemplates(personId, templates.map((b) => b.toString('base64')));
  const bytes = (t: Template) => Buffer.from(encodeTemplate(t));

  /** Over HTTP: 422 with `code`; nothing stored; the person still provisional; one review item naming the code. */
  async function refused(personId: string, templates: Buffer[], code: string) {
    const rec = await signedEnrolment(personId, templates);
    const err = await upload(personId, templates).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CentreRefusal);
    expect(err).toMatchObject({ status: 422, remoteCode: code });
    const p = await server.central.repo.tx((r) => r.getPerson(personId));
    expect(p).toMatchObject({ status: 'provisional', templates: null });
    expect(server.central.palmIndex.stats().entries).toBe(0);
    // Sent again (a retrying terminal): the same refusal, and still one review item for the supervisor.
    await expect(upload(personId, templates)).rejects.toMatchObject({ status: 422, remoteCode: code });
    const items = (await server.central.reviewList()).filter((i) => i.terminal_id === t1.id && Number(i.seq) === rec.seq);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'enrolment' });
    expect(items[0]!.reason).toMatch(new RegExp(`^${code}: `));
  }

  it('(a) random bytes: TEMPLATE_MALFORMED', async () => {
    const { randomBytes } = await import('node:crypto');
    await refused('P-rand', [randomBytes(64)], 'TEMPLATE_MALFORMED');
  });

  it('(b) one capture copied three times: TEMPLATE_CAPTURES_COPIED', async () => {
    const one = capture(palmCode('P-copy'), 0.2, 7);
    await refused('P-copy', [bytes(handTemplate('left', [one, one, one]))], 'TEMPLATE_CAPTURES_COPIED');
  });

  it('(c) a template of another coder, or of other parameters: TEMPLATE_CODER_MISMATCH', async () => {
    const honest = enrolmentTemplate('P-coder');
    await refused('P-coder', [bytes({ ...honest, coderParams: { ...honest.coderParams, wavelength10: 120 } })], 'TEMPLATE_CODER_MISMATCH');
    await refused('P-coder2', [bytes({ ...honest, coder: 'compcode', codes: honest.codes.map((c) => ({ ...c, planes: 3, bits: c.bits.slice(0, 3 * c.rows) })) })], 'TEMPLATE_CODER_MISMATCH');
  });

  it('(d) a capture of another person\'s palm in one hand: TEMPLATE_CAPTURES_INCONSISTENT', async () => {
    const mine = enrolmentTemplate('P-mixed').codes;
    const victims = capture(palmCode('someone else'), 0.2, 99);
    await refused('P-mixed', [bytes(handTemplate('left', [mine[0]!, mine[1]!, victims]))], 'TEMPLATE_CAPTURES_INCONSISTENT');
  });

  it('an honest enrolment confirms, of one hand or of both, with nothing for review', async () => {
    const honest = enrolmentBytes('P-honest');
    await signedEnrolment('P-honest', [honest]);
    expect(await upload('P-honest', [honest])).toEqual({ status: 'confirmed' });
    expect(server.central.palmIndex.stats().entries).toBeGreaterThan(0);
    // Both hands, each its own palm: confirmed as well, and no review item anywhere.
    const both = [enrolmentBytes('P-two', 'left'), enrolmentBytes('P-two', 'right')];
    await signedEnrolment('P-two', both, ['left', 'right']);
    expect(await upload('P-two', both)).toEqual({ status: 'confirmed' });
    expect(await server.central.reviewList()).toEqual([]);
  });
});
