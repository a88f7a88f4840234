/**
 * The compliance section: one entry per rule of the pack (status and severity that day, the loans,
 * distinct borrowers and outstanding it concerns, its threshold in words and its source), loan
 * rules read from the counters and the others resolved on the merged borrower, group and partner
 * state (engine/compliance.ts); the distinct loans in breach and the breach rules with loans. Also
 * one finding per in-force rule with loans, citing its threshold and source, and the breach and
 * watch figures the risk appetite reads.
 */

import type { ComplianceSection, Finding } from '../../audit-result.ts';
import type { AppetiteFigures } from '../../policy/appetite-metrics.ts';
import type { CompiledPolicy } from '../../policy/compile.ts';
import type { Policy, PolicyResolution } from '../../policy/policy.ts';
import { citeRule, describeThreshold } from '../../policy/resolve.ts';
import type { PartialAudit } from '../accumulator.ts';
import { amountOfMicro, microOf } from '../amounts.ts';
import { evaluateCompliance } from '../compliance.ts';
import { exposureFen } from './helpers.ts';

/** The compliance section, its findings and the figures of it the risk appetite rates. */
export interface ComplianceOutcome {
  section: ComplianceSection;
  /** One per in-force rule with loans, in pack order. */
  findings: Finding[];
  breaches: AppetiteFigures['breaches'];
  /** Outstanding in fen of in-force watch-rule hits (a loan hitting two watch rules counts twice). */
  watchFen: number;
}

/** Builds the compliance section of a merged partial against its resolved policy, with its rule findings. */
export function complianceSection(
  partial: PartialAudit,
  compiled: CompiledPolicy,
  resolution: PolicyResolution,
  policy: Policy,
): ComplianceOutcome {
  const sub = partial.sub;
  const figures = evaluateCompliance(partial, compiled, policy.rulePack.lender, { collectHits: false });
  const loanIndex = new Map(compiled.loanRules.map((r, i) => [r.code, i]));
  const rules: ComplianceSection['rules'] = {};
  let rulesBreached = 0;
  let watchFen = 0;
  for (const r of resolution.rules) {
    const rule = r.rule;
    let loans = 0;
    let borrowers = 0;
    /** The rule's outstanding in millionths (exact: integer sums of fen and sub parts). */
    let micro = 0;
    if (r.status === 'in_force') {
      const i = loanIndex.get(rule.code);
      if (i !== undefined) {
        loans = partial.ruleLoans[i]!;
        micro = microOf(partial.ruleFen[i]!, sub.rule[i]!);
        borrowers = figures.loanRuleBorrowers[i]!;
      } else {
        const f = figures.aggregate.get(rule.code)!;
        loans = f.loans;
        borrowers = f.borrowers;
        micro = f.micro;
      }
      if (r.severity === 'breach' && loans > 0) rulesBreached++;
      if (r.severity === 'watch') watchFen += exposureFen(micro);
    }
    rules[rule.code] = {
      status: r.status,
      severity: r.severity,
      loans,
      borrowers,
      outstanding: amountOfMicro(micro),
      reason: r.reason,
      kind: rule.kind,
      description: rule.description,
      threshold: describeThreshold(rule, policy.rulePack),
      effectiveDate: rule.effectiveDate,
      source: { ...rule.source },
    };
  }
  const pack = policy.rulePack;
  const section: ComplianceSection = {
    rules,
    loansInBreach: figures.loansInBreach,
    rulesBreached,
    pack: {
      name: pack.name,
      version: pack.version,
      licence: pack.lender.licence,
      currency: pack.lender.currency,
    },
  };

  const findings: Finding[] = [];
  for (const resolved of resolution.rules) {
    const rule = resolved.rule;
    const r = rules[rule.code]!;
    if (r.status !== 'in_force' || r.loans === 0) continue;
    findings.push({
      category: 'regulatory',
      severity: resolved.severity === 'breach' ? 'critical' : 'low',
      code: rule.code,
      message: `${r.loans.toLocaleString('en-US')} loans of ${r.borrowers.toLocaleString('en-US')} borrowers (outstanding ${Math.round(r.outstanding).toLocaleString('en-US')} ${resolution.currency}): ${rule.description}`,
      value: r.loans,
      threshold: r.threshold,
      source: citeRule(rule),
    });
  }
  const breaches = {
    rules: rulesBreached,
    loans: figures.loansInBreach,
    borrowers: figures.borrowersInBreach,
  };
  return { section, findings, breaches, watchFen };
}
