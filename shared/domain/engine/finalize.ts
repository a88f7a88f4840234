/**
 * Turns a (merged) partial audit into the audit result of audit-result.md: every section, the
 * ratings against the risk appetite, and the findings, ordered by severity, each citing the rule or
 * threshold (and its source) that produced it. Each section is built by its own pure function in
 * sections/; finalizeAudit composes them.
 */

import {
  type AuditResult,
  type Finding,
  type FindingSeverity,
  RISK_CATEGORIES,
  type RiskCategory,
} from '../audit-result.ts';
import type { AppetiteFigures } from '../policy/appetite-metrics.ts';
import { compilePolicy } from '../policy/compile.ts';
import type { Policy } from '../policy/policy.ts';
import { PARAMETER_STALE_DAYS, resolutionOf, resolveRule, staleParameters } from '../policy/resolve.ts';
import type { IntakeStats } from '../tape/intake.ts';
import { borrowerTableOf, defineKey, type PartialAudit, policyKey } from './accumulator.ts';
import { type AggregateHits, evaluateCompliance } from './compliance.ts';
import { complianceSection } from './sections/compliance.ts';
import { concentrationSection } from './sections/concentration.ts';
import { dataQualitySection } from './sections/data-quality.ts';
import { type DriftCounts, driftSection, type TodayCounts } from './sections/drift.ts';
import { inputSection } from './sections/input.ts';
import { portfolioSection } from './sections/portfolio.ts';
import { appetiteFigures, ratingsSection } from './sections/ratings.ts';
import { vulnerabilitySection } from './sections/vulnerability.ts';

export { tapeDigest } from './sections/input.ts';

/** What finalize needs besides the partial: dates, intake counts, policy and the borrowerRef key. */
export interface FinalizeContext {
  snapshotDate: string;
  previousSnapshotDate: string | null;
  /** Intake of the previous tape, for rowCountChange (else the previous index's valid count is used). */
  previousIntake?: IntakeStats | null;
  policy: Policy;
  /** Secret key of the keyed hash that turns borrower ids into `borrowerRef`. */
  borrowerRefKey: string;
  /** Findings raised while reading the tape (e.g. unknown columns), merged into the findings. */
  tapeFindings?: readonly Finding[];
}

