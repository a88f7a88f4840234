import type { LoanChange } from '../../ports/risk-store.ts';

/** The history item of a loan that closed: no state today, its last grade and DPD bucket kept. */
export function closedLoanChange(
  loanId: string,
  borrowerRef: string,
  before: { grade: string; dpdBucket: string },
): LoanChange {
  return {
    loanId,
    change: 'closed',
    borrowerRef,
    grade: null,
    score: null,
    pd: null,
    dpdBucket: null,
    classification: null,
    stage: null,
    flags: [],
    outstanding: 0,
    previousGrade: before.grade,
    previousDpdBucket: before.dpdBucket,
  };
}
