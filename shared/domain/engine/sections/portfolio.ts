/**
 * The portfolio section: loan and borrower counts, total principal and outstanding, the
 * outstanding-weighted average rate, count and outstanding by days-past-due bucket, by regulatory
 * classification and by IFRS 9 stage, the NPL ratio (substandard, doubtful and loss over the
 * book), the expected loss and the outstanding by maturity band.
 */

import {
  CLASSIFICATIONS,
  type CountOutstanding,
  DPD_BUCKETS,
  IFRS9_STAGES,
  MATURITY_BANDS,
  type PortfolioSection,
} from '../../audit-result.ts';
import type { PartialAudit } from '../accumulator.ts';
import type { BorrowerTable } from '../borrower-table.ts';
import { exactSumValue } from '../exact-sum.ts';
import { inFen, ratio, totalFen, yuan } from './helpers.ts';

const co = (count: number, fen: number, sub: number): CountOutstanding => ({
  count,
  outstanding: yuan(fen, sub),
});

function keyed<K extends string, V>(keys: readonly K[], f: (i: number) => V): Record<K, V> {
  const out = {} as Record<K, V>;
  keys.forEach((k, i) => {
    out[k] = f(i);
  });
  return out;
}

/** Builds the portfolio section of a merged partial, its borrowers counted from its borrower table. */
export function portfolioSection(
  partial: PartialAudit,
  table: BorrowerTable,
  currency: string,
): PortfolioSection {
  const sub = partial.sub;
  const total = totalFen(partial);
  return {
    currency,
    loanCount: partial.loans,
    borrowerCount: table.size,
    totalPrincipal: yuan(partial.principalFen, sub.principal),
    totalOutstanding: yuan(partial.outstandingFen, sub.outstanding),
    weightedAverageRate: ratio(exactSumValue(partial.rateFen), total),
    dpdBuckets: keyed(DPD_BUCKETS, (i) => co(partial.dpdCount[i]!, partial.dpdFen[i]!, sub.dpd[i]!)),
    classification: keyed(CLASSIFICATIONS, (i) =>
      co(partial.classCount[i]!, partial.classFen[i]!, sub.class[i]!),
    ),
    nplRatio: ratio(
      inFen(
        partial.classFen[2]! + partial.classFen[3]! + partial.classFen[4]!,
        sub.class[2]! + sub.class[3]! + sub.class[4]!,
      ),
      total,
    ),
    ifrs9Stages: keyed(IFRS9_STAGES, (i) => co(partial.stageCount[i]!, partial.stageFen[i]!, sub.stage[i]!)),
    expectedLoss: exactSumValue(partial.expectedLoss),
    maturityLadder: keyed(MATURITY_BANDS, (i) => yuan(partial.maturityFen[i]!, sub.maturity[i]!)),
  };
}
