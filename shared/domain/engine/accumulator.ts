/**
 * The mergeable portfolio accumulator. One pass over a shard's valid loans (`add`, the hot loop)
 * fills counters; `toPartial` turns them into a plain JSON value that Lambdas pass through S3;
 * `mergePartials` combines two shards; `finalizeAudit` (finalize.ts) turns a partial into the audit.
 *
 * Exactness: amounts are accounted exactly as the tape gives them, as whole fen plus the rest in
 * millionths (engine/amounts.ts), two integer sums per figure, exact whatever the order: a tape's
 * amounts are never rounded to the fen before they are summed.
 * Sums of non-integer terms (rate x outstanding, expected loss, partner-funded outstanding) use the
 * exact summation of exact-sum.ts. Counts are integers; per-borrower state merges by addition, max
 * and OR. So any split into shards and any merge order give bit-identical audits.
 */
import {
  CLASSIFICATIONS,
  CREDIT_SCORE_BANDS,
  DPD_BUCKETS,
  IFRS9_STAGES,
  MATURITY_BANDS,
} from '../audit-result.ts';
import { type Loan, PRODUCTS, purposeOf } from '../loan.ts';
import { type CompiledPolicy, compilePolicy } from '../policy/compile.ts';
import type { Policy } from '../policy/policy.ts';
import { resolutionOf } from '../policy/resolve.ts';
import { amountParts, microOf, SUB_PER_FEN, splitAmount } from './amounts.ts';
import {
  BorrowerTable,
  mergeSerializedBorrowers,
  type SerializedBorrowers,
  serializeBorrowers,
  type TransferredBorrowerTable,
  TYPE_ENTERPRISE,
  TYPE_INDIVIDUAL,
} from './borrower-table.ts';
import { creditBandIndex, maturityBandIndex } from './buckets.ts';
import { isoDayNumber } from './dates.ts';
import { exactAdd, exactMerge } from './exact-sum.ts';
import { hash64, hashOrGiven, hashOut } from './hash.ts';
import { deserializePairs, PairTable, type SerializedPairs, serializePairs } from './pair-table.ts';
import type { PreviousTape } from './previous-tape.ts';
import { createLoanAssessor, GRADES, type LoanAssessment } from './scorecard.ts';

/** What finalize needs of the previous tape: identical in every shard's partial. */
export interface PreviousSummary {
  snapshotDate: string | null;
  validCount: number;
  dpdCounts: number[];
  creditBandCounts: number[];
  productCounts: number[];
}

/** Count and outstanding (whole fen, and millionths beyond them) of one segment value (industry or region). */
export type SegmentCounter = [count: number, fen: number, sub: number];

/**
 * The millionths beyond the whole fen of each amount figure (engine/amounts.ts), beside the fen
 * fields of the same names: all zero for a tape whose amounts have at most two decimals.
 */
export interface SubAmounts {
  principal: number;
  outstanding: number;
  anyFlag: number;
  dpd: number[];
  class: number[];
  stage: number[];
  maturity: number[];
  product: number[];
  rule: number[];
  flag: number[];
}

/**
 * A shard's accumulated audit state: plain JSON, mergeable with `mergePartials`. Array fields follow
 * the order of the constants in audit-result.ts (DPD_BUCKETS, CLASSIFICATIONS, ...); amounts are fen.
 */
