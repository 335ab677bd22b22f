// The one entry the host (src/host) imports from the recogniser: frame → template (extract), the template codec,
// 1:1 scores and the decision threshold, and the 1:N identifier with its sealed index snapshot. Everything else in
// this folder is the recogniser's own business; lint keeps the host to this module.
export { extract } from './extract.ts';
export { downsample } from './image.ts';
export { decodeTemplate, encodeTemplate, fuseTemplates } from './template.ts';
export { anyHand, matchScore } from './match.ts';
export { DECISION_THRESHOLD } from './config.ts';
export { meetsEnrolQuality } from './quality.ts';
export type { RoiMeasurements } from './extract.ts';
export { proposeTemplateUpdate, TEMPLATE_UPDATE_POLICY, type UpdatableTemplate, type UpdateDecision } from './template-update.ts';
export type { GreyFrame, Hand, Template } from './types.ts';
export {
  coarseCode,
  DEFAULT_POLICY,
  lazyPalmIdentifier,
  loadEnrolments,
  openSnapshot,
  sealSnapshot,
  SnapshotError,
  stage2Score,
  type LoadReport,
  type PalmRef,
  type SealedTemplate,
  type SnapshotEntry,
  type StoredEnrolment,
} from './identify/palm.ts';
export { skipReport, type Identifier as PalmIndex, type Skipped } from './identify/identifier.ts';
export { ENTRY_CODE_BYTES } from './identify/kernel/kernel.ts';
