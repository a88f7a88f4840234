import { formatIsoDate, isCalendarDate, isIsoDate } from './values.ts';

/**
 * Date formats a mapping may declare. Tokens: YYYY (4-digit year), MM/DD (2 digits), M/D (1-2
 * digits), HH/H, mm, ss, SSS (time parts: checked, then dropped); anything else is literal.
 * `excel` reads an Excel serial day number (1900 system; fractions are a time of day).
 */
export type DateParser = (text: string) => string | null;

/** A date format that cannot be compiled. */
export class DateFormatError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'DateFormatError';
  }
}

const TOKENS: [string, string][] = [
  ['YYYY', '(\\d{4})'],
  ['SSS', '(\\d{1,3})'],
  ['MM', '(\\d{2})'],
  ['DD', '(\\d{2})'],
  ['HH', '(\\d{2})'],
  ['mm', '(\\d{2})'],
  ['ss', '(\\d{2})'],
  ['M', '(\\d{1,2})'],
  ['D', '(\\d{1,2})'],
  ['H', '(\\d{1,2})'],
];

/** Excel day 0 is 1899-12-30 once Lotus' phantom 1900-02-29 is accounted for (serials from 61 on). */
const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);

/** Parses an Excel serial day number to an ISO date, or null. */
export function parseExcelSerial(text: string): string | null {
  const v = Number(text);
  if (!Number.isFinite(v) || v < 61 || v > 2_958_465 || text.trim() === '') return null;
  const d = new Date(EXCEL_EPOCH_MS + Math.floor(v) * 86_400_000);
  return formatIsoDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** Compiles a format such as `YYYY/MM/DD`, `YYYYMMDD`, `DD-MM-YYYY HH:mm` or `excel`. */
export function compileDateFormat(format: string): DateParser {
  const f = format.trim();
  if (f.toLowerCase() === 'excel') return parseExcelSerial;
  if (f === 'YYYY-MM-DD') return (t) => (isIsoDate(t) ? t : null);
  let pattern = '';
  const order: string[] = [];
  let i = 0;
  while (i < f.length) {
    const hit = TOKENS.find(([tok]) => f.startsWith(tok, i));
    if (hit !== undefined) {
      pattern += hit[1];
      order.push(hit[0]);
      i += hit[0].length;
    } else {
      pattern += f[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  const has = (t: string): boolean => order.includes(t);
  if (!has('YYYY') || !(has('MM') || has('M')) || !(has('DD') || has('D'))) {
    throw new DateFormatError(`date format ${JSON.stringify(format)} needs YYYY, MM (or M) and DD (or D)`);
  }
  const re = new RegExp(`^${pattern}$`);
  const at = (tok: string[]): number => order.findIndex((t) => tok.includes(t)) + 1;
  const yi = at(['YYYY']);
  const mi = at(['MM', 'M']);
  const di = at(['DD', 'D']);
  const hi = at(['HH', 'H']);
  const ni = at(['mm']);
  const si = at(['ss']);
  return (text) => {
    const m = re.exec(text);
    if (m === null) return null;
    const year = Number(m[yi]);
    const month = Number(m[mi]);
    const day = Number(m[di]);
    if (!isCalendarDate(year, month, day)) return null;
    if (hi > 0 && Number(m[hi]) > 23) return null;
    if (ni > 0 && Number(m[ni]) > 59) return null;
    if (si > 0 && Number(m[si]) > 59) return null;
    return formatIsoDate(year, month, day);
  };
}
