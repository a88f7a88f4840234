import { RiskAuditError } from '../../errors.ts';
import type { Classification } from '../audit-result.ts';
import { hash64, hashOut } from '../engine/hash.ts';
import {
  type BorrowerType,
  type Loan,
  type LoanPurpose,
  OPTIONAL_COLUMNS,
  type Product,
  TAPE_COLUMN_TABLE,
  type TapeColumn,
} from '../loan.ts';
import type { ColumnPlan, ColumnSpec, FieldExpression } from './column-plan.ts';
import { isFailure, toNumber, toText } from './expression.ts';
import type { FieldRow } from './field-row.ts';
import { IdSet } from './id-set.ts';
import type { IntakeStats, QuarantinedRow, RowSink } from './intake.ts';
import { Interner } from './interner.ts';
import type { LatestRows } from './latest-rows.ts';
import {
  addMonthsIso,
  isCurrencyCode,
  isIsoDate,
  isoDateKeyAt,
  isoToDays,
  NUMBER_MISSING,
  NUMBER_NOT_FINITE,
  NUMBER_OK,
  parseBooleanCell,
  parsedNumber,
  parseNumberAt,
  parseNumberCell,
  shiftIsoDays,
} from './values.ts';

/**
 * Version of the row-validity rules: what makes a row valid or quarantined, and a valid loan's
 * days-past-due bucket. A date's carried drift index records it, and the next date's run reads
 * the previous tape again when it differs, so an index built under older rules is never trusted.
 * A release that changes the rules bumps it: `test/unit/domain/tape/validation-version.test.ts` pins
 * the rules' outcomes on a fixture tape to this number and fails when they change without it.
 * Version 2: a row holding a NUL byte, or a structure (JSON object or list, Parquet struct) in a
 * column it reads, is quarantined; Parquet FLOAT, DECIMAL and timestamp cells read as written.
 * Version 3: one currency per tape (a row in another is quarantined as CURRENCY_MISMATCH), and
 * loan_purpose and reported_classification hold values of their closed sets.
 */
export const VALIDATION_RULES_VERSION = 3;

/** Machine-readable quarantine reason codes (loan-tape.md "Row validity"). */
export const QUARANTINE_CODES = {
  /** The row cannot be split into the header's columns (wrong field count, bad JSON, broken quoting). */
  MALFORMED_ROW: 'MALFORMED_ROW',
  /** A required column is empty or absent. */
  MISSING_REQUIRED: 'MISSING_REQUIRED',
  /** A number column holds text that is not a number. */
  UNPARSEABLE_NUMBER: 'UNPARSEABLE_NUMBER',
  /** A number column holds NaN or an infinity. */
  NOT_FINITE: 'NOT_FINITE',
  /** An integer column holds a fraction. */
  NOT_INTEGER: 'NOT_INTEGER',
  /** A number is negative where it may not be. */
  NEGATIVE: 'NEGATIVE',
  /** principal or term_months is zero. */
  NOT_POSITIVE: 'NOT_POSITIVE',
  /** own_funding_share is outside 0..1. */
  OUT_OF_RANGE: 'OUT_OF_RANGE',
  /** A date is unparseable or not a real calendar date. */
  INVALID_DATE: 'INVALID_DATE',
  /** A boolean is none of true/false, 1/0, yes/no, Y/N. */
  INVALID_BOOLEAN: 'INVALID_BOOLEAN',
  /** borrower_type, product, currency, loan_purpose or reported_classification lies outside its allowed set. */
  VALUE_NOT_ALLOWED: 'VALUE_NOT_ALLOWED',
  /** outstanding_principal > principal * 1.5. */
  OUTSTANDING_EXCEEDS_PRINCIPAL: 'OUTSTANDING_EXCEEDS_PRINCIPAL',
  /** maturity_date < origination_date. */
  MATURITY_BEFORE_ORIGINATION: 'MATURITY_BEFORE_ORIGINATION',
  /** origination_date > snapshot_date. */
  ORIGINATION_AFTER_SNAPSHOT: 'ORIGINATION_AFTER_SNAPSHOT',
  /** The row's snapshot_date differs from the tape's. */
  SNAPSHOT_DATE_MISMATCH: 'SNAPSHOT_DATE_MISMATCH',
  /** The row's currency differs from the tape's (one currency per tape). */
  CURRENCY_MISMATCH: 'CURRENCY_MISMATCH',
  /** loan_id repeats an earlier row of the tape (the first row wins). */
  DUPLICATE_LOAN_ID: 'DUPLICATE_LOAN_ID',
} as const;
/** One of the quarantine reason codes. */
export type QuarantineCode = keyof typeof QUARANTINE_CODES;

/** rows read = rows valid + rows quarantined was violated: a bug, never a data problem. */
export class IntakeInvariantError extends RiskAuditError {}

/** Throws when the intake counts do not add up, so a run never publishes figures that lose rows. */
export function assertIntakeInvariant(
  stats: Pick<IntakeStats, 'rowsRead' | 'rowsValid' | 'rowsQuarantined' | 'parts'>,
): void {
  if (stats.rowsRead !== stats.rowsValid + stats.rowsQuarantined) {
    throw new IntakeInvariantError(
      `intake lost rows: ${stats.rowsRead} read but ${stats.rowsValid} valid + ${stats.rowsQuarantined} quarantined`,
    );
  }
  let partRows = 0;
  for (const p of stats.parts) partRows += p.rowsRead;
  if (stats.parts.length > 0 && partRows !== stats.rowsRead) {
    throw new IntakeInvariantError(
      `intake lost rows: parts hold ${partRows} rows but ${stats.rowsRead} were read`,
    );
  }
}

