import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileConditions,
  compileMask,
  compilePolicy,
  describeConditions,
} from '../../../shared/domain/policy/compile.ts';
import {
  defaultPolicyPaths,
  parsePolicy,
  parseRiskAppetite,
  parseRulePack,
  policyInForce,
} from '../../../shared/domain/policy/policy.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { makeLoan } from '../engine/helpers.ts';

const paths = defaultPolicyPaths();
const rulesText = readFileSync(paths.rules, 'utf8');
const appetiteText = readFileSync(paths.appetite, 'utf8');

describe('Function: parseRulePack', () => {
  it('loads the default pack with the codes and thresholds of audit-result.md, each with a source and date', () => {
    const pack = parseRulePack(rulesText, 'default-rules.yaml');

    expect(pack.rules.map((r) => [r.code, r.severity])).toEqual([
      ['APR_ABOVE_36', 'breach'],
      ['APR_ABOVE_24', 'watch'],
      ['INDIVIDUAL_BALANCE_CAP', 'breach'],
      ['ENTERPRISE_BALANCE_CAP', 'breach'],
      ['MINOR_BORROWER', 'breach'],
      ['STUDENT_BORROWER', 'breach'],
      ['CO_LENDING_OWN_SHARE', 'breach'],
    ]);
    expect(pack.vulnerabilityFlags.map((f) => f.code)).toEqual([
      'YOUNG_BORROWER',
      'HIGH_DTI',
      'MULTI_LENDING',
      'THIN_FILE',
    ]);
    for (const rule of pack.rules) {
      expect(rule.source.length).toBeGreaterThan(20);
      expect(rule.effectiveDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(rule.enabled).toBe(true);
    }
    const cap = pack.rules.find((r) => r.code === 'INDIVIDUAL_BALANCE_CAP');
    expect(cap).toMatchObject({
      kind: 'borrower_exposure',
      borrowerType: 'individual',
      maxExposure: 300_000,
      incomeDivisor: 3,
    });
    const enterprise = pack.rules.find((r) => r.code === 'ENTERPRISE_BALANCE_CAP');
    expect(enterprise).toMatchObject({ borrowerType: 'enterprise', maxExposure: 1_000_000 });
  });

  it('names the file and the field of an invalid rule', () => {
    const bad = rulesText.replace(
      '{ field: annualRate, above: 0.36 }',
      '{ field: annualRatio, above: 0.36 }',
    );
    expect(() => parseRulePack(bad, 'mine.yaml')).toThrow(ConfigError);
    expect(() => parseRulePack(bad, 'mine.yaml')).toThrow(
      /invalid policy file mine\.yaml: rules\.0\.when\.0\.field: must be one of/,
    );
  });

  it('rejects unknown keys, wrong severities, duplicate codes and bounds on text fields', () => {
    const cases: [string, RegExp][] = [
      [rulesText.replace('severity: watch', 'severity: warn'), /rules\.1\.severity/],
      [
        rulesText.replace('    maxExposure: 1000000', '    maxExposure: 1000000\n    maxExposur: 5'),
        /rules\.3.*maxExposur/,
      ],
      [
        rulesText.replace('code: APR_ABOVE_24', 'code: APR_ABOVE_36'),
        /rules\.1\.code: duplicate code APR_ABOVE_36/,
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
        /rules\.0\.effectiveDate: must be a date/,
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
    const apr = compilePolicy(policy).loanRules[0]!;
    expect(apr.test(makeLoan({ annualRate: 0.31 }))).toBe(true);
  });

  it('requires both kinds and a known kind', () => {
    expect(() => parsePolicy([{ text: rulesText, fileName: 'r.yaml' }])).toThrow(/no risk appetite/);
    expect(() => parsePolicy([{ text: appetiteText, fileName: 'a.yaml' }])).toThrow(/no rule pack/);
    expect(() => parsePolicy([{ text: 'kind: other', fileName: 'o.yaml' }])).toThrow(
      /invalid policy file o\.yaml: kind: must be rule-pack or risk-appetite, got "other"/,
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
    expect(compilePolicy(policy).loanRules.map((r) => r.code)).not.toContain('MINOR_BORROWER');
  });
});

describe('Function: policyInForce', () => {
  it('disables rules not yet effective on the snapshot date', () => {
    const policy = parsePolicy([
      { text: rulesText, fileName: 'r.yaml' },
      { text: appetiteText, fileName: 'a.yaml' },
    ]);
    const enabled = (date: string) =>
      policyInForce(policy, date)
        .rulePack.rules.filter((r) => r.enabled)
        .map((r) => r.code);

    expect(enabled('2026-11-25')).toHaveLength(7);
    // Student rule from 2021-02-07, co-lending share from 2021-02-19.
    expect(enabled('2021-02-10')).not.toContain('CO_LENDING_OWN_SHARE');
    expect(enabled('2021-02-10')).toContain('STUDENT_BORROWER');
    expect(enabled('2016-01-01')).toEqual(['APR_ABOVE_24']);
    expect(policy.rulePack.rules.every((r) => r.enabled)).toBe(true);
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
  it('agrees with the per-rule predicates on any loan', () => {
    const policy = parsePolicy([
      { text: rulesText, fileName: 'r.yaml' },
      { text: appetiteText, fileName: 'a.yaml' },
    ]);
    const compiled = compilePolicy(policy);
    const extra = [
      [{ field: 'region' as const, in: ['Zhejiang', 'Hubei'] }],
      [
        { field: 'product' as const, equals: 'consumer_credit' },
        { field: 'daysPastDue' as const, atLeast: 1 },
      ],
      [{ field: 'termMonths' as const, in: [6, 12] }],
      [{ field: 'isStudent' as const, equals: false, orMissing: true }],
    ];
    const extraMask = compileMask(extra);
    const extraTests = extra.map((c) => compileConditions(c));
    const n = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          annualRate: fc.double({ min: 0, max: 1, noNaN: true }),
          borrowerAge: n(fc.integer({ min: 10, max: 80 })),
          isStudent: n(fc.boolean()),
          borrowerType: fc.constantFrom('individual' as const, 'enterprise' as const),
          ownFundingShare: fc.constantFrom(0, 0.29, 0.3, 1),
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
          daysPastDue: fc.integer({ min: 0, max: 5 }),
          termMonths: fc.constantFrom(3, 6, 12),
        }),
        (fields) => {
          const loan = makeLoan(fields);
          const rules = compiled.ruleMask(loan);
          const flags = compiled.flagMask(loan);
          const m = extraMask(loan);
          const bits = (mask: number, count: number) =>
            Array.from({ length: count }, (_, i) => ((mask >>> i) & 1) === 1);
          expect(bits(rules, compiled.loanRules.length)).toEqual(compiled.loanRules.map((r) => r.test(loan)));
          expect(bits(flags, compiled.flags.length)).toEqual(compiled.flags.map((f) => f.test(loan)));
          expect(bits(m, extra.length)).toEqual(extraTests.map((t) => t(loan)));
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });
});
