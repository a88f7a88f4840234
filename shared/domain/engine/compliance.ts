/**
 * The rules that need more than one loan (borrower, related-party group, co-lending partner and
 * portfolio rules), resolved once every shard is merged, and the distinct loans in breach.
 *
 * Exactness of `loansInBreach` (distinct loans hit by at least one in-force breach rule, at any
 * level) whatever the shard and bucket counts: a loan's breach status depends on its own
 * loan-level bits, its borrower's (by purpose), its groups' and, if co-lent, its partner's and the
 * book's co-lent share. Each borrower's slot counts its loans by purpose and how many of them a
 * loan-level breach rule hit; once the aggregate rules are resolved, a borrower's loans in breach
 * are all its loans (a borrower or group rule on all loans), or its loan-level breaches plus the
 * other loans of each breached purpose. Co-lent loans left over are counted from the
 * (partner, borrower) pairs, which hold each pair's co-lent loans not hit by a loan-level breach
 * rule, by purpose. Every counter is an integer sum or a set union, so shards merge exactly; no
 * loan is counted twice because each is in exactly one borrower and one (partner, borrower) pair.
 */
import { assertNever } from '../assert-never.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type {
  BorrowerExposureRule,
  GroupExposureRule,
  Lender,
  PartnerExposureRule,
  ResolvedRule,
} from '../policy/policy.ts';
import { capAmount } from '../policy/resolve.ts';
import { borrowerTableOf, type PartialAudit } from './accumulator.ts';
import { microOf } from './amounts.ts';
import { type BorrowerTable, TYPE_ENTERPRISE, TYPE_INDIVIDUAL } from './borrower-table.ts';
import { hash64, hashKey, hashOut } from './hash.ts';
import { deserializePairs, type PairTable } from './pair-table.ts';

/** Loans, distinct borrowers and outstanding (in millionths, engine/amounts.ts) a rule concerns. */
export interface RuleFigures {
  loans: number;
  borrowers: number;
  micro: number;
}

/** Codes of the aggregate rules hitting a borrower: on all its loans, or on those of one purpose. */
export interface BorrowerHits {
  all: string[];
  consumption: string[];
  business: string[];
}

/** Which loans the aggregate rules hit, for attaching their codes to each loan (watchlist, breach index). */
export interface AggregateHits {
  /** By `borrowerKey`: borrower and group rules (a group rule hits every loan of its members). */
  borrowers: Map<string, BorrowerHits>;
  /** By partner_id: partner rules (they hit the partner's co-lent loans). */
  partners: Map<string, string[]>;
  /** Portfolio rules hitting every co-lent loan. */
  coLent: string[];
}

/** Everything the compliance section needs of the aggregate rules. */
export interface ComplianceFigures {
  /** By rule code: in-force aggregate rules. */
  aggregate: Map<string, RuleFigures>;
  /** By loan rule index (compiled order): distinct borrowers with a loan hit. */
  loanRuleBorrowers: number[];
  loansInBreach: number;
  borrowersInBreach: number;
  hits: AggregateHits;
}

// Per-slot bits of the breach rules resolved for a borrower.
const ALL = 1;
const CONSUMPTION = 2;
const BUSINESS = 4;
const IN_BREACH = 8;

/**
 * A limit in millionths of a unit, as exposures are held (so "above 200,000" compares exact
 * integer sums with an integer: an exposure of 200,000.0004 is above it).
 */
function limitMicro(
  rule: { maxExposure?: number | undefined; maxShareOf?: unknown },
  lender: Lender,
): number {
  const amount = capAmount(rule as Pick<BorrowerExposureRule, 'maxExposure' | 'maxShareOf'>, lender);
  if (amount === null) throw new Error('an in-force exposure rule has no limit: its lender figure is empty');
  return Math.round(amount * 1_000_000);
}

/** A borrower rule flattened for the pass over the borrower table (no allocation per borrower). */
interface BorrowerCheck {
  code: string;
  breach: boolean;
  /** 0 all loans, 1 consumption, 2 business. */
  purpose: number;
  /** Type bits a borrower must have one of. */
  types: number;
  /** Limit in millionths, or -1 for an income test. */
  capMicro: number;
  incomeDivisor: number;
  figures: RuleFigures;
}

function purposeIndex(purpose: BorrowerExposureRule['purpose']): number {
  switch (purpose) {
    case 'any':
      return 0;
    case 'consumption':
      return 1;
    case 'business':
      return 2;
    default:
      return assertNever(purpose, 'loan purpose');
  }
}

function typeBits(type: BorrowerExposureRule['borrowerType']): number {
  switch (type) {
    case 'any':
      return TYPE_INDIVIDUAL | TYPE_ENTERPRISE;
    case 'individual':
      return TYPE_INDIVIDUAL;
    case 'enterprise':
      return TYPE_ENTERPRISE;
    default:
      return assertNever(type, 'borrower type');
  }
}

function hitsOf(map: Map<string, BorrowerHits>, key: string): BorrowerHits {
  let h = map.get(key);
  if (h === undefined) {
    h = { all: [], consumption: [], business: [] };
    map.set(key, h);
  }
  return h;
}