/** Options of a validation pass over one tape. */
export interface RowValidatorOptions {
  /**
   * The run's date (the tape's S3 partition, `--date`, or the date most of its first rows carry:
   * see surveyTapeDate); rows dated otherwise are quarantined. When absent no row is checked
   * against a date: a survey of the rows' dates (see `dateCounts`).
   */
  snapshotDate?: string | undefined;
  /** Rough row count, to size the loan-id set once instead of growing it. */
  expectedRows?: number | undefined;
  /**
   * A mapping with `latest`: the loans' latest rows. In its ranking pass (`ranking`) the rows are
   * only ranked into it; in the reading pass every row but a loan's latest is superseded.
   */
  latest?: LatestRows | undefined;
  ranking?: boolean | undefined;
  /**
   * The tape's currency (ISO 4217); when absent, the first row with a valid currency sets it (an
   * empty cell is CNY). Rows in another currency are quarantined.
   */
  currency?: string | undefined;
  /**
   * The 64-bit hashes of the loan ids that earlier shards of the tape hold (their first row, valid
   * or not), as [hi, lo] pairs (hash64's halves): a row with one of them is a repeat, quarantined
   * as DUPLICATE_LOAN_ID as one pass over the whole tape would, and never a first-quarantined id.
   */
  earlierIds?: Uint32Array | undefined;
}

// Number constraints.
const ANY = 0;
const NON_NEGATIVE = 1;
const POSITIVE = 2;

/** A column's rules as the row loop reads them, compiled from its TAPE_COLUMN_TABLE entry. */
interface CellRule {
  /** Its place in ColumnPlan.specs (TAPE_COLUMNS order). */
  readonly index: number;
  readonly required: boolean;
  /** ANY, NON_NEGATIVE or POSITIVE. */
  readonly min: number;
  readonly integer: boolean;
  readonly allowed: readonly string[];
  /** Its slot in the missing-value counts (OPTIONAL_COLUMNS order); -1 for a required column. */
  readonly missingSlot: number;
}

const RULES = Object.fromEntries(
  TAPE_COLUMN_TABLE.map((c, index): [TapeColumn, CellRule] => [
    c.column,
    {
      index,
      required: c.required,
      min: 'min' in c ? (c.min === 'positive' ? POSITIVE : NON_NEGATIVE) : ANY,
      integer: 'integer' in c && c.integer,
      allowed: 'allowed' in c ? c.allowed : [],
      missingSlot: OPTIONAL_COLUMNS.indexOf(c.column),
    },
  ]),
) as Record<TapeColumn, CellRule>;

const SNAPSHOT = RULES.snapshot_date;
const LOAN = RULES.loan_id;
const BORROWER = RULES.borrower_id;
const BTYPE = RULES.borrower_type;
const PRODUCT = RULES.product;
const PRINCIPAL = RULES.principal;
const OUTSTANDING = RULES.outstanding_principal;
const RATE = RULES.annual_rate;
const TERM = RULES.term_months;
const ORIG = RULES.origination_date;
const MAT = RULES.maturity_date;
const DPD = RULES.days_past_due;
const CURRENCY = RULES.currency;
const REGION = RULES.region;
const INDUSTRY = RULES.industry;
const MERCHANT = RULES.merchant_id;
const AGE = RULES.borrower_age;
const INCOME = RULES.annual_income;
const DEBT = RULES.monthly_debt_payments;
const LENDERS = RULES.other_lenders_count;
const SCORE = RULES.credit_score;
const STUDENT = RULES.is_student;
const OWN_SHARE = RULES.own_funding_share;
const PURPOSE = RULES.loan_purpose;
const PARTNER = RULES.partner_id;
const GROUP = RULES.related_party_group;
const REPORTED = RULES.reported_classification;
/** What an empty own_funding_share stands for (the table's whenEmpty). */
const OWN_SHARE_WHEN_EMPTY = whenEmpty('own_funding_share') as number;

function whenEmpty(column: TapeColumn): string | number {
  const entry = TAPE_COLUMN_TABLE.find((c) => c.column === column);
  if (entry === undefined || !('whenEmpty' in entry)) throw new Error(`${column} has no default`);
  return entry.whenEmpty;
}

/** The currency of a row whose currency cell is empty (loan-tape.md; the table's whenEmpty). */
export const DEFAULT_CURRENCY = whenEmpty('currency') as string;
/** `currency` option that accepts rows of every currency (to find out which one a tape is in). */
export const ANY_CURRENCY = '*';

/** Distinct snapshot dates counted apart from the run's (more are counted under none). */
const MAX_DATES_COUNTED = 32;

/** Size - 1 of the cache of recent date strings (a power of two minus one). */
const DATE_CACHE_MASK = 4095;

