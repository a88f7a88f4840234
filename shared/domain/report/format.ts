/**
 * Display formatting for the report. The audit keeps full-precision numbers; rounding happens
 * only here, once, so the HTML, the text part and the subject always show the same figures.
 */

const NOT_AVAILABLE = 'n/a';

// Control characters, line/paragraph separators and bidi overrides: a tape value must never be
// able to break a line of the text part or reorder what a reader sees.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Makes a tape-supplied name safe to print on one line: control and bidi characters become spaces. */
export function cleanText(value: string, maxLength = 80): string {
  const flat = value.replace(UNSAFE_CHARS, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

/** A fraction as a percentage, `0.0182` -> `1.82%`. */
export function formatPercent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NOT_AVAILABLE;
  return `${(value * 100).toFixed(digits)}%`;
}

/** The difference of two fractions in percentage points, `0.0005` -> `+0.05 pp`. */
export function formatPointChange(delta: number, digits = 2): string {
  const rounded = Number((delta * 100).toFixed(digits));
  const sign = rounded > 0 ? '+' : rounded < 0 ? '−' : '±';
  return `${sign}${Math.abs(rounded).toFixed(digits)} pp`;
}

/** A relative change, `today / previous - 1`, as a signed percentage; null when undefined. */
export function formatRelativeChange(today: number, previous: number, digits = 1): string | null {
  if (!Number.isFinite(today) || !Number.isFinite(previous) || previous === 0) return null;
  const rounded = Number(((today / previous - 1) * 100).toFixed(digits));
  const sign = rounded > 0 ? '+' : rounded < 0 ? '−' : '±';
  return `${sign}${Math.abs(rounded).toFixed(digits)}%`;
}

/** A signed integer difference, `3` -> `+3`. */
export function formatCountChange(delta: number): string {
  if (delta === 0) return '±0';
  return delta > 0 ? `+${formatInteger(delta)}` : `−${formatInteger(-delta)}`;
}

/** An integer with thousands separators, `1234567` -> `1,234,567`. */
export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NOT_AVAILABLE;
  return Math.round(value).toLocaleString('en-US');
}

/** `n` with the singular or plural noun, `1 rule` / `3 rules`. */
export function plural(n: number, one: string, many: string): string {
  return `${formatInteger(n)} ${n === 1 ? one : many}`;
}

/** `part / whole`, or null when the whole is not positive. */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** The symbol or code shown before amounts. */
export function currencyPrefix(currency: string): string {
  return currency === 'CNY' ? '¥' : `${cleanText(currency, 3)} `;
}

/** An amount in compact form for a phone screen, `1234567` -> `¥1.23m`. */
export function formatAmount(value: number | null | undefined, currency = 'CNY'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NOT_AVAILABLE;
  const prefix = currencyPrefix(currency);
  const sign = value < 0 ? '−' : '';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${sign}${prefix}${(abs / 1e9).toFixed(2)}bn`;
  if (abs >= 1e6) return `${sign}${prefix}${(abs / 1e6).toFixed(2)}m`;
  if (abs >= 1e4) return `${sign}${prefix}${(abs / 1e3).toFixed(1)}k`;
  return `${sign}${prefix}${abs.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
}

/** A Herfindahl-Hirschman index (a fraction) with four decimals. */
export function formatHhi(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NOT_AVAILABLE;
  return value.toFixed(4);
}

/** A finding's value or threshold: fractions below 1 read as percentages, others as numbers. */
export function formatFindingValue(value: number | string | null, asPercent: boolean): string {
  if (value === null) return NOT_AVAILABLE;
  if (typeof value === 'string') return cleanText(value);
  if (!Number.isFinite(value)) return NOT_AVAILABLE;
  if (asPercent) return formatPercent(value);
  if (Number.isInteger(value)) return formatInteger(value);
  return Math.abs(value) >= 1000 ? formatInteger(value) : String(Number(value.toFixed(4)));
}
