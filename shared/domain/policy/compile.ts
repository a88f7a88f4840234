/**
 * Compiles a resolved policy for the per-row loop: the in-force loan-level rules and the flags
 * become one generated function each returning a bit mask (one bit per rule), and the in-force
 * borrower, group, partner and portfolio rules are listed for the accumulator and finalize. The
 * masks are the one evaluation of the rules: a single rule's test reads its bit.
 */
import { assertNever } from '../assert-never.ts';
import { CLASSIFICATIONS } from '../audit-result.ts';
import { isoDayNumber } from '../engine/dates.ts';
import type { Loan } from '../loan.ts';
import { CONDITION_HELPERS, conditionSource, literal } from './conditions.ts';
import type {
  Condition,
  OriginationWindow,
  Parameter,
  Policy,
  ResolvedRule,
  Rule,
  RulePack,
} from './policy.ts';
import { resolutionOf, ruleScope } from './resolve.ts';

export { describeConditions } from './conditions.ts';

/** A test of one loan: whether a rule or flag hits it. */
export type LoanPredicate = (loan: Loan) => boolean;

/** What generated rule code may call besides the loan (`h.name`). */
interface Helpers {
  purposeOf: (typeof CONDITION_HELPERS)['purposeOf'];
  isCoLent: (typeof CONDITION_HELPERS)['isCoLent'];
  debtToIncome: (typeof CONDITION_HELPERS)['debtToIncome'];
  /** Per rate rule, the rate limit in force on a day number (multiple x the series' value), or null. */
  limits: ((day: number) => number | null)[];
  /** Per region rule, the licensed regions. */
  regions: ReadonlySet<string>[];
  /** Severity rank of each five-category class (normal 0 ... loss 4). */
  rank: Record<string, number>;
}

function newHelpers(): Helpers {
  return {
    ...CONDITION_HELPERS,
    limits: [],
    regions: [],
    rank: Object.fromEntries(CLASSIFICATIONS.map((c, i) => [c, i])),
  };
}

/**
 * The rate limit of a series entry: multiple x value, rounded to 1e-10 so that a limit such as
 * 4 x 0.0385 is the decimal 0.154 a reader expects, not the double one ulp beside it.
 */
export function rateLimit(multiple: number, value: number): number {
  return Math.round(multiple * value * 1e10) / 1e10;
}

/**
 * A lookup of the rate limit in force on a day number (see `isoDayNumber`): binary search over
 * the series' start days.
 */
function limitLookup(parameter: Parameter, multiple: number): (day: number) => number | null {
  const from = parameter.series.map((e) => isoDayNumber(e.from));
  const limits = parameter.series.map((e) => rateLimit(multiple, e.value));
  const last = from.length - 1;
  const latest = from[last]!;
  return (day) => {
    // Most loans were made after the latest change: no search for them.
    if (day >= latest) return limits[last]!;
    let lo = 0;
    let hi = last;
    if (day < from[0]!) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (from[mid]! <= day) lo = mid;
      else hi = mid - 1;
    }
    return limits[lo]!;
  };
}

/** An origination window as comparisons of `day`, the loan's origination day number. */
function windowSource(w: OriginationWindow | undefined): string[] {
  if (w === undefined) return [];
  const out: string[] = [];
  if (w.onOrAfter !== undefined) out.push(`day >= ${isoDayNumber(w.onOrAfter)}`);
  if (w.before !== undefined) out.push(`day < ${isoDayNumber(w.before)}`);
  return out;
}

const whenSource = (when: readonly Condition[] | undefined): string[] =>
  when === undefined ? [] : when.map(conditionSource);

/**
 * Generated source of a loan-level rule: an expression of `loan` and `day` (its origination day
 * number; scratch variables `v`, `p`), the origination window first (cheap, and it rejects most
 * loans of a rule for new loans).
 */
