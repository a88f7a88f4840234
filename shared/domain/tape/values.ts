/**
 * Cell-level parsers shared by every reader. They are plain character loops because they run
 * for every cell of every row (millions per night); none of them allocates on success.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for a leap year of the proleptic Gregorian calendar. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days in a month (1-12) of a year. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** True when the numbers form a real calendar date (years 1000-9999, so it prints as YYYY). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    year >= 1000 &&
    year <= 9999 &&
    Number.isInteger(month) &&
    month >= 1 &&
    month <= 12 &&
    Number.isInteger(day) &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000;
}

/** True when `s` is exactly `YYYY-MM-DD` and a real calendar date (2026-02-30 is not). */
export function isIsoDate(s: string): boolean {
  return s.length === 10 && isIsoDateAt(s, 0);
}

/** True when the 10 characters of `s` at `a` are a real `YYYY-MM-DD` date (read in place). */
export function isIsoDateAt(s: string, a: number): boolean {
  return isoDateKeyAt(s, a) >= 0;
}

/**
 * Reads the 10 characters of `s` at `a` as a `YYYY-MM-DD` date in place: a unique non-negative
 * integer for a real calendar date (usable as a cache key), or -1.
 */
export function isoDateKeyAt(s: string, a: number): number {
  if (s.charCodeAt(a + 4) !== 45 || s.charCodeAt(a + 7) !== 45) return -1;
  const year = digit(s, a) * 1000 + digit(s, a + 1) * 100 + digit(s, a + 2) * 10 + digit(s, a + 3);
  const month = digit(s, a + 5) * 10 + digit(s, a + 6);
  const day = digit(s, a + 8) * 10 + digit(s, a + 9);
  if (month < 1 || month > 12 || day < 1 || year < 1000) return -1;
  if (day > 28 && day > daysInMonth(year, month)) return -1;
  return (year * 16 + month) * 32 + day;
}

/** Formats a calendar date as `YYYY-MM-DD`. */
export function formatIsoDate(year: number, month: number, day: number): string {
  return `${year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

/** Adds whole months to an ISO date, clamping the day to the month's end (2026-01-31 + 1 = 2026-02-28). */
export function addMonthsIso(iso: string, months: number): string {
  const year = Number(iso.slice(0, 4));
  const month = Number(iso.slice(5, 7));
  const day = Number(iso.slice(8, 10));
  const total = year * 12 + (month - 1) + months;
  const y = Math.floor(total / 12);
  const m = total - y * 12 + 1;
  return formatIsoDate(y, m, Math.min(day, daysInMonth(y, m)));
}

/** Days since 1970-01-01 of a valid ISO date (Howard Hinnant's days_from_civil; no Date objects). */
export function isoToDays(iso: string): number {
  let y = digit(iso, 0) * 1000 + digit(iso, 1) * 100 + digit(iso, 2) * 10 + digit(iso, 3);
  const m = digit(iso, 5) * 10 + digit(iso, 6);
  const d = digit(iso, 8) * 10 + digit(iso, 9);
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** ISO date of a day number since 1970-01-01 (civil_from_days). */
export function daysToIso(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return formatIsoDate(yoe + era * 400 + (m <= 2 ? 1 : 0), m, d);
}

/** Whole days from ISO date `a` to ISO date `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return isoToDays(b) - isoToDays(a);
}

/** ISO date shifted by whole days. */
export function shiftIsoDays(iso: string, days: number): string {
  return daysToIso(isoToDays(iso) + days);
}

/** Outcome of parsing a number cell; NUMBER_OK leaves the value in `parsedNumber.value`. */
export const NUMBER_OK = 0;
export const NUMBER_MISSING = 1;
export const NUMBER_UNPARSEABLE = 2;
export const NUMBER_NOT_FINITE = 3;

/** Scratch result of parseNumberCell, reused to keep the per-cell path allocation-free. */
export const parsedNumber = { value: 0 };

/**
 * Parses a decimal cell: empty is missing, `NaN`/`Infinity` are not finite, anything Number()
 * rejects (or a hex/binary/octal literal, or thousands separators) is unparseable.
 */
export function parseNumberCell(s: string): number {
  return parseNumberAt(s, 0, s.length);
}

/** parseNumberCell over s.slice(a, b) without making the slice (the common plain-decimal case). */
export function parseNumberAt(s: string, a: number, b: number): number {
  if (a >= b) return NUMBER_MISSING;
  // Fast path for plain decimals (-?digits[.digits]): an exact integer mantissa divided by an
  // exact power of ten is correctly rounded, i.e. identical to Number(s), at a fraction of the cost.
  let i = a;
  let negative = false;
  if (s.charCodeAt(a) === 45) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let dot = false;
  for (; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (dot) scale++;
    } else if (c === 46 && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (i === b && digits > 0 && digits <= 15) {
    const v = scale === 0 ? mantissa : mantissa / POW10[scale]!;
    parsedNumber.value = negative ? -v : v;
    return NUMBER_OK;
  }
  return parseNumberSlow(a === 0 && b === s.length ? s : s.slice(a, b));
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

function parseNumberSlow(s: string): number {
  const n = s.length;
  const v = Number(s);
  if (Number.isNaN(v)) {
    const t = s.trim().toLowerCase();
    return t === 'nan' || t === '+nan' || t === '-nan' ? NUMBER_NOT_FINITE : NUMBER_UNPARSEABLE;
  }
  if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) return NUMBER_NOT_FINITE;
  if (n > 1) {
    // Number() accepts 0x1F, 0b1, 0o7: no tape means those, so refuse rather than guess.
    const c = s.charCodeAt(1) | 32;
    if ((c === 120 || c === 98 || c === 111) && s.charCodeAt(0) === 48) return NUMBER_UNPARSEABLE;
  }
  // Number('  ') is 0: a blank cell is unknown, never zero.
  if (v === 0 && s.trim().length === 0) return NUMBER_MISSING;
  parsedNumber.value = v;
  return NUMBER_OK;
}

/** Parses a boolean cell (true/false, 1/0, yes/no, Y/N, any case); null when it is none of them. */
export function parseBooleanCell(s: string): boolean | null {
  switch (s.length) {
    case 1: {
      const c = s.charCodeAt(0) | 32;
      if (c === 121 || s === '1') return true; // y
      if (c === 110 || s === '0') return false; // n
      return null;
    }
    case 2:
      return s.toLowerCase() === 'no' ? false : null;
    case 3:
      return s.toLowerCase() === 'yes' ? true : null;
    case 4:
      return s.toLowerCase() === 'true' ? true : null;
    case 5:
      return s.toLowerCase() === 'false' ? false : null;
    default:
      return null;
  }
}

/** True for an ISO 4217-shaped currency code (three upper-case letters). */
export function isCurrencyCode(s: string): boolean {
  if (s.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}