const SEVERITY_RANK: Record<FindingSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** Orders findings as audit.json lists them: by severity, then category, code and message. */
export function sortFindings(findings: Finding[]): Finding[] {
  const categoryRank = (c: RiskCategory): number => RISK_CATEGORIES.indexOf(c);
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      categoryRank(a.category) - categoryRank(b.category) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

/**
 * The aggregate rules' hits (borrower, group, partner and portfolio rules): the per-loan
 * assessments carry loan-level hits only, so the loan-id buckets add these codes to each loan
 * (its borrower's by `borrowerKey` and purpose, its partner's and the portfolio's if co-lent).
 */
export function aggregateRuleHits(partial: PartialAudit, policy: Policy): AggregateHits {
  return evaluateCompliance(partial, compilePolicy(policy), policy.rulePack.lender, { collectHits: true })
    .hits;
}

/**
 * Findings about the rule pack itself on this tape: a dated parameter not checked against its
 * source for more than 60 days (POLICY_PARAMETER_STALE), rules not yet in force on the tape's date,
 * and amount rules left out because the tape is in another currency than the pack's thresholds.
 */
export function policyFindings(policy: Policy, currency: string): Finding[] {
  const resolution = resolutionOf(policy);
  const out: Finding[] = [];
  for (const { parameter, days } of staleParameters(policy)) {
    out.push({
      category: 'regulatory',
      severity: 'low',
      code: 'POLICY_PARAMETER_STALE',
      message: `parameter ${parameter.code} (${parameter.description}) was last checked against its source on ${parameter.checkedOn}, ${days} days before the tape's date: check it and update checkedOn (${parameter.source.title})`,
      value: days,
      threshold: PARAMETER_STALE_DAYS,
      source: `${parameter.source.title}, ${parameter.source.number ?? 'no public number'} (${parameter.source.issuer})`,
    });
  }
  const notYet = resolution.rules.filter((r) => r.status === 'not_in_force');
  if (notYet.length > 0) {
    out.push({
      category: 'regulatory',
      severity: 'info',
      code: 'POLICY_RULES_NOT_IN_FORCE',
      message: `${notYet.length} of the pack's ${resolution.rules.length} rules were not yet in force on ${resolution.snapshotDate} and were not checked: ${notYet.map((r) => r.rule.code).join(', ')}`,
      value: notYet.length,
      threshold: null,
    });
  }
  const lender = policy.rulePack.lender;
  // The rules that would be in force were the tape in the pack's currency.
  const byCurrency = resolution.rules.filter(
    (r) =>
      r.status === 'not_applicable' &&
      resolveRule(r.rule, policy.rulePack, resolution.snapshotDate, lender.currency).status === 'in_force',
  );
  if (currency !== lender.currency && byCurrency.length > 0) {
    out.push({
      category: 'regulatory',
      severity: 'info',
      code: 'POLICY_CURRENCY_DIFFERS',
      message: `the tape is in ${currency} and the rule pack's amount thresholds are in ${lender.currency}: ${byCurrency.map((r) => r.rule.code).join(', ')} not checked`,
      value: currency,
      threshold: lender.currency,
    });
  }
  return out;
}

/**
 * The figures the risk appetite reads that are not audit sections, as plain JSON (the flags'
 * outstanding by flag code), so that an audit can be completed in another step than the one that
 * merged its partial.
 */
export type StoredFigures = Omit<
  AppetiteFigures,
  'portfolio' | 'concentration' | 'dataQuality' | 'psi' | 'flagFen'
> & { flagFen: Record<string, number> };

/**
 * An audit but for what depends on drift (the drift section, the ratings that read its PSI, and
 * their findings): every other section, today's counts drift compares, the appetite's other
 * figures, and the other findings in the order finalize gathers them. `completeAudit` finishes
 * it with the previous tape's counts, from the shards' index or the loan-id buckets' join.
 */
export interface AuditBeforeDrift {
  sections: Omit<AuditResult, 'drift' | 'ratings' | 'findings'>;
  today: TodayCounts;
  figures: StoredFigures;
  findings: Finding[];
}

/** Everything of the audit of a merged partial that does not depend on drift (see AuditBeforeDrift). */
export function auditBeforeDrift(
  partial: PartialAudit,
  intake: IntakeStats,
  ctx: FinalizeContext,
): AuditBeforeDrift {
  const policy = ctx.policy;
  const compiled = compilePolicy(policy);
  const resolution = resolutionOf(policy);
  const currency = resolution.currency;
  if (policyKey(compiled, currency) !== partial.policyKey) {
    throw new Error(`partial audit was built with another policy: ${partial.policyKey}`);
  }
  const table = borrowerTableOf(partial);
  const portfolio = portfolioSection(partial, table, currency);
  const concentration = concentrationSection(partial, table, ctx.borrowerRefKey);
  const compliance = complianceSection(partial, compiled, resolution, policy);
  const vulnerability = vulnerabilitySection(partial, compiled);
  const dataQuality = dataQualitySection(intake, partial, ctx.previousIntake);
  const {
    portfolio: _p,
    concentration: _c,
    dataQuality: _d,
    psi: _psi,
    flagFen,
    ...figures
  } = appetiteFigures(
    partial,
    compiled,
    { portfolio, concentration, dataQuality: dataQuality.section, psi: null },
    compliance,
  );
  const flags: Record<string, number> = {};
  for (const f of compiled.flags) {
    const fen = flagFen(f.code);
    if (fen !== undefined) defineKey(flags, f.code, fen);
  }
  return {
    sections: {
      schemaVersion: 1,
      snapshotDate: ctx.snapshotDate,
      previousSnapshotDate: ctx.previousSnapshotDate ?? partial.previous?.snapshotDate ?? null,
      status: dataQuality.status,
      input: inputSection(intake),
      portfolio,
      concentration,
      compliance: compliance.section,
      vulnerability,
      dataQuality: dataQuality.section,
    },
    today: {
      loans: partial.loans,
      creditBandCount: partial.creditBandCount,
      productCount: partial.productCount,
      dpdCount: partial.dpdCount,
    },
    figures: { ...figures, flagFen: flags },
    findings: [
      ...compliance.findings,
      ...policyFindings(policy, currency),
      ...dataQuality.findings,
      ...(ctx.tapeFindings ?? []),
    ],
  };
}

/** The audit result: `before` completed with the drift section, the ratings and every finding, sorted. */
export function completeAudit(before: AuditBeforeDrift, drift: DriftCounts, policy: Policy): AuditResult {
  const s = before.sections;
  const driftPart = driftSection(before.today, drift);
  const flags = new Map(Object.entries(before.figures.flagFen));
  const ratings = ratingsSection(policy, {
    ...before.figures,
    portfolio: s.portfolio,
    concentration: s.concentration,
    dataQuality: s.dataQuality,
    psi: driftPart.section.psi,
    flagFen: (code) => flags.get(code),
  });
  // Gathered in this order before the (stable) sort, so findings equal on every sort key keep it.
  const findings = sortFindings([...driftPart.findings, ...ratings.findings, ...before.findings]);
  return {
    schemaVersion: s.schemaVersion,
    snapshotDate: s.snapshotDate,
    previousSnapshotDate: s.previousSnapshotDate,
    status: s.status,
    input: s.input,
    portfolio: s.portfolio,
    concentration: s.concentration,
    compliance: s.compliance,
    vulnerability: s.vulnerability,
    drift: driftPart.section,
    dataQuality: s.dataQuality,
    ratings: ratings.section,
    findings,
  };
}

/** Builds the audit result of a snapshot from its merged partial and intake counts (drift from its previous-tape counters). */
export function finalizeAudit(partial: PartialAudit, intake: IntakeStats, ctx: FinalizeContext): AuditResult {
  return completeAudit(auditBeforeDrift(partial, intake, ctx), partial, ctx.policy);
}