/**
 * Validates rows of one tape into Loans or QuarantinedRows and counts them. One instance per tape
 * (it remembers loan ids for duplicates); call setPart() before each part's rows. A loan id seen
 * before is a duplicate even when its first row was itself quarantined: the first row wins, bad
 * or not, so a later row never silently replaces it. Every problem of a row is reported, not
 * just the first.
 */
export class RowValidator {
  private specs: ColumnSpec[] = [];
  private partKey = '';
  private partRows = 0;
  private codes: string[] | null = null;
  private details: string[] | null = null;
  private readonly seen: IdSet;
  private tapeDate: string | null;
  private tapeCurrency: string | null;
  private readonly partners = new Interner(256);
  private readonly groups = new Interner(1024);
  private readonly missing = new Array<number>(OPTIONAL_COLUMNS.length).fill(0);
  private rawOf: (() => string) | null = null;
  private readonly regions = new Interner(256);
  private readonly industries = new Interner(256);
  private readonly dateKeys = new Int32Array(DATE_CACHE_MASK + 1).fill(-1);
  private readonly dateStrings = new Array<string>(DATE_CACHE_MASK + 1).fill('');
  private cellStart = 0;
  private cellEnd = 0;
  private readonly partsRead: { key: string; rowsRead: number }[] = [];
  private readonly columns = new Set<string>();
  private readonly unknown = new Set<string>();
  public rowsRead = 0;
  public rowsValid = 0;
  public rowsQuarantined = 0;
  /** Rows the mapping's `where` left out (not read: not in rowsRead). */
  public rowsFiltered = 0;
  /** Rows that are not their loan's latest (`latest`; not read: not in rowsRead). */
  public rowsSuperseded = 0;
  private ratesAboveOne = 0;
  private pastMaturity = 0;
  private where: FieldExpression | null = null;
  private latestBy: FieldExpression | null = null;
  private readonly latest: LatestRows | null;
  private readonly ranking: boolean;
  /** Rows that reached the latest-row check, in reading order (the same in both passes). */
  private ordinal = 0;
  /** The line (or row number) of the row being validated, for row(). */
  private line = 0;
  public duplicateLoanIds = 0;
  public readonly quarantineByCode: Record<string, number> = {};
  /** Quarantined rows kept back until their line numbers are known (see holdQuarantine). */
  private held: QuarantinedRow[] | null = null;
  private shiftOf: (() => Promise<number>) | null = null;
  private shift: number | null = null;
  private shifting: Promise<void> | null = null;
  /**
   * Rows by snapshot_date for the dates other than the run's (every date in a survey), at most
   * MAX_DATES_COUNTED distinct dates: what the run-date check names.
   */
  public readonly dateCounts = new Map<string, number>();

  public constructor(
    private readonly sink: RowSink,
    options: RowValidatorOptions = {},
  ) {
    this.tapeDate = options.snapshotDate ?? null;
    this.latest = options.latest ?? null;
    this.ranking = options.ranking === true;
    this.tapeCurrency = options.currency ?? null;
    this.seen = new IdSet(
      Math.min(1 << 24, Math.max(1 << 14, Math.ceil((options.expectedRows ?? 0) * 1.05))),
    );
    // Seeded ids are refused by addId like ids of this shard's own earlier rows: a repeat of one
    // is counted and quarantined, and (addId being false) never reported by firstIdQuarantined.
    if (options.earlierIds !== undefined) this.seen.seed(options.earlierIds);
  }

  /** The run's date as given (null in a survey). */
  public get snapshotDate(): string | null {
    return this.tapeDate;
  }

  /** The tape's currency (given, or taken from its first valid row). */
  public get currency(): string | null {
    return this.tapeCurrency === ANY_CURRENCY ? null : this.tapeCurrency;
  }

  /** Starts a part: its rows are read through `plan` and quarantined under `key`. */
  public setPart(key: string, plan: ColumnPlan): void {
    this.endPart();
    this.partKey = key;
    this.partRows = 0;
    this.specs = plan.specs;
    this.where = plan.where;
    this.latestBy = this.latest === null ? null : plan.latestBy;
    for (const spec of plan.specs) {
      spec.plain =
        spec.index >= 0 &&
        spec.constant === null &&
        spec.expression === null &&
        spec.values === null &&
        spec.fallback === null &&
        spec.date === null &&
        spec.scale === 1 &&
        spec.divisor === 1 &&
        spec.addMonthsIndex < 0 &&
        spec.addConstant === 0;
    }
    for (const c of plan.columns) this.columns.add(c);
    for (const c of plan.unknownColumns) this.unknown.add(c);
  }

  private endPart(): void {
    if (this.partKey !== '' || this.partRows > 0)
      this.partsRead.push({ key: this.partKey, rowsRead: this.partRows });
    this.partKey = '';
    this.partRows = 0;
  }

  /** Validates a row whose raw text is costly to build (Parquet): `rawOf` runs only if it is quarantined. */
  public acceptRow(row: FieldRow, line: number, rawOf: () => string): void {
    this.rawOf = rawOf;
    try {
      this.acceptFields(row, line, '', 0, 0, -1, null);
    } finally {
      this.rawOf = null;
    }
  }

  /** Quarantines a row that could not be split into fields (bad JSON, broken quoting). */
  public rejectRow(line: number, raw: string, detail: string): void {
    if (this.ranking) return;
    this.rowsRead++;
    this.partRows++;
    this.codes = [QUARANTINE_CODES.MALFORMED_ROW];
    this.details = [detail];
    this.quarantine(line, raw);
  }