export interface PartialAudit {
  kind: 'risk-audit-partial';
  version: 3;
  /** Codes of the enabled rules and flags the partial was built with; merging checks they match. */
  policyKey: string;
  /** Counts of the previous tape the drift counters were filled against, or null without one. */
  previous: PreviousSummary | null;
  /** Snapshot date of the loans seen (null when none). */
  snapshotDate: string | null;
  loans: number;
  principalFen: number;
  outstandingFen: number;
  /** Exact-sum partials of annual_rate x outstanding fen. */
  rateFen: number[];
  /** Exact-sum partials of expected loss in yuan. */
  expectedLoss: number[];
  /** Exact-sum partials of (1 - own_funding_share) x outstanding fen. */
  partnerFen: number[];
  dpdCount: number[];
  dpdFen: number[];
  classCount: number[];
  classFen: number[];
  stageCount: number[];
  stageFen: number[];
  maturityFen: number[];
  gradeCount: number[];
  creditBandCount: number[];
  productCount: number[];
  productFen: number[];
  industry: Record<string, SegmentCounter>;
  region: Record<string, SegmentCounter>;
  /** Per enabled loan rule (policy order): loans hit and their outstanding fen. */
  ruleLoans: number[];
  ruleFen: number[];
  /** Per enabled flag (policy order). */
  flagLoans: number[];
  flagFen: number[];
  anyFlagLoans: number;
  anyFlagFen: number;
  /** What the amounts add beyond whole fen. */
  sub: SubAmounts;
  /** transitions[from * 7 + to]: loans in previous bucket `from` now in bucket `to`. */
  transitions: number[];
  /** Loans found on the previous tape. */
  matched: number;
  borrowers: SerializedBorrowers;
  /** (group hash, borrower hash) of every related-party group member (kept while a group rule is in force). */
  groups: SerializedPairs;
  /** Co-lent loans and their outstanding fen by partner_id (kept while a partner or portfolio rule is in force). */
  partners: Record<string, SegmentCounter>;
  /**
   * (partner hash, borrower hash) of every co-lent loan, counting the loans no loan-level breach
   * rule hit: consumption (first counter) and business (second).
   */
  partnerBorrowers: SerializedPairs;
}

/** The per-shard accumulator returned by `createAccumulator`. */
export interface AuditAccumulator {
  /**
   * Assesses one valid loan and adds it to the shard's counters (the hot path). The loan id's
   * 64-bit hash (engine/hash.ts), when the caller has it, saves hashing the id again.
   */
  add(loan: Loan, idHashHi?: number, idHashLo?: number): LoanAssessment;
  /** Same as `add` without building the assessment (no per-loan allocation), when no score file is kept. */
  accumulate(loan: Loan, idHashHi?: number, idHashLo?: number): void;
  /** The shard's state as plain JSON. */
  toPartial(): PartialAudit;
  /** Distinct borrowers seen so far. */
  readonly borrowerCount: number;
}

/** Identifies the enabled rules and flags, so partials from different policies never merge. */
export function policyKey(compiled: CompiledPolicy, currency: string): string {
  return [
    compiled.loanRules.map((r) => `${r.code}:${r.severity}`).join(','),
    compiled.aggregateRules.map((r) => `${r.rule.code}:${r.severity}`).join(','),
    compiled.flags.map((f) => f.code).join(','),
    currency,
  ].join('|');
}

type Segments = Map<string, SegmentCounter>;

/**
 * Sets a key that comes from the tape (a region or industry name) as an own property, so a name
 * such as "__proto__" is kept as data instead of changing the object's prototype.
 */
export function defineKey<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function addSegment(map: Segments, key: string | null, fen: number, sub: number): void {
  const k = key === null || key === '' ? 'unknown' : key;
  const c = map.get(k);
  if (c === undefined) map.set(k, [1, fen, sub]);
  else {
    c[0]++;
    c[1] += fen;
    c[2] += sub;
  }
}

