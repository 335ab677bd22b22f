// What a party holding only the codes (the centre: it never sees a frame) can re-check of an enrolment's templates
// before it believes them. A terminal that is malicious or stolen signs whatever it likes, so the centre re-checks
// what the bytes themselves show: they decode; they come from the centre's own coder and parameters (else its
// duplicate check and every counter's matcher compare unlike codes); at most one template per hand, of a named hand
// (several templates per hand would let one person answer for several palms); each capture covers the palm square
// (an almost fully-masked code matches on a handful of cells, and so, weakly, everyone); the captures are distinct
// live captures (one capture copied three times, or copied across the hands, is not an enrolment) and of one palm
// (a capture of another person's palm slipped into a hand is refused, whoever it belongs to). Pure.
import { COPY_DISTANCE, DEFAULT_EXTRACT, THRESHOLDS } from './config.ts';
import { codeDistance } from './match.ts';
import { QUALITY_LIMITS } from './quality.ts';
import { decodeTemplate, sameParams } from './template.ts';
import type { CoderId, CoderParams, FeatureCode, Template } from './types.ts';

export type TemplateAuditCode =
  | 'TEMPLATE_MALFORMED'
  | 'TEMPLATE_CODER_MISMATCH'
  | 'TEMPLATE_HANDS_INVALID'
  | 'TEMPLATE_COVERAGE_LOW'
  | 'TEMPLATE_CAPTURES_COPIED'
  | 'TEMPLATE_CAPTURES_INCONSISTENT';

export interface TemplateAuditRefusal {
  code: TemplateAuditCode;
  message: string;
}

export interface TemplateAuditLimits {
  coder: CoderId;
  params: CoderParams;
  /** Least share of the palm square each capture's code covers (its validity mask). */
  minCoverage: number;
  /** Two captures closer than this are one capture copied (config.ts COPY_DISTANCE). */
  copyDistance: number;
  /** Two captures of one hand farther apart than this are not of one palm. */
  samePalmDistance: number;
}

/**
 * The limits the centre applies: its own coder; the enrolment coverage limit (the one a counter's enrolment capture
 * passed); captures of one hand linked within the FMR 1 % threshold (0.3335). Same-session genuine distances (what
 * one enrolment's captures are), elastic matcher, all pairs: CASIA-940 dev 50 ids, 292 pairs, max 0.2777; PolyU NIR
 * first 40 palms, 1 186 pairs, 99.9th percentile 0.3193, max 0.3271, none above 0.3335 (2026-12-06). Since the
 * captures need only be linked, not every pair close, one poor pair does not refuse an honest enrolment.
 */
export const CENTRE_TEMPLATE_LIMITS: TemplateAuditLimits = {
  coder: DEFAULT_EXTRACT.coder,
  params: DEFAULT_EXTRACT.params,
  minCoverage: QUALITY_LIMITS.enrol.minRoiCoverage,
  copyDistance: COPY_DISTANCE,
  samePalmDistance: THRESHOLDS.fmr1e2,
};

/** Decodes an enrolment's templates, or says (typed) why the centre refuses them. */
export function auditEnrolmentTemplates(bytes: readonly Uint8Array[], limits: TemplateAuditLimits = CENTRE_TEMPLATE_LIMITS): { ok: true; templates: Template[] } | { ok: false; refusal: TemplateAuditRefusal } {
  const refuse = (code: TemplateAuditCode, message: string) => ({ ok: false as const, refusal: { code, message } });
  const templates: Template[] = [];
  for (const [i, b] of bytes.entries()) {
    try {
      templates.push(decodeTemplate(b));
    } catch (err) {
      return refuse('TEMPLATE_MALFORMED', `template ${i + 1} does not decode (${(err as Error).message})`);
    }
  }
  for (const [i, t] of templates.entries()) {
    if (t.coder !== limits.coder || !sameParams(t.coderParams, limits.params)) {
      return refuse('TEMPLATE_CODER_MISMATCH', `template ${i + 1} is ${t.coder} λ ${t.coderParams.wavelength10 / 10}, the centre codes ${limits.coder} λ ${limits.params.wavelength10 / 10}`);
    }
    if (t.codes[0]!.rows !== templates[0]!.codes[0]!.rows) return refuse('TEMPLATE_CODER_MISMATCH', `template ${i + 1} has a code grid of another size`);
  }
  const hands = templates.map((t) => t.hand);
  if (hands.some((h) => h === 'unknown') || new Set(hands).size !== hands.length) {
    return refuse('TEMPLATE_HANDS_INVALID', `one template per hand, each of a named hand (got ${hands.join(', ')})`);
  }
  for (const [i, t] of templates.entries()) {
    for (const [k, c] of t.codes.entries()) {
      const coverage = codeCoverage(c);
      if (coverage < limits.minCoverage) {
        return refuse('TEMPLATE_COVERAGE_LOW', `capture ${k + 1} of template ${i + 1} codes ${(coverage * 100).toFixed(1)} % of the palm square (at least ${(limits.minCoverage * 100).toFixed(0)} %)`);
      }
    }
  }
  // Every capture against every other, across both hands: a copy is refused wherever it sits. Within a hand, the
  // captures must hang together as one palm: linked, each to some other, within samePalmDistance (connected, not
  // every pair: an honest hand's worst pair may be a poor one, but two palms' captures never link up).
  const all: Array<{ code: FeatureCode; template: number; index: number }> = templates.flatMap((t, i) => t.codes.map((code, index) => ({ code, template: i, index })));
  const group = all.map((_, i) => i);
  const root = (i: number): number => (group[i] === i ? i : (group[i] = root(group[i]!)));
  for (let x = 0; x < all.length; x++) {
    for (let y = x + 1; y < all.length; y++) {
      const a = all[x]!;
      const b = all[y]!;
      const d = codeDistance(a.code, b.code);
      if (d < limits.copyDistance) {
        return refuse('TEMPLATE_CAPTURES_COPIED', `capture ${a.index + 1} of template ${a.template + 1} and capture ${b.index + 1} of template ${b.template + 1} are one capture copied (distance ${d.toFixed(4)})`);
      }
      if (a.template === b.template && d <= limits.samePalmDistance) group[root(x)] = root(y);
    }
  }
  for (const [i, t] of templates.entries()) {
    const parts = new Set(all.flatMap((c, k) => (c.template === i ? [root(k)] : [])));
    if (parts.size > 1) return refuse('TEMPLATE_CAPTURES_INCONSISTENT', `the ${t.codes.length} captures of template ${i + 1} (${t.hand} hand) are not of one palm: they fall into ${parts.size} groups that do not match each other`);
  }
  return { ok: true, templates };
}

/** Fraction of a code's cells that lie on the palm and were coded (its validity mask). */
export function codeCoverage(c: FeatureCode): number {
  let n = 0;
  for (const w of c.mask) {
    let v = w >>> 0;
    while (v) {
      v &= v - 1;
      n++;
    }
  }
  return n / (c.rows * c.cols);
}

/** Whether two codes are one capture copied rather than two live captures (config.ts COPY_DISTANCE). */
export function isCopy(a: FeatureCode, b: FeatureCode, copyDistance = COPY_DISTANCE): boolean {
  return codeDistance(a, b) < copyDistance;
}