  /**
   * Validates one row given as source cells; `text.slice(start, end)` is its raw text, sliced
   * only when the row is quarantined. `expectedFields` is the header width (-1 to skip the check).
   */
  public acceptFields(
    row: FieldRow,
    line: number,
    text: string,
    start: number,
    end: number,
    expectedFields: number,
    malformed: string | null,
  ): void {
    this.codes = null;
    this.details = null;
    this.line = line;
    if (malformed !== null || (expectedFields >= 0 && row.count !== expectedFields)) {
      if (this.ranking) return;
      this.rowsRead++;
      this.partRows++;
      this.issue(
        QUARANTINE_CODES.MALFORMED_ROW,
        malformed ?? `row has ${row.count} fields but the header has ${expectedFields}`,
      );
      this.quarantine(line, this.rawOf !== null ? this.rawOf() : text.slice(start, end));
      return;
    }
    if (this.where !== null) {
      const keep = this.where(row, line);
      if (keep !== true && !isFailure(keep)) {
        if (!this.ranking) this.rowsFiltered++;
        return;
      }
      if (isFailure(keep)) {
        if (this.ranking) return;
        this.issue(QUARANTINE_CODES.MALFORMED_ROW, `where: ${keep.failure}`);
      }
    }
    if (this.latest !== null && this.codes === null && this.rankOrSupersede(row)) return;
    if (this.ranking) return;
    this.rowsRead++;
    this.partRows++;
    if (this.codes !== null) {
      this.quarantine(line, this.rawOf !== null ? this.rawOf() : text.slice(start, end));
      return;
    }
    const s = this.specs;

    const snapshotDate = this.snapshot(s[SNAPSHOT.index]!, row);
    const loanId = keep(this.str(s[LOAN.index]!, row, LOAN.required));
    const borrowerId = keep(this.str(s[BORROWER.index]!, row, BORROWER.required));
    const borrowerType = this.choice(s[BTYPE.index]!, row, BTYPE);
    const product = this.choice(s[PRODUCT.index]!, row, PRODUCT);
    const principal = this.num(s[PRINCIPAL.index]!, row, PRINCIPAL);
    const outstanding = this.num(s[OUTSTANDING.index]!, row, OUTSTANDING);
    const annualRate = this.num(s[RATE.index]!, row, RATE);
    const termMonths = this.num(s[TERM.index]!, row, TERM);
    const originationDate = this.date(s[ORIG.index]!, row, ORIG.required);
    const maturityDate = this.date(s[MAT.index]!, row, MAT.required);
    const daysPastDue = this.num(s[DPD.index]!, row, DPD);
    let currency = this.currencyCell(s[CURRENCY.index]!, row);
    const region = this.str(s[REGION.index]!, row, REGION.required, this.regions);
    const industry = this.str(s[INDUSTRY.index]!, row, INDUSTRY.required, this.industries);
    const merchantId = keep(this.str(s[MERCHANT.index]!, row, MERCHANT.required));
    const borrowerAge = this.num(s[AGE.index]!, row, AGE);
    const annualIncome = this.num(s[INCOME.index]!, row, INCOME);
    const monthlyDebt = this.num(s[DEBT.index]!, row, DEBT);
    const otherLenders = this.num(s[LENDERS.index]!, row, LENDERS);
    const creditScore = this.num(s[SCORE.index]!, row, SCORE);
    const isStudent = this.bool(s[STUDENT.index]!, row);
    let ownShare = this.num(s[OWN_SHARE.index]!, row, OWN_SHARE);
    if (ownShare !== null && ownShare > 1) {
      this.issue(QUARANTINE_CODES.OUT_OF_RANGE, 'own_funding_share: above 1');
    }
    const loanPurpose = this.choice(s[PURPOSE.index]!, row, PURPOSE);
    const partnerId = this.str(s[PARTNER.index]!, row, PARTNER.required, this.partners);
    const relatedPartyGroup = this.str(s[GROUP.index]!, row, GROUP.required, this.groups);
    const reported = this.choice(s[REPORTED.index]!, row, REPORTED);

    if (principal !== null && outstanding !== null && outstanding > principal * 1.5) {
      this.issue(
        QUARANTINE_CODES.OUTSTANDING_EXCEEDS_PRINCIPAL,
        'outstanding_principal: above 1.5 x principal',
      );
    }
    if (originationDate !== null && maturityDate !== null && maturityDate < originationDate) {
      this.issue(QUARANTINE_CODES.MATURITY_BEFORE_ORIGINATION, 'maturity_date: before origination_date');
    }
    if (snapshotDate !== null) {
      if (snapshotDate !== this.tapeDate) {
        const counts = this.dateCounts;
        const n = counts.get(snapshotDate);
        if (n !== undefined) counts.set(snapshotDate, n + 1);
        else if (counts.size < MAX_DATES_COUNTED) counts.set(snapshotDate, 1);
      }
      if (this.tapeDate !== null && snapshotDate !== this.tapeDate) {
        this.issue(
          QUARANTINE_CODES.SNAPSHOT_DATE_MISMATCH,
          `snapshot_date: differs from the tape's ${this.tapeDate}`,
        );
      }
      if (originationDate !== null && originationDate > snapshotDate) {
        this.issue(QUARANTINE_CODES.ORIGINATION_AFTER_SNAPSHOT, 'origination_date: after snapshot_date');
      }
    }
    // One currency per tape (an empty cell is CNY): without one given, the first row that passes
    // every other check sets it.
    if (
      this.tapeCurrency !== ANY_CURRENCY &&
      (currency === null || currency === DEFAULT_CURRENCY || isCurrencyCode(currency))
    ) {
      const rowCurrency = currency ?? DEFAULT_CURRENCY;
      if (this.tapeCurrency === null) {
        if (this.codes === null) this.tapeCurrency = rowCurrency;
      } else if (rowCurrency !== this.tapeCurrency) {
        this.issue(
          QUARANTINE_CODES.CURRENCY_MISMATCH,
          `currency: differs from the tape's ${this.tapeCurrency}`,
        );
      }
    }
    let idHi = 0;
    let idLo = 0;
    let firstOfId = false;
    if (loanId !== null) {
      hash64(loanId);
      idHi = hashOut.hi;
      idLo = hashOut.lo;
      firstOfId = this.seen.addId(loanId, idHi, idLo);
      if (!firstOfId) {
        this.duplicateLoanIds++;
        this.issue(QUARANTINE_CODES.DUPLICATE_LOAN_ID, 'loan_id: repeats an earlier row');
      }
    }

    if (this.codes !== null) {
      if (firstOfId) this.sink.firstIdQuarantined?.(idHi, idLo);
      this.quarantine(line, this.rawOf !== null ? this.rawOf() : text.slice(start, end));
      return;
    }
    const missing = this.missing;
    if (currency === null) {
      missing[CURRENCY.missingSlot]!++;
      currency = DEFAULT_CURRENCY;
    }
    if (region === null) missing[REGION.missingSlot]!++;
    if (industry === null) missing[INDUSTRY.missingSlot]!++;
    if (merchantId === null) missing[MERCHANT.missingSlot]!++;
    if (borrowerAge === null) missing[AGE.missingSlot]!++;
    if (annualIncome === null) missing[INCOME.missingSlot]!++;
    if (monthlyDebt === null) missing[DEBT.missingSlot]!++;
    if (otherLenders === null) missing[LENDERS.missingSlot]!++;
    if (creditScore === null) missing[SCORE.missingSlot]!++;
    if (isStudent === null) missing[STUDENT.missingSlot]!++;
    if (ownShare === null) {
      missing[OWN_SHARE.missingSlot]!++;
      ownShare = OWN_SHARE_WHEN_EMPTY;
    }
    if (loanPurpose === null) missing[PURPOSE.missingSlot]!++;
    if (partnerId === null) missing[PARTNER.missingSlot]!++;
    if (relatedPartyGroup === null) missing[GROUP.missingSlot]!++;
    if (reported === null) missing[REPORTED.missingSlot]!++;
    this.rowsValid++;
    if (annualRate! > 1) this.ratesAboveOne++;
    if (maturityDate! < snapshotDate!) this.pastMaturity++;
    const loan: Loan = {
      snapshotDate: snapshotDate!,
      loanId: loanId!,
      borrowerId: borrowerId!,
      borrowerType: borrowerType as BorrowerType,
      product: product as Product,
      principal: principal!,
      outstandingPrincipal: outstanding!,
      annualRate: annualRate!,
      termMonths: termMonths!,
      originationDate: originationDate!,
      maturityDate: maturityDate!,
      daysPastDue: daysPastDue!,
      currency,
      region,
      industry,
      merchantId,
      borrowerAge,
      annualIncome,
      monthlyDebtPayments: monthlyDebt,
      otherLendersCount: otherLenders,
      creditScore,
      isStudent,
      ownFundingShare: ownShare,
      loanPurpose: loanPurpose as LoanPurpose | null,
      partnerId,
      relatedPartyGroup,
      reportedClassification: reported as Classification | null,
    };
    this.sink.loan(loan, idHi, idLo);
  }

