/**
 * Policy as data: the regulatory rule pack (with the lender it audits), an optional lender
 * profile, and the risk appetite, parsed from YAML text and validated with zod. Parsing is pure
 * (text in, value out); the caller reads the files.
 */
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { CLASSIFICATIONS, type RiskCategory } from '../audit-result.ts';
import { appetiteMetric, appetiteMetricNames } from './appetite-metrics.ts';

/** Who lends: the rules that bind depend on it (audit-result.md, compliance). */
export const LICENCES = [
  'online_micro_loan_company',
  'micro_loan_company',
  'consumer_finance_company',
  'bank',
] as const;
/** A lender's licence. */
export type Licence = (typeof LICENCES)[number];

/** How binding a rule's source is. */
export const BINDING_KINDS = [
  'law',
  'regulation',
  'normative_document',
  'supervisory_guidance',
  'draft',
  'internal',
] as const;
/** One binding kind. */
export type BindingKind = (typeof BINDING_KINDS)[number];

/** Lender figures a rule's limit may be a share of. */
export const LENDER_AMOUNTS = ['netAssets', 'tier1Capital'] as const;
/** One lender figure. */
export type LenderAmount = (typeof LENDER_AMOUNTS)[number];

/** Loan fields a rule condition may test: numbers, booleans, and text fields. */
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
/** Boolean loan fields a condition may test (`coLent` is derived: partner given and own share below 1). */
export const BOOLEAN_FIELDS = ['isStudent', 'coLent'] as const;
/**
 * Text loan fields a condition may test (equals / in). `loanPurpose` is the purpose the rules use:
 * the tape's loan_purpose, or the one its product and borrower type imply (never unknown).
 */
export const TEXT_FIELDS = [
  'borrowerType',
  'product',
  'region',
  'industry',
  'currency',
  'merchantId',
  'loanPurpose',
  'partnerId',
  'relatedPartyGroup',
  'reportedClassification',
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
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as CNY');
const share = z.number().gt(0, 'must be above 0').max(1, 'must be at most 1');

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
    /** true: the field is given (not empty); false: it is empty (unknown). */
    present: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    const bounds = ['above', 'atLeast', 'below', 'atMost'] as const;
    const hasBound = bounds.some((b) => c[b] !== undefined);
    const tests = hasBound || c.equals !== undefined || c.in !== undefined;
    if (!tests && c.present === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs one of above, atLeast, below, atMost, equals, in, present',
      });
    }
    if (c.present !== undefined && (tests || c.orMissing !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['present'], message: 'present stands alone in its condition' });
    }
    const numeric = (NUMERIC_FIELDS as readonly string[]).includes(c.field);
    if (hasBound && !numeric) {
      ctx.addIssue({ code: 'custom', message: `bounds apply to numeric fields only, not ${c.field}` });
    }
    const boolean = (BOOLEAN_FIELDS as readonly string[]).includes(c.field);
    if (boolean && c.equals !== undefined && typeof c.equals !== 'boolean') {
      ctx.addIssue({ code: 'custom', path: ['equals'], message: `${c.field} compares with true or false` });
    }
  });

/** One condition on a loan field; all bounds given must hold. */
export type Condition = z.infer<typeof ConditionSchema>;

/** Where a rule's threshold comes from: `number` is null where no public number exists. */
export const SourceSchema = z.strictObject({
  title: z.string().min(1),
  number: z.string().min(1).nullable(),
  issuer: z.string().min(1),
  issued: isoDate.nullable(),
  effective: isoDate.nullable(),
  binding: z.enum(BINDING_KINDS),
  /** What is unconfirmed about the source (its number, a date, the threshold's wording). */
  note: z.string().min(1).nullable().default(null),
});
/** A rule's or parameter's source. */
export type RuleSource = z.infer<typeof SourceSchema>;

const severityLevel = z.enum(['breach', 'watch']);
/** A rule's severity. */
export type SeverityLevel = z.infer<typeof severityLevel>;

const SeverityScheduleSchema = z
  .array(z.strictObject({ from: isoDate, severity: severityLevel }))
  .min(1)
  .superRefine((list, ctx) => {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.from <= list[i - 1]!.from)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'from'],
          message: `the schedule must be in date order: ${list[i]!.from} does not follow ${list[i - 1]!.from}`,
        });
    }
  });

/** A severity, or a dated schedule of them (each entry in force from its date). */
const SeveritySchema = z.union([severityLevel, SeverityScheduleSchema]);
/** A severity or its dated schedule. */
export type Severity = z.infer<typeof SeveritySchema>;