/** A new accumulator for one shard; pass the previous tape's index to fill drift counters. */
export function createAccumulator(
  policy: Policy,
  previous: PreviousTape | null,
  options: { expectedBorrowers?: number } = {},
): AuditAccumulator {
  const compiled = compilePolicy(policy);
  const currency = resolutionOf(policy).currency;
  const assess = createLoanAssessor(policy, compiled);
  const scratch = assess.scratch;
  const nRules = compiled.loanRules.length;
  const nFlags = compiled.flags.length;
  const breachMask = compiled.breachMask;
  const borrowers = new BorrowerTable(options.expectedBorrowers ?? 1024);
  const keepGroups = compiled.needs.groups;
  const keepPartners = compiled.needs.partners;
  const groups = new PairTable();
  const partners: Segments = new Map();
  const partnerBorrowers = new PairTable();

  let snapshotDate: string | null = null;
  let snapshotDay = 0;
  // Running scalars live in a typed array: doubles in closure variables would be boxed on every write.
  const S = new Float64Array(6);
  const LOANS = 0;
  const PRINCIPAL = 1;
  const OUTSTANDING = 2;
  const ANY_FLAG_LOANS = 3;
  const ANY_FLAG_FEN = 4;
  const MATCHED = 5;
  const rateFen: number[] = [];
  const expectedLoss: number[] = [];
  const partnerFen: number[] = [];
  const dpdCount = new Float64Array(DPD_BUCKETS.length);
  const dpdFen = new Float64Array(DPD_BUCKETS.length);
  const classCount = new Float64Array(CLASSIFICATIONS.length);
  const classFen = new Float64Array(CLASSIFICATIONS.length);
  const stageCount = new Float64Array(IFRS9_STAGES.length);
  const stageFen = new Float64Array(IFRS9_STAGES.length);
  const maturityFen = new Float64Array(MATURITY_BANDS.length);
  const gradeCount = new Float64Array(GRADES.length);
  const creditBandCount = new Float64Array(CREDIT_SCORE_BANDS.length);
  const productCount = new Float64Array(PRODUCTS.length);
  const productFen = new Float64Array(PRODUCTS.length);
  const industry: Segments = new Map();
  const region: Segments = new Map();
  const ruleLoans = new Float64Array(nRules);
  const ruleFen = new Float64Array(nRules);
  const flagLoans = new Float64Array(nFlags);
  const flagFen = new Float64Array(nFlags);
  const transitions = new Float64Array(DPD_BUCKETS.length * DPD_BUCKETS.length);
  // The millionths beyond whole fen, one slot per amount figure, touched only by amounts with
  // more than two decimals.
  const SUB_PRINCIPAL = 0;
  const SUB_OUTSTANDING = 1;
  const SUB_ANY_FLAG = 2;
  const SUB_DPD = 3;
  const SUB_CLASS = SUB_DPD + DPD_BUCKETS.length;
  const SUB_STAGE = SUB_CLASS + CLASSIFICATIONS.length;
  const SUB_MATURITY = SUB_STAGE + IFRS9_STAGES.length;
  const SUB_PRODUCT = SUB_MATURITY + MATURITY_BANDS.length;
  const SUB_RULE = SUB_PRODUCT + PRODUCTS.length;
  const SUB_FLAG = SUB_RULE + nRules;
  const subs = new Float64Array(SUB_FLAG + nFlags);

  const accumulate = (loan: Loan, idHashHi?: number, idHashLo?: number): void => {
    assess.score(loan);
    if (loan.snapshotDate !== snapshotDate) {
      snapshotDate ??= loan.snapshotDate;
      snapshotDay = isoDayNumber(loan.snapshotDate);
    }
    const fen = scratch.fen;
    const sub = scratch.sub;
    S[LOANS]!++;
    splitAmount(loan.principal);
    S[PRINCIPAL]! += amountParts.fen;
    if (amountParts.sub !== 0) subs[SUB_PRINCIPAL]! += amountParts.sub;
    S[OUTSTANDING]! += fen;
    if (fen !== 0 || sub !== 0) {
      exactAdd(rateFen, loan.annualRate * fen);
      if (sub !== 0) exactAdd(rateFen, (loan.annualRate * sub) / SUB_PER_FEN);
      if (scratch.el !== 0) exactAdd(expectedLoss, scratch.el);
      if (loan.ownFundingShare !== 1) {
        exactAdd(partnerFen, (1 - loan.ownFundingShare) * fen);
        if (sub !== 0) exactAdd(partnerFen, ((1 - loan.ownFundingShare) * sub) / SUB_PER_FEN);
      }
    }
    const dpd = scratch.dpdIdx;
    const maturity = maturityBandIndex(isoDayNumber(loan.maturityDate) - snapshotDay);
    const p = loan.product === 'order_financing' ? 0 : loan.product === 'credit_loan' ? 1 : 2;
    dpdCount[dpd]!++;
    dpdFen[dpd]! += fen;
    classCount[scratch.clsIdx]!++;
    classFen[scratch.clsIdx]! += fen;
    stageCount[scratch.stageIdx]!++;
    stageFen[scratch.stageIdx]! += fen;
    maturityFen[maturity]! += fen;
    gradeCount[scratch.gradeIdx]!++;
    creditBandCount[creditBandIndex(loan.creditScore)]!++;
    productCount[p]!++;
    productFen[p]! += fen;
    addSegment(industry, loan.industry, fen, sub);
    addSegment(region, loan.region, fen, sub);
    if (sub !== 0) {
      subs[SUB_OUTSTANDING]! += sub;
      subs[SUB_DPD + dpd]! += sub;
      subs[SUB_CLASS + scratch.clsIdx]! += sub;
      subs[SUB_STAGE + scratch.stageIdx]! += sub;
      subs[SUB_MATURITY + maturity]! += sub;
      subs[SUB_PRODUCT + p]! += sub;
    }

    const ruleMask = scratch.ruleMask;
    if (ruleMask !== 0) {
      for (let i = 0; i < nRules; i++) {
        if ((ruleMask & (1 << i)) !== 0) {
          ruleLoans[i]!++;
          ruleFen[i]! += fen;
          if (sub !== 0) subs[SUB_RULE + i]! += sub;
        }
      }
    }
    if (scratch.flagMask !== 0) {
      S[ANY_FLAG_LOANS]!++;
      S[ANY_FLAG_FEN]! += fen;
      if (sub !== 0) subs[SUB_ANY_FLAG]! += sub;
      const flagMask = scratch.flagMask;
      for (let i = 0; i < nFlags; i++) {
        if ((flagMask & (1 << i)) !== 0) {
          flagLoans[i]!++;
          flagFen[i]! += fen;
          if (sub !== 0) subs[SUB_FLAG + i]! += sub;
        }
      }
    }

    hash64(loan.borrowerId);
    const breach = (ruleMask & breachMask) !== 0;
    const individual = loan.borrowerType === 'individual';
    const consumption = purposeOf(loan) === 'consumption';
    borrowers.addLoan(
      microOf(fen, sub),
      loan.annualIncome,
      individual ? TYPE_INDIVIDUAL : TYPE_ENTERPRISE,
      ruleMask,
      consumption,
      breach,
    );
    if (keepGroups && loan.relatedPartyGroup !== null) {
      const bHi = hashOut.hi;
      const bLo = hashOut.lo;
      hash64(loan.relatedPartyGroup);
      groups.add(hashOut.hi, hashOut.lo, bHi, bLo, 0, 0);
    }
    if (keepPartners && loan.partnerId !== null && loan.ownFundingShare < 1) {
      const bHi = hashOut.hi;
      const bLo = hashOut.lo;
      addSegment(partners, loan.partnerId, fen, sub);
      hash64(loan.partnerId);
      partnerBorrowers.add(
        hashOut.hi,
        hashOut.lo,
        bHi,
        bLo,
        !breach && consumption ? 1 : 0,
        !breach && !consumption ? 1 : 0,
      );
    }

    if (previous !== null) {
      hashOrGiven(loan.loanId, idHashHi, idHashLo);
      const from = previous.lookupHash(hashOut.hi, hashOut.lo);
      if (from >= 0) {
        transitions[from * 7 + dpd]!++;
        S[MATCHED]!++;
      }
    }
  };

  const add = (loan: Loan, idHashHi?: number, idHashLo?: number): LoanAssessment => {
    accumulate(loan, idHashHi, idHashLo);
    return assess.build(loan);
  };

  const segmentsToRecord = (m: Segments): Record<string, SegmentCounter> => {
    const out: Record<string, SegmentCounter> = {};
    for (const k of [...m.keys()].sort()) {
      const c = m.get(k)!;
      defineKey(out, k, [c[0], c[1], c[2]]);
    }
    return out;
  };

  const slice = (from: number, n: number): number[] => [...subs.subarray(from, from + n)];
  const toPartial = (): PartialAudit => ({
    kind: 'risk-audit-partial',
    version: 3,
    policyKey: policyKey(compiled, currency),
    previous:
      previous === null
        ? null
        : {
            snapshotDate: previous.snapshotDate,
            validCount: previous.validCount,
            dpdCounts: [...previous.dpdCounts],
            creditBandCounts: [...previous.creditBandCounts],
            productCounts: [...previous.productCounts],
          },
    snapshotDate,
    loans: S[LOANS]!,
    principalFen: S[PRINCIPAL]!,
    outstandingFen: S[OUTSTANDING]!,
    rateFen: [...rateFen],
    expectedLoss: [...expectedLoss],
    partnerFen: [...partnerFen],
    dpdCount: [...dpdCount],
    dpdFen: [...dpdFen],
    classCount: [...classCount],
    classFen: [...classFen],
    stageCount: [...stageCount],
    stageFen: [...stageFen],
    maturityFen: [...maturityFen],
    gradeCount: [...gradeCount],
    creditBandCount: [...creditBandCount],
    productCount: [...productCount],
    productFen: [...productFen],
    industry: segmentsToRecord(industry),
    region: segmentsToRecord(region),
    ruleLoans: [...ruleLoans],
    ruleFen: [...ruleFen],
    flagLoans: [...flagLoans],
    flagFen: [...flagFen],
    anyFlagLoans: S[ANY_FLAG_LOANS]!,
    anyFlagFen: S[ANY_FLAG_FEN]!,
    sub: {
      principal: subs[SUB_PRINCIPAL]!,
      outstanding: subs[SUB_OUTSTANDING]!,
      anyFlag: subs[SUB_ANY_FLAG]!,
      dpd: slice(SUB_DPD, DPD_BUCKETS.length),
      class: slice(SUB_CLASS, CLASSIFICATIONS.length),
      stage: slice(SUB_STAGE, IFRS9_STAGES.length),
      maturity: slice(SUB_MATURITY, MATURITY_BANDS.length),
      product: slice(SUB_PRODUCT, PRODUCTS.length),
      rule: slice(SUB_RULE, nRules),
      flag: slice(SUB_FLAG, nFlags),
    },
    transitions: [...transitions],
    matched: S[MATCHED]!,
    borrowers: serializeAndRemember(borrowers),
    groups: serializePairs(groups),
    partners: segmentsToRecord(partners),
    partnerBorrowers: serializePairs(partnerBorrowers),
  });

  return {
    add,
    accumulate,
    toPartial,
    get borrowerCount() {
      return borrowers.size;
    },
  };
}

