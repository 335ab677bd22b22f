/**
 * A module's VERIFY answer is a claim made over a wire anyone with a screwdriver can reach: a device in
 * the middle of the serial line can answer "user 17 verified". It is never proof by itself. This is the
 * one rule, pure, at the driver/host boundary: a verdict is accepted only when the host confirmed it,
 *  - by matching the capture's feature (read from the module where it offers feature transfer) against
 *    the template the host holds for the claimed user (the host supplies the matcher), or
 *  - by the person's PIN, checked by the host, on every payment decided by the module.
 * A feature that does not match refuses the verdict, PIN or not (the palm on the glass is someone else).
 */
export interface ModuleVerdict {
  userId: number;
  /** The pseudonymous id stored on the module (never a person's name). */
  name: string;
  admin: boolean;
  unlockStatus: number;
  /** What the host can check the claim against, if the module offers anything. */
  evidence: { kind: 'capture_feature'; feature: Uint8Array } | null;
  /** Always true as it leaves the driver: only judgeVerdict() can accept it. */
  verdictUnconfirmed: true;
  /** Why it is unconfirmed, for the screen and the log. */
  why: string;
}

export interface VerdictChecks {
  /** The host's matcher: does this capture feature belong to the claimed module user? */
  matchFeature?: (feature: Uint8Array, userId: number) => boolean;
  /** The host checked the claimed person's PIN for this payment. */
  pinVerified?: boolean;
}

export type VerdictDecision =
  | { accepted: true; userId: number; via: 'host_match' | 'pin' }
  | { accepted: false; code: 'VERDICT_UNCONFIRMED' | 'VERDICT_CONTRADICTED'; reason: string; askPin: boolean };

export function judgeVerdict(v: ModuleVerdict, checks: VerdictChecks): VerdictDecision {
  if (v.evidence && checks.matchFeature) {
    if (checks.matchFeature(v.evidence.feature, v.userId)) return { accepted: true, userId: v.userId, via: 'host_match' };
    return { accepted: false, code: 'VERDICT_CONTRADICTED', reason: `the palm captured does not match user ${v.userId}'s template: the module's verdict (or the line) is false`, askPin: false };
  }
  if (checks.pinVerified) return { accepted: true, userId: v.userId, via: 'pin' };
  return { accepted: false, code: 'VERDICT_UNCONFIRMED', reason: `the module's verdict is unconfirmed (${v.why}): ask for the PIN`, askPin: true };
}