function loanRuleSource(rule: Rule, pack: RulePack, h: Helpers): string {
  const parts: string[] = [];
  switch (rule.kind) {
    case 'loan':
      parts.push(...windowSource(rule.originated), ...whenSource(rule.when));
      break;
    case 'rate_above_parameter': {
      const parameter = pack.parameters.find((p) => p.code === rule.parameter);
      if (parameter === undefined)
        throw new Error(`rule ${rule.code} reads an unknown parameter ${rule.parameter}`);
      const k = h.limits.push(limitLookup(parameter, rule.multiple)) - 1;
      parts.push(
        ...windowSource(rule.originated),
        ...whenSource(rule.when),
        `(p = h.limits[${k}](${dayOf(rule.at)})) !== null && loan.annualRate > p`,
      );
      break;
    }
    case 'classification_floor': {
      // The floor's lowest threshold first: most loans are current and below it.
      const rank = h.rank;
      const lowest = Math.min(...rule.floor.map((f) => f.daysPastDueAbove));
      let floor = '-1';
      for (const f of rule.floor)
        floor = `loan.daysPastDue > ${literal(f.daysPastDueAbove)} ? ${rank[f.atLeast]} : ${floor}`;
      const rankOf = CLASSIFICATIONS.reduceRight(
        (rest, c, i) => `v === ${literal(c)} ? ${i} : ${rest}`,
        '-1',
      );
      parts.push(
        ...windowSource(rule.originated),
        ...whenSource(rule.when),
        `loan.daysPastDue > ${literal(lowest)}`,
        `(v = loan.reportedClassification) !== null && (${rankOf}) < (${floor})`,
      );
      break;
    }
    case 'region_outside_licence': {
      const k = h.regions.push(new Set(pack.lender.licensedRegions ?? [])) - 1;
      parts.push(
        ...windowSource(rule.originated),
        ...whenSource(rule.when),
        `(v = loan.region) !== null && !h.regions[${k}].has(v)`,
      );
      break;
    }
    case 'borrower_exposure':
    case 'group_exposure':
    case 'partner_exposure':
    case 'portfolio_share':
      throw new Error(`rule ${rule.code} (${rule.kind}) is not a loan-level rule`);
    default:
      return assertNever(rule, 'rule kind');
  }
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** The day-number expression of a loan date field the rules read (`day` is the origination day). */
function dayOf(field: 'originationDate'): string {
  switch (field) {
    case 'originationDate':
      return 'day';
    default:
      return assertNever(field, 'date field');
  }
}

/**
 * A bit mask of a loan (bit i set when expression i holds), called with the loan's origination
 * day number (`isoDayNumber(loan.originationDate)`, which the scorecard computes anyway).
 */
export type RuleMask = (loan: Loan, originationDay: number) => number;

/**
 * One function returning a bit mask (bit i set when expression i holds), generated as
 * straight-line code so the per-row loop makes one call per loan instead of one per rule and
 * field. Only validated field names and JSON literals enter the generated source.
 */
function maskOf(sources: readonly string[], h: Helpers): RuleMask {
  if (sources.length > 32) throw new Error('at most 32 rules or flags');
  const lines = sources.map((s, i) => `  if (${s}) m |= ${2 ** i};`);
  const source = `'use strict';\nreturn function mask(loan, day) {\n  let m = 0;\n  let v;\n  let p;\n${lines.join('\n')}\n  return m >>> 0;\n};`;
  return new Function('h', source)(h) as RuleMask;
}

/** The test of bit `bit` of a mask: one rule's or flag's hit, read from the mask the hot loop runs. */
function bitOf(mask: RuleMask, bit: number): LoanPredicate {
  return (loan) => (mask(loan, isoDayNumber(loan.originationDate)) & bit) !== 0;
}

/** Compiles lists of conditions into one bit-mask function (bit i: every condition of list i holds). */
export function compileMask(lists: readonly (readonly Condition[])[]): RuleMask {
  return maskOf(
    lists.map((conds) => conds.map(conditionSource).join(' && ')),
    newHelpers(),
  );
}

/** An in-force loan-level rule ready for the hot loop: its code, severity and test (its bit of `ruleMask`). */
export interface CompiledLoanRule {
  code: string;
  severity: 'breach' | 'watch';
  resolved: ResolvedRule;
  test: LoanPredicate;
}

/** A vulnerability flag ready for the hot loop: its code and test (its bit of `flagMask`). */
export interface CompiledFlag {
  code: string;
  test: LoanPredicate;
}

/** The in-force rules and enabled flags of a resolved policy, in pack order. */
export interface CompiledPolicy {
  /** In-force loan-level rules; bit i of `ruleMask` is rule i. */
  loanRules: CompiledLoanRule[];
  /** In-force borrower, group, partner and portfolio rules. */
  aggregateRules: ResolvedRule[];
  flags: CompiledFlag[];
  /** Bit i set when loan rule i hits the loan. */
  ruleMask: RuleMask;
  /** Bits of the loan rules whose severity today is breach. */
  breachMask: number;
  /** Bit i set when flag i hits the loan. */
  flagMask: RuleMask;
  /** The per-loan state the aggregate rules need beyond the borrower table. */
  needs: {
    /** Related-party group membership (a group rule is in force). */
    groups: boolean;
    /** Co-lent outstanding by partner and the borrowers behind it (a partner or portfolio rule). */
    partners: boolean;
  };
}

/** Compiles a resolved policy's in-force rules and enabled flags (see `policyInForce`). */
export function compilePolicy(policy: Policy): CompiledPolicy {
  const resolution = resolutionOf(policy);
  const h = newHelpers();
  const loanRules: Omit<CompiledLoanRule, 'test'>[] = [];
  const aggregateRules: ResolvedRule[] = [];
  const sources: string[] = [];
  let breachMask = 0;
  for (const r of resolution.rules) {
    if (r.status !== 'in_force') continue;
    if (ruleScope(r.rule) !== 'loan') {
      aggregateRules.push(r);
      continue;
    }
    if (r.severity === 'breach') breachMask |= 2 ** loanRules.length;
    loanRules.push({ code: r.rule.code, severity: r.severity, resolved: r });
    sources.push(loanRuleSource(r.rule, policy.rulePack, h));
  }
  const enabledFlags = policy.rulePack.vulnerabilityFlags.filter((f) => f.enabled);
  const ruleMask = maskOf(sources, h);
  const flagMask = maskOf(
    enabledFlags.map((f) => f.when.map(conditionSource).join(' && ')),
    h,
  );
  return {
    loanRules: loanRules.map((r, i) => ({ ...r, test: bitOf(ruleMask, 2 ** i) })),
    aggregateRules,
    flags: enabledFlags.map((f, i) => ({ code: f.code, test: bitOf(flagMask, 2 ** i) })),
    ruleMask,
    breachMask: breachMask >>> 0,
    flagMask,
    needs: {
      groups: aggregateRules.some((r) => r.rule.kind === 'group_exposure'),
      partners: aggregateRules.some(
        (r) => r.rule.kind === 'partner_exposure' || r.rule.kind === 'portfolio_share',
      ),
    },
  };
}
