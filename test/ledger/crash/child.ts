// Crash-harness child: appends offline purchases as fast as it can and prints "ack <seq> <hash>" after each
// commit (stdout to a pipe is synchronous on Linux, so a printed ack is in the parent's pipe before the next append).
// Usage: node --import tsx child.ts DATA_DIR [MAX_MS]   (the parent SIGKILLs it at random moments)
import { openTerminal } from '../../../src/ledger/open.ts';
import { filePermissionsProtector } from '../../../src/ledger/keyprotect.ts';

const dir = process.argv[2]!;
// Safety: never outlive the harness (orphaned, or past the deadline given in argv[3]).
const deadline = Date.now() + Number(process.argv[3] ?? 60_000);
const parent = process.ppid;
const t = openTerminal(dir, { protector: filePermissionsProtector() });
process.stdout.write(`ready ${t.ledger.head().seq}\n`);
let n = 0;
for (;;) {
  const rec = t.ledger.append({
    type: 'purchase',
    operatorId: 'op-crash',
    purchaseId: `p-${process.pid}-${n++}`,
    customerId: 'cust-1',
    accountId: 'acct-1',
    amountMinor: 1 + (n % 997),
    currency: 'SYP',
    pinVerified: false,
    offline: true,
  });
  process.stdout.write(`ack ${rec.seq} ${rec.hash}\n`);
  if (n % 64 === 0 && (process.ppid !== parent || Date.now() > deadline)) process.exit(0);
}
