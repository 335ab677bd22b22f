// The centre's secrets, kept OUT of its database: its Ed25519 signing key and the data key that seals every
// enrolled template at rest. A copy of the database (a backup, a dump, a world-readable file) then holds no key
// and no template in the clear. The key file is 0600 in a 0700 folder; the SQLite database gets the same modes.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { newServerKeyPkcs8 } from '../protocol/crypto.ts';
import { PalmPayError } from '../util/errors.ts';

export const KEY_FILE = 'centre-keys.json';
const KeyFile = z.strictObject({ v: z.literal(1), serverKey: z.string().min(40), templateKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) });
export type CentreKeys = z.infer<typeof KeyFile>;

export class CentreKeyError extends PalmPayError {}

/** The SQLite file of a `sqlite:FILE` URL (undefined for PostgreSQL or memory). */
export function sqliteFileOf(url: string): string | undefined {
  if (/^postgres(ql)?:\/\//.test(url)) return undefined;
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  return file && file !== ':memory:' ? resolve(file) : undefined;
}

/** Where the key file lives: given, next to the SQLite file, PALMPAY_CENTRE_KEY_DIR, or a per-database folder in the user's config. */
export function keyDirFor(url: string, given?: string): string {
  if (given) return given;
  const file = sqliteFileOf(url);
  if (file) return dirname(file);
  if (process.env.PALMPAY_CENTRE_KEY_DIR) return process.env.PALMPAY_CENTRE_KEY_DIR;
  return join(homedir(), '.config', 'PalmPay', 'centre-keys', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/** A folder that only this user may enter (created 0700; an existing one is left as it is). */
function privateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Creates the SQLite file 0600 before SQLite opens it (SQLite gives its -wal and -shm files the same mode), and tightens an existing one. */
export function secureSqliteFile(url: string): void {
  const file = sqliteFileOf(url);
  if (!file) return;
  privateDir(dirname(file));
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
}

/**
 * Reads the key file, or creates it (taking over a centre key an older version kept in the database:
 * `legacyServerKey`, which the caller then deletes from the database).
 */
export function loadCentreKeys(dir: string, legacyServerKey?: string): CentreKeys {
  const file = join(dir, KEY_FILE);
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new CentreKeyError('CENTRE_KEYS_CORRUPT', `${file} is not readable JSON`);
    }
    const r = KeyFile.safeParse(parsed);
    if (!r.success) throw new CentreKeyError('CENTRE_KEYS_CORRUPT', `${file} is not a PalmPay centre key file`);
    return r.data;
  }
  privateDir(dir);
  const keys: CentreKeys = { v: 1, serverKey: legacyServerKey ?? newServerKeyPkcs8(), templateKey: randomBytes(32).toString('base64') };
  // Written whole under a private name, then linked into place: link fails if another server process starting at the
  // same moment won, and then both use the winner's keys (a rename would let the loser overwrite them).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  writeFileSync(tmp, JSON.stringify(keys), { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadCentreKeys(dir);
  } finally {
    unlinkSync(tmp);
  }
  return keys;
}

// ---- templates at rest ----
const SEALED = 's1:';

/** First byte of a person's sealed templates blob (the `persons.templates` BYTEA/BLOB column), for a later format. */
const TEMPLATES_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a person's templates for the database as one BYTEA/BLOB: version ‖ iv ‖ tag ‖ AES-256-GCM of
 * (count ‖ (length, bytes) per template), bound to the person. One cipher per person, not per template: opening the
 * 1,024 candidates of a duplicate check is a decipher each (palm-index.ts), and binary, so no JSON or base64 to parse.
 */
export function sealTemplates(key: Buffer, personId: string, templates: readonly Uint8Array[]): Buffer {
  if (templates.length > 255) throw new CentreKeyError('TEMPLATES_TOO_MANY', `${templates.length} templates for ${personId}: at most 255 are sealed together`);
  const plain = Buffer.allocUnsafe(1 + templates.reduce((n, t) => n + 4 + t.byteLength, 0));
  plain[0] = templates.length;
  let at = 1;
  for (const t of templates) {
    at = plain.writeUInt32BE(t.byteLength, at);
    plain.set(t, at);
    at += t.byteLength;
  }
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(templatesBinding(personId));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([Buffer.of(TEMPLATES_V1), iv, c.getAuthTag(), ct]);
}

