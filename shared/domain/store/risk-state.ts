/**
 * Conversions into and out of the store's shapes: an engine assessment into the LoanRiskState
 * the score file and diff use, and a night's states into breach index entries. Pure.
 */
import type { BreachEntry, LoanRiskState, RiskGrade } from '../../ports/risk-store.ts';

/** The fields of an engine assessment (LoanAssessment or ScoredLoan) the risk state needs. */
export interface AssessedLoan {
  loanId: string;
  score: number;
  grade: RiskGrade;
  pd: number;
  dpdBucket: string;
  classification: string;
  ruleCodes: readonly string[];
  flags: readonly string[];
  outstanding: number;
}

/** The risk state of an assessed loan: rule codes and flags merged and sorted so diffs compare lists exactly. */
export function toLoanRiskState(assessed: AssessedLoan, borrowerRef: string): LoanRiskState {
  const flags =
    assessed.ruleCodes.length === 0 && assessed.flags.length === 0
      ? []
      : [...assessed.ruleCodes, ...assessed.flags].sort();
  return {
    loanId: assessed.loanId,
    borrowerRef,
    grade: assessed.grade,
    score: assessed.score,
    pd: assessed.pd,
    dpdBucket: assessed.dpdBucket,
    classification: assessed.classification,
    flags,
    outstanding: assessed.outstanding,
  };
}

/** One breach entry per (loan, breach rule) among the states, for the date's breach index. */
export function breachEntries(
  states: Iterable<LoanRiskState>,
  breachRuleCodes: ReadonlySet<string>,
): BreachEntry[] {
  const out: BreachEntry[] = [];
  for (const s of states) {
    for (const code of s.flags) {
      if (breachRuleCodes.has(code)) {
        out.push({
          ruleCode: code,
          loanId: s.loanId,
          borrowerRef: s.borrowerRef,
          grade: s.grade,
          outstanding: s.outstanding,
        });
      }
    }
  }
  return out;
}