const addArrays = (a: readonly number[], b: readonly number[]): number[] => a.map((x, i) => x + (b[i] ?? 0));

function mergeSubAmounts(a: SubAmounts, b: SubAmounts): SubAmounts {
  return {
    principal: a.principal + b.principal,
    outstanding: a.outstanding + b.outstanding,
    anyFlag: a.anyFlag + b.anyFlag,
    dpd: addArrays(a.dpd, b.dpd),
    class: addArrays(a.class, b.class),
    stage: addArrays(a.stage, b.stage),
    maturity: addArrays(a.maturity, b.maturity),
    product: addArrays(a.product, b.product),
    rule: addArrays(a.rule, b.rule),
    flag: addArrays(a.flag, b.flag),
  };
}

function mergeSegments(
  a: Record<string, SegmentCounter>,
  b: Record<string, SegmentCounter>,
): Record<string, SegmentCounter> {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: Record<string, SegmentCounter> = {};
  for (const k of keys) {
    // Own properties only: an inherited "__proto__" or "constructor" is not a segment.
    const x: SegmentCounter = Object.hasOwn(a, k) ? a[k]! : [0, 0, 0];
    const y: SegmentCounter = Object.hasOwn(b, k) ? b[k]! : [0, 0, 0];
    defineKey(out, k, [x[0] + y[0], x[1] + y[1], x[2] + y[2]]);
  }
  return out;
}

