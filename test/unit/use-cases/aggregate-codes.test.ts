import { describe, expect, it } from 'vitest';
import { aggregateCodes } from '../../../shared/use-cases/merge-scores.ts';

describe('Function: aggregateCodes', () => {
  const attach = aggregateCodes({
    borrowerHits: [
      ['b1', { all: ['BORROWER_NET_ASSETS_10'], consumption: ['CONSUMER_BALANCE_CAP'], business: [] }],
      ['b2', { all: [], consumption: [], business: ['BUSINESS_BALANCE_CAP'] }],
    ],
    partnerHits: [['PB-1', ['CO_LENDING_PARTNER_CAP']]],
    coLentHits: ['CO_LENDING_TOTAL_CAP'],
  });
  const loan = (over: Partial<Parameters<typeof attach>[0]> = {}) => ({
    borrowerKey: 'b9',
    loanPurpose: 'consumption' as const,
    partnerId: null as string | null,
    coLent: false,
    ...over,
  });

  it("gives a loan its borrower's codes on all loans and on its purpose's", () => {
    expect(attach(loan({ borrowerKey: 'b1' }))).toEqual(['BORROWER_NET_ASSETS_10', 'CONSUMER_BALANCE_CAP']);
    expect(attach(loan({ borrowerKey: 'b1', loanPurpose: 'business' }))).toEqual(['BORROWER_NET_ASSETS_10']);
    expect(attach(loan({ borrowerKey: 'b2' }))).toBeNull();
    expect(attach(loan({ borrowerKey: 'b2', loanPurpose: 'business' }))).toEqual(['BUSINESS_BALANCE_CAP']);
  });

  it("gives a co-lent loan its partner's and the portfolio's codes, and a loan that is not co-lent neither", () => {
    expect(attach(loan({ partnerId: 'PB-1', coLent: true }))).toEqual([
      'CO_LENDING_PARTNER_CAP',
      'CO_LENDING_TOTAL_CAP',
    ]);
    expect(attach(loan({ partnerId: 'PB-2', coLent: true }))).toEqual(['CO_LENDING_TOTAL_CAP']);
    // Facilitated by the partner, not co-funded: no co-lending limit concerns it.
    expect(attach(loan({ partnerId: 'PB-1', coLent: false }))).toBeNull();
  });
});
