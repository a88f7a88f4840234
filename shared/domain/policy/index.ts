/** Policy as data: parse and validate the rule pack and risk appetite (the caller reads the files). */
export { compilePolicy, debtToIncome, describeConditions } from './compile.ts';
export {
  APPETITE_METRICS,
  defaultPolicyPaths,
  type Policy,
  type PolicyDocument,
  parsePolicy,
  parseRiskAppetite,
  parseRulePack,
  policyInForce,
  type RiskAppetite,
  type RulePack,
} from './policy.ts';
