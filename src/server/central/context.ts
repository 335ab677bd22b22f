// What every part of the centre's service shares: the repository, the centre's identity, its clock, options and
// counters, and the key that seals templates at rest. Built once by `Central.open` (service.ts).
import { signTime, type ServerIdentity, type SignedTime } from '../../protocol/crypto.ts';
import { openModuleFeature, openSlot, openTemplates, sealModuleFeature, sealSlot, sealTemplates } from '../keys.ts';
import type { OpenTemplates } from '../palm-index.ts';
import type { Repo, RepoOptions } from '../repo.ts';
import type { TemplateAuditLimits } from '../../biometrics/template-audit.ts';

export interface CentralOptions {
  now?: () => number;
  /** Offline allowance ceiling per customer and currency, in minor units. */
  allowanceCap?: Record<string, number>;
  /** Largest request clock skew accepted on terminal requests. Default 5 minutes (a terminal corrects its
   * clock from the centre's nonce-bound signed time when refused). */
  maxSkewMs?: number;
  /** Threads verifying signatures of large batches (default: min(4, cores)). */
  verifyThreads?: number;
  /** Folder of the centre's key file (default: next to the SQLite file; see keys.ts for PostgreSQL). */
  keyDir?: string;
  /** Reports one terminal may ask for per minute and per day (report/access.ts; defaults 6 and 200). */
  reportsPerMinute?: number;
  reportsPerDay?: number;
  /**
   * What the audit of an enrolment's templates accepts (template-audit.ts). Default CENTRE_TEMPLATE_LIMITS: the
   * production coder. Only a bench whose synthetic gallery is of another coder names that coder here.
   */
  templateLimits?: TemplateAuditLimits;
  /** Pool size, pool error hook, whether to migrate on open. */
  storage?: RepoOptions;
  /** Progress of long work at start (moving templates after migration 18), a line at a time; default silent. */
  say?: (line: string) => void;
}

export interface Counters {
  batches: number;
  records: Record<string, number>;
  authFailures: number;
}

export class CentreContext {
  readonly counters: Counters = { batches: 0, records: {}, authFailures: 0 };
  readonly now: () => number;
  /** A person's plaintext templates from the stored (sealed) column. */
  readonly openStored: OpenTemplates;

  constructor(
    readonly repo: Repo,
    readonly identity: ServerIdentity,
    /** Seals templates at rest; kept in the key file, never in the database. */
    private readonly templateKey: Buffer,
    readonly opts: CentralOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.openStored = (id, stored) => openTemplates(templateKey, id, stored);
  }

  /** A person's plaintext templates, none when they have not arrived yet. */
  templatesOf(p: { id: string; templates: Uint8Array | null }): Buffer[] {
    return p.templates === null ? [] : this.openStored(p.id, p.templates);
  }

  /** Templates as stored at rest: one blob sealed under the template key, bound to the person. */
  seal(personId: string, templates: readonly Uint8Array[]): Buffer {
    return sealTemplates(this.templateKey, personId, templates);
  }

  /** A template update slot's capture at rest (issue 19): sealed under the template key, bound to person and update. */
  sealSlot(personId: string, updateId: string, capture: Uint8Array): string {
    return sealSlot(this.templateKey, personId, updateId, capture);
  }

  openSlot(personId: string, updateId: string, stored: string): Buffer {
    return openSlot(this.templateKey, personId, updateId, stored);
  }

  /** A palm module's feature at rest (issue 14 §2): sealed under the template key, bound to person and family. */
  sealModuleFeature(personId: string, family: string, feature: Uint8Array): string {
    return sealModuleFeature(this.templateKey, personId, family, feature);
  }

  openModuleFeature(personId: string, family: string, stored: string): Buffer {
    return openModuleFeature(this.templateKey, personId, family, stored);
  }

  signedTime(): SignedTime {
    return signTime(this.identity, this.now());
  }
}
