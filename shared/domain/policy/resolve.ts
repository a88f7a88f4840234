/**
 * The rule pack applied to one tape: which rules are in force for the pack's lender on the tape's
 * date and in its currency (and why the others are off), each rule's severity that day, the
 * dated parameters, and the readable form of a rule's threshold and source. One source for every
 * place that shows or evaluates a rule (engine, findings, report, `risk-audit rules`).
 */
import { assertNever } from '../assert-never.ts';
import { DEFAULT_CURRENCY } from '../tape/row-validator.ts';
import { describeConditions } from './conditions.ts';
import type {
  Condition,
  Lender,
  Licence,
  OriginationWindow,
  Parameter,
  Policy,
  PolicyResolution,
  ResolvedRule,
  Rule,
  RulePack,
  RuleSource,
  SeverityLevel,
} from './policy.ts';

/** What a rule's hits are counted over: each loan alone, or a borrower, group, partner or the book. */
export type RuleScope = 'loan' | 'borrower' | 'group' | 'partner' | 'portfolio';

/** The scope of a rule's kind. */
export function ruleScope(rule: Rule): RuleScope {
  switch (rule.kind) {
    case 'loan':
    case 'rate_above_parameter':
    case 'classification_floor':
    case 'region_outside_licence':
      return 'loan';
    case 'borrower_exposure':
      return 'borrower';
    case 'group_exposure':
      return 'group';
    case 'partner_exposure':
      return 'partner';
    case 'portfolio_share':
      return 'portfolio';
    default:
      return assertNever(rule, 'rule kind');
  }
}

/** Lender fields a rule cannot run without. */
export function lenderNeeds(rule: Rule): ('netAssets' | 'tier1Capital' | 'licensedRegions')[] {
  switch (rule.kind) {
    case 'region_outside_licence':
      return ['licensedRegions'];
    case 'borrower_exposure':
    case 'group_exposure':
    case 'partner_exposure':
      return rule.maxShareOf === undefined ? [] : [rule.maxShareOf.amount];
    case 'loan':
    case 'rate_above_parameter':
    case 'classification_floor':
    case 'portfolio_share':
      return [];
    default:
      return assertNever(rule, 'rule kind');
  }
}

/**
 * Whether a rule compares amounts with thresholds in the pack's currency (the balance caps, the
 * net-asset and Tier 1 limits): such a rule does not apply to a tape in another currency.
 */
export function isAmountRule(rule: Rule): boolean {
  switch (rule.kind) {
    case 'borrower_exposure':
    case 'group_exposure':
    case 'partner_exposure':
      return rule.maxExposure !== undefined || rule.maxShareOf !== undefined;
    case 'loan':
    case 'rate_above_parameter':
    case 'classification_floor':
    case 'region_outside_licence':
    case 'portfolio_share':
      return false;
    default:
      return assertNever(rule, 'rule kind');
  }
}

const LICENCE_ONE: Record<Licence, string> = {
  online_micro_loan_company: 'an online micro-loan company',
  micro_loan_company: 'a micro-loan company',
  consumer_finance_company: 'a consumer finance company',
  bank: 'a bank',
};
const LICENCE_MANY: Record<Licence, string> = {
  online_micro_loan_company: 'online micro-loan companies',
  micro_loan_company: 'micro-loan companies',
  consumer_finance_company: 'consumer finance companies',
  bank: 'banks',
};
const LENDER_FIELD_LABELS: Record<string, string> = {
  netAssets: 'net assets',
  tier1Capital: 'net Tier 1 capital',
  licensedRegions: 'licensed regions',
};

/** "an online micro-loan company", for sentences. */
export function licenceLabel(licence: Licence): string {
  return LICENCE_ONE[licence];
}