  /**
   * The latest-row step: ranks the row (ranking pass) or, reading, says whether it is superseded
   * (true: counted and skipped). A row with no loan id goes on (it is quarantined as such); one
   * whose `latest.by` is empty or neither a number nor an ISO date is quarantined.
   */
  private rankOrSupersede(row: FieldRow): boolean {
    const latest = this.latest!;
    const ordinal = this.ordinal++;
    const id = this.str(this.specs[LOAN.index]!, row, false);
    this.codes = null;
    this.details = null;
    if (id === null) return this.ranking;
    const by = this.latestBy === null ? null : orderValue(this.latestBy(row, this.line));
    if (by === null) {
      if (this.ranking) return true;
      this.issue(
        QUARANTINE_CODES.MALFORMED_ROW,
        'latest.by: empty, or neither a number nor a YYYY-MM-DD date',
      );
      return false;
    }
    hash64(id);
    if (this.ranking) {
      latest.rank(hashOut.hi, hashOut.lo, by, ordinal);
      return true;
    }
    if (latest.isSuperseded(hashOut.hi, hashOut.lo, by, ordinal)) {
      this.rowsSuperseded++;
      return true;
    }
    return false;
  }

  /**
   * Keeps quarantined rows back until their line numbers are known: a byte range numbers its
   * lines from its own start. The first row held starts `lineShift` (the lines before the range,
   * found by reading everything before it, so only when needed); ready() waits for it and passes
   * the held rows on, so at most a chunk's rows are ever held.
   */
  public holdQuarantine(lineShift: () => Promise<number>): void {
    this.held = [];
    this.shiftOf = lineShift;
    this.shift = null;
    this.shifting = null;
  }

