import type { Loan } from '../../../../shared/domain/loan.ts';
import { TAPE_COLUMNS } from '../../../../shared/domain/loan.ts';
import type { QuarantinedRow, RowSink } from '../../../../shared/domain/tape/intake.ts';

/** A valid canonical row as cells by column name; override cells per test. */
export function goodRow(
  overrides: Partial<Record<(typeof TAPE_COLUMNS)[number], string>> = {},
): Record<string, string> {
  return {
    snapshot_date: '2026-11-25',
    loan_id: 'L1',
    borrower_id: 'B1',
    borrower_type: 'individual',
    product: 'credit_loan',
    principal: '10000',
    outstanding_principal: '6000',
    annual_rate: '0.18',
    term_months: '12',
    origination_date: '2026-03-01',
    maturity_date: '2027-03-01',
    days_past_due: '0',
    currency: 'CNY',
    region: 'Zhejiang',
    industry: 'office_worker',
    merchant_id: '',
    borrower_age: '30',
    annual_income: '120000',
    monthly_debt_payments: '2000',
    other_lenders_count: '1',
    credit_score: '700',
    is_student: 'false',
    own_funding_share: '1',
    loan_purpose: '',
    partner_id: '',
    related_party_group: '',
    reported_classification: '',
    ...overrides,
  };
}

/** Cells of a row in TAPE_COLUMNS order. */
export function cells(row: Record<string, string>): string[] {
  return TAPE_COLUMNS.map((c) => row[c] ?? '');
}

/** A canonical CSV text (header + rows, LF) from rows given as cell maps. */
export function csvText(rows: Record<string, string>[], eol = '\n'): string {
  const quote = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [TAPE_COLUMNS.join(','), ...rows.map((r) => cells(r).map(quote).join(','))].join(eol) + eol;
}

/** A sink that keeps everything, for assertions. */
export function collectSink(): RowSink & { loans: Loan[]; quarantined: QuarantinedRow[] } {
  const loans: Loan[] = [];
  const quarantined: QuarantinedRow[] = [];
  return { loans, quarantined, loan: (l) => loans.push(l), quarantine: (q) => quarantined.push(q) };
}

/** A tape part held in memory, streamed in chunks of `chunk` bytes (to exercise chunk boundaries). */
export function memoryPart(
  key: string,
  data: string | Uint8Array,
  chunk = 1 << 16,
): {
  key: string;
  bytes: number;
  open(range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>>;
} {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return {
    key,
    bytes: bytes.byteLength,
    open: async (range) => {
      const slice =
        range === undefined ? bytes : bytes.subarray(range.start, Math.min(range.end, bytes.byteLength));
      return (async function* () {
        for (let i = 0; i < slice.byteLength; i += chunk)
          yield slice.subarray(i, Math.min(i + chunk, slice.byteLength));
      })();
    },
  };
}

/** A quarantine writer that keeps the rows in memory (small test tapes only). */
export function collectQuarantine(): {
  rows: QuarantinedRow[];
  add(row: QuarantinedRow): void;
  ready(): null;
} {
  const rows: QuarantinedRow[] = [];
  return { rows, add: (row) => rows.push(row), ready: () => null };
}
