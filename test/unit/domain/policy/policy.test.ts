import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDayNumber } from '../../../../shared/domain/engine/dates.ts';
import type { Loan } from '../../../../shared/domain/loan.ts';
import {
  compileMask,
  compilePolicy,
  describeConditions,
  rateLimit,
} from '../../../../shared/domain/policy/compile.ts';
import {
  defaultPolicyPaths,
  parsePolicy,
  parseRiskAppetite,
  parseRulePack,
  type Rule,
  type RulePack,
} from '../../../../shared/domain/policy/policy.ts';
import { policyInForce, seriesValueAt } from '../../../../shared/domain/policy/resolve.ts';
import { ConfigError } from '../../../../shared/errors.ts';
import { makeLoan } from '../engine/helpers.ts';
import { compileConditions } from './conditions-oracle.ts';

const paths = defaultPolicyPaths();
const rulesText = readFileSync(paths.rules, 'utf8');
const appetiteText = readFileSync(paths.appetite, 'utf8');

describe('Function: parseRulePack', () => {
  it('loads the default pack with every code of audit-result.md, each with a source, licences and a date', () => {
    const pack = parseRulePack(rulesText, 'default-rules.yaml');

    expect(pack.version).toBe('2026.12.0');
    expect(pack.lender).toEqual({
      licence: 'online_micro_loan_company',
      netAssets: null,
      tier1Capital: null,
      licensedRegions: null,
      currency: 'CNY',
    });
    expect(pack.rules.map((r) => [r.code, r.kind])).toEqual([
      ['COST_ABOVE_36', 'loan'],
      ['COST_ABOVE_24_NEW', 'loan'],
      ['COST_ABOVE_24_LEGACY', 'loan'],
      ['COST_ABOVE_4LPR', 'rate_above_parameter'],
      ['COST_ABOVE_24_FACILITATED', 'loan'],
      ['CONSUMER_BALANCE_CAP', 'borrower_exposure'],
      ['BUSINESS_BALANCE_CAP', 'borrower_exposure'],
      ['BORROWER_NET_ASSETS_10', 'borrower_exposure'],
      ['GROUP_NET_ASSETS_15', 'group_exposure'],
      ['BANK_CONSUMER_LINE_CAP', 'borrower_exposure'],
      ['INCOME_THIRD_AFFORDABILITY', 'borrower_exposure'],
      ['MINOR_BORROWER', 'loan'],
      ['AGE_UNKNOWN', 'loan'],
      ['STUDENT_CONSUMER_LOAN', 'loan'],
      ['STUDENT_LOAN_REVIEW', 'loan'],
      ['CO_LENDING_OWN_SHARE_MIN', 'loan'],
      ['CO_LENDING_OWN_SHARE_MAX', 'loan'],
      ['CO_LENDING_PARTNER_CAP', 'partner_exposure'],
      ['CO_LENDING_TOTAL_CAP', 'portfolio_share'],
      ['CLASSIFICATION_BELOW_FLOOR', 'classification_floor'],
      ['OUT_OF_LICENSED_REGION', 'region_outside_licence'],
    ]);
    expect(pack.vulnerabilityFlags.map((f) => f.code)).toEqual([
      'YOUNG_BORROWER',
      'HIGH_DTI',
      'MULTI_LENDING',
      'THIN_FILE',
    ]);
    for (const rule of pack.rules) {
      expect(rule.source.title.length).toBeGreaterThan(10);
      expect(rule.source.note?.length ?? 0).toBeGreaterThan(20);
      // audit-result.md: every default rule is in force for tapes from 2026-01-01.
      expect(rule.effectiveDate <= '2026-01-01').toBe(true);
      expect(rule.enabled).toBe(true);
    }
    // No public number for the cost guideline; a law is cited by name.
    const numbers = Object.fromEntries(pack.rules.map((r) => [r.code, r.source.number]));
    expect(numbers.COST_ABOVE_24_NEW).toBeNull();
    expect(numbers.MINOR_BORROWER).toBeNull();
    expect(numbers.CONSUMER_BALANCE_CAP).toBe('Jin Gui [2024] No. 26');
    expect(numbers.COST_ABOVE_24_FACILITATED).toBe('Jin Gui [2025] No. 9');
    expect(numbers.CLASSIFICATION_BELOW_FLOOR).toBe('CBIRC and PBOC Order 2023 No. 1');
    // The 2020 draft is cited as a draft, not as law.
    expect(pack.rules.find((r) => r.code === 'INCOME_THIRD_AFFORDABILITY')?.source.binding).toBe('draft');
    expect(pack.rules.find((r) => r.code === 'CONSUMER_BALANCE_CAP')).toMatchObject({
      purpose: 'consumption',
      maxExposure: 200_000,
      licences: ['online_micro_loan_company'],
    });
    expect(pack.rules.find((r) => r.code === 'BORROWER_NET_ASSETS_10')).toMatchObject({
      maxShareOf: { amount: 'netAssets', share: 0.1 },
    });
    expect(pack.rules.find((r) => r.code === 'COST_ABOVE_4LPR')).toMatchObject({
      parameter: 'LPR_1Y',
      multiple: 4,
      severity: [
        { from: '2025-12-24', severity: 'watch' },
        { from: '2028-01-01', severity: 'breach' },
      ],
    });
    const lpr = pack.parameters.find((p) => p.code === 'LPR_1Y');
    expect(lpr?.series.at(-1)).toEqual({ from: '2025-05-20', value: 0.03 });
    expect(lpr?.checkedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('names the file, the rule and the field of a mistake in one sentence', () => {
    const bad = rulesText.replace(
      '{ field: annualRate, above: 0.36 }',
      '{ field: annualRatio, above: 0.36 }',
    );
    expect(() => parseRulePack(bad, 'mine.yaml')).toThrow(ConfigError);
    expect(() => parseRulePack(bad, 'mine.yaml')).toThrow(
      /^invalid policy file mine\.yaml: rule COST_ABOVE_36, field when\.0\.field: must be one of /,
    );
  });

  it('refuses the bad packs of the issue, each with the file, the rule and the field', () => {
    const cases: [string, string][] = [
      // An unknown licence in the lender block.
      [
        rulesText.replace('  licence: online_micro_loan_company', '  licence: online_lender'),
        'invalid policy file x.yaml: field lender.licence: unknown licence "online_lender": use online_micro_loan_company, micro_loan_company, consumer_finance_company, bank',
      ],
      // A rule for an unknown licence.
      [
        rulesText.replace(
          '    licences: [bank]\n    severity: breach\n    description: internet loan',
          '    licences: [bnak]\n    severity: breach\n    description: internet loan',
        ),
        'invalid policy file x.yaml: rule COST_ABOVE_24_FACILITATED, field licences: unknown licence in ["bnak"]: use online_micro_loan_company, micro_loan_company, consumer_finance_company, bank',
      ],
      // A severity schedule out of date order.
      [
        rulesText.replace(
          '{ from: "2028-01-01", severity: breach }',
          '{ from: "2025-01-01", severity: breach }',
        ),
        'invalid policy file x.yaml: rule COST_ABOVE_4LPR, field severity.1.from: the schedule must be in date order: 2025-01-01 does not follow 2025-12-24',
      ],
      // A dated series without checkedOn.
      [
        rulesText.replace('    checkedOn: "2026-12-01"\n', ''),
        'invalid policy file x.yaml: parameter LPR_1Y, field checkedOn: required',
      ],
      // An unknown field.
      [
        rulesText.replace(
          '    purpose: consumption\n    maxExposure: 200000',
          '    purpose: consumption\n    maxExposure: 200000\n    maxExposur: 5',
        ),
        'invalid policy file x.yaml: rule CONSUMER_BALANCE_CAP, field maxExposur: unknown field (check its spelling)',
      ],
      // An unknown rule kind.
      [
        rulesText.replace('    kind: portfolio_share', '    kind: portfolio_cap'),
        "invalid policy file x.yaml: rule CO_LENDING_TOTAL_CAP, field kind: Invalid discriminator value. Expected 'loan' | 'rate_above_parameter' | 'classification_floor' | 'region_outside_licence' | 'borrower_exposure' | 'group_exposure' | 'partner_exposure' | 'portfolio_share'",
      ],
    ];
    for (const [text, message] of cases) {
      let thrown: unknown = null;
      try {
        parseRulePack(text, 'x.yaml');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message.startsWith(message), (thrown as Error).message).toBe(true);
      expect((thrown as Error).message).not.toMatch(/\n/);
    }
  });

  it('explains a schedule out of order and a parameter no series defines', () => {
    const schedule = rulesText.replace(
      '{ from: "2028-01-01", severity: breach }',
      '{ from: "2025-01-01", severity: breach }',
    );
    expect(() => parseRulePack(schedule, 'x.yaml')).toThrow(ConfigError);
    const issues = (() => {
      try {
        parseRulePack(rulesText.replace('    parameter: LPR_1Y', '    parameter: LPR_5Y'), 'x.yaml');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(issues).toBe(
      "invalid policy file x.yaml: rule COST_ABOVE_4LPR, field parameter: no parameter LPR_5Y in the pack's parameters (it has LPR_1Y)",
    );
  });

  it('rejects wrong severities, duplicate codes, bounds on text fields and conditions without a test', () => {
    const cases: [string, RegExp][] = [
      [rulesText.replace('severity: watch', 'severity: warn'), /rule COST_ABOVE_24_LEGACY, field severity/],
      [
        rulesText.replace('code: COST_ABOVE_24_LEGACY', 'code: COST_ABOVE_36'),
        /rule COST_ABOVE_36, field code: duplicate code COST_ABOVE_36/,
      ],
      [
        rulesText.replace('{ field: borrowerType, equals: individual }', '{ field: borrowerType, above: 1 }'),
        /bounds apply to numeric fields only/,
      ],
      [
        rulesText.replace('{ field: borrowerAge, below: 18 }', '{ field: borrowerAge }'),
        /needs one of above/,
      ],
      [
        rulesText.replace('effectiveDate: "2017-12-01"', 'effectiveDate: "1 Dec 2017"'),
        /rule COST_ABOVE_36, field effectiveDate: must be a date/,
      ],
      [
        rulesText.replace(
          '    maxShareOf: { amount: netAssets, share: 0.1 }',
          '    maxShareOf: { amount: netAssets, share: 0.1 }\n    maxExposure: 5',
        ),
        /rule BORROWER_NET_ASSETS_10, field maxExposure: give exactly one of maxExposure, maxShareOf or incomeDivisor/,
      ],
      [
        rulesText.replace(
          '    - { from: "2025-12-24", severity: watch }',
          '    - { from: "2026-01-01", severity: watch }',
        ),
        /rule COST_ABOVE_4LPR, field severity\.0\.from: the schedule must start on or before the rule's effectiveDate 2025-12-24/,
      ],
      [
        rulesText.replace('      number: Jin Gui [2025] No. 9\n', ''),
        /rule COST_ABOVE_24_FACILITATED, field source\.number: required/,
      ],
    ];
    for (const [text, message] of cases) expect(() => parseRulePack(text, 'x.yaml')).toThrow(message);
  });

  it('reports text that is not YAML', () => {
    expect(() => parseRulePack('rules: [unclosed', 'broken.yaml')).toThrow(
      /invalid policy file broken\.yaml: not valid YAML/,
    );
  });
});

describe('Function: parseRiskAppetite', () => {
  it('loads thresholds for the six categories and the model parameters', () => {
    const appetite = parseRiskAppetite(appetiteText, 'risk-appetite.yaml');

    expect(Object.keys(appetite.categories)).toEqual([
      'credit',
      'regulatory',
      'concentration',
      'vulnerability',
      'technical',
      'liquidity',
    ]);
    expect(appetite.categories.credit[0]).toEqual(
      expect.objectContaining({ metric: 'nplRatio', amber: 0.02, red: 0.05, direction: 'above' }),
    );
    expect(appetite.model.lgd).toEqual({ order_financing: 0.45, credit_loan: 0.75, consumer_credit: 0.85 });
  });

  it('rejects unknown metrics, red milder than amber and unordered grades', () => {
    expect(() =>
      parseRiskAppetite(appetiteText.replace('metric: nplRatio', 'metric: nplRate'), 'a.yaml'),
    ).toThrow(/categories\.credit\.0\.metric: unknown metric nplRate for credit/);
    expect(() =>
      parseRiskAppetite(
        appetiteText.replace('amber: 0.02\n      red: 0.05', 'amber: 0.05\n      red: 0.02'),
        'a.yaml',
      ),
    ).toThrow(/categories\.credit\.0\.red: red must be at least as severe as amber/);
    expect(() => parseRiskAppetite(appetiteText.replace('    B: 620', '    B: 700'), 'a.yaml')).toThrow(
      /model\.grades/,
    );
    expect(() =>
      parseRiskAppetite(appetiteText.replace('    credit_loan: 0.75', '    credit_loan: 1.75'), 'a.yaml'),
    ).toThrow(/model\.lgd\.credit_loan/);
  });

  it('accepts a flag share threshold of any flag code', () => {
    const appetite = parseRiskAppetite(appetiteText, 'a.yaml');
    expect(appetite.categories.vulnerability.map((t) => t.metric)).toContain('flagShare:YOUNG_BORROWER');
  });
});

describe('Function: parsePolicy', () => {
  it('lets a later file of a kind replace the default one', () => {
    const mine = rulesText.replace('name: default', 'name: mine').replace('above: 0.36 }', 'above: 0.3 }');
    const policy = parsePolicy([
      { text: rulesText, fileName: 'default-rules.yaml' },
      { text: appetiteText, fileName: 'risk-appetite.yaml' },
      { text: mine, fileName: 'mine.yaml' },
    ]);

    expect(policy.rulePack.name).toBe('mine');
    expect(policy.sources).toEqual(['mine.yaml', 'risk-appetite.yaml']);
    const cost = compilePolicy(policyInForce(policy, '2026-11-25')).loanRules[0]!;
    expect(cost.code).toBe('COST_ABOVE_36');
    expect(cost.test(makeLoan({ annualRate: 0.31 }))).toBe(true);
  });

  it("replaces the pack's lender with a lender profile, whatever the order", () => {
    const profile = [
      'kind: lender-profile',
      'lender:',
      '  licence: bank',
      '  netAssets: null',
      '  tier1Capital: 2000000000',
      '  licensedRegions: null',
      '  currency: CNY',
    ].join('\n');
    const docs = [
      { text: profile, fileName: 'bank.yaml' },
      { text: rulesText, fileName: 'default-rules.yaml' },
      { text: appetiteText, fileName: 'risk-appetite.yaml' },
    ];
    const policy = parsePolicy(docs);
    expect(policy.rulePack.lender).toMatchObject({ licence: 'bank', tier1Capital: 2e9 });
    expect(policy.sources).toEqual(['default-rules.yaml', 'bank.yaml', 'risk-appetite.yaml']);
    expect(() =>
      parsePolicy([
        ...docs,
        { text: profile.replace('licence: bank', 'licence: bank\n  tier2: 1'), fileName: 'b.yaml' },
      ]),
    ).toThrow('invalid policy file b.yaml: field lender.tier2: unknown field (check its spelling)');
  });

  it('requires a rule pack and a risk appetite, and a known kind', () => {
    expect(() => parsePolicy([{ text: rulesText, fileName: 'r.yaml' }])).toThrow(/no risk appetite/);
    expect(() => parsePolicy([{ text: appetiteText, fileName: 'a.yaml' }])).toThrow(/no rule pack/);
    expect(() => parsePolicy([{ text: 'kind: other', fileName: 'o.yaml' }])).toThrow(
      'invalid policy file o.yaml: field kind: must be rule-pack, lender-profile or risk-appetite, got "other"',
    );
  });

  it('drops disabled rules and flags when compiling', () => {
    const edited = rulesText.replace(
      '  - code: MINOR_BORROWER\n    kind: loan\n',
      '  - code: MINOR_BORROWER\n    kind: loan\n    enabled: false\n',
    );
    const policy = parsePolicy([
      { text: edited, fileName: 'r.yaml' },
      { text: appetiteText, fileName: 'a.yaml' },
    ]);
    expect(compilePolicy(policyInForce(policy, '2026-11-25')).loanRules.map((r) => r.code)).not.toContain(
      'MINOR_BORROWER',
    );
  });
});

describe('Function: policyInForce', () => {
  const policy = parsePolicy([
    { text: rulesText, fileName: 'r.yaml' },
    { text: appetiteText, fileName: 'a.yaml' },
  ]);
  const statuses = (date: string, currency = 'CNY') =>
    Object.fromEntries(
      policyInForce(policy, date, currency).resolution!.rules.map((r) => [r.rule.code, r.status]),
    );

  it('lists every rule on a tape dated before the rules, none in force, each saying from when', () => {
    const before = policyInForce(policy, '2017-06-30').resolution!;
    expect(before.rules).toHaveLength(21);
    expect(before.rules.every((r) => r.status === 'not_in_force')).toBe(true);
    expect(before.rules.find((r) => r.rule.code === 'MINOR_BORROWER')?.reason).toBe(
      "in force from 2021-01-01, after the tape's date 2017-06-30",
    );
    // Not yet effective and not applicable: not in force.
    expect(before.rules.find((r) => r.rule.code === 'CO_LENDING_PARTNER_CAP')?.status).toBe('not_in_force');
  });

  it('turns rules on at their effective dates', () => {
    expect(statuses('2021-12-31').CO_LENDING_OWN_SHARE_MIN).toBe('not_in_force');
    expect(statuses('2022-01-01').CO_LENDING_OWN_SHARE_MIN).toBe('in_force');
    expect(statuses('2025-12-23').COST_ABOVE_24_NEW).toBe('not_in_force');
    expect(statuses('2025-12-24').COST_ABOVE_24_NEW).toBe('in_force');
    expect(statuses('2025-12-31').CONSUMER_BALANCE_CAP).toBe('not_in_force');
    expect(statuses('2026-01-01').CONSUMER_BALANCE_CAP).toBe('in_force');
    // Never changes the parsed policy.
    expect(policy.resolution).toBeUndefined();
  });

  it('gives the severity in force on the tape date, on both sides of a schedule date', () => {
    const severity = (date: string) =>
      policyInForce(policy, date).resolution!.rules.find((r) => r.rule.code === 'COST_ABOVE_4LPR')?.severity;
    expect(severity('2027-12-31')).toBe('watch');
    expect(severity('2028-01-01')).toBe('breach');
  });

  it('leaves out the amount rules of a tape in another currency, saying why', () => {
    const usd = policyInForce(policy, '2026-11-25', 'USD').resolution!;
    const off = usd.rules.filter((r) => r.status === 'not_applicable' && r.reason?.startsWith('its amount'));
    expect(off.map((r) => r.rule.code)).toEqual(['CONSUMER_BALANCE_CAP', 'BUSINESS_BALANCE_CAP']);
    expect(off[0]!.reason).toBe('its amount thresholds are in CNY and the tape is in USD');
    // Rates, ages and the income test compare nothing in CNY: still in force.
    expect(statuses('2026-11-25', 'USD').COST_ABOVE_24_NEW).toBe('in_force');
    expect(statuses('2026-11-25', 'USD').INCOME_THIRD_AFFORDABILITY).toBe('in_force');
  });
});

describe('Function: compileConditions', () => {
  it('never matches an unknown field unless orMissing is set', () => {
    const thin = compileConditions([{ field: 'creditScore', below: 550, orMissing: true }]);
    const low = compileConditions([{ field: 'creditScore', below: 550 }]);

    expect([
      thin(makeLoan({ creditScore: null })),
      thin(makeLoan({ creditScore: 549 })),
      thin(makeLoan({ creditScore: 550 })),
    ]).toEqual([true, true, false]);
    expect(low(makeLoan({ creditScore: null }))).toBe(false);
  });

  it('supports inclusive and exclusive bounds, equals and in, on numbers, booleans and text', () => {
    const range = compileConditions([{ field: 'borrowerAge', atLeast: 18, atMost: 22 }]);
    const region = compileConditions([{ field: 'region', in: ['Zhejiang', 'Jiangsu'] }]);
    const student = compileConditions([{ field: 'isStudent', equals: true }]);
    const dti = compileConditions([{ field: 'dti', above: 0.5 }]);

    expect([17, 18, 22, 23].map((borrowerAge) => range(makeLoan({ borrowerAge })))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect([
      region(makeLoan({ region: 'Jiangsu' })),
      region(makeLoan({ region: 'Hubei' })),
      region(makeLoan()),
    ]).toEqual([true, false, false]);
    expect([
      student(makeLoan({ isStudent: true })),
      student(makeLoan({ isStudent: false })),
      student(makeLoan()),
    ]).toEqual([true, false, false]);
    // 1000 / (24000 / 12) = 0.5 is not above 0.5; income 0 leaves DTI unknown.
    expect(dti(makeLoan({ monthlyDebtPayments: 1000, annualIncome: 24_000 }))).toBe(false);
    expect(dti(makeLoan({ monthlyDebtPayments: 1001, annualIncome: 24_000 }))).toBe(true);
    expect(dti(makeLoan({ monthlyDebtPayments: 1001, annualIncome: 0 }))).toBe(false);
  });

  it('describes a threshold for findings', () => {
    expect(describeConditions([{ field: 'annualRate', above: 0.24, atMost: 0.36 }])).toBe(
      'annualRate > 0.24 and annualRate <= 0.36',
    );
    expect(describeConditions([{ field: 'creditScore', below: 550, orMissing: true }])).toBe(
      '(creditScore < 550 or creditScore unknown)',
    );
  });
});

describe('Function: compileMask', () => {
  // An independent reading of each loan-level rule of the pack: closures over the pack's data,
  // not the generated code the mask runs.
  function independent(rule: Rule, pack: RulePack): (loan: Loan) => boolean {
    const window = (loan: Loan): boolean => {
      const w = 'originated' in rule ? rule.originated : undefined;
      return (
        w === undefined ||
        ((w.onOrAfter === undefined || loan.originationDate >= w.onOrAfter) &&
          (w.before === undefined || loan.originationDate < w.before))
      );
    };
    const when = 'when' in rule && rule.when !== undefined ? compileConditions(rule.when) : () => true;
    const rank = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'];
    switch (rule.kind) {
      case 'loan':
        return (loan) => window(loan) && when(loan);
      case 'rate_above_parameter': {
        const series = pack.parameters.find((p) => p.code === rule.parameter)!;
        return (loan) => {
          const v = seriesValueAt(series, loan.originationDate);
          return window(loan) && when(loan) && v !== null && loan.annualRate > rateLimit(rule.multiple, v);
        };
      }
      case 'classification_floor':
        return (loan) => {
          const floor = rule.floor.filter((f) => loan.daysPastDue > f.daysPastDueAbove).at(-1);
          return (
            window(loan) &&
            when(loan) &&
            loan.reportedClassification !== null &&
            floor !== undefined &&
            rank.indexOf(loan.reportedClassification) < rank.indexOf(floor.atLeast)
          );
        };
      case 'region_outside_licence':
        return (loan) =>
          window(loan) &&
          when(loan) &&
          loan.region !== null &&
          !(pack.lender.licensedRegions ?? []).includes(loan.region);
      default:
        throw new Error(`${rule.kind} is not loan-level`);
    }
  }

  it('agrees with an independent reading of every loan-level rule on any loan, for each licence', () => {
    const profile = (licence: string) => ({
      text: `kind: lender-profile\nlender:\n  licence: ${licence}\n  netAssets: 1000000\n  tier1Capital: 1000000\n  licensedRegions: [Zhejiang]\n  currency: CNY`,
      fileName: `${licence}.yaml`,
    });
    const compiledFor = [
      'micro_loan_company',
      'online_micro_loan_company',
      'bank',
      'consumer_finance_company',
    ].map((licence) => {
      const policy = parsePolicy([
        { text: rulesText, fileName: 'r.yaml' },
        { text: appetiteText, fileName: 'a.yaml' },
        profile(licence),
      ]);
      const compiled = compilePolicy(policyInForce(policy, '2026-11-25'));
      return {
        compiled,
        tests: compiled.loanRules.map((r) => independent(r.resolved.rule, policy.rulePack)),
      };
    });
    const extra = [
      [{ field: 'region' as const, in: ['Zhejiang', 'Hubei'] }],
      [
        { field: 'product' as const, equals: 'consumer_credit' },
        { field: 'daysPastDue' as const, atLeast: 1 },
      ],
      [{ field: 'termMonths' as const, in: [6, 12] }],
      [{ field: 'isStudent' as const, equals: false, orMissing: true }],
      [
        { field: 'partnerId' as const, present: true },
        { field: 'coLent' as const, equals: false },
      ],
      [{ field: 'loanPurpose' as const, equals: 'business' }],
    ];
    const extraMask = compileMask(extra);
    const extraTests = extra.map((c) => compileConditions(c));
    const n = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          annualRate: fc.oneof(
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.constantFrom(0.12, 0.1201, 0.24, 0.36, 0.148, 0.154),
          ),
          originationDate: fc.constantFrom(
            '2019-01-01',
            '2020-04-19',
            '2020-04-20',
            '2025-10-01',
            '2025-12-23',
            '2025-12-24',
            '2026-06-01',
          ),
          borrowerAge: n(fc.integer({ min: 10, max: 80 })),
          isStudent: n(fc.boolean()),
          borrowerType: fc.constantFrom('individual' as const, 'enterprise' as const),
          ownFundingShare: fc.constantFrom(0, 0.29, 0.3, 0.7, 0.71, 1),
          annualIncome: n(fc.integer({ min: 0, max: 100_000 })),
          monthlyDebtPayments: n(fc.integer({ min: 0, max: 10_000 })),
          otherLendersCount: n(fc.integer({ min: 0, max: 6 })),
          creditScore: n(fc.integer({ min: 350, max: 950 })),
          region: n(fc.constantFrom('Zhejiang', 'Hubei', 'Jiangsu')),
          product: fc.constantFrom(
            'order_financing' as const,
            'credit_loan' as const,
            'consumer_credit' as const,
          ),
          daysPastDue: fc.constantFrom(0, 1, 5, 90, 91, 270, 271, 360, 361),
          termMonths: fc.constantFrom(3, 6, 12),
          loanPurpose: n(fc.constantFrom('consumption' as const, 'business' as const)),
          partnerId: n(fc.constantFrom('PB-1', 'FP-2')),
          reportedClassification: n(
            fc.constantFrom(
              'normal' as const,
              'special_mention' as const,
              'substandard' as const,
              'doubtful' as const,
              'loss' as const,
            ),
          ),
        }),
        (fields) => {
          const loan = makeLoan(fields);
          const day = isoDayNumber(loan.originationDate);
          const bits = (mask: number, count: number) =>
            Array.from({ length: count }, (_, i) => ((mask >>> i) & 1) === 1);
          for (const { compiled, tests } of compiledFor) {
            expect(bits(compiled.ruleMask(loan, day), compiled.loanRules.length)).toEqual(
              tests.map((t) => t(loan)),
            );
            expect(bits(compiled.flagMask(loan, day), compiled.flags.length)).toEqual(
              compiled.flags.map((f) => f.test(loan)),
            );
          }
          expect(bits(extraMask(loan, day), extra.length)).toEqual(extraTests.map((t) => t(loan)));
        },
      ),
      { numRuns: 1000, seed: 3 },
    );
  });

  it("reads the LPR in force on each loan's origination date, across a rate change", () => {
    const policy = parsePolicy([
      { text: rulesText, fileName: 'r.yaml' },
      { text: appetiteText, fileName: 'a.yaml' },
    ]);
    // A pack whose 4x LPR rule covers loans from 2024 on: the LPR fell from 3.35% to 3.10% on
    // 2024-10-21, so the limit moved from 13.40% to 12.40% that day.
    const from2024 = structuredClone(policy);
    const rule = from2024.rulePack.rules.find((r) => r.code === 'COST_ABOVE_4LPR')!;
    if (rule.kind !== 'rate_above_parameter') throw new Error('unexpected kind');
    rule.originated = { onOrAfter: '2024-01-01' };
    rule.effectiveDate = '2024-01-01';
    rule.severity = 'watch';
    const compiled = compilePolicy(policyInForce(from2024, '2026-11-25'));
    const hit = (annualRate: number, originationDate: string) =>
      compiled.loanRules
        .find((r) => r.code === 'COST_ABOVE_4LPR')!
        .test(makeLoan({ annualRate, originationDate }));
    expect(hit(0.134, '2024-10-20')).toBe(false);
    expect(hit(0.1341, '2024-10-20')).toBe(true);
    expect(hit(0.124, '2024-10-21')).toBe(false);
    expect(hit(0.1241, '2024-10-21')).toBe(true);
    expect(hit(0.13, '2024-10-20')).toBe(false);
    expect(hit(0.13, '2024-10-21')).toBe(true);
    // The same loan made before the window is not concerned.
    expect(hit(0.5, '2023-12-31')).toBe(false);
    expect(seriesValueAt(policy.rulePack.parameters[0]!, '2019-08-19')).toBeNull();
    expect(seriesValueAt(policy.rulePack.parameters[0]!, '2026-11-25')).toBe(0.03);
  });
});

describe('Function: compilePolicy', () => {
  const compiled = compilePolicy(
    policyInForce(
      parsePolicy([
        { text: rulesText, fileName: 'r.yaml' },
        { text: appetiteText, fileName: 'a.yaml' },
      ]),
      '2026-11-25',
    ),
  );
  const flagsOf = (loan: Loan): string[] => {
    const mask = compiled.flagMask(loan, isoDayNumber(loan.originationDate));
    return compiled.flags.filter((_, i) => ((mask >>> i) & 1) === 1).map((f) => f.code);
  };

  it("sets the default pack's flags from the loan's fields, DTI from monthly debt over monthly income", () => {
    // Prepare: a loan with a known score of 700 and nothing else known raises no flag; each loan
    // below changes one field. DTI: 1000 / (24000 / 12) = 0.5 is not above 0.5, 1001 / 2000 is.
    const base = { creditScore: 700 };

    // Act and assess
    expect(flagsOf(makeLoan(base))).toEqual([]);
    expect(flagsOf(makeLoan())).toEqual(['THIN_FILE']);
    expect(flagsOf(makeLoan({ ...base, creditScore: 549 }))).toEqual(['THIN_FILE']);
    expect(flagsOf(makeLoan({ ...base, borrowerAge: 22 }))).toEqual(['YOUNG_BORROWER']);
    expect(flagsOf(makeLoan({ ...base, borrowerAge: 23 }))).toEqual([]);
    expect(flagsOf(makeLoan({ ...base, otherLendersCount: 3 }))).toEqual(['MULTI_LENDING']);
    expect(flagsOf(makeLoan({ ...base, monthlyDebtPayments: 1000, annualIncome: 24_000 }))).toEqual([]);
    expect(flagsOf(makeLoan({ ...base, monthlyDebtPayments: 1001, annualIncome: 24_000 }))).toEqual([
      'HIGH_DTI',
    ]);
    // Income 0 or unknown leaves DTI unknown, and HIGH_DTI does not hold for an unknown DTI.
    expect(flagsOf(makeLoan({ ...base, monthlyDebtPayments: 1001, annualIncome: 0 }))).toEqual([]);
    expect(flagsOf(makeLoan({ ...base, monthlyDebtPayments: 1001 }))).toEqual([]);
  });

  it('gives each flag and loan rule the test of its own bit of the masks', () => {
    // Prepare
    const loan = makeLoan({ creditScore: 500, borrowerAge: 20, annualRate: 0.4 });
    const day = isoDayNumber(loan.originationDate);

    // Act
    const flagBits = compiled.flags.map((f) => f.test(loan));
    const ruleBits = compiled.loanRules.map((r) => r.test(loan));

    // Assess
    expect(flagBits).toEqual(compiled.flags.map((_, i) => ((compiled.flagMask(loan, day) >>> i) & 1) === 1));
    expect(ruleBits).toEqual(
      compiled.loanRules.map((_, i) => ((compiled.ruleMask(loan, day) >>> i) & 1) === 1),
    );
    expect(compiled.flags.filter((f) => f.test(loan)).map((f) => f.code)).toEqual([
      'YOUNG_BORROWER',
      'THIN_FILE',
    ]);
    expect(compiled.loanRules.find((r) => r.code === 'COST_ABOVE_36')!.test(loan)).toBe(true);
  });

  it('agrees with an independent reading of every enabled flag on any loan', () => {
    const n = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    const pack = parsePolicy([
      { text: rulesText, fileName: 'r.yaml' },
      { text: appetiteText, fileName: 'a.yaml' },
    ]).rulePack;
    const tests = pack.vulnerabilityFlags.filter((f) => f.enabled).map((f) => compileConditions(f.when));
    fc.assert(
      fc.property(
        fc.record({
          borrowerAge: n(fc.integer({ min: 10, max: 80 })),
          annualIncome: n(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0, 12, 24_000))),
          monthlyDebtPayments: n(fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0.5, 1000))),
          otherLendersCount: n(fc.integer({ min: 0, max: 6 })),
          creditScore: n(fc.integer({ min: 350, max: 950 })),
        }),
        (fields) => {
          const loan = makeLoan(fields);
          expect(compiled.flags.map((f) => flagsOf(loan).includes(f.code))).toEqual(
            tests.map((t) => t(loan)),
          );
        },
      ),
      { numRuns: 1000, seed: 7 },
    );
  });
});