  /**
   * A promise the reader awaits between chunks: while rows wait for their line numbers, or the
   * sink asks to wait (its own ready()); null when reading may go on at once.
   */
  public ready(): Promise<void> | null {
    const sinkReady = this.sink.ready?.() ?? null;
    if (this.held === null || this.held.length === 0 || this.shiftOf === null) return sinkReady;
    this.shifting ??= this.shiftOf().then((shift) => {
      this.shift = shift;
    });
    return this.shifting.then(() => {
      this.releaseHeld();
      return sinkReady ?? undefined;
    });
  }

  /** Passes the rows held so far on, with their line numbers shifted. */
  private releaseHeld(): void {
    const held = this.held ?? [];
    const shift = this.shift ?? 0;
    this.held = this.shift === null ? held : [];
    if (this.shift === null) return;
    for (const row of held) this.sink.quarantine({ ...row, line: row.line + shift });
  }

  /** Ends holding: whatever is still held is passed on (call after a last ready()). */
  public releaseQuarantine(): void {
    this.releaseHeld();
    this.held = null;
    this.shiftOf = null;
  }

  /** Counts so far; throws IntakeInvariantError if rows were lost. */
  public stats(): IntakeStats {
    this.endPart();
    const missingCounts: Record<string, number> = {};
    OPTIONAL_COLUMNS.forEach((c, i) => {
      missingCounts[c] = this.missing[i] ?? 0;
    });
    const stats: IntakeStats = {
      rowsRead: this.rowsRead,
      rowsValid: this.rowsValid,
      rowsQuarantined: this.rowsQuarantined,
      quarantineByCode: { ...this.quarantineByCode },
      duplicateLoanIds: this.duplicateLoanIds,
      missingCounts,
      parts: this.partsRead.map((p) => ({ key: p.key, sha256: '', bytes: 0, rowsRead: p.rowsRead })),
      columns: [...this.columns].sort(),
      unknownColumns: [...this.unknown].sort(),
      // In mergeIntakeStats' order, so one pass and merged shards serialise alike.
      rowsByOtherDate: Object.fromEntries(this.dateCounts),
      rowsFiltered: this.rowsFiltered,
      rowsSuperseded: this.rowsSuperseded,
      ratesAboveOne: this.ratesAboveOne,
      pastMaturity: this.pastMaturity,
    };
    assertIntakeInvariant(stats);
    return stats;
  }

  private issue(code: string, detail: string): void {
    if (this.codes === null) {
      this.codes = [code];
      this.details = [detail];
      return;
    }
    if (!this.codes.includes(code)) this.codes.push(code);
    this.details!.push(detail);
  }

  private quarantine(line: number, raw: string): void {
    const codes = this.codes ?? [];
    for (const c of codes) this.quarantineByCode[c] = (this.quarantineByCode[c] ?? 0) + 1;
    this.rowsQuarantined++;
    const row: QuarantinedRow = {
      part: this.partKey,
      line,
      raw,
      codes,
      detail: (this.details ?? []).join('; '),
    };
    if (this.held !== null && this.shift === null) this.held.push(row);
    else if (this.held !== null) this.sink.quarantine({ ...row, line: row.line + this.shift! });
    else this.sink.quarantine(row);
  }

  /** Sets cellStart/cellEnd to the trimmed bounds of a plain spec's cell in row.text. */
  private bounds(spec: ColumnSpec, row: FieldRow): void {
    const i = spec.index;
    if (i >= row.count) {
      this.cellStart = 0;
      this.cellEnd = 0;
      return;
    }
    const t = row.text;
    let a = row.starts[i]!;
    let b = row.ends[i]!;
    while (a < b && t.charCodeAt(a) <= 32) a++;
    while (b > a && t.charCodeAt(b - 1) <= 32) b--;
    this.cellStart = a;
    this.cellEnd = b;
  }

  /**
   * The cell's text after rename, constant or expression, code table and default; '' when absent
   * or empty (slow path). An expression that cannot be computed records its issue and gives ''.
   */
  private text(spec: ColumnSpec, row: FieldRow): string {
    let t: string;
    if (spec.index >= 0) {
      t = row.get(spec.index);
      const last = t.length - 1;
      if (last >= 0 && (t.charCodeAt(0) <= 32 || t.charCodeAt(last) <= 32)) t = t.trim();
    } else if (spec.expression !== null) {
      const v = spec.expression(row, this.line);
      if (isFailure(v)) {
        this.issue(QUARANTINE_CODES.UNPARSEABLE_NUMBER, `${spec.column}: ${v.failure}`);
        return '';
      }
      t = toText(v);
    } else {
      t = spec.constant ?? '';
    }
    const values = spec.values;
    if (values !== null && t.length > 0) {
      let mapped = values.get(t);
      // Codes match as numbers too: a cell 1.0 or 01 finds the code 1.
      if (mapped === undefined && parseNumberCell(t) === NUMBER_OK)
        mapped = values.get(String(parsedNumber.value));
      if (mapped !== undefined) t = mapped;
      else if (spec.otherwise !== null) t = spec.otherwise;
    }
    if (t.length === 0 && spec.fallback !== null) t = spec.fallback;
    return t;
  }