// The table behind each serialized form made in this process, so merging or finalizing a partial
// here reads the table instead of decoding base64 again. Not mutated, except by a PartialMerger
// that was allowed to adopt it.
const decoded = new WeakMap<SerializedBorrowers, BorrowerTable>();

const NO_BORROWERS: SerializedBorrowers = {
  count: 0,
  keys: '',
  amounts: '',
  extCount: 0,
  extInts: '',
  extAmounts: '',
};

function freshTable(partial: PartialAudit, extra: number): BorrowerTable {
  const t = new BorrowerTable(partial.borrowers.count + extra);
  mergeBorrowersInto(t, partial.borrowers);
  return t;
}

/** Adds a partial's borrowers into `into`: from the table itself when this process has it. */
function mergeBorrowersInto(into: BorrowerTable, s: SerializedBorrowers): void {
  const table = decoded.get(s);
  if (table === undefined) {
    if (s.count > 0) mergeSerializedBorrowers(into, s);
    return;
  }
  into.mergeTable(table);
}

/**
 * The serialized form of a table, packed only when read: JSON.stringify or a worker's
 * postMessage (both read the properties) pack it, while a merge or finalize in the same process
 * uses the table. A merged table of tens of millions of borrowers is never turned into one
 * base64 string (past ~500M characters V8 cannot make it). Call it once the table is complete.
 */