/**
 * Resolves the in-force aggregate rules on a merged partial and counts the distinct loans and
 * borrowers in breach (see the module comment for why it is exact).
 */
export function evaluateCompliance(
  partial: PartialAudit,
  compiled: CompiledPolicy,
  lender: Lender,
  options: { collectHits: boolean },
): ComplianceFigures {
  const collect = options.collectHits;
  const t = borrowerTableOf(partial);
  const cap = t.capacity;
  const slotBits = new Uint8Array(cap);
  const aggregate = new Map<string, RuleFigures>();
  const hits: AggregateHits = { borrowers: new Map(), partners: new Map(), coLent: [] };
  const keyOf = (slot: number): string => hashKey(t.keyHi(slot), t.keyLo(slot));
  const byKind = <K extends ResolvedRule['rule']['kind']>(kind: K) =>
    compiled.aggregateRules.filter(
      (r): r is ResolvedRule & { rule: Extract<ResolvedRule['rule'], { kind: K }> } => r.rule.kind === kind,
    );

  // Group rules: a group's exposure is every loan of its member borrowers.
  const groupRules = byKind('group_exposure');
  if (groupRules.length > 0) {
    const pairs = deserializePairs(partial.groups, 'groups');
    const members = groupMembers(pairs, t);
    for (const r of groupRules) {
      const capMicro = limitMicro(r.rule as GroupExposureRule, lender);
      const marked = new Uint8Array(cap);
      const figures: RuleFigures = { loans: 0, borrowers: 0, micro: 0 };
      for (const slots of members.values()) {
        let micro = 0;
        for (const s of slots) micro += t.exposure(s);
        if (micro <= capMicro) continue;
        for (const s of slots) {
          if (marked[s] === 1) continue;
          marked[s] = 1;
          figures.loans += t.loans(s);
          figures.borrowers++;
          figures.micro += t.exposure(s);
          if (r.severity === 'breach') slotBits[s]! |= ALL;
          if (collect) hitsOf(hits.borrowers, keyOf(s)).all.push(r.rule.code);
        }
      }
      aggregate.set(r.rule.code, figures);
    }
  }

  // Partner and portfolio rules, over co-lent loans.
  const partnerRules = byKind('partner_exposure');
  const portfolioRules = byKind('portfolio_share');
  let pairs: PairTable | null = null;
  /** Partner hash key -> breach-hit, for the distinct count. */
  const breachPartners = new Set<string>();
  let coLentBreach = false;
  if (partnerRules.length > 0 || portfolioRules.length > 0) {
    pairs = deserializePairs(partial.partnerBorrowers, 'partnerBorrowers');
    const partnerKey = new Map<string, string>();
    for (const id of Object.keys(partial.partners)) {
      hash64(id);
      partnerKey.set(id, hashKey(hashOut.hi, hashOut.lo));
    }
    for (const r of partnerRules) {
      const capMicro = limitMicro(r.rule as PartnerExposureRule, lender);
      const hit = new Set<string>();
      const figures: RuleFigures = { loans: 0, borrowers: 0, micro: 0 };
      for (const [id, [loans, fen, sub]] of Object.entries(partial.partners)) {
        const micro = microOf(fen, sub);
        if (micro <= capMicro) continue;
        hit.add(partnerKey.get(id)!);
        figures.loans += loans;
        figures.micro += micro;
        const codes = hits.partners.get(id);
        if (codes === undefined) hits.partners.set(id, [r.rule.code]);
        else codes.push(r.rule.code);
      }
      figures.borrowers = distinctBorrowers(pairs, t, (pk) => hit.has(pk));
      if (r.severity === 'breach') for (const k of hit) breachPartners.add(k);
      aggregate.set(r.rule.code, figures);
    }
    let coLentLoans = 0;
    let coLentMicro = 0;
    for (const [loans, fen, sub] of Object.values(partial.partners)) {
      coLentLoans += loans;
      coLentMicro += microOf(fen, sub);
    }
    const bookMicro = microOf(partial.outstandingFen, partial.sub.outstanding);
    for (const r of portfolioRules) {
      const rule = r.rule;
      const over = coLentMicro > rule.maxShare * bookMicro;
      const figures: RuleFigures = over
        ? { loans: coLentLoans, borrowers: distinctBorrowers(pairs, t, () => true), micro: coLentMicro }
        : { loans: 0, borrowers: 0, micro: 0 };
      if (over) {
        hits.coLent.push(rule.code);
        if (r.severity === 'breach') coLentBreach = true;
      }
      aggregate.set(rule.code, figures);
    }
  }

  // One pass over the borrowers: every borrower rule, the borrowers of each loan-level rule, and
  // the distinct loans in breach (groups already marked their members above).
  const checks: BorrowerCheck[] = byKind('borrower_exposure').map((r) => ({
    code: r.rule.code,
    breach: r.severity === 'breach',
    purpose: purposeIndex(r.rule.purpose),
    types: typeBits(r.rule.borrowerType),
    capMicro: r.rule.incomeDivisor !== undefined ? -1 : limitMicro(r.rule, lender),
    incomeDivisor: r.rule.incomeDivisor ?? 1,
    figures: { loans: 0, borrowers: 0, micro: 0 },
  }));
  const PURPOSE_BITS = [ALL, CONSUMPTION, BUSINESS];
  const nLoanRules = compiled.loanRules.length;
  const loanRuleBorrowers = new Array<number>(nLoanRules).fill(0);
  const breachMask = compiled.breachMask;
  let loansInBreach = 0;
  let borrowersInBreach = 0;
  for (let i = 0; i < cap; i++) {
    if (!t.used(i)) continue;
    const mask = t.rules(i);
    if (mask !== 0) for (let r = 0; r < nLoanRules; r++) if ((mask & (1 << r)) !== 0) loanRuleBorrowers[r]!++;
    const loans = t.loans(i);
    const split = t.split(i);
    const consLoans = split.consumptionLoans;
    let bits = slotBits[i]!;
    if (checks.length > 0) {
      const types = t.types(i);
      const allMicro = t.exposure(i);
      const consMicro = split.consumptionMicro;
      for (let c = 0; c < checks.length; c++) {
        const k = checks[c]!;
        if ((types & k.types) === 0) continue;
        const n = k.purpose === 0 ? loans : k.purpose === 1 ? consLoans : loans - consLoans;
        if (n === 0) continue;
        const micro = k.purpose === 0 ? allMicro : k.purpose === 1 ? consMicro : allMicro - consMicro;
        if (k.capMicro >= 0) {
          if (!(micro > k.capMicro)) continue;
        } else {
          const income = t.income(i);
          if (!(income >= 0 && micro / 1_000_000 > income / k.incomeDivisor)) continue;
        }
        k.figures.loans += n;
        k.figures.borrowers++;
        k.figures.micro += micro;
        if (k.breach) bits |= PURPOSE_BITS[k.purpose]!;
        if (collect) {
          const h = hitsOf(hits.borrowers, keyOf(i));
          (k.purpose === 0 ? h.all : k.purpose === 1 ? h.consumption : h.business).push(k.code);
        }
      }
    }
    let n: number;
    if ((bits & ALL) !== 0) n = loans;
    else {
      const breachC = split.breachConsumption;
      const breachB = split.breachBusiness;
      n = breachC + breachB;
      if ((bits & CONSUMPTION) !== 0) n += consLoans - breachC;
      if ((bits & BUSINESS) !== 0) n += loans - consLoans - breachB;
    }
    loansInBreach += n;
    if (n > 0 || (mask & breachMask) !== 0) {
      bits |= IN_BREACH;
      borrowersInBreach++;
    }
    slotBits[i] = bits;
  }
  for (const k of checks) aggregate.set(k.code, k.figures);
  if (pairs !== null && (coLentBreach || breachPartners.size > 0)) {
    for (let i = 0; i < pairs.capacity; i++) {
      if (!pairs.used(i)) continue;
      if (!coLentBreach && !breachPartners.has(hashKey(pairs.firstHi(i), pairs.firstLo(i)))) continue;
      const s = t.find(pairs.secondHi(i), pairs.secondLo(i));
      if (s < 0) continue;
      const bits = slotBits[s]!;
      if ((bits & ALL) === 0) {
        if ((bits & CONSUMPTION) === 0) loansInBreach += pairs.count0(i);
        if ((bits & BUSINESS) === 0) loansInBreach += pairs.count1(i);
      }
      if ((bits & IN_BREACH) === 0) borrowersInBreach++;
      slotBits[s] = bits | IN_BREACH;
    }
  }
  return { aggregate, loanRuleBorrowers, loansInBreach, borrowersInBreach, hits };
}

/** Group hash key -> the slots of its member borrowers (each once). */
function groupMembers(pairs: PairTable, t: BorrowerTable): Map<string, number[]> {
  const members = new Map<string, number[]>();
  for (let i = 0; i < pairs.capacity; i++) {
    if (!pairs.used(i)) continue;
    const s = t.find(pairs.secondHi(i), pairs.secondLo(i));
    if (s < 0) continue;
    const key = hashKey(pairs.firstHi(i), pairs.firstLo(i));
    const list = members.get(key);
    if (list === undefined) members.set(key, [s]);
    else list.push(s);
  }
  return members;
}

/** Distinct borrowers among the (partner, borrower) pairs whose partner passes `partner`. */
function distinctBorrowers(pairs: PairTable, t: BorrowerTable, partner: (key: string) => boolean): number {
  const seen = new Uint8Array(t.capacity);
  let n = 0;
  for (let i = 0; i < pairs.capacity; i++) {
    if (!pairs.used(i) || !partner(hashKey(pairs.firstHi(i), pairs.firstLo(i)))) continue;
    const s = t.find(pairs.secondHi(i), pairs.secondLo(i));
    if (s < 0 || seen[s] === 1) continue;
    seen[s] = 1;
    n++;
  }
  return n;
}