  private missingRequired(spec: ColumnSpec): null {
    this.issue(QUARANTINE_CODES.MISSING_REQUIRED, `${spec.column}: missing`);
    return null;
  }

  private str(
    spec: ColumnSpec,
    row: FieldRow,
    required: boolean,
    interner: Interner | null = null,
  ): string | null {
    let t: string;
    if (spec.plain) {
      this.bounds(spec, row);
      const a = this.cellStart;
      const b = this.cellEnd;
      t = a === b ? '' : interner !== null ? interner.get(row.text, a, b) : row.text.slice(a, b);
    } else {
      t = this.text(spec, row);
    }
    if (t.length === 0) return required ? this.missingRequired(spec) : null;
    return t;
  }

  /** A value of a closed set: matched in place and returned as the canonical constant (no slice). */
  private choice(spec: ColumnSpec, row: FieldRow, rule: CellRule): string | null {
    const allowed = rule.allowed;
    const required = rule.required;
    if (spec.plain) {
      this.bounds(spec, row);
      const a = this.cellStart;
      const n = this.cellEnd - a;
      if (n === 0) return required ? this.missingRequired(spec) : null;
      const t = row.text;
      for (let k = 0; k < allowed.length; k++) {
        const v = allowed[k]!;
        if (v.length === n && t.startsWith(v, a)) return v;
      }
    } else {
      const v = this.text(spec, row);
      if (v.length === 0) return required ? this.missingRequired(spec) : null;
      if (allowed.includes(v)) return v;
    }
    this.issue(QUARANTINE_CODES.VALUE_NOT_ALLOWED, `${spec.column}: not one of ${allowed.join(', ')}`);
    return null;
  }

  private currencyCell(spec: ColumnSpec, row: FieldRow): string | null {
    if (spec.plain) {
      this.bounds(spec, row);
      const a = this.cellStart;
      if (this.cellEnd - a === 3 && row.text.startsWith('CNY', a)) return 'CNY';
    }
    const c = this.str(spec, row, false);
    if (c !== null && !isCurrencyCode(c)) {
      this.issue(QUARANTINE_CODES.VALUE_NOT_ALLOWED, 'currency: not a three-letter ISO 4217 code');
    }
    return c;
  }

  private num(spec: ColumnSpec, row: FieldRow, rule: CellRule): number | null {
    const required = rule.required;
    let v: number;
    if (spec.plain) {
      // Parsed in place first: a plain number has no blanks to trim (and Number() would ignore
      // them). Only a cell that does not parse is trimmed of control characters and tried again.
      const i = spec.index;
      let status = i < row.count ? parseNumberAt(row.text, row.starts[i]!, row.ends[i]!) : NUMBER_MISSING;
      if (status !== NUMBER_OK) {
        this.bounds(spec, row);
        status = parseNumberAt(row.text, this.cellStart, this.cellEnd);
        if (status !== NUMBER_OK) return this.badNumber(spec, status, required);
      }
      v = parsedNumber.value;
    } else if (spec.expression !== null && spec.values === null) {
      const r = toNumber(spec.expression(row, this.line), spec.column);
      if (r === null) {
        if (spec.fallback === null) return required ? this.missingRequired(spec) : null;
        return this.num({ ...spec, expression: null, constant: spec.fallback }, row, rule);
      }
      if (isFailure(r)) {
        this.issue(QUARANTINE_CODES.UNPARSEABLE_NUMBER, `${spec.column}: ${r.failure}`);
        return null;
      }
      if (Number.isNaN(r) || r === Number.POSITIVE_INFINITY || r === Number.NEGATIVE_INFINITY) {
        this.issue(
          Number.isNaN(r) ? QUARANTINE_CODES.UNPARSEABLE_NUMBER : QUARANTINE_CODES.NOT_FINITE,
          `${spec.column}: computed value is not a finite number`,
        );
        return null;
      }
      v = r;
    } else {
      const codes = this.codes?.length ?? 0;
      const t = this.text(spec, row);
      if ((this.codes?.length ?? 0) > codes) return null;
      const status = parseNumberCell(t);
      if (status !== NUMBER_OK) return this.badNumber(spec, status, required);
      v = parsedNumber.value;
    }
    if (spec.scale !== 1) v *= spec.scale;
    if (spec.divisor !== 1) v /= spec.divisor;
    if (rule.integer && !Number.isInteger(v)) {
      this.issue(QUARANTINE_CODES.NOT_INTEGER, `${spec.column}: not a whole number`);
      return null;
    }
    if (rule.min !== ANY && v <= 0) {
      if (v < 0) {
        this.issue(QUARANTINE_CODES.NEGATIVE, `${spec.column}: negative`);
        return null;
      }
      if (rule.min === POSITIVE) {
        this.issue(QUARANTINE_CODES.NOT_POSITIVE, `${spec.column}: zero`);
        return null;
      }
      v = 0; // -0 -> 0
    }
    return v;
  }

