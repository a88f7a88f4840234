/**
 * Benchmark of the risk engine alone (score + aggregate + merge + finalize), on a synthetic book
 * generated in memory, with a previous tape for drift. Run alone with
 * `NODE_OPTIONS=--expose-gc npx tsx bench/engine.ts [loans] [--full]`; `benchEngine` (and
 * `benchFullPath`, the whole read-to-audit path on CSV tapes) are also callable from bench/run.ts.
 * Loans are generated in batches outside the timed sections, and never all kept, so the heap
 * measured is the engine's own state.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  createAccumulator,
  mergePartialList,
  type PartialAudit,
} from '../shared/domain/engine/accumulator.ts';
import { finalizeAudit } from '../shared/domain/engine/finalize.ts';
import { PreviousTape } from '../shared/domain/engine/previous-tape.ts';
import type { Loan } from '../shared/domain/loan.ts';
import { defaultPolicyPaths, parsePolicy } from '../shared/domain/policy/policy.ts';
import { policyInForce } from '../shared/domain/policy/resolve.ts';
import { emptyIntakeStats } from '../shared/domain/tape/intake.ts';

const PRODUCTS = ['order_financing', 'credit_loan', 'consumer_credit'] as const;
const REGIONS = ['Zhejiang', 'Jiangsu', 'Guangdong', 'Shanghai', 'Sichuan', 'Henan', 'Shandong', 'Hubei'];
const INDUSTRIES = ['retail', 'apparel', 'electronics', 'food', 'services', 'logistics', 'student', 'office'];
const PARTNERS = ['PB-1', 'PB-2', 'PB-3', 'PB-4', 'PB-5', 'PB-6'];
const CLASSES = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'] as const;

/** Deterministic 32-bit mix of an integer, for reproducible synthetic loans. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function dateOf(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** Synthetic loan i of a day (dayOffset 0 = previous tape, 1 = today); ~1.6 loans per borrower. */
export function syntheticLoan(i: number, snapshotDay: number, dayOffset: number): Loan {
  const r1 = mix(i * 7 + 1);
  const r2 = mix(i * 7 + 2);
  const r3 = mix(i * 7 + 3);
  const r4 = mix(i * 7 + 4 + dayOffset * 1_000_003);
  const borrower = Math.floor(((r1 % 1000) / 1000) * 0.25 * i + i * 0.6);
  const individual = r2 % 10 < 7;
  const product = PRODUCTS[r2 % 3]!;
  const principal = 1000 + (r3 % 200_000);
  const dpdRoll = r4 % 100;
  const dpd = dpdRoll < 90 ? 0 : dpdRoll < 95 ? r4 % 30 : dpdRoll < 98 ? 31 + (r4 % 60) : 91 + (r4 % 400);
  const origination = snapshotDay - 1 - (r1 % 700);
  const ownFundingShare = r1 % 10 === 0 ? 0.2 + (r2 % 80) / 100 : 1;
  const floor = dpd === 0 ? 0 : dpd <= 90 ? 1 : dpd <= 270 ? 2 : dpd <= 360 ? 3 : 4;
  const purpose =
    product === 'consumer_credit' || (product === 'credit_loan' && individual) ? 'consumption' : 'business';
  return {
    snapshotDate: dateOf(snapshotDay),
    loanId: `L${pad(i, 9)}`,
    borrowerId: `B${pad(borrower, 9)}`,
    borrowerType: individual ? 'individual' : 'enterprise',
    product,
    principal,
    outstandingPrincipal: Math.round(principal * ((r4 % 100) / 100) * 100) / 100,
    annualRate: 0.06 + (r3 % 340) / 1000,
    termMonths: 3 + (r1 % 34),
    originationDate: dateOf(origination),
    maturityDate: dateOf(origination + 90 + (r2 % 900)),
    daysPastDue: dpd,
    currency: 'CNY',
    region: r1 % 20 === 0 ? null : REGIONS[r1 % REGIONS.length]!,
    industry: r2 % 15 === 0 ? null : INDUSTRIES[r3 % INDUSTRIES.length]!,
    merchantId: product === 'order_financing' ? `M${r3 % 50_000}` : null,
    borrowerAge: individual ? 18 + (r2 % 50) : null,
    annualIncome: r3 % 4 === 0 ? null : 20_000 + (r2 % 500_000),
    monthlyDebtPayments: r3 % 4 === 0 ? null : r4 % 20_000,
    otherLendersCount: r1 % 9 === 0 ? null : r4 % 7,
    creditScore: r2 % 11 === 0 ? null : 350 + (r3 % 600),
    isStudent: individual ? r4 % 200 === 0 : null,
    ownFundingShare,
    // The new columns in the synthetic book's shares: purpose on 7 loans in 10, a partner on every
    // co-lent loan and a few facilitated ones, 4% of borrowers in related-party groups, the
    // lender's own class on 9 loans in 10 (now and then one class milder than the floor).
    loanPurpose: r4 % 10 < 7 ? purpose : null,
    partnerId: ownFundingShare !== 1 ? PARTNERS[r2 % PARTNERS.length]! : r3 % 12 === 0 ? 'FP-1' : null,
    relatedPartyGroup: mix(borrower) % 25 === 0 ? `G${Math.floor(borrower / 3)}` : null,
    reportedClassification:
      r1 % 10 === 9 ? null : CLASSES[dpd > 0 && r3 % 33 === 0 ? Math.max(0, floor - 1) : floor]!,
  };
}