const licence = z.enum(LICENCES, {
  error: (issue) => `unknown licence ${JSON.stringify(issue.input)}: use ${LICENCES.join(', ')}`,
});
const licences = z.union([z.literal('all'), z.array(licence).min(1)], {
  error: (issue) =>
    Array.isArray(issue.input)
      ? `unknown licence in ${JSON.stringify(issue.input)}: use ${LICENCES.join(', ')}`
      : `must be all or a list of licences (${LICENCES.join(', ')})`,
});

/** A window on origination_date: rules for new loans only, or for loans made before a date. */
const OriginationWindowSchema = z
  .strictObject({ onOrAfter: isoDate.optional(), before: isoDate.optional() })
  .refine((w) => w.onOrAfter !== undefined || w.before !== undefined, {
    message: 'give onOrAfter, before, or both',
  });
/** A rule's origination window. */
export type OriginationWindow = z.infer<typeof OriginationWindowSchema>;

const common = {
  code,
  description: z.string().min(1),
  /** The licences the rule binds (`all`, or a list). */
  licences,
  effectiveDate: isoDate,
  severity: SeveritySchema,
  /** A different severity (or schedule) for some licences. */
  severityByLicence: z.partialRecord(z.enum(LICENCES), SeveritySchema).optional(),
  source: SourceSchema,
  enabled: z.boolean().default(true),
};

/** A limit on an exposure: an amount in the pack's currency, or a share of a lender figure. */
const capFields = {
  maxExposure: z.number().positive().optional(),
  maxShareOf: z.strictObject({ amount: z.enum(LENDER_AMOUNTS), share }).optional(),
};

const LoanRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('loan'),
  when: z.array(ConditionSchema).min(1),
  originated: OriginationWindowSchema.optional(),
});

const RateAboveParameterRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('rate_above_parameter'),
  /** Code of a dated parameter series of the pack (e.g. the one-year LPR). */
  parameter: code,
  multiple: z.number().positive(),
  /** The loan date at which the parameter is read. */
  at: z.enum(['originationDate']).default('originationDate'),
  when: z.array(ConditionSchema).min(1).optional(),
  originated: OriginationWindowSchema.optional(),
});

const ClassificationFloorRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('classification_floor'),
  /** Above each days-past-due bound, the reported class must be at least this severe. */
  floor: z
    .array(
      z.strictObject({
        daysPastDueAbove: z.number().int().nonnegative(),
        atLeast: z.enum(CLASSIFICATIONS),
      }),
    )
    .min(1)
    .superRefine((list, ctx) => {
      for (let i = 1; i < list.length; i++) {
        if (list[i]!.daysPastDueAbove <= list[i - 1]!.daysPastDueAbove)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'daysPastDueAbove'],
            message: 'the floor must be in increasing days-past-due order',
          });
      }
    }),
  when: z.array(ConditionSchema).min(1).optional(),
  originated: OriginationWindowSchema.optional(),
});

const RegionOutsideLicenceRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('region_outside_licence'),
  when: z.array(ConditionSchema).min(1).optional(),
  originated: OriginationWindowSchema.optional(),
});

const BorrowerExposureRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('borrower_exposure'),
  /** Exposure of the borrower's loans of this purpose (their loans of that purpose are concerned). */
  purpose: z.enum(['any', 'consumption', 'business']).default('any'),
  /** Borrowers having loans of this type. */
  borrowerType: z.enum(['any', 'individual', 'enterprise']).default('any'),
  ...capFields,
  /** Exposure above annual income / incomeDivisor (income known; 0 counts as known). */
  incomeDivisor: z.number().positive().optional(),
});

const GroupExposureRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('group_exposure'),
  ...capFields,
});

const PartnerExposureRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('partner_exposure'),
  ...capFields,
});

const PortfolioShareRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('portfolio_share'),
  /** The loans whose outstanding is compared with the book's: `co_lent`. */
  of: z.enum(['co_lent']),
  maxShare: share,
});

/** The rule kinds, a closed set: every `switch (rule.kind)` ends in assertNever. */
export const RULE_KINDS = [
  'loan',
  'rate_above_parameter',
  'classification_floor',
  'region_outside_licence',
  'borrower_exposure',
  'group_exposure',
  'partner_exposure',
  'portfolio_share',
] as const;

