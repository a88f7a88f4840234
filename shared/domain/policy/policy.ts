/**
 * Policy as data: the regulatory rule pack and the risk appetite, parsed from YAML text and
 * validated with zod. Parsing is pure (text in, value out); the caller reads the files.
 */
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';

/** Loan fields a rule condition may test: numbers, the boolean isStudent, and text fields. */
export const NUMERIC_FIELDS = [
  'principal',
  'outstandingPrincipal',
  'annualRate',
  'termMonths',
  'daysPastDue',
  'borrowerAge',
  'annualIncome',
  'monthlyDebtPayments',
  'otherLendersCount',
  'creditScore',
  'ownFundingShare',
  'dti',
] as const;
/** Boolean loan fields a condition may test. */
export const BOOLEAN_FIELDS = ['isStudent'] as const;
/** Text loan fields a condition may test (equals / in). */
export const TEXT_FIELDS = [
  'borrowerType',
  'product',
  'region',
  'industry',
  'currency',
  'merchantId',
] as const;
/** A numeric field name (including the derived `dti`). */
export type NumericField = (typeof NUMERIC_FIELDS)[number];
/** A boolean field name. */
export type BooleanField = (typeof BOOLEAN_FIELDS)[number];
/** A text field name. */
export type TextField = (typeof TEXT_FIELDS)[number];
/** Any field a condition may name. */
export type ConditionField = NumericField | BooleanField | TextField;

const CONDITION_FIELDS: readonly string[] = [...NUMERIC_FIELDS, ...BOOLEAN_FIELDS, ...TEXT_FIELDS];
const code = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be UPPER_SNAKE_CASE');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
const version = z.union([z.string().min(1), z.number()]).transform((v) => String(v));

const ConditionSchema = z
  .strictObject({
    field: z.string().refine((f) => CONDITION_FIELDS.includes(f), {
      message: `must be one of ${CONDITION_FIELDS.join(', ')}`,
    }),
    above: z.number().optional(),
    atLeast: z.number().optional(),
    below: z.number().optional(),
    atMost: z.number().optional(),
    equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    in: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
    orMissing: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    const bounds = ['above', 'atLeast', 'below', 'atMost'] as const;
    const hasBound = bounds.some((b) => c[b] !== undefined);
    if (!hasBound && c.equals === undefined && c.in === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs one of above, atLeast, below, atMost, equals, in' });
    }
    const numeric = (NUMERIC_FIELDS as readonly string[]).includes(c.field);
    if (hasBound && !numeric) {
      ctx.addIssue({ code: 'custom', message: `bounds apply to numeric fields only, not ${c.field}` });
    }
    if (c.field === 'isStudent' && c.equals !== undefined && typeof c.equals !== 'boolean') {
      ctx.addIssue({ code: 'custom', path: ['equals'], message: 'isStudent compares with true or false' });
    }
  });

/** One condition on a loan field; all bounds given must hold. */
export type Condition = z.infer<typeof ConditionSchema>;

const sharedRule = {
  code,
  severity: z.enum(['breach', 'watch']),
  description: z.string().min(1),
  source: z.string().min(1),
  effectiveDate: isoDate,
  enabled: z.boolean().default(true),
};

const LoanRuleSchema = z.strictObject({
  ...sharedRule,
  kind: z.literal('loan'),
  when: z.array(ConditionSchema).min(1),
});

const BorrowerExposureRuleSchema = z.strictObject({
  ...sharedRule,
  kind: z.literal('borrower_exposure'),
  borrowerType: z.enum(['individual', 'enterprise']),
  maxExposure: z.number().positive(),
  incomeDivisor: z.number().positive().optional(),
});

const RuleSchema = z.discriminatedUnion('kind', [LoanRuleSchema, BorrowerExposureRuleSchema]);

/** A rule tested on each loan alone. */
export type LoanRule = z.infer<typeof LoanRuleSchema>;
/** A cap on a borrower's exposure summed over its loans, resolved once all loans are seen. */
export type BorrowerExposureRule = z.infer<typeof BorrowerExposureRuleSchema>;
/** Any rule of a rule pack. */
export type Rule = z.infer<typeof RuleSchema>;

const FlagSchema = z.strictObject({
  code,
  description: z.string().min(1),
  when: z.array(ConditionSchema).min(1),
  enabled: z.boolean().default(true),
});

/** A borrower-vulnerability flag tested on each loan. */
export type VulnerabilityFlag = z.infer<typeof FlagSchema>;