function serializeAndRemember(table: BorrowerTable): SerializedBorrowers {
  let packed: SerializedBorrowers | null = null;
  const pack = (): SerializedBorrowers => {
    packed ??= serializeBorrowers(table);
    return packed;
  };
  const s = { count: table.size } as SerializedBorrowers;
  Object.defineProperty(s, 'keys', { enumerable: true, get: () => pack().keys });
  Object.defineProperty(s, 'amounts', { enumerable: true, get: () => pack().amounts });
  Object.defineProperty(s, 'extCount', { enumerable: true, get: () => pack().extCount });
  Object.defineProperty(s, 'extInts', { enumerable: true, get: () => pack().extInts });
  Object.defineProperty(s, 'extAmounts', { enumerable: true, get: () => pack().extAmounts });
  decoded.set(s, table);
  return s;
}

/**
 * A partial's borrower table as its own storage, to move to another thread without packing or
 * copying, with the partial to post beside it (its borrowers left empty: `withBorrowerTable`
 * puts them back on the other side).
 */
export function splitBorrowerTable(partial: PartialAudit): {
  partial: PartialAudit;
  table: TransferredBorrowerTable;
} {
  return { partial: { ...partial, borrowers: NO_BORROWERS }, table: borrowerTableOf(partial).toTransfer() };
}

/** The inverse of `splitBorrowerTable`, on the receiving thread. */
export function withBorrowerTable(partial: PartialAudit, table: TransferredBorrowerTable): PartialAudit {
  return { ...partial, borrowers: serializeAndRemember(BorrowerTable.fromTransfer(table)) };
}

/** The borrower table of a partial, for reading only (finalize, borrower rule hits). */
export function borrowerTableOf(partial: PartialAudit): BorrowerTable {
  return decoded.get(partial.borrowers) ?? freshTable(partial, 0);
}

/**
 * Combines two shards' partials into the partial of their union: associative and commutative, and
 * exact (finalizing any merge tree gives the one-pass audit bit for bit).
 */
export function mergePartials(a: PartialAudit, b: PartialAudit): PartialAudit {
  if (
    a.kind !== 'risk-audit-partial' ||
    b.kind !== 'risk-audit-partial' ||
    a.version !== 3 ||
    b.version !== 3
  ) {
    throw new Error('invalid partial audit: unknown kind or version');
  }
  if (a.policyKey !== b.policyKey) {
    throw new Error(
      `cannot merge partial audits built with different policies: ${a.policyKey} vs ${b.policyKey}`,
    );
  }
  if (JSON.stringify(a.previous) !== JSON.stringify(b.previous)) {
    throw new Error('cannot merge partial audits built against different previous tapes');
  }
  if (a.snapshotDate !== null && b.snapshotDate !== null && a.snapshotDate !== b.snapshotDate) {
    throw new Error(`cannot merge partial audits of different dates: ${a.snapshotDate} vs ${b.snapshotDate}`);
  }
  const table = freshTable(a, b.borrowers.count);
  mergeBorrowersInto(table, b.borrowers);
  return {
    kind: 'risk-audit-partial',
    version: 3,
    policyKey: a.policyKey,
    previous: a.previous,
    snapshotDate: a.snapshotDate ?? b.snapshotDate,
    loans: a.loans + b.loans,
    principalFen: a.principalFen + b.principalFen,
    outstandingFen: a.outstandingFen + b.outstandingFen,
    rateFen: exactMerge(a.rateFen, b.rateFen),
    expectedLoss: exactMerge(a.expectedLoss, b.expectedLoss),
    partnerFen: exactMerge(a.partnerFen, b.partnerFen),
    dpdCount: addArrays(a.dpdCount, b.dpdCount),
    dpdFen: addArrays(a.dpdFen, b.dpdFen),
    classCount: addArrays(a.classCount, b.classCount),
    classFen: addArrays(a.classFen, b.classFen),
    stageCount: addArrays(a.stageCount, b.stageCount),
    stageFen: addArrays(a.stageFen, b.stageFen),
    maturityFen: addArrays(a.maturityFen, b.maturityFen),
    gradeCount: addArrays(a.gradeCount, b.gradeCount),
    creditBandCount: addArrays(a.creditBandCount, b.creditBandCount),
    productCount: addArrays(a.productCount, b.productCount),
    productFen: addArrays(a.productFen, b.productFen),
    industry: mergeSegments(a.industry, b.industry),
    region: mergeSegments(a.region, b.region),
    ruleLoans: addArrays(a.ruleLoans, b.ruleLoans),
    ruleFen: addArrays(a.ruleFen, b.ruleFen),
    flagLoans: addArrays(a.flagLoans, b.flagLoans),
    flagFen: addArrays(a.flagFen, b.flagFen),
    anyFlagLoans: a.anyFlagLoans + b.anyFlagLoans,
    anyFlagFen: a.anyFlagFen + b.anyFlagFen,
    sub: mergeSubAmounts(a.sub, b.sub),
    transitions: addArrays(a.transitions, b.transitions),
    matched: a.matched + b.matched,
    borrowers: serializeAndRemember(table),
    groups: mergePairs(a.groups, b.groups, 'groups'),
    partners: mergeSegments(a.partners, b.partners),
    partnerBorrowers: mergePairs(a.partnerBorrowers, b.partnerBorrowers, 'partnerBorrowers'),
  };
}