const RuleSchema = z
  .discriminatedUnion('kind', [
    LoanRuleSchema,
    RateAboveParameterRuleSchema,
    ClassificationFloorRuleSchema,
    RegionOutsideLicenceRuleSchema,
    BorrowerExposureRuleSchema,
    GroupExposureRuleSchema,
    PartnerExposureRuleSchema,
    PortfolioShareRuleSchema,
  ])
  .superRefine((r, ctx) => {
    if (r.kind === 'borrower_exposure' || r.kind === 'group_exposure' || r.kind === 'partner_exposure') {
      const caps = [
        r.maxExposure,
        r.maxShareOf,
        r.kind === 'borrower_exposure' ? r.incomeDivisor : undefined,
      ];
      if (caps.filter((c) => c !== undefined).length !== 1) {
        const choices =
          r.kind === 'borrower_exposure'
            ? 'maxExposure, maxShareOf or incomeDivisor'
            : 'maxExposure or maxShareOf';
        ctx.addIssue({ code: 'custom', path: ['maxExposure'], message: `give exactly one of ${choices}` });
      }
    }
    const first = Array.isArray(r.severity) ? r.severity[0]!.from : null;
    if (first !== null && first > r.effectiveDate)
      ctx.addIssue({
        code: 'custom',
        path: ['severity', 0, 'from'],
        message: `the schedule must start on or before the rule's effectiveDate ${r.effectiveDate}`,
      });
  });

/** A rule tested on each loan alone by its conditions. */
export type LoanRule = z.infer<typeof LoanRuleSchema>;
/** annual_rate above a multiple of a dated parameter (the one-year LPR) read at origination. */
export type RateAboveParameterRule = z.infer<typeof RateAboveParameterRuleSchema>;
/** The lender's reported five-category class milder than the floor its days past due set. */
export type ClassificationFloorRule = z.infer<typeof ClassificationFloorRuleSchema>;
/** A loan to a borrower outside the lender's licensed regions. */
export type RegionOutsideLicenceRule = z.infer<typeof RegionOutsideLicenceRuleSchema>;
/** A cap on a borrower's exposure (of one purpose, where it says so), resolved once all loans are seen. */
export type BorrowerExposureRule = z.infer<typeof BorrowerExposureRuleSchema>;
/** A cap on a related-party group's exposure (every loan of its member borrowers). */
export type GroupExposureRule = z.infer<typeof GroupExposureRuleSchema>;
/** A cap on one co-lending partner's co-lent outstanding. */
export type PartnerExposureRule = z.infer<typeof PartnerExposureRuleSchema>;
/** A cap on the share of the book's outstanding held by a kind of loan (co-lent loans). */
export type PortfolioShareRule = z.infer<typeof PortfolioShareRuleSchema>;
/** Any rule of a rule pack. */
export type Rule = z.infer<typeof RuleSchema>;
/** A rule's kind. */
export type RuleKind = Rule['kind'];

const FlagSchema = z.strictObject({
  code,
  description: z.string().min(1),
  when: z.array(ConditionSchema).min(1),
  enabled: z.boolean().default(true),
});

/** A borrower-vulnerability flag tested on each loan. */
export type VulnerabilityFlag = z.infer<typeof FlagSchema>;

/** The lender the pack audits (audit-result.md, compliance): its licence and the figures its limits need. */
export const LenderSchema = z.strictObject({
  licence,
  /** Prior year-end net assets, in the pack's currency (null: the rules that need it do not apply). */
  netAssets: z.number().positive().nullable(),
  /** Net Tier 1 capital, in the pack's currency. */
  tier1Capital: z.number().positive().nullable(),
  /** Province-level regions the licence covers, as the tape's `region` spells them. */
  licensedRegions: z.array(z.string().min(1)).min(1).nullable(),
  /** Currency of the pack's amount thresholds. */
  currency: currencyCode.default('CNY'),
});
/** The lender profile. */
export type Lender = z.infer<typeof LenderSchema>;

const ParameterSchema = z
  .strictObject({
    code,
    description: z.string().min(1),
    /** The date the series was last checked against its source. */
    checkedOn: isoDate,
    source: SourceSchema,
    series: z.array(z.strictObject({ from: isoDate, value: z.number() })).min(1),
  })
  .superRefine((p, ctx) => {
    for (let i = 1; i < p.series.length; i++) {
      if (p.series[i]!.from <= p.series[i - 1]!.from)
        ctx.addIssue({
          code: 'custom',
          path: ['series', i, 'from'],
          message: `the series must be in date order: ${p.series[i]!.from} does not follow ${p.series[i - 1]!.from}`,
        });
    }
  });
/** A dated parameter series (entries in force from their date). */
export type Parameter = z.infer<typeof ParameterSchema>;