const RulePackSchema = z
  .strictObject({
    kind: z.literal('rule-pack'),
    name: z.string().min(1),
    version,
    effectiveDate: isoDate,
    rules: z.array(RuleSchema),
    vulnerabilityFlags: z.array(FlagSchema).default([]),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.code))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'code'], message: `duplicate code ${r.code}` });
      seen.add(r.code);
    });
    p.vulnerabilityFlags.forEach((f, i) => {
      if (seen.has(f.code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['vulnerabilityFlags', i, 'code'],
          message: `duplicate code ${f.code}`,
        });
      }
      seen.add(f.code);
    });
    const loanRules = p.rules.filter((r) => r.kind === 'loan' && r.enabled).length;
    if (loanRules > 32)
      ctx.addIssue({ code: 'custom', path: ['rules'], message: 'at most 32 enabled loan rules' });
  });

/** The regulatory rule pack and vulnerability flags (policies/default-rules.yaml). */
export type RulePack = z.infer<typeof RulePackSchema>;

/** Metrics a risk-appetite threshold may name, by category; see policies/risk-appetite.yaml. */
export const APPETITE_METRICS = {
  credit: ['nplRatio', 'expectedLossRate', 'stage2Share', 'stage3Share'],
  regulatory: ['breachRules', 'breachLoans', 'breachBorrowers', 'watchOutstandingShare'],
  concentration: ['borrowerHhi', 'largestBorrowerShare', 'top10BorrowerShare', 'industryHhi', 'regionHhi'],
  vulnerability: ['anyFlagShare'],
  technical: [
    'quarantineRate',
    'duplicateLoanIds',
    'psiCreditScore',
    'psiProduct',
    'psiDpdBucket',
    'rowCountChangeAbs',
  ],
  liquidity: ['pastMaturityShare', 'maturing30Share', 'longDatedShare', 'partnerFundedShare'],
} as const;

const ThresholdSchema = z
  .strictObject({
    metric: z.string().min(1),
    amber: z.number(),
    red: z.number(),
    direction: z.enum(['above', 'below']).default('above'),
    code: code.optional(),
    source: z.string().min(1).optional(),
  })
  .superRefine((t, ctx) => {
    const ok = t.direction === 'above' ? t.red >= t.amber : t.red <= t.amber;
    if (!ok)
      ctx.addIssue({
        code: 'custom',
        path: ['red'],
        message: `red must be at least as severe as amber (${t.amber})`,
      });
  });

/** One green/amber/red threshold on a metric. */
export type Threshold = z.infer<typeof ThresholdSchema>;

const categoryThresholds = (category: keyof typeof APPETITE_METRICS) =>
  z
    .array(ThresholdSchema)
    .default([])
    .superRefine((list, ctx) => {
      list.forEach((t, i) => {
        const known = (APPETITE_METRICS[category] as readonly string[]).includes(t.metric);
        const flag = category === 'vulnerability' && /^flagShare:[A-Z][A-Z0-9_]*$/.test(t.metric);
        if (!known && !flag) {
          const extra = category === 'vulnerability' ? ', flagShare:<FLAG_CODE>' : '';
          ctx.addIssue({
            code: 'custom',
            path: [i, 'metric'],
            message: `unknown metric ${t.metric} for ${category}: use ${APPETITE_METRICS[category].join(', ')}${extra}`,
          });
        }
      });
    });

const unit = z.number().min(0).max(1);
const ModelSchema = z.strictObject({
  lgd: z.strictObject({ order_financing: unit, credit_loan: unit, consumer_credit: unit }),
  scorecard: z.strictObject({
    baseScore: z.number(),
    anchorScore: z.number(),
    anchorOdds: z.number().positive(),
    pointsToDoubleOdds: z.number().positive(),
  }),
  grades: z
    .strictObject({ A: z.number(), B: z.number(), C: z.number(), D: z.number() })
    .refine((g) => g.A > g.B && g.B > g.C && g.C > g.D, { message: 'grade cut-offs must fall from A to D' }),
});

/** Parameters of the scoring model (LGD by product, score-to-PD calibration, grade cut-offs). */
export type ModelParameters = z.infer<typeof ModelSchema>;

