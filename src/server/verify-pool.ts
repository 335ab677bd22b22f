// Ed25519 verification on worker threads. A signature's validity depends only on (key, bytes), never on the
// chain state, so the centre verifies a batch in parallel before its transaction and keeps the one writer busy
// with the ledger. The worker is plain JavaScript (eval'd), so it runs the same under tsx, vitest and node.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
parentPort.on('message', (m) => {
  let key = keys.get(m.pk);
  if (!key) {
    key = crypto.createPublicKey({ key: Buffer.concat([PREFIX, Buffer.from(m.pk, 'hex')]), format: 'der', type: 'spki' });
    if (keys.size > 1000) keys.clear();
    keys.set(m.pk, key);
  }
  const buf = Buffer.from(m.buf);
  const n = m.offsets.length - 1;
  const out = new Uint8Array(n / 2);
  for (let i = 0; i < n; i += 2) {
    const msg = buf.subarray(m.offsets[i], m.offsets[i + 1]);
    const sig = buf.subarray(m.offsets[i + 1], m.offsets[i + 2]);
    try { out[i / 2] = crypto.verify(null, msg, key, sig) ? 1 : 0; } catch { out[i / 2] = 0; }
  }
  parentPort.postMessage({ id: m.id, out }, [out.buffer]);
});
`;

export interface VerifyItem {
  message: Buffer;
  signature: Buffer;
}

export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (out: Uint8Array) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private turn = 0;

  constructor(readonly size = Math.max(1, Math.min(4, availableParallelism()))) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m: { id: number; out: Uint8Array }) => {
        const pending = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (this.waiting.size === 0) this.setRef(false);
        pending?.resolve(m.out);
      });
      w.on('error', (err) => this.failAll(err));
      w.unref();
      this.workers.push(w);
    }
  }

  /** Verifies every item against one public key (hex); true where the signature holds. */
  async verify(publicKeyHex: string, items: readonly VerifyItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const chunk = Math.ceil(items.length / this.workers.length);
    const parts: Array<Promise<Uint8Array>> = [];
    for (let start = 0; start < items.length; start += chunk) parts.push(this.send(publicKeyHex, items.slice(start, start + chunk)));
    const outs = await Promise.all(parts);
    return outs.flatMap((o) => [...o].map((b) => b === 1));
  }

  private send(pk: string, items: readonly VerifyItem[]): Promise<Uint8Array> {
    const offsets = new Array<number>(items.length * 2 + 1);
    let total = 0;
    items.forEach((it, i) => {
      offsets[2 * i] = total;
      total += it.message.length;
      offsets[2 * i + 1] = total;
      total += it.signature.length;
    });
    offsets[items.length * 2] = total;
    const buf = new Uint8Array(total);
    items.forEach((it, i) => {
      buf.set(it.message, offsets[2 * i]!);
      buf.set(it.signature, offsets[2 * i + 1]!);
    });
    const id = this.nextId++;
    const w = this.workers[this.turn++ % this.workers.length]!;
    this.setRef(true); // idle workers must not keep the process alive, busy ones must
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, pk, buf: buf.buffer, offsets }, [buf.buffer]);
    });
  }

  private setRef(on: boolean): void {
    for (const w of this.workers) if (on) w.ref();
    else w.unref();
  }

  /** Pending verifications fail (never silently false): the batch is retried by the terminal. */
  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.failAll(new Error('verification pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
