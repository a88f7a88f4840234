/** Policy as data: parse and validate the rule pack, lender profile and risk appetite, resolve them for a tape. */
export { compilePolicy, debtToIncome, describeConditions } from './compile.ts';
export {
  APPETITE_METRICS,
  defaultPolicyPaths,
  type Lender,
  type Policy,
  type PolicyDocument,
  type PolicyResolution,
  parseLenderProfile,
  parsePolicy,
  parseRiskAppetite,
  parseRulePack,
  type ResolvedRule,
  type RiskAppetite,
  type Rule,
  type RulePack,
  type RuleStatus,
} from './policy.ts';
export {
  citeRule,
  describeThreshold,
  policyInForce,
  resolutionOf,
  ruleScope,
  seriesValueAt,
  staleParameters,
} from './resolve.ts';
