/**
 * The store benchmark's model of a night (bench/store.ts), and the fixtures of the store's
 * integration test: a loan's risk state, the diff of two days of states, and their score file.
 * Not the pipeline's: the buckets score, diff and write through domain/store/score-file.ts
 * and score-merge.ts (ScoredLoan, joinScores), which also sees borrower-cap hits and the IFRS 9 stage. Both decide
 * "risk state changed" with the domain's one rule (engine/scorecard.ts riskStateChanged).
 */

import { nodeGzip } from '../shared/adapters/gzip.ts';
import type { Classification, DpdBucket } from '../shared/domain/audit-result.ts';
import { type RiskState, riskStateChanged as riskStateChangedOf } from '../shared/domain/engine/scorecard.ts';
import { closedLoanChange } from '../shared/domain/store/loan-change.ts';
import type { ArtifactStore } from '../shared/ports/artifact-store.ts';
import type { BreachEntry, LoanChange, RiskGrade } from '../shared/ports/risk-store.ts';

/** A loan's risk state on one date: what the score file keeps and what change detection compares. */
export interface LoanRiskState {
  loanId: string;
  /** Keyed hash of the borrower id, never the raw id. */
  borrowerRef: string;
  grade: RiskGrade;
  score: number;
  pd: number;
  dpdBucket: DpdBucket;
  classification: Classification;
  /** Compliance rule codes and vulnerability flags, sorted. */
  flags: string[];
  outstanding: number;
}

/** The fields of an engine assessment (LoanAssessment or ScoredLoan) the risk state needs. */
export interface AssessedLoan {
  loanId: string;
  score: number;
  grade: RiskGrade;
  pd: number;
  dpdBucket: DpdBucket;
  classification: Classification;
  ruleCodes: readonly string[];
  flags: readonly string[];
  outstanding: number;
}

/** The risk state of an assessed loan: rule codes and flags merged and sorted so diffs compare lists exactly. */
export function toLoanRiskState(assessed: AssessedLoan, borrowerRef: string): LoanRiskState {
  const flags =
    assessed.ruleCodes.length === 0 && assessed.flags.length === 0
      ? []
      : [...assessed.ruleCodes, ...assessed.flags].sort();
  return {
    loanId: assessed.loanId,
    borrowerRef,
    grade: assessed.grade,
    score: assessed.score,
    pd: assessed.pd,
    dpdBucket: assessed.dpdBucket,
    classification: assessed.classification,
    flags,
    outstanding: assessed.outstanding,
  };
}

/** One breach entry per (loan, breach rule) among the states, for the date's breach index. */
export function breachEntries(
  states: Iterable<LoanRiskState>,
  breachRuleCodes: ReadonlySet<string>,
): BreachEntry[] {
  const out: BreachEntry[] = [];
  for (const s of states) {
    for (const code of s.flags) {
      if (breachRuleCodes.has(code)) {
        out.push({
          ruleCode: code,
          loanId: s.loanId,
          borrowerRef: s.borrowerRef,
          grade: s.grade,
          outstanding: s.outstanding,
        });
      }
    }
  }
  return out;
}

/** One loan whose risk state differs between the previous day and today. */
export type RiskStateDiff =
  | { kind: 'new'; loanId: string; today: LoanRiskState }
  | { kind: 'changed'; loanId: string; today: LoanRiskState; previous: LoanRiskState }
  | { kind: 'closed'; loanId: string; previous: LoanRiskState };

const NONE: readonly string[] = Object.freeze([]);

// The bench's state keeps no IFRS 9 stage and one sorted list of rule codes and flags: it is read as
// the domain's risk state with that list as its rule codes and the stage held equal on both days.
function asRiskState(s: LoanRiskState): RiskState {
  return {
    grade: s.grade,
    dpdBucket: s.dpdBucket,
    classification: s.classification,
    stage: '1',
    ruleCodes: s.flags,
    flags: NONE,
  };
}

/** Whether two states of one loan differ in what a risk officer tracks (the domain's rule; score, pd and balance drift do not count). */
export function riskStateChanged(previous: LoanRiskState, today: LoanRiskState): boolean {
  return riskStateChangedOf(asRiskState(previous), asRiskState(today));
}

/** Diffs two days of states in any order (holds the previous day in a Map); output follows today's order, then closures. */
export function diffRiskStates(
  previous: Iterable<LoanRiskState>,
  today: Iterable<LoanRiskState>,
): RiskStateDiff[] {
  const before = new Map<string, LoanRiskState>();
  for (const p of previous) before.set(p.loanId, p);
  const out: RiskStateDiff[] = [];
  for (const t of today) {
    const p = before.get(t.loanId);
    if (p === undefined) out.push({ kind: 'new', loanId: t.loanId, today: t });
    else {
      before.delete(t.loanId);
      if (riskStateChanged(p, t)) out.push({ kind: 'changed', loanId: t.loanId, today: t, previous: p });
    }
  }
  for (const p of before.values()) out.push({ kind: 'closed', loanId: p.loanId, previous: p });
  return out;
}

