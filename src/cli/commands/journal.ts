// `palmpay journal …`: provision a terminal identity, and verify the signed journal.
import type { Command } from 'commander';
import { PalmPayError } from '../../util/errors.ts';

export function registerJournal(program: Command): void {
  const journal = program.command('journal').description('the terminal’s signed, hash-chained journal');

  journal
    .command('provision')
    .description('create this terminal’s Ed25519 identity and data key (once)')
    .requiredOption('--terminal-id <id>', 'terminal id issued by the centre')
    .option('--data <dir>', 'data folder (default: the platform user-data folder)')
    .action(async (opts: { terminalId: string; data?: string }) => {
      const { prepareDataDir } = await import('../../util/paths.ts');
      const { provisionTerminal, openTerminal } = await import('../../ledger/open.ts');
      const dir = prepareDataDir(opts.data);
      const id = provisionTerminal(dir, opts.terminalId);
      openTerminal(dir).close(); // creates and binds the database
      console.log(`terminal ${id.terminalId} provisioned in ${dir}`);
      console.log(`public key ${Buffer.from(id.publicKey).toString('hex')} (register it with the centre)`);
      console.log(`private key protected by: ${id.protector}`);
    });

  journal
    .command('verify')
    .description('check the file (quick_check), every signature, the hash chain and the gapless sequence (name the first bad record), and compare the head and the sealed limits and operators with the signed anchor')
    .option('--data <dir>', 'data folder (default: the platform user-data folder)')
    .option('--public-key <hex>', 'verify against this public key (default: the one in the terminal’s key file)')
    .option('--json', 'print the verdict as JSON (a bad journal still exits 1)')
    .action(async (opts: { data?: string; publicKey?: string; json?: boolean }) => {
      const { existsSync } = await import('node:fs');
      const { resolve } = await import('node:path');
      const { defaultDataDir } = await import('../../util/paths.ts');
      const { readPublicIdentity } = await import('../../ledger/keystore.ts');
      const { openStore } = await import('../../store/store.ts');
      const { dbPath } = await import('../../ledger/open.ts');
      const { verifyJournal } = await import('../../ledger/verify-journal.ts');
      const dir = resolve(opts.data ?? defaultDataDir());
      const file = dbPath(dir);
      if (!existsSync(file)) throw new PalmPayError('STORE_MISSING', `no terminal database at ${file}`);
      const identity = readPublicIdentity(dir);
      let publicKey = identity.publicKey;
      if (opts.publicKey !== undefined) {
        if (!/^[0-9a-f]{64}$/i.test(opts.publicKey)) throw new PalmPayError('BAD_ARGUMENT', '--public-key must be 64 hex characters');
        publicKey = Buffer.from(opts.publicKey, 'hex');
      }
      const store = openStore(file, { quickCheck: true }); // damaged pages: STORE_CORRUPT before any record is read
      try {
        const r = verifyJournal(store, publicKey, identity.terminalId);
        // The newest records deleted leave a valid but shorter chain: the signed head anchor outside the database says so.
        // It also holds the digest of the sealed limits, operators and PIN lockouts: a sealed row deleted or put back from an older copy.
        const { ANCHOR_MISSING, anchorProblem, readAnchor } = await import('../../ledger/anchor.ts');
        const { anchoredStateMatches } = await import('../../ledger/local-trust.ts');
        const anchor = r.ok ? readAnchor(dir, identity.terminalId, publicKey) : undefined;
        const truncated = !r.ok ? undefined : anchor ? anchorProblem(anchor, { seq: r.lastSeq, hash: r.lastHash }, (seq) => store.journal.get(seq)?.hash) : r.count > 0 ? ANCHOR_MISSING : undefined;
        const stateBad = r.ok && anchor !== undefined && !anchoredStateMatches(anchor, store);
        if (opts.json) {
          const verdict = r.ok && !truncated && !stateBad
            ? { ok: true, terminal_id: identity.terminalId, record_count: r.count, head_seq: r.lastSeq, head_hash: r.lastHash }
            : r.ok
              ? { ok: false, terminal_id: identity.terminalId, kind: truncated ? (anchor ? 'truncated' : 'anchor-missing') : 'local-state', verified_count: r.count, message: truncated ?? 'the sealed offline limits or operators differ from the anchored state' }
              : { ok: false, terminal_id: identity.terminalId, kind: r.kind, first_bad_seq: r.seq, verified_count: r.verifiedCount, message: r.message };
          console.log(JSON.stringify(verdict, null, 2));
        }
        if (!r.ok) throw new PalmPayError('JOURNAL_TAMPERED', `journal BAD (${r.kind}): ${r.message}; ${r.verifiedCount} record(s) before it verified`);
        if (truncated && !anchor) throw new PalmPayError('JOURNAL_ANCHOR_MISSING', `journal BAD (anchor missing): ${truncated}`);
        if (truncated) throw new PalmPayError('JOURNAL_TAMPERED', `journal BAD (truncated): ${truncated}`);
        if (stateBad) throw new PalmPayError('LOCAL_STATE_TAMPERED', 'journal BAD (local state): the sealed offline limits or operators differ from the anchored state (a row deleted, or put back from an older copy)');
        if (!opts.json) console.log(`journal OK: ${r.count} record(s) of terminal ${identity.terminalId}, head seq ${r.lastSeq} hash ${r.lastHash}`);
      } finally {
        store.close();
      }
    });
}