/** Loan-level rule kinds: evaluated on each row, one bit each in the per-row mask. */
const LOAN_LEVEL: ReadonlySet<RuleKind> = new Set([
  'loan',
  'rate_above_parameter',
  'classification_floor',
  'region_outside_licence',
]);
/** Most enabled loan-level rules a pack may have (one bit each in a 32-bit mask). */
export const MAX_LOAN_RULES = 32;

const RulePackSchema = z
  .strictObject({
    kind: z.literal('rule-pack'),
    name: z.string().min(1),
    version,
    effectiveDate: isoDate,
    lender: LenderSchema,
    parameters: z.array(ParameterSchema).default([]),
    rules: z.array(RuleSchema),
    vulnerabilityFlags: z.array(FlagSchema).default([]),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    const once = (c: string, path: (string | number)[]): void => {
      if (seen.has(c)) ctx.addIssue({ code: 'custom', path, message: `duplicate code ${c}` });
      seen.add(c);
    };
    p.rules.forEach((r, i) => {
      once(r.code, ['rules', i, 'code']);
    });
    p.vulnerabilityFlags.forEach((f, i) => {
      once(f.code, ['vulnerabilityFlags', i, 'code']);
    });
    const parameters = new Set(p.parameters.map((x) => x.code));
    p.parameters.forEach((x, i) => {
      once(x.code, ['parameters', i, 'code']);
    });
    p.rules.forEach((r, i) => {
      if (r.kind === 'rate_above_parameter' && !parameters.has(r.parameter))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'parameter'],
          message: `no parameter ${r.parameter} in the pack's parameters${parameters.size > 0 ? ` (it has ${[...parameters].join(', ')})` : ''}`,
        });
    });
    const loanRules = p.rules.filter((r) => LOAN_LEVEL.has(r.kind) && r.enabled).length;
    if (loanRules > MAX_LOAN_RULES)
      ctx.addIssue({
        code: 'custom',
        path: ['rules'],
        message: `at most ${MAX_LOAN_RULES} enabled loan-level rules`,
      });
  });

/** The regulatory rule pack, its lender, parameters and vulnerability flags (policies/default-rules.yaml). */
export type RulePack = z.infer<typeof RulePackSchema>;

const LenderProfileSchema = z.strictObject({
  kind: z.literal('lender-profile'),
  /** Optional label for the run record. */
  name: z.string().min(1).optional(),
  lender: LenderSchema,
});
/** A lender profile file: replaces the rule pack's `lender` block (`--policy lender.yaml`). */
export type LenderProfile = z.infer<typeof LenderProfileSchema>;

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

const categoryThresholds = (category: RiskCategory) =>
  z
    .array(ThresholdSchema)
    .default([])
    .superRefine((list, ctx) => {
      list.forEach((t, i) => {
        if (appetiteMetric(t.metric)?.category !== category) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'metric'],
            message: `unknown metric ${t.metric} for ${category}: use ${appetiteMetricNames(category).join(', ')}`,
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

/** Status of a rule on a tape (audit-result.md, compliance). */
export type RuleStatus = 'in_force' | 'not_in_force' | 'not_applicable';

/** A rule as it stands on one tape: in force or not and why, and its severity that day. */
export interface ResolvedRule {
  rule: Rule;
  status: RuleStatus;
  severity: SeverityLevel;
  /** One sentence saying why the rule is off (null when in force). */
  reason: string | null;
}

/** The rule pack applied to one tape: its date, its currency and every rule's status. */
export interface PolicyResolution {
  snapshotDate: string;
  /** The tape's currency (portfolio.currency). */
  currency: string;
  /** Every rule of the pack, in pack order. */
  rules: ResolvedRule[];
}

/** The active policy: one rule pack (with its lender) and one risk appetite. */
export interface Policy {
  rulePack: RulePack;
  appetite: RiskAppetite;
  /** File names the policy came from, in load order, for the run record. */
  sources: string[];
  /** Set by `policyInForce`: the pack applied to a tape's date and currency. */
  resolution?: PolicyResolution;
}

/** One policy file's text and its name (for error messages). */
export interface PolicyDocument {
  text: string;
  fileName: string;
}

type Issue = { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] };

/** What a path inside a policy document names: `rule CODE, field x.y` rather than `rules.3.x.y`. */
function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  const list = path[0];
  const index = path[1];
  const rest = path.slice(2).map(String);
  const item =
    typeof list === 'string' && typeof index === 'number' && typeof raw === 'object' && raw !== null
      ? (raw as Record<string, unknown>)[list]
      : undefined;
  const entry = Array.isArray(item) ? (item[index as number] as { code?: unknown } | undefined) : undefined;
  const named = typeof entry?.code === 'string' ? entry.code : `#${Number(index) + 1}`;
  const what: Record<string, string> = {
    rules: 'rule',
    vulnerabilityFlags: 'flag',
    parameters: 'parameter',
  };
  if (typeof list === 'string' && what[list] !== undefined && typeof index === 'number') {
    return rest.length > 0 ? `${what[list]} ${named}, field ${rest.join('.')}` : `${what[list]} ${named}`;
  }
  return path.length > 0 ? `field ${path.map(String).join('.')}` : '(top level)';
}

function describeIssue(raw: unknown, issue: Issue): string {
  if (issue.code === 'unrecognized_keys' && issue.keys !== undefined && issue.keys.length > 0) {
    const where = describePath(raw, [...issue.path, issue.keys[0]!]);
    return `${where}: unknown field (check its spelling${issue.keys.length > 1 ? `; also ${issue.keys.slice(1).join(', ')}` : ''})`;
  }
  const message = /received undefined$/.test(issue.message) ? 'required' : issue.message;
  return `${describePath(raw, issue.path)}: ${message}`;
}

function formatIssues(fileName: string, raw: unknown, issues: readonly Issue[]): string {
  const first = describeIssue(raw, issues[0]!);
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `invalid policy file ${fileName}: ${first}${more}`;
}

function readYaml(doc: PolicyDocument): unknown {
  try {
    return parseYaml(doc.text);
  } catch (error) {
    const first = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`invalid policy file ${doc.fileName}: not valid YAML (${first})`, { cause: error });
  }
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, fileName: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(fileName, raw, parsed.error.issues as Issue[]));
  return parsed.data;
}