/** The plaintext templates of a person's stored blob; TEMPLATE_SEAL_BROKEN if it was edited, moved to another person or sealed under another key. */
export function openTemplates(key: Buffer, personId: string, stored: Uint8Array): Buffer[] {
  const broken = (why: string, cause?: unknown) => new CentreKeyError('TEMPLATE_SEAL_BROKEN', `templates of ${personId} ${why}`, cause === undefined ? undefined : { cause });
  const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  if (buf.length < 1 + IV_BYTES + TAG_BYTES + 1 || buf[0] !== TEMPLATES_V1) throw broken('are not a sealed templates blob');
  const d = createDecipheriv('aes-256-gcm', key, buf.subarray(1, 1 + IV_BYTES));
  d.setAAD(templatesBinding(personId));
  d.setAuthTag(buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
  let plain: Buffer;
  try {
    plain = d.update(buf.subarray(1 + IV_BYTES + TAG_BYTES));
    // GCM's final checks the tag and gives no bytes, so no concat (a copy of every candidate a check).
    if (d.final().length !== 0) throw new Error('AES-GCM final gave bytes');
  } catch (err) {
    throw broken('fail authentication (edited, moved to another person, or another key)', err);
  }
  const out: Buffer[] = [];
  let at = 1;
  for (let i = 0; i < plain[0]!; i++) {
    const len = at + 4 <= plain.length ? plain.readUInt32BE(at) : -1;
    if (len < 0 || at + 4 + len > plain.length) throw broken('are cut short inside their seal');
    out.push(plain.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== plain.length) throw broken('hold bytes after their last template');
  return out;
}

const templatesBinding = (personId: string) => Buffer.from(`templates:${personId}`);

/**
 * The templates of a `templates_json` column (before centre migration 18): a JSON array of base64 strings, each
 * sealed on its own (`s1:`, bound to person and position) or, older still, plaintext. Read once, at start, to move
 * them into the blob (service.ts).
 */
export function openLegacyTemplates(key: Buffer, personId: string, stored: string): Buffer[] {
  let items: unknown;
  try {
    items = JSON.parse(stored);
  } catch (err) {
    throw new CentreKeyError('TEMPLATE_SEAL_BROKEN', `the stored templates of ${personId} are not JSON`, { cause: err });
  }
  if (!Array.isArray(items) || !items.every((s): s is string => typeof s === 'string')) throw new CentreKeyError('TEMPLATE_SEAL_BROKEN', `the stored templates of ${personId} are not a list of strings`);
  return items.map((s, i) => (s.startsWith(SEALED) ? openBound(key, `${personId}#${i}`, s, `template ${i} of ${personId}`) : Buffer.from(s, 'base64')));
}

/**
 * One template update slot's capture for the database (issue 19): AES-256-GCM under the template key, bound to the
 * person and the update id, so a slot copied to another person or another update does not open.
 */
export function sealSlot(key: Buffer, personId: string, updateId: string, capture: Uint8Array): string {
  return sealBound(key, `${personId}#slot:${updateId}`, capture);
}

export function openSlot(key: Buffer, personId: string, updateId: string, stored: string): Buffer {
  return openBound(key, `${personId}#slot:${updateId}`, stored, `update slot ${updateId} of ${personId}`);
}

/**
 * A palm module's feature blob for the database (issue 14 §2): like a slot, under the template key, bound to the
 * person and the module family, so a feature copied to another person or labelled another family does not open.
 */
export function sealModuleFeature(key: Buffer, personId: string, family: string, feature: Uint8Array): string {
  return sealBound(key, `${personId}#module:${family}`, feature);
}

export function openModuleFeature(key: Buffer, personId: string, family: string, stored: string): Buffer {
  return openBound(key, `${personId}#module:${family}`, stored, `the ${family} module feature of ${personId}`);
}

/** AES-256-GCM under `key` with `aad` as the binding: `s1:` + base64(iv ‖ tag ‖ ciphertext). */
function sealBound(key: Buffer, aad: string, plain: Uint8Array): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return SEALED + Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}

function openBound(key: Buffer, aad: string, stored: string, what: string): Buffer {
  if (!stored.startsWith(SEALED)) throw new CentreKeyError('TEMPLATE_SEAL_BROKEN', `${what} is not sealed`);
  const buf = Buffer.from(stored.slice(SEALED.length), 'base64');
  const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(buf.subarray(12, 28));
  try {
    return Buffer.concat([d.update(buf.subarray(28)), d.final()]);
  } catch (err) {
    throw new CentreKeyError('TEMPLATE_SEAL_BROKEN', `${what} fails authentication (edited, moved, or another key)`, { cause: err });
  }
}