const retained = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Runs the engine on `loans` synthetic loans in 4 shards against a previous tape of the same size. */
export async function benchEngine(opts: { loans: number; dir: string }): Promise<Record<string, unknown>> {
  const n = opts.loans;
  const paths = defaultPolicyPaths();
  const today = Math.floor(Date.UTC(2026, 10, 25) / 86_400_000);
  const policy = policyInForce(
    parsePolicy([
      { text: readFileSync(paths.rules, 'utf8'), fileName: paths.rules },
      { text: readFileSync(paths.appetite, 'utf8'), fileName: paths.appetite },
    ]),
    dateOf(today),
  );
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const batch = 10_000;
  const buffer: Loan[] = new Array<Loan>(batch);

  // Previous tape: loans 5% .. n+5% (so 5% of today's are new and 5% of yesterday's closed).
  const shift = Math.floor(n * 0.05);
  const base0 = retained();
  let t = performance.now();
  const previous = new PreviousTape(dateOf(today - 1), n);
  let previousMs = 0;
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    for (let j = 0; j < m; j++) buffer[j] = syntheticLoan(start + j + shift, today - 1, 0);
    t = performance.now();
    for (let j = 0; j < m; j++) previous.add(buffer[j]!);
    previousMs += performance.now() - t;
  }
  const previousBytes = retained() - base0;

  // Today, in 4 shards of consecutive rows.
  const shards = 4;
  const per = Math.ceil(n / shards);
  const base = retained();
  let peak = 0;
  let addMs = 0;
  let addCpuUs = 0;
  let cpuUs = 0;
  let partialMs = 0;
  let partialBytes = 0;
  const partials: PartialAudit[] = [];
  let borrowersSeen = 0;
  for (let s = 0; s < shards; s++) {
    const acc = createAccumulator(policy, previous, { expectedBorrowers: Math.floor(per * 0.7) });
    const end = Math.min(n, (s + 1) * per);
    for (let start = s * per; start < end; start += batch) {
      const m = Math.min(batch, end - start);
      for (let j = 0; j < m; j++) buffer[j] = syntheticLoan(start + j, today, 1);
      t = performance.now();
      const c0 = process.cpuUsage().user;
      for (let j = 0; j < m; j++) acc.add(buffer[j]!);
      addCpuUs += process.cpuUsage().user - c0;
      addMs += performance.now() - t;
      if (hasGc && (start / batch) % 25 === 0) peak = Math.max(peak, retained() - base);
    }
    borrowersSeen += acc.borrowerCount;
    t = performance.now();
    const c1 = process.cpuUsage().user;
    const json = JSON.stringify(acc.toPartial());
    partialBytes += json.length;
    partials.push(JSON.parse(json) as PartialAudit);
    cpuUs += process.cpuUsage().user - c1;
    partialMs += performance.now() - t;
    if (hasGc) peak = Math.max(peak, retained() - base);
  }
  t = performance.now();
  let c = process.cpuUsage().user;
  const merged = mergePartialList(partials);
  const mergeMs = performance.now() - t;
  cpuUs += process.cpuUsage().user - c;
  if (hasGc) peak = Math.max(peak, retained() - base);
  const intake = { ...emptyIntakeStats(), rowsRead: n, rowsValid: n };
  t = performance.now();
  c = process.cpuUsage().user;
  const audit = finalizeAudit(merged, intake, {
    snapshotDate: dateOf(today),
    previousSnapshotDate: dateOf(today - 1),
    policy,
    borrowerRefKey: 'bench-key-0001',
  });
  const finalizeMs = performance.now() - t;
  cpuUs += process.cpuUsage().user - c;
  if (hasGc) peak = Math.max(peak, retained() - base);
  const borrowers = audit.portfolio.borrowerCount;
  const engineMs = addMs + partialMs + mergeMs + finalizeMs;
  return {
    loans: n,
    distinctBorrowers: borrowers,
    borrowerEntriesAcrossShards: borrowersSeen,
    previousTapeIndexMs: Math.round(previousMs),
    previousTapeBytesPerLoan: hasGc ? Math.round(previousBytes / n) : null,
    scoreAndAggregateMs: Math.round(addMs),
    scoreAndAggregateLoansPerSecond: Math.round(n / (addMs / 1000)),
    partialsSerializeMs: Math.round(partialMs),
    partialsJsonBytes: partialBytes,
    mergeMs: Math.round(mergeMs),
    finalizeMs: Math.round(finalizeMs),
    engineLoansPerSecond: Math.round(n / (engineMs / 1000)),
    // CPU time of the process (all threads, GC included): steadier than wall time on a busy machine.
    scoreAndAggregateCpuLoansPerSecond: Math.round(n / (addCpuUs / 1e6)),
    engineCpuLoansPerSecond: Math.round(n / ((addCpuUs + cpuUs) / 1e6)),
    loadAverage1m: os.loadavg()[0],
    peakBytesPerBorrowerAboveBase: hasGc ? Math.round(peak / borrowers) : null,
    note: hasGc ? undefined : 'run with NODE_OPTIONS=--expose-gc for memory figures',
    check: {
      nplRatio: audit.portfolio.nplRatio,
      newLoans: audit.drift.newLoans,
      overall: audit.ratings.overall,
    },
  };
}