/** Parses and validates a rule pack, throwing a ConfigError naming the file, the rule and the field. */
export function parseRulePack(text: string, fileName: string): RulePack {
  return parseWith(RulePackSchema, readYaml({ text, fileName }), fileName);
}

/** Parses and validates a lender profile, throwing a ConfigError naming the file and the field. */
export function parseLenderProfile(text: string, fileName: string): LenderProfile {
  return parseWith(LenderProfileSchema, readYaml({ text, fileName }), fileName);
}

/** Parses and validates a risk appetite, throwing a ConfigError naming the file and field. */
export function parseRiskAppetite(text: string, fileName: string): RiskAppetite {
  return parseWith(RiskAppetiteSchema, readYaml({ text, fileName }), fileName);
}

/**
 * Builds the active policy from policy files in order: each file is a rule pack, a lender profile
 * or a risk appetite (its `kind`), and a later file of a kind replaces an earlier one, so
 * `[...defaults, userFile]` lets a user's `--policy FILE` override any part. A lender profile
 * replaces the `lender` block of whichever pack is active.
 */
export function parsePolicy(docs: readonly PolicyDocument[]): Policy {
  let rulePack: RulePack | null = null;
  let appetite: RiskAppetite | null = null;
  let profile: LenderProfile | null = null;
  let rulesFrom = '';
  let appetiteFrom = '';
  let profileFrom = '';
  for (const doc of docs) {
    const raw = readYaml(doc);
    const kind = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
    if (kind === 'rule-pack') {
      rulePack = parseWith(RulePackSchema, raw, doc.fileName);
      rulesFrom = doc.fileName;
    } else if (kind === 'risk-appetite') {
      appetite = parseWith(RiskAppetiteSchema, raw, doc.fileName);
      appetiteFrom = doc.fileName;
    } else if (kind === 'lender-profile') {
      profile = parseWith(LenderProfileSchema, raw, doc.fileName);
      profileFrom = doc.fileName;
    } else {
      throw new ConfigError(
        `invalid policy file ${doc.fileName}: field kind: must be rule-pack, lender-profile or risk-appetite, got ${JSON.stringify(kind ?? null)}`,
      );
    }
  }
  if (rulePack === null) throw new ConfigError('invalid policy: no rule pack (a file with kind: rule-pack)');
  if (appetite === null)
    throw new ConfigError('invalid policy: no risk appetite (a file with kind: risk-appetite)');
  if (profile !== null) rulePack = { ...rulePack, lender: profile.lender };
  return {
    rulePack,
    appetite,
    sources: profile === null ? [rulesFrom, appetiteFrom] : [rulesFrom, profileFrom, appetiteFrom],
  };
}

/** Absolute paths of the default policy files shipped in policies/ (the caller reads them). */
export function defaultPolicyPaths(): { rules: string; appetite: string } {
  return {
    rules: fileURLToPath(new URL('../../../policies/default-rules.yaml', import.meta.url)),
    appetite: fileURLToPath(new URL('../../../policies/risk-appetite.yaml', import.meta.url)),
  };
}