/** "banks and consumer finance companies", or "every licence". */
export function licencesLabel(licences: Rule['licences']): string {
  if (licences === 'all') return 'every licence';
  const names = licences.map((l) => LICENCE_MANY[l]);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Whether a rule binds a licence. */
export function bindsLicence(rule: Rule, licence: Licence): boolean {
  return rule.licences === 'all' || rule.licences.includes(licence);
}

/** The severity in force on `date` for a licence (a dated schedule's latest entry on or before it). */
export function severityOn(rule: Rule, licence: Licence, date: string): SeverityLevel {
  const s = rule.severityByLicence?.[licence] ?? rule.severity;
  if (typeof s === 'string') return s;
  let current = s[0]!.severity;
  for (const entry of s) if (entry.from <= date) current = entry.severity;
  return current;
}

/** Resolves one rule for a lender on a tape's date and in its currency. */
export function resolveRule(
  rule: Rule,
  pack: RulePack,
  snapshotDate: string,
  currency: string,
): ResolvedRule {
  const lender = pack.lender;
  const severity = severityOn(rule, lender.licence, snapshotDate);
  const off = (status: ResolvedRule['status'], reason: string): ResolvedRule => ({
    rule,
    status,
    severity,
    reason,
  });
  if (rule.effectiveDate > snapshotDate)
    return off('not_in_force', `in force from ${rule.effectiveDate}, after the tape's date ${snapshotDate}`);
  if (!rule.enabled) return off('not_applicable', 'disabled in the rule pack (enabled: false)');
  if (!bindsLicence(rule, lender.licence))
    return off(
      'not_applicable',
      `binds ${licencesLabel(rule.licences)} only, and the pack's lender is ${licenceLabel(lender.licence)}`,
    );
  const missing = lenderNeeds(rule).filter((field) => lender[field] === null);
  if (missing.length > 0)
    return off(
      'not_applicable',
      `needs the lender's ${missing.map((m) => LENDER_FIELD_LABELS[m]).join(' and ')}, which the rule pack leaves empty (lender.${missing.join(', lender.')})`,
    );
  if (isAmountRule(rule) && currency !== lender.currency)
    return off(
      'not_applicable',
      `its amount thresholds are in ${lender.currency} and the tape is in ${currency}`,
    );
  return { rule, status: 'in_force', severity, reason: null };
}

/**
 * The policy as it applies to a tape: every rule resolved for the pack's lender on `snapshotDate`
 * and in the tape's `currency`, so re-auditing an old tape uses the rules in force then. Call it
 * before creating the accumulators of a run (every shard must use the same resolution).
 */
export function policyInForce(policy: Policy, snapshotDate: string, currency = DEFAULT_CURRENCY): Policy {
  const pack = policy.rulePack;
  const resolution: PolicyResolution = {
    snapshotDate,
    currency,
    rules: pack.rules.map((r) => resolveRule(r, pack, snapshotDate, currency)),
  };
  return { ...policy, resolution };
}

/** The resolution of a policy, or an error saying it was never resolved for a tape. */
export function resolutionOf(policy: Policy): PolicyResolution {
  if (policy.resolution === undefined)
    throw new Error(
      'the policy was not resolved for a tape: call policyInForce(policy, date, currency) first',
    );
  return policy.resolution;
}

/** The value of a dated series in force on `date` (its latest entry on or before it), or null before its first. */
export function seriesValueAt(parameter: Parameter, date: string): number | null {
  let value: number | null = null;
  for (const entry of parameter.series) {
    if (entry.from > date) break;
    value = entry.value;
  }
  return value;
}

/** Days from `a` to `b` (ISO dates). */
function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** A dated parameter counts as stale when last checked more than this many days before the tape. */
export const PARAMETER_STALE_DAYS = 60;

/** Parameters an in-force rule reads whose `checkedOn` is more than 60 days before the tape's date. */
export function staleParameters(policy: Policy): { parameter: Parameter; days: number }[] {
  const resolution = resolutionOf(policy);
  const used = new Set<string>();
  for (const r of resolution.rules)
    if (r.status === 'in_force' && r.rule.kind === 'rate_above_parameter') used.add(r.rule.parameter);
  return policy.rulePack.parameters
    .filter((p) => used.has(p.code))
    .map((parameter) => ({ parameter, days: daysBetween(parameter.checkedOn, resolution.snapshotDate) }))
    .filter((p) => p.days > PARAMETER_STALE_DAYS);
}

const money = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const percent = (x: number): string => `${Number((x * 100).toFixed(4))}%`;

function windowText(w: OriginationWindow | undefined): string {
  if (w === undefined) return '';
  const parts: string[] = [];
  if (w.onOrAfter !== undefined) parts.push(`originated on or after ${w.onOrAfter}`);
  if (w.before !== undefined) parts.push(`originated before ${w.before}`);
  return `, ${parts.join(' and ')}`;
}

/** The limit of an exposure rule in the pack's currency, or null when it needs a lender figure left empty. */
export function capAmount(
  rule: Pick<Extract<Rule, { kind: 'borrower_exposure' }>, 'maxExposure' | 'maxShareOf'>,
  lender: Lender,
): number | null {
  if (rule.maxExposure !== undefined) return rule.maxExposure;
  if (rule.maxShareOf !== undefined) {
    const base = lender[rule.maxShareOf.amount];
    return base === null ? null : rule.maxShareOf.share * base;
  }
  return null;
}

function capText(
  rule: Pick<Extract<Rule, { kind: 'borrower_exposure' }>, 'maxExposure' | 'maxShareOf'>,
  lender: Lender,
): string {
  if (rule.maxExposure !== undefined) return `${money(rule.maxExposure)} ${lender.currency}`;
  if (rule.maxShareOf !== undefined) {
    const amount = capAmount(rule, lender);
    const of = `${percent(rule.maxShareOf.share)} of ${rule.maxShareOf.amount}`;
    return amount === null ? `${of} (not set)` : `${of} (${money(amount)} ${lender.currency})`;
  }
  return '(no limit)';
}

/** Readable form of a rule's threshold, for findings, the report and `risk-audit rules`. */
export function describeThreshold(rule: Rule, pack: RulePack): string {
  const lender = pack.lender;
  const extra = (when: readonly Condition[] | undefined): string =>
    when === undefined ? '' : ` and ${describeConditions(when)}`;
  switch (rule.kind) {
    case 'loan':
      return `${describeConditions(rule.when)}${windowText(rule.originated)}`;
    case 'rate_above_parameter':
      return `annualRate > ${rule.multiple} x ${rule.parameter} in force on ${rule.at}${extra(rule.when)}${windowText(rule.originated)}`;
    case 'classification_floor':
      return `reportedClassification milder than its floor by daysPastDue (${rule.floor
        .map((f) => `> ${f.daysPastDueAbove} ${f.atLeast}`)
        .join(', ')})${extra(rule.when)}${windowText(rule.originated)}`;
    case 'region_outside_licence':
      return `region given and not in the licensed regions (${lender.licensedRegions?.join(', ') ?? 'not set'})${extra(rule.when)}${windowText(rule.originated)}`;
    case 'borrower_exposure': {
      const who = rule.borrowerType === 'any' ? 'borrower' : `${rule.borrowerType} borrower`;
      const what = rule.purpose === 'any' ? 'exposure' : `${rule.purpose} exposure`;
      const limit =
        rule.incomeDivisor !== undefined ? `annualIncome / ${rule.incomeDivisor}` : capText(rule, lender);
      return `${who} ${what} > ${limit}`;
    }
    case 'group_exposure':
      return `related-party group exposure > ${capText(rule, lender)}`;
    case 'partner_exposure':
      return `co-lent outstanding of one partner > ${capText(rule, lender)}`;
    case 'portfolio_share':
      return `co-lent outstanding > ${percent(rule.maxShare)} of totalOutstanding`;
    default:
      return assertNever(rule, 'rule kind');
  }
}

const BINDING_LABELS: Record<RuleSource['binding'], string> = {
  law: 'law',
  regulation: 'regulation',
  normative_document: 'normative document',
  supervisory_guidance: 'supervisory guidance',
  draft: 'draft',
  internal: 'internal',
};

/** "normative document", for sentences. */
export function bindingLabel(binding: RuleSource['binding']): string {
  return BINDING_LABELS[binding];
}

/**
 * How findings, the report and `risk-audit rules` cite a rule: its source's title, its number (or
 * "no public number"), its issuer, its binding kind and the rule's effective date.
 */
export function citeSource(source: RuleSource, effectiveDate: string): string {
  return `${source.title}, ${source.number ?? 'no public number'} (${source.issuer}; ${bindingLabel(source.binding)}); in force from ${effectiveDate}`;
}

/** `citeSource` of a rule. */
export function citeRule(rule: Pick<Rule, 'source' | 'effectiveDate'>): string {
  return citeSource(rule.source, rule.effectiveDate);
}

/** One rule as `risk-audit rules` and audit.json describe it. */
export interface RuleListing {
  code: string;
  status: ResolvedRule['status'];
  severity: SeverityLevel;
  reason: string | null;
  kind: Rule['kind'];
  description: string;
  threshold: string;
  licences: Rule['licences'];
  effectiveDate: string;
  source: RuleSource;
}

/** Every rule of a resolved policy, in pack order, as a listing. */
export function listRules(policy: Policy): RuleListing[] {
  return resolutionOf(policy).rules.map((r) => ({
    code: r.rule.code,
    status: r.status,
    severity: r.severity,
    reason: r.reason,
    kind: r.rule.kind,
    description: r.rule.description,
    threshold: describeThreshold(r.rule, policy.rulePack),
    licences: r.rule.licences,
    effectiveDate: r.rule.effectiveDate,
    source: { ...r.rule.source },
  }));
}