/**
 * Streams the diff of two inputs sorted by loanId (score files are), holding one state of each at
 * a time; throws when an input is out of order, because a merge-join over unsorted input is wrong.
 */
export async function* diffSortedRiskStates(
  previous: AsyncIterable<LoanRiskState> | Iterable<LoanRiskState>,
  today: AsyncIterable<LoanRiskState> | Iterable<LoanRiskState>,
): AsyncGenerator<RiskStateDiff> {
  const b = toAsync(previous)[Symbol.asyncIterator]();
  const t = toAsync(today)[Symbol.asyncIterator]();
  let lastB = '';
  let lastT = '';
  const nextB = async (): Promise<LoanRiskState | null> => {
    const r = await b.next();
    if (r.done) return null;
    if (lastB !== '' && r.value.loanId <= lastB)
      throw new Error(`previous states are not sorted by loanId (${r.value.loanId} after ${lastB})`);
    lastB = r.value.loanId;
    return r.value;
  };
  const nextT = async (): Promise<LoanRiskState | null> => {
    const r = await t.next();
    if (r.done) return null;
    if (lastT !== '' && r.value.loanId <= lastT)
      throw new Error(`today's states are not sorted by loanId (${r.value.loanId} after ${lastT})`);
    lastT = r.value.loanId;
    return r.value;
  };
  let p = await nextB();
  let c = await nextT();
  while (p !== null || c !== null) {
    if (p === null || (c !== null && c.loanId < p.loanId)) {
      const today = c!;
      yield { kind: 'new', loanId: today.loanId, today };
      c = await nextT();
    } else if (c === null || p.loanId < c.loanId) {
      yield { kind: 'closed', loanId: p.loanId, previous: p };
      p = await nextB();
    } else {
      if (riskStateChanged(p, c)) yield { kind: 'changed', loanId: c.loanId, today: c, previous: p };
      p = await nextB();
      c = await nextT();
    }
  }
}

async function* fromSync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

function toAsync<T>(items: AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  return Symbol.asyncIterator in items ? (items as AsyncIterable<T>) : fromSync(items as Iterable<T>);
}

/** The history item of a diff (stage is not part of LoanRiskState, so it is null). */
export function toLoanChange(diff: RiskStateDiff): LoanChange {
  if (diff.kind === 'closed') return closedLoanChange(diff.loanId, diff.previous.borrowerRef, diff.previous);
  const t = diff.today;
  return {
    loanId: t.loanId,
    change: diff.kind,
    borrowerRef: t.borrowerRef,
    grade: t.grade,
    score: t.score,
    pd: t.pd,
    dpdBucket: t.dpdBucket,
    classification: t.classification,
    stage: null,
    flags: [...t.flags],
    outstanding: t.outstanding,
    previousGrade: diff.kind === 'changed' ? diff.previous.grade : null,
    previousDpdBucket: diff.kind === 'changed' ? diff.previous.dpdBucket : null,
  };
}

/** Sorts states by loanId (code-unit order, the order the merge-join compares in). */
export function sortByLoanId(states: LoanRiskState[]): LoanRiskState[] {
  return states.sort((a, b) => (a.loanId < b.loanId ? -1 : a.loanId > b.loanId ? 1 : 0));
}

/** Gzips records as JSON Lines in the given order (callers pass them sorted by loanId). */
export function encodeScoreFile<T = LoanRiskState>(states: Iterable<T>): Promise<Uint8Array> {
  const lines = Array.from(states, (r) => `${JSON.stringify(r)}\n`).join('');
  return nodeGzip.gzip([Buffer.from(lines)]);
}

/** The records of a gzip JSON Lines stream, one at a time. */
async function* jsonLinesOf<T>(stream: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  const utf8 = new TextDecoder();
  let pending = '';
  for await (const chunk of nodeGzip.gunzip(stream)) {
    const text = pending + utf8.decode(chunk, { stream: true });
    const lines = text.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.length > 0) yield JSON.parse(line) as T;
  }
  const last = pending + utf8.decode();
  if (last.trim().length > 0) yield JSON.parse(last) as T;
}

/** Writes a night's score file (sorted by loanId here, so every file is diffable); returns its size in bytes. */
export async function writeScoreFile(
  artifacts: ArtifactStore,
  key: string,
  states: Iterable<LoanRiskState>,
): Promise<number> {
  const sorted = sortByLoanId([...states]);
  const bytes = await encodeScoreFile(sorted);
  await artifacts.put(key, bytes, 'application/gzip');
  return bytes.byteLength;
}

/** Streams a night's score file, or null when that night has none (first run). */
export async function readScoreFile(
  artifacts: ArtifactStore,
  key: string,
): Promise<AsyncGenerator<LoanRiskState> | null> {
  const stream = await artifacts.stream(key);
  return stream === null ? null : jsonLinesOf<LoanRiskState>(stream);
}