/**
 * The full path on CSV tapes (read + parse + validate + score + aggregate, then finalize), through
 * the shared shard use case, with a previous tape: the figure the target is about. Tapes are
 * generated once into `dir` (a 1,000,000-loan book and its next day) and reused.
 */
export async function benchFullPath(opts: { loans: number; dir: string }): Promise<Record<string, unknown>> {
  const { writeTape } = await import('../shared/adapters/tape/tape-writer.ts');
  const { localTapeParts } = await import('../shared/adapters/tape/local-tape-source.ts');
  const { generateBook, rollForward } = await import('../shared/domain/generator/book.ts');
  const { auditShard } = await import('../shared/domain/engine/shard-audit.ts');
  const { loadPreviousTape } = await import('../shared/domain/engine/previous-scan.ts');
  const { nodeTapeDecoder } = await import('../shared/adapters/tape/read-tape.ts');
  const day1 = join(opts.dir, `engine-${opts.loans}-day1.csv`);
  const day2 = join(opts.dir, `engine-${opts.loans}-day2.csv`);
  if (!existsSync(day2)) {
    mkdirSync(opts.dir, { recursive: true });
    const book = [...generateBook({ loans: opts.loans, date: '2026-11-24', seed: 7 })];
    await writeTape(day1, book);
    await writeTape(day2, rollForward(book, { date: '2026-11-25', seed: 7 }));
  }
  const paths = defaultPolicyPaths();
  const policy = policyInForce(
    parsePolicy([
      { text: readFileSync(paths.rules, 'utf8'), fileName: paths.rules },
      { text: readFileSync(paths.appetite, 'utf8'), fileName: paths.appetite },
    ]),
    '2026-11-25',
  );
  const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
  const since = (c: ReturnType<typeof clock>) => {
    const cpu = process.cpuUsage(c.cpu);
    return { wallMs: performance.now() - c.wall, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  let c = clock();
  const { previous, intake: previousIntake } = await loadPreviousTape(
    nodeTapeDecoder,
    await localTapeParts(day1),
    {},
  );
  const prevTime = since(c);
  c = clock();
  // The bench's tape is clean: nothing is quarantined.
  const shard = await auditShard(nodeTapeDecoder, await localTapeParts(day2), {
    policy,
    previous,
    quarantine: { add() {}, ready: () => null },
  });
  const shardTime = since(c);
  c = clock();
  const audit = finalizeAudit(shard.partial, shard.intake, {
    snapshotDate: '2026-11-25',
    previousSnapshotDate: '2026-11-24',
    previousIntake,
    policy,
    borrowerRefKey: 'bench-key-0001',
  });
  const finalTime = since(c);
  const rows = shard.intake.rowsRead;
  return {
    rows,
    bytes: statSync(day2).size,
    previousIndex: {
      ...prevTime,
      rowsPerSecondCpu: Math.round(previous.validCount / (prevTime.cpuMs / 1000)),
    },
    readParseValidateScoreAggregate: {
      ...shardTime,
      loansPerSecond: Math.round(rows / (shardTime.wallMs / 1000)),
      loansPerSecondCpu: Math.round(rows / (shardTime.cpuMs / 1000)),
    },
    finalize: finalTime,
    loansPerSecondIncludingFinalizeCpu: Math.round(rows / ((shardTime.cpuMs + finalTime.cpuMs) / 1000)),
    distinctBorrowers: audit.portfolio.borrowerCount,
    loadAverage1m: os.loadavg()[0],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loans = Number(process.argv[2] ?? 1_000_000);
  const dir = 'bench/.data';
  const result: Record<string, unknown> = { engine: await benchEngine({ loans, dir }) };
  if (process.argv.includes('--full')) result.fullPath = await benchFullPath({ loans, dir });
  console.log(JSON.stringify(result, null, 2));
}