/** The union of two serialized pair tables (counters added). */
function mergePairs(a: SerializedPairs, b: SerializedPairs, field: string): SerializedPairs {
  if (b.count === 0) return a;
  if (a.count === 0) return b;
  const t = deserializePairs(a, field);
  t.mergeTable(deserializePairs(b, field));
  return serializePairs(t);
}

/**
 * Merges partials one at a time, in any order, as they arrive (shards finishing on worker
 * threads): the same result as `mergePartialList`. With `adopt`, the first partial whose table
 * lives in this process becomes the merged table instead of being copied into a fresh one (no
 * new memory to fault in, one shard's entries fewer to insert); only for partials that nothing
 * reads afterwards, as their table is then changed (grown at once to `expectedBorrowers`).
 */
export class PartialMerger {
  private table: BorrowerTable | null = null;
  private merged: PartialAudit | null = null;

  public constructor(
    private readonly expectedBorrowers = 1024,
    private readonly adopt = false,
  ) {}

  public add(partial: PartialAudit): void {
    if (this.table === null) {
      const own = this.adopt ? decoded.get(partial.borrowers) : undefined;
      this.table = own ?? new BorrowerTable(Math.max(this.expectedBorrowers, partial.borrowers.count));
      // Grown to the expected size now, while the other shards may still be running.
      if (own !== undefined) own.reserve(this.expectedBorrowers);
      else mergeBorrowersInto(this.table, partial.borrowers);
    } else {
      mergeBorrowersInto(this.table, partial.borrowers);
    }
    // Everything but the borrowers folds pairwise (cheap).
    const bare: PartialAudit = { ...partial, borrowers: NO_BORROWERS };
    this.merged = this.merged === null ? bare : mergePartials(this.merged, bare);
  }

  public result(): PartialAudit {
    if (this.merged === null || this.table === null) throw new Error('no partial audits to merge');
    return { ...this.merged, borrowers: serializeAndRemember(this.table) };
  }
}

/**
 * Merges many partials at once (same result as folding `mergePartials`), rebuilding the borrower
 * table once instead of once per pair: use it to combine a run's shards.
 */
export function mergePartialList(partials: readonly PartialAudit[]): PartialAudit {
  if (partials.length === 0) throw new Error('no partial audits to merge');
  if (partials.length === 1) return partials[0]!;
  const merger = new PartialMerger(partials.reduce((n, p) => n + p.borrowers.count, 0));
  for (const p of partials) merger.add(p);
  return merger.result();
}

/** The partial of a shard with no loans (the identity of `mergePartials`). */
export function emptyPartial(policy: Policy, previous: PreviousTape | null): PartialAudit {
  return createAccumulator(policy, previous).toPartial();
}
