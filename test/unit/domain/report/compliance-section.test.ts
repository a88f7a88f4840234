import { describe, expect, it } from 'vitest';
import type { AuditResult } from '../../../../shared/domain/audit-result.ts';
import { createAccumulator } from '../../../../shared/domain/engine/accumulator.ts';
import { finalizeAudit } from '../../../../shared/domain/engine/finalize.ts';
import type { Loan } from '../../../../shared/domain/loan.ts';
import type { Policy } from '../../../../shared/domain/policy/policy.ts';
import { complianceSection } from '../../../../shared/domain/report/compliance-section.ts';
import { buildFullReportModel } from '../../../../shared/domain/report/full-report.ts';
import { buildReportModel } from '../../../../shared/domain/report/model.ts';
import { renderReportText } from '../../../../shared/domain/report/text.ts';
import { fixtureReportInput } from '../../../fixtures/report/load.ts';
import { intakeOf, makeLoan, policyFor } from '../engine/helpers.ts';

function auditOf(loans: Loan[], policy: Policy): AuditResult {
  const acc = createAccumulator(policy, null);
  for (const l of loans) acc.add(l);
  return finalizeAudit(acc.toPartial(), intakeOf(loans), {
    snapshotDate: policy.resolution!.snapshotDate,
    previousSnapshotDate: null,
    policy,
    borrowerRefKey: 'k',
  });
}

// A bank's book: one loan above 36% (breach), one student's consumer loan (watch), nothing else.
const bank = policyFor({ licence: 'bank', tier1Capital: 1_000_000 }, '2026-11-25');
const loans = [
  makeLoan({ loanId: 'A', borrowerId: 'A', annualRate: 0.4, outstandingPrincipal: 2500, borrowerAge: 30 }),
  makeLoan({ loanId: 'B', borrowerId: 'B', product: 'consumer_credit', isStudent: true, borrowerAge: 20 }),
];

describe('Function: complianceSection', () => {
  const audit = auditOf(loans, bank);
  const section = complianceSection(audit, audit.findings, {}, null, 'CNY');

  it('says what was checked, what was off, and for which lender', () => {
    expect(section.lines).toEqual([
      'Rule pack default 2026.12.0 for a bank; amounts in CNY.',
      '1 loan is in breach of 1 rule; 1 rule on watch.',
      '11 rules checked, 0 rules not yet in force, 10 rules not applicable to this lender.',
    ]);
  });

  it('groups the rules by status, each with its source, number or "no public number", binding kind and date', () => {
    expect(section.tables.map((t) => t.caption)).toEqual([
      'In force: checked on this tape',
      'Not applicable to this lender',
    ]);
    const inForce = section.tables[0]!;
    expect(inForce.columns.map((c) => c.label)).toEqual([
      'Rule',
      'Severity',
      'Result',
      'Loans',
      'Borrowers',
      'Outstanding',
      'Source',
      'In force from',
    ]);
    // Breached first, then watched, then clear.
    expect(inForce.rows[0]).toEqual([
      'COST_ABOVE_36',
      'breach',
      'breached',
      '1',
      '1',
      '¥2,500',
      'Notice on Regulating and Rectifying "Cash Loan" Business, Zheng Zhi Ban Han [2017] No. 141 (normative document)',
      '2017-12-01',
    ]);
    expect(inForce.rows[1]?.slice(0, 4)).toEqual(['STUDENT_LOAN_REVIEW', 'watch', 'on watch', '1']);
    expect(inForce.rows.find((r) => r[0] === 'MINOR_BORROWER')).toEqual([
      'MINOR_BORROWER',
      'breach',
      'clear',
      '0',
      '0',
      '¥0',
      "Civil Code of the People's Republic of China, Arts. 17-19, no public number (law)",
      '2021-01-01',
    ]);
    const off = section.tables[1]!;
    expect(off.columns.map((c) => c.label)).toEqual(['Rule', 'Status', 'Why', 'Source', 'In force from']);
    expect(off.rows.find((r) => r[0] === 'COST_ABOVE_24_NEW')).toEqual([
      'COST_ABOVE_24_NEW',
      'not applicable',
      "binds online micro-loan companies and micro-loan companies only, and the pack's lender is a bank",
      'Guidelines on the Management of Comprehensive Financing Costs of Micro-Loan Companies, no public number (supervisory guidance)',
      '2025-12-24',
    ]);
  });

  it('lists the rules not yet in force on an old tape', () => {
    const old = auditOf(
      [makeLoan({ snapshotDate: '2020-06-30', originationDate: '2020-01-01', maturityDate: '2021-01-01' })],
      policyFor({ licence: 'bank' }, '2020-06-30'),
    );
    const s = complianceSection(old, old.findings, {}, null, 'CNY');
    expect(s.tables.map((t) => [t.caption, t.rows.length])).toEqual([
      ['In force: checked on this tape', 1],
      ['Not yet in force on this date', 20],
    ]);
    expect(s.tables[1]!.rows.find((r) => r[0] === 'MINOR_BORROWER')?.[2]).toBe(
      "in force from 2021-01-01, after the tape's date 2020-06-30",
    );
  });
});

describe('Function: buildReportModel (the tape currency and the loans in breach)', () => {
  it("names loans in breach in the headline, and shows amounts in the tape's currency", () => {
    const usd = policyFor({ licence: 'bank' }, '2026-11-25', 'USD');
    const audit = auditOf(
      loans.map((l) => ({ ...l, currency: 'USD' })),
      usd,
    );
    const input = { ...fixtureReportInput(), audit, previous: null, trend: [] };
    const model = buildReportModel(input);
    expect(model.headline.find((h) => h.label === 'Loans in breach')?.value).toBe('1');
    expect(model.headline.find((h) => h.label === 'Outstanding')?.value).toBe('USD 3,500');
    expect(model.footer.join(' ')).toMatch(/Amounts in USD/);
    expect(renderReportText(model)).not.toMatch(/¥/);
    const full = buildFullReportModel(input);
    const compliance = full.sections.find((x) => x.id === 'compliance')!;
    expect(compliance.tables.map((t) => t.caption)).toContain('Not applicable to this lender');
    expect(JSON.stringify(full)).not.toMatch(/¥/);
  });
});
