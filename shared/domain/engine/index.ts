/** The risk engine's public API: per-loan assessment, mergeable accumulation and the audit. */
export {
  type AuditAccumulator,
  createAccumulator,
  emptyPartial,
  mergePartialList,
  mergePartials,
  type PartialAudit,
  type PreviousSummary,
} from './accumulator.ts';
export { exactAdd, exactMerge, exactSumValue } from './exact-sum.ts';
export { aggregateRuleHits, type FinalizeContext, finalizeAudit, tapeDigest } from './finalize.ts';
export { borrowerKey, borrowerRef, borrowerRefFromKey } from './hash.ts';
export { buildPreviousTape, type CanonicalPreviousTape, PreviousTape } from './previous-tape.ts';
export {
  assessLoan,
  createLoanAssessor,
  GRADES,
  type Grade,
  type LoanAssessment,
  type LoanAssessor,
  riskStateChanged,
  SCORECARD,
} from './scorecard.ts';
