/**
 * Turns a (merged) partial audit into the audit result of audit-result.md: every section, the
 * ratings against the risk appetite, and the findings, ordered by severity, each citing the rule or
 * threshold (and its source) that produced it.
 */

import { createHash } from 'node:crypto';
import {
  type AuditResult,
  CLASSIFICATIONS,
  type ComplianceSection,
  type ConcentrationSection,
  type CountOutstanding,
  type DataQualitySection,
  DPD_BUCKETS,
  type DriftSection,
  type Finding,
  type FindingSeverity,
  IFRS9_STAGES,
  MATURITY_BANDS,
  type PortfolioSection,
  type Rating,
  type RatingsSection,
  RISK_CATEGORIES,
  type RiskCategory,
  type SegmentShare,
  type TopBorrower,
  type VulnerabilitySection,
} from '../audit-result.ts';
import { OPTIONAL_COLUMNS, PRODUCTS } from '../loan.ts';
import { type AppetiteFigures, appetiteMetric } from '../policy/appetite-metrics.ts';
import { compilePolicy } from '../policy/compile.ts';
import type { Policy, Threshold } from '../policy/policy.ts';
import {
  citeRule,
  describeThreshold,
  PARAMETER_STALE_DAYS,
  resolutionOf,
  resolveRule,
  staleParameters,
} from '../policy/resolve.ts';
import type { IntakeStats } from '../tape/intake.ts';
import { borrowerTableOf, defineKey, type PartialAudit, policyKey } from './accumulator.ts';
import { amountOfMicro, amountValue, microOf, SUB_PER_FEN } from './amounts.ts';
import type { BorrowerTable } from './borrower-table.ts';
import { type AggregateHits, evaluateCompliance } from './compliance.ts';
import { exactAdd, exactSumValue } from './exact-sum.ts';
import { borrowerRefFromKey, hashKey } from './hash.ts';

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
const RATING_RANK: Record<Rating, number> = { green: 0, amber: 1, red: 2 };

/** An amount figure from its whole fen and the millionths beyond them (engine/amounts.ts), exactly rounded once. */
const yuan = (fen: number, sub = 0): number => amountValue(fen, sub);
/** An amount figure in fen, for shares: whole fen and the fraction the millionths add. */
const inFen = (fen: number, sub: number): number => (sub === 0 ? fen : fen + sub / SUB_PER_FEN);
/** A borrower's exposure (millionths in the table) in fen, for shares. */
const exposureFen = (micro: number): number => micro / SUB_PER_FEN;
const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);
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

/** sha256 of the tape: the single part's digest, or the digest of the parts' hex digests joined by newlines in key order. */
export function tapeDigest(parts: readonly { key: string; sha256: string }[]): string {
  if (parts.length === 1) return parts[0]!.sha256;
  const sorted = [...parts].sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  return createHash('sha256')
    .update(sorted.map((p) => p.sha256).join('\n'))
    .digest('hex');
}

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