  private badNumber(spec: ColumnSpec, status: number, required: boolean): null {
    if (status === NUMBER_MISSING) return required ? this.missingRequired(spec) : null;
    if (status === NUMBER_NOT_FINITE) this.issue(QUARANTINE_CODES.NOT_FINITE, `${spec.column}: not finite`);
    else this.issue(QUARANTINE_CODES.UNPARSEABLE_NUMBER, `${spec.column}: not a number`);
    return null;
  }

  /** snapshot_date: compared in place with the tape's date, so the common case reuses that string. */
  private snapshot(spec: ColumnSpec, row: FieldRow): string | null {
    const tape = this.tapeDate;
    if (spec.plain && tape !== null) {
      this.bounds(spec, row);
      if (this.cellEnd - this.cellStart === 10 && row.text.startsWith(tape, this.cellStart)) return tape;
    }
    return this.date(spec, row, true);
  }

  private date(spec: ColumnSpec, row: FieldRow, required: boolean): string | null {
    if (spec.plain) {
      this.bounds(spec, row);
      const a = this.cellStart;
      const n = this.cellEnd - a;
      if (n === 0) return required ? this.missingRequired(spec) : null;
      const key = n === 10 ? isoDateKeyAt(row.text, a) : -1;
      if (key >= 0) {
        // Dates repeat a lot: a direct-mapped cache by date key returns the same string.
        const slot = key & DATE_CACHE_MASK;
        if (this.dateKeys[slot] === key) return this.dateStrings[slot]!;
        const iso = row.text.slice(a, a + 10);
        this.dateKeys[slot] = key;
        this.dateStrings[slot] = iso;
        return iso;
      }
      this.issue(QUARANTINE_CODES.INVALID_DATE, `${spec.column}: not a real calendar date`);
      return null;
    }
    const t = this.text(spec, row);
    if (t.length === 0) return required ? this.missingRequired(spec) : null;
    let iso: string | null;
    if (spec.date !== null) iso = spec.date(t);
    else iso = isIsoDate(t) ? t : null;
    if (iso === null) {
      this.issue(QUARANTINE_CODES.INVALID_DATE, `${spec.column}: not a real calendar date`);
      return null;
    }
    if (spec.addMonthsIndex >= 0 || spec.addConstant !== 0) {
      let amount = spec.addConstant;
      if (spec.addMonthsIndex >= 0) {
        const status = parseNumberCell(row.get(spec.addMonthsIndex).trim());
        if (status !== NUMBER_OK || !Number.isInteger(parsedNumber.value)) {
          this.issue(
            status === NUMBER_MISSING ? QUARANTINE_CODES.MISSING_REQUIRED : QUARANTINE_CODES.NOT_INTEGER,
            `${spec.column}: ${spec.addUnit} to add are not a whole number`,
          );
          return null;
        }
        amount = parsedNumber.value;
      }
      iso = shiftDate(iso, amount, spec.addUnit);
      if (iso === null) {
        this.issue(
          QUARANTINE_CODES.INVALID_DATE,
          `${spec.column}: the date arithmetic leaves the years 1000-9999`,
        );
        return null;
      }
    }
    return iso;
  }

  private bool(spec: ColumnSpec, row: FieldRow): boolean | null {
    let t: string;
    if (spec.plain) {
      this.bounds(spec, row);
      const a = this.cellStart;
      const n = this.cellEnd - a;
      if (n === 0) return null;
      const txt = row.text;
      if (n === 4 && txt.startsWith('true', a)) return true;
      if (n === 5 && txt.startsWith('false', a)) return false;
      t = txt.slice(a, this.cellEnd);
    } else {
      t = this.text(spec, row);
      if (t.length === 0) return null;
    }
    const b = parseBooleanCell(t);
    if (b === null) this.issue(QUARANTINE_CODES.INVALID_BOOLEAN, `${spec.column}: not a boolean`);
    return b;
  }
}

/** Adds whole days, months or years to an ISO date (month ends clamp); null outside years 1000-9999. */
function shiftDate(iso: string, amount: number, unit: 'days' | 'months' | 'years'): string | null {
  const out =
    unit === 'days' ? shiftIsoDays(iso, amount) : addMonthsIso(iso, unit === 'years' ? amount * 12 : amount);
  const year = Number(out.slice(0, 4));
  return out.length === 10 && year >= 1000 && year <= 9999 ? out : null;
}

/** The ordering value of `latest.by`: a number, or an ISO date as its day number; null otherwise. */
function orderValue(v: ReturnType<FieldExpression>): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  if (parseNumberCell(v) === NUMBER_OK) return parsedNumber.value;
  return isIsoDate(v) ? isoToDays(v) : null;
}

/** Ids outlive the chunk they came from (sinks keep loans, the validator keeps ids): detach long ones. */
function keep(s: string | null): string | null {
  return s === null || s.length < 13 ? s : detach(s);
}

/**
 * Copies a string so that it does not pin the multi-megabyte chunk it was sliced from (V8 keeps
 * substrings of 13+ characters as views of their parent); the id set lives for the whole tape.
 */
export function detach(s: string): string {
  // The concatenation is flattened into a fresh small string; the slice then points into that.
  return ` ${s}`.slice(1);
}