const RiskAppetiteSchema = z.strictObject({
  kind: z.literal('risk-appetite'),
  name: z.string().min(1),
  version,
  effectiveDate: isoDate,
  categories: z.strictObject({
    credit: categoryThresholds('credit'),
    regulatory: categoryThresholds('regulatory'),
    concentration: categoryThresholds('concentration'),
    vulnerability: categoryThresholds('vulnerability'),
    technical: categoryThresholds('technical'),
    liquidity: categoryThresholds('liquidity'),
  }),
  model: ModelSchema,
});

/** Green/amber/red thresholds per category and the model parameters (policies/risk-appetite.yaml). */
export type RiskAppetite = z.infer<typeof RiskAppetiteSchema>;

/** The active policy: one rule pack and one risk appetite. */
export interface Policy {
  rulePack: RulePack;
  appetite: RiskAppetite;
  /** File names the policy came from, in load order, for the run record. */
  sources: string[];
}

/** One policy file's text and its name (for error messages). */
export interface PolicyDocument {
  text: string;
  fileName: string;
}

function formatIssues(
  fileName: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string {
  const parts = issues.slice(0, 5).map((i) => {
    const where = i.path.length > 0 ? i.path.map(String).join('.') : '(top level)';
    return `${where}: ${i.message}`;
  });
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : '';
  return `invalid policy file ${fileName}: ${parts.join('; ')}${more}`;
}

function readYaml(doc: PolicyDocument): unknown {
  try {
    return parseYaml(doc.text);
  } catch (error) {
    const first = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`invalid policy file ${doc.fileName}: not valid YAML (${first})`, { cause: error });
  }
}

/** Parses and validates a rule pack, throwing a ConfigError naming the file and field. */
export function parseRulePack(text: string, fileName: string): RulePack {
  const parsed = RulePackSchema.safeParse(readYaml({ text, fileName }));
  if (!parsed.success) throw new ConfigError(formatIssues(fileName, parsed.error.issues));
  return parsed.data;
}

/** Parses and validates a risk appetite, throwing a ConfigError naming the file and field. */
export function parseRiskAppetite(text: string, fileName: string): RiskAppetite {
  const parsed = RiskAppetiteSchema.safeParse(readYaml({ text, fileName }));
  if (!parsed.success) throw new ConfigError(formatIssues(fileName, parsed.error.issues));
  return parsed.data;
}

/**
 * Builds the active policy from policy files in order: each file is a rule pack or a risk appetite
 * (its `kind`), and a later file of a kind replaces an earlier one, so `[...defaults, userFile]`
 * lets a user's `--policy FILE` override either part.
 */
export function parsePolicy(docs: readonly PolicyDocument[]): Policy {
  let rulePack: RulePack | null = null;
  let appetite: RiskAppetite | null = null;
  let rulesFrom = '';
  let appetiteFrom = '';
  for (const doc of docs) {
    const raw = readYaml(doc);
    const kind = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
    if (kind === 'rule-pack') {
      rulePack = parseRulePack(doc.text, doc.fileName);
      rulesFrom = doc.fileName;
    } else if (kind === 'risk-appetite') {
      appetite = parseRiskAppetite(doc.text, doc.fileName);
      appetiteFrom = doc.fileName;
    } else {
      throw new ConfigError(
        `invalid policy file ${doc.fileName}: kind: must be rule-pack or risk-appetite, got ${JSON.stringify(kind ?? null)}`,
      );
    }
  }
  if (rulePack === null) throw new ConfigError('invalid policy: no rule pack (a file with kind: rule-pack)');
  if (appetite === null)
    throw new ConfigError('invalid policy: no risk appetite (a file with kind: risk-appetite)');
  return { rulePack, appetite, sources: [rulesFrom, appetiteFrom] };
}

/**
 * The policy as it applies to a snapshot date: rules whose effectiveDate is after the date are
 * disabled, so re-auditing an old tape uses the rules in force then. Call it before creating the
 * accumulators of a run (every shard must use the same policy).
 */
export function policyInForce(policy: Policy, snapshotDate: string): Policy {
  const rules = policy.rulePack.rules.map((r) =>
    r.enabled && r.effectiveDate > snapshotDate ? { ...r, enabled: false } : r,
  );
  return { ...policy, rulePack: { ...policy.rulePack, rules } };
}

/** Absolute paths of the default policy files shipped in policies/ (the caller reads them). */
export function defaultPolicyPaths(): { rules: string; appetite: string } {
  return {
    rules: fileURLToPath(new URL('../../../policies/default-rules.yaml', import.meta.url)),
    appetite: fileURLToPath(new URL('../../../policies/risk-appetite.yaml', import.meta.url)),
  };
}