function psi(
  today: readonly number[],
  todayTotal: number,
  before: readonly number[],
  beforeTotal: number,
): number {
  let sum = 0;
  for (let i = 0; i < today.length; i++) {
    const a0 = today[i]!;
    const e0 = before[i] ?? 0;
    if (a0 === 0 && e0 === 0) continue; // outside the union of categories
    const a = Math.max(a0 / todayTotal, 0.0001);
    const e = Math.max(e0 / beforeTotal, 0.0001);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

function topBorrowerSlots(t: BorrowerTable, n: number): number[] {
  // Largest exposure first; ties by hash so the order never depends on insertion order.
  const before = (i: number, j: number): boolean => {
    const ei = t.exposure(i);
    const ej = t.exposure(j);
    if (ei !== ej) return ei > ej;
    if (t.keyHi(i) !== t.keyHi(j)) return t.keyHi(i) < t.keyHi(j);
    return t.keyLo(i) < t.keyLo(j);
  };
  const top: number[] = [];
  for (let i = 0; i < t.capacity; i++) {
    if (!t.used(i)) continue;
    if (top.length === n && !before(i, top[n - 1]!)) continue;
    let pos = top.length < n ? top.length : n - 1;
    top[pos] = i;
    while (pos > 0 && before(i, top[pos - 1]!)) {
      top[pos] = top[pos - 1]!;
      top[pos - 1] = i;
      pos--;
    }
  }
  return top;
}

function segments(
  record: Record<string, [number, number, number]>,
  totalFen: number,
): { shares: Record<string, SegmentShare>; hhi: number | null } {
  const shares: Record<string, SegmentShare> = {};
  const sq: number[] = [];
  for (const name of Object.keys(record).sort()) {
    const [count, fen, sub] = record[name]!;
    const share = totalFen === 0 ? 0 : inFen(fen, sub) / totalFen;
    defineKey(shares, name, { count, outstanding: yuan(fen, sub), share });
    exactAdd(sq, share * share);
  }
  return { shares, hhi: totalFen === 0 ? null : exactSumValue(sq) };
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

function metricCode(category: RiskCategory, metric: string): string {
  const snake = metric.replace(/:/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return `${category}_${snake}`.toUpperCase();
}

function rate(t: Threshold, v: number): Rating {
  const beyond = (limit: number): boolean => (t.direction === 'below' ? v < limit : v > limit);
  if (beyond(t.red)) return 'red';
  if (beyond(t.amber)) return 'amber';
  return 'green';
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

/** Builds the audit result of a snapshot from its merged partial and intake counts. */
export function finalizeAudit(partial: PartialAudit, intake: IntakeStats, ctx: FinalizeContext): AuditResult {
  const policy = ctx.policy;
  const compiled = compilePolicy(policy);
  const resolution = resolutionOf(policy);
  const currency = resolution.currency;
  if (policyKey(compiled, currency) !== partial.policyKey) {
    throw new Error(`partial audit was built with another policy: ${partial.policyKey}`);
  }
  const sub = partial.sub;
  const total = inFen(partial.outstandingFen, sub.outstanding);
  const table = borrowerTableOf(partial);
  const findings: Finding[] = [];

  // portfolio
  const portfolio: PortfolioSection = {
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

  // concentration
  const hhiParts: number[] = [];
  if (total > 0) {
    for (let i = 0; i < table.capacity; i++) {
      if (!table.used(i)) continue;
      const s = exposureFen(table.exposure(i)) / total;
      exactAdd(hhiParts, s * s);
    }
  }
  const top = total > 0 ? topBorrowerSlots(table, 10) : [];
  const topBorrowers: TopBorrower[] = top.map((slot) => ({
    borrowerRef: borrowerRefFromKey(hashKey(table.keyHi(slot), table.keyLo(slot)), ctx.borrowerRefKey),
    exposure: table.exposure(slot) / 1_000_000,
    share: exposureFen(table.exposure(slot)) / total,
    loanCount: table.loans(slot),
  }));
  const topFen = exposureFen(top.reduce((s, slot) => s + table.exposure(slot), 0));
  const industry = segments(partial.industry, total);
  const region = segments(partial.region, total);
  const productRecord: Record<string, [number, number, number]> = {};
  PRODUCTS.forEach((p, i) => {
    if (partial.productCount[i]! > 0)
      productRecord[p] = [partial.productCount[i]!, partial.productFen[i]!, sub.product[i]!];
  });
  const concentration: ConcentrationSection = {
    borrowerHhi: total > 0 ? exactSumValue(hhiParts) : null,
    top10BorrowerShare: ratio(topFen, total),
    largestBorrowerShare: top.length > 0 ? ratio(exposureFen(table.exposure(top[0]!)), total) : null,
    topBorrowers,
    byIndustry: industry.shares,
    byRegion: region.shares,
    byProduct: segments(productRecord, total).shares,
    industryHhi: industry.hhi,
    regionHhi: region.hhi,
  };

  // compliance: one entry per rule of the pack; loan rules from the counters, the others resolved
  // on the merged borrower, group and partner state (compliance.ts)
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
  const compliance: ComplianceSection = {
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

  // vulnerability
  const vulnerability: VulnerabilitySection = {
    flags: Object.fromEntries(
      compiled.flags.map((f, i) => [
        f.code,
        { loans: partial.flagLoans[i]!, outstanding: yuan(partial.flagFen[i]!, sub.flag[i]!) },
      ]),
    ),
    anyFlag: { loans: partial.anyFlagLoans, outstanding: yuan(partial.anyFlagFen, sub.anyFlag) },
  };

  // drift
  const prev = partial.previous;
  let drift: DriftSection = { psi: null, rollRates: null, newLoans: null };
  if (prev !== null) {
    const psiSection =
      partial.loans > 0 && prev.validCount > 0
        ? {
            creditScore: psi(partial.creditBandCount, partial.loans, prev.creditBandCounts, prev.validCount),
            product: psi(partial.productCount, partial.loans, prev.productCounts, prev.validCount),
            dpdBucket: psi(partial.dpdCount, partial.loans, prev.dpdCounts, prev.validCount),
          }
        : null;
    const rollRates: Record<string, Record<string, number>> = {};
    DPD_BUCKETS.forEach((from, f) => {
      const n = prev.dpdCounts[f]!;
      if (n === 0) return;
      const row: Record<string, number> = {};
      let stayed = 0;
      DPD_BUCKETS.forEach((to, t) => {
        const c = partial.transitions[f * 7 + t]!;
        stayed += c;
        if (c > 0) row[to] = c / n;
      });
      if (n - stayed > 0) row.closed = (n - stayed) / n;
      rollRates[from] = row;
    });
    drift = { psi: psiSection, rollRates, newLoans: partial.loans - partial.matched };
  } else {
    findings.push({
      category: 'technical',
      severity: 'info',
      code: 'DRIFT_NO_PREVIOUS_TAPE',
      message: 'no previous tape to compare with: drift and roll rates not computed',
      value: null,
      threshold: null,
    });
  }

  // data quality
  const previousValid = ctx.previousIntake?.rowsValid ?? prev?.validCount ?? null;
  const missingRate: Record<string, number> = {};
  if (intake.rowsValid > 0) {
    for (const column of OPTIONAL_COLUMNS)
      missingRate[column] = (intake.missingCounts[column] ?? 0) / intake.rowsValid;
  }
  const dataQuality: DataQualitySection = {
    rowsRead: intake.rowsRead,
    rowsQuarantined: intake.rowsQuarantined,
    quarantineRate: intake.rowsRead === 0 ? 0 : intake.rowsQuarantined / intake.rowsRead,
    duplicateLoanIds: intake.duplicateLoanIds,
    missingRate,
    rowCountChange:
      previousValid === null || previousValid === 0 ? null : intake.rowsValid / previousValid - 1,
  };

  // metrics for the risk appetite
  const breachRules = rulesBreached;
  const breachLoans = figures.loansInBreach;
  const breachBorrowers = figures.borrowersInBreach;
  const flagIndex = new Map(compiled.flags.map((f, i) => [f.code, i]));
  const appetiteFigures: AppetiteFigures = {
    portfolio,
    concentration,
    dataQuality,
    psi: drift.psi,
    breaches: { rules: breachRules, loans: breachLoans, borrowers: breachBorrowers },
    totalFen: total,
    fen: {
      stage2: inFen(partial.stageFen[1]!, sub.stage[1]!),
      stage3: inFen(partial.stageFen[2]!, sub.stage[2]!),
      watch: watchFen,
      anyFlag: inFen(partial.anyFlagFen, sub.anyFlag),
      pastMaturity: inFen(partial.maturityFen[0]!, sub.maturity[0]!),
      maturing30: inFen(
        partial.maturityFen[1]! + partial.maturityFen[2]!,
        sub.maturity[1]! + sub.maturity[2]!,
      ),
      longDated: inFen(partial.maturityFen[5]!, sub.maturity[5]!),
      partnerFunded: exactSumValue(partial.partnerFen),
    },
    flagFen: (code) => {
      const i = flagIndex.get(code);
      return i === undefined ? undefined : inFen(partial.flagFen[i]!, sub.flag[i]!);
    },
  };

  // ratings: worst threshold per category, overall = worst category
  const ratings = {} as RatingsSection;
  let overall: Rating = 'green';
  for (const category of RISK_CATEGORIES) {
    let worst: Rating = 'green';
    for (const t of policy.appetite.categories[category]) {
      const m = appetiteMetric(t.metric);
      const v = m === undefined ? null : m.value(appetiteFigures);
      if (m === undefined || v === null) continue;
      const r = rate(t, v);
      if (RATING_RANK[r] > RATING_RANK[worst]) worst = r;
      if (r === 'green') continue;
      const limit = r === 'red' ? t.red : t.amber;
      const show = (x: number): string => (m.unit === 'share' ? pct(x) : String(Number(x.toPrecision(6))));
      const finding: Finding = {
        category,
        severity: r === 'red' ? 'high' : 'medium',
        code: t.code ?? metricCode(category, t.metric),
        message: `${m.label} ${show(v)} is ${t.direction} the ${r} threshold ${show(limit)}`,
        value: v,
        threshold: limit,
      };
      if (t.source !== undefined) finding.source = t.source;
      findings.push(finding);
    }
    ratings[category] = worst;
    if (RATING_RANK[worst] > RATING_RANK[overall]) overall = worst;
  }
  ratings.overall = overall;

  // one finding per in-force rule with loans concerned, citing its threshold and source
  for (const resolved of resolution.rules) {
    const rule = resolved.rule;
    const r = rules[rule.code]!;
    if (r.status !== 'in_force' || r.loans === 0) continue;
    findings.push({
      category: 'regulatory',
      severity: resolved.severity === 'breach' ? 'critical' : 'low',
      code: rule.code,
      message: `${r.loans.toLocaleString('en-US')} loans of ${r.borrowers.toLocaleString('en-US')} borrowers (outstanding ${Math.round(r.outstanding).toLocaleString('en-US')} ${currency}): ${rule.description}`,
      value: r.loans,
      threshold: r.threshold,
      source: citeRule(rule),
    });
  }
  findings.push(...policyFindings(policy, currency));

  // data-quality notes
  if (intake.rowsQuarantined > 0) {
    const byCode = Object.entries(intake.quarantineByCode)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    findings.push({
      category: 'technical',
      severity: 'info',
      code: 'ROWS_QUARANTINED',
      message: `${intake.rowsQuarantined} of ${intake.rowsRead} rows quarantined (${byCode}); figures cover valid rows only`,
      value: intake.rowsQuarantined,
      threshold: null,
    });
  }
  const mismatch = intake.rowsValid !== partial.loans;
  if (mismatch) {
    findings.push({
      category: 'technical',
      severity: 'high',
      code: 'ENGINE_ROW_MISMATCH',
      message: `intake counted ${intake.rowsValid} valid rows but the engine scored ${partial.loans} loans`,
      value: partial.loans,
      threshold: intake.rowsValid,
    });
  }
  if (intake.rowsValid === 0) {
    findings.push({
      category: 'technical',
      severity: 'high',
      code: 'NO_VALID_LOANS',
      message: 'the tape has no valid loans: portfolio checks could not run',
      value: 0,
      threshold: null,
    });
  }
  findings.push(...(ctx.tapeFindings ?? []));
  sortFindings(findings);

  const input: AuditResult['input'] = {
    rowsRead: intake.rowsRead,
    rowsValid: intake.rowsValid,
    rowsQuarantined: intake.rowsQuarantined,
    quarantineByCode: { ...intake.quarantineByCode },
    sha256: tapeDigest(intake.parts),
  };
  if (intake.parts.length > 0) input.parts = intake.parts.map((p) => ({ ...p }));
  if (intake.unknownColumns.length > 0) input.unknownColumns = [...intake.unknownColumns];
  // Rows the mapping left out of the tape (not in rowsRead), said only when there are any.
  if ((intake.rowsFiltered ?? 0) > 0) input.rowsFiltered = intake.rowsFiltered!;
  if ((intake.rowsSuperseded ?? 0) > 0) input.rowsSuperseded = intake.rowsSuperseded!;

  return {
    schemaVersion: 1,
    snapshotDate: ctx.snapshotDate,
    previousSnapshotDate: ctx.previousSnapshotDate ?? prev?.snapshotDate ?? null,
    status: intake.rowsQuarantined > 0 || intake.rowsValid === 0 || mismatch ? 'partial' : 'ok',
    input,
    portfolio,
    concentration,
    compliance,
    vulnerability,
    drift,
    dataQuality,
    ratings,
    findings,
  };
}
