// Days before the first of each month in a non-leap year.
const DAYS_BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/**
 * Day number (days since 1970-01-01) of an ISO `YYYY-MM-DD` date, read with charCodeAt so the
 * per-row loop allocates nothing. The date is assumed valid (ingestion validated it); exact for
 * years 1-9999 of the proleptic Gregorian calendar.
 */
export function isoDayNumber(s: string): number {
  const y =
    (s.charCodeAt(0) - 48) * 1000 +
    (s.charCodeAt(1) - 48) * 100 +
    (s.charCodeAt(2) - 48) * 10 +
    (s.charCodeAt(3) - 48);
  const m = (s.charCodeAt(5) - 48) * 10 + (s.charCodeAt(6) - 48);
  const d = (s.charCodeAt(8) - 48) * 10 + (s.charCodeAt(9) - 48);
  // Leap days before this date's year (counting this year's only from March on), proleptic Gregorian.
  const yl = m > 2 ? y : y - 1;
  const leaps = ((yl / 4) | 0) - ((yl / 100) | 0) + ((yl / 400) | 0) - 477; // 477 leap days before 1970
  return (y - 1970) * 365 + leaps + DAYS_BEFORE_MONTH[m]! + d - 1;
}
