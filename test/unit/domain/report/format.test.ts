import { describe, expect, it } from 'vitest';
import {
  cleanText,
  formatAmount,
  formatCountChange,
  formatHhi,
  formatInteger,
  formatPercent,
  formatPointChange,
  formatRelativeChange,
} from '../../../../shared/domain/report/format.ts';

describe('Function: formatPercent', () => {
  it('shows a fraction as a percentage with two decimals', () => {
    expect(formatPercent(0.0182)).toBe('1.82%');
    expect(formatPercent(0.15316, 1)).toBe('15.3%');
  });

  it('shows n/a for a missing or non-finite value', () => {
    expect(formatPercent(null)).toBe('n/a');
    expect(formatPercent(Number.NaN)).toBe('n/a');
  });
});

describe('Function: formatPointChange', () => {
  it('signs a change in percentage points', () => {
    expect(formatPointChange(0.0182 - 0.0177)).toBe('+0.05 pp');
    expect(formatPointChange(-0.0012)).toBe('−0.12 pp');
  });

  it('shows ± when the rounded change is zero', () => {
    expect(formatPointChange(0.000001)).toBe('±0.00 pp');
  });
});

describe('Function: formatRelativeChange', () => {
  it('shows today over previous minus one, signed', () => {
    // 402.31 / 395.8 - 1 = 0.016447
    expect(formatRelativeChange(402_310_000, 395_800_000)).toBe('+1.6%');
    expect(formatRelativeChange(90, 100)).toBe('−10.0%');
  });

  it('is null when the previous value is zero', () => {
    expect(formatRelativeChange(5, 0)).toBeNull();
  });
});

describe('Function: formatAmount', () => {
  it('compacts amounts to k, m and bn with the yuan sign', () => {
    expect(formatAmount(18_640_000_000)).toBe('¥18.64bn');
    expect(formatAmount(402_310_000)).toBe('¥402.31m');
    expect(formatAmount(286_000)).toBe('¥286.0k');
    expect(formatAmount(9_500)).toBe('¥9,500');
  });

  it('prefixes another currency with its code', () => {
    expect(formatAmount(2_500_000, 'USD')).toBe('USD 2.50m');
  });
});

describe('Function: formatCountChange', () => {
  it('signs a count difference', () => {
    expect(formatCountChange(1)).toBe('+1');
    expect(formatCountChange(-1200)).toBe('−1,200');
    expect(formatCountChange(0)).toBe('±0');
  });
});

describe('Function: formatInteger and formatHhi', () => {
  it('groups thousands and shows an HHI with four decimals', () => {
    expect(formatInteger(1_000_412)).toBe('1,000,412');
    expect(formatHhi(0.15782)).toBe('0.1578');
    expect(formatHhi(null)).toBe('n/a');
  });
});

describe('Function: cleanText', () => {
  it('turns line breaks, control and bidi characters into single spaces', () => {
    expect(cleanText('Retail\r\nX-Injected: 1')).toBe('Retail X-Injected: 1');
    expect(cleanText('abc\u202Efdp.exe')).toBe('abc fdp.exe');
  });

  it('cuts long names with an ellipsis', () => {
    expect(cleanText('a'.repeat(100), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});
