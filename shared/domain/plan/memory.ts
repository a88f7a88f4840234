/**
 * What each step of a run needs in memory, from its plan: the model behind the settings' memory
 * defaults and prepare's check that a plan fits the functions as configured. Every coefficient
 * is a peak RSS measured by `bench/steps.ts` and `bench/shard.ts` (each step in a process of its
 * own; figures and commands in docs/performance.md), rounded up; a step needs its measured peak
 * and nothing is added on top, since the bench's processes also carry about 90 MB of the tsx
 * loader a bundled Lambda does not.
 */

const MB = 1_000_000;

/** The functions whose memory the plan decides, by the settings that size them. */
export type PlannedStep = 'score-shard' | 'merge-audit' | 'merge-scores' | 'finalize-audit';

/** Memory configured for each planned step's function, in MB (the settings' `*MemoryMb`); a step left out is not checked. */
export type ConfiguredMemory = Readonly<Partial<Record<PlannedStep, number>>>;

/** The setting that sizes each step's function (infra/lib/settings.ts). */
export const MEMORY_SETTING: Readonly<Record<PlannedStep, string>> = {
  'score-shard': 'shardMemoryMb',
  'merge-audit': 'mergeMemoryMb',
  'merge-scores': 'bucketMemoryMb',
  'finalize-audit': 'finalizeMemoryMb',
};

/** The most memory a Lambda function can have. */
export const LAMBDA_MAX_MEMORY_MB = 10_240;

/**
 * Tape bytes per row assumed when the previous date's run gives no measure of the lender's own
 * rows: a little below the bench book's 186 bytes (canonical columns), so loans are overestimated.
 */
export const DEFAULT_BYTES_PER_ROW = 160;

/** Measured coefficients: a fixed part in MB and a part per MiB of shard or per million loans. */
export const MEMORY_COEFFICIENTS = {
  /** A shard, without the drift index: peak RSS per MiB of its (uncompressed) tape, plus a fixed part. */
  shard: { fixedMb: 170, perMibMb: 4.2 },
  /** merge-audit: the merged partials' borrower table, the audit, the date's new drift index. */
  mergeAudit: { fixedMb: 250, perMillionLoansMb: 230 },
  /** One loan-id bucket's merge: its score files streamed, its changes and compressed output held. */
  bucketMerge: { fixedMb: 200, perMillionLoansMb: 60 },
  /** finalize: the buckets' small results and the watchlist. */
  finalize: { fixedMb: 250, perMillionLoansMb: 0 },
} as const;

/**
 * The previous date's drift index as a shard holds it: a table of 8 bytes a slot, a power of two
 * of slots at most 0.75 full (PreviousTape), so 16.8 MB at 1M loans, 134 MB at 10M, 1.07 GB at
 * 100M. While shards load the index this term is part of every shard's need; once drift comes
 * from the loan-id buckets, delete it here and in `shardNeedMb`.
 */
export function previousIndexMb(previousLoans: number): number {
  if (previousLoans <= 0) return 0;
  let slots = 1024;
  while (slots * 0.75 < previousLoans) slots *= 2;
  return (slots * 8) / MB;
}

/** What a shard of `shardBytes` (uncompressed) needs, loading a drift index of `previousLoans` loans. */
export function shardNeedMb(shardBytes: number, previousLoans: number): number {
  const { fixedMb, perMibMb } = MEMORY_COEFFICIENTS.shard;
  return Math.ceil(fixedMb + (perMibMb * shardBytes) / 2 ** 20 + previousIndexMb(previousLoans));
}

/** What merge-audit needs for a book of `loans` loans. */
export function mergeAuditNeedMb(loans: number): number {
  const { fixedMb, perMillionLoansMb } = MEMORY_COEFFICIENTS.mergeAudit;
  return Math.ceil(fixedMb + (perMillionLoansMb * loans) / 1e6);
}

/** What one loan-id bucket's merge needs for `loans` loans in the bucket. */
export function bucketMergeNeedMb(loans: number): number {
  const { fixedMb, perMillionLoansMb } = MEMORY_COEFFICIENTS.bucketMerge;
  return Math.ceil(fixedMb + (perMillionLoansMb * loans) / 1e6);
}

/** What finalize needs for a book of `loans` loans. */
export function finalizeNeedMb(loans: number): number {
  const { fixedMb, perMillionLoansMb } = MEMORY_COEFFICIENTS.finalize;
  return Math.ceil(fixedMb + (perMillionLoansMb * loans) / 1e6);
}

/** What the model needs to know of a plan. */
export interface PlanSize {
  /** Uncompressed bytes of the largest shard (a compressed part is one shard of about 4x its bytes). */
  largestShardBytes: number;
  /** Whether that shard is a whole part that cannot be split (gzip, Parquet, a whole-part mapping). */
  largestShardWhole: boolean;
  /** Loans on the date's tape (an estimate: see `estimateLoans`). */
  loans: number;
  /** Loans in the previous date's drift index every shard loads (0: no previous date). */
  previousLoans: number;
  /** Loan-id buckets of the date's score files. */
  scoreBuckets: number;
}

/** One step's need against its function's memory (null: not configured, not checked). */
export interface StepMemory {
  step: PlannedStep;
  needMb: number;
  configuredMb: number | null;
}

/**
 * Loans on a tape of `tapeBytes` (uncompressed estimate), at the bytes per row the previous
 * date's run measured (its tape's bytes over its rows), else at DEFAULT_BYTES_PER_ROW.
 */
export function estimateLoans(
  tapeBytes: number,
  previous?: { tapeBytes: number; rowsRead: number } | null,
): number {
  const bytesPerRow =
    previous && previous.rowsRead > 0 && previous.tapeBytes > 0
      ? previous.tapeBytes / previous.rowsRead
      : DEFAULT_BYTES_PER_ROW;
  return Math.ceil(tapeBytes / bytesPerRow);
}

/** Every planned step's need, beside its function's memory. */
export function planMemory(size: PlanSize, configured: ConfiguredMemory): StepMemory[] {
  // Loan ids hash evenly into buckets; 5% over the mean covers the largest one at any size measured.
  const bucketLoans = Math.ceil((size.loans / size.scoreBuckets) * 1.05);
  const needs: [PlannedStep, number][] = [
    ['score-shard', shardNeedMb(size.largestShardBytes, size.previousLoans)],
    ['merge-audit', mergeAuditNeedMb(size.loans)],
    ['merge-scores', bucketMergeNeedMb(bucketLoans)],
    ['finalize-audit', finalizeNeedMb(size.loans)],
  ];
  return needs.map(([step, needMb]) => ({ step, needMb, configuredMb: configured[step] ?? null }));
}

const mb = (n: number) => `${n.toLocaleString('en-US')} MB`;

/**
 * The sentence refusing a plan whose step would need more memory than its function has (the
 * step furthest over), or null when every step fits: it names the step, what it needs, what is
 * configured and what to change.
 */
export function memoryRefusal(size: PlanSize, configured: ConfiguredMemory): string | null {
  let over: { step: PlannedStep; needMb: number; configuredMb: number } | undefined;
  for (const { step, needMb, configuredMb } of planMemory(size, configured)) {
    if (configuredMb === null || needMb <= configuredMb) continue;
    if (over === undefined || needMb - configuredMb > over.needMb - over.configuredMb)
      over = { step, needMb, configuredMb };
  }
  if (over === undefined) return null;
  const { step, needMb, configuredMb } = over;
  const count = (n: number) => n.toLocaleString('en-US');
  const what =
    step === 'score-shard'
      ? `a shard of ${count(Math.round(size.largestShardBytes / 2 ** 20))} MiB of tape${size.previousLoans > 0 ? ` with the previous date's drift index of ${count(size.previousLoans)} loans` : ''}`
      : step === 'merge-scores'
        ? `a loan-id bucket of about ${count(Math.ceil(size.loans / size.scoreBuckets))} loans`
        : `a book of about ${count(size.loans)} loans`;
  const smaller = size.largestShardWhole
    ? 'deliver that part in smaller or uncompressed parts'
    : 'lower shardBytes';
  // What else changes the need (beside the function's memory), and what is left past Lambda's most.
  const instead: Record<PlannedStep, { or: string | null; past: string }> = {
    'score-shard': { or: smaller, past: smaller },
    'merge-audit': { or: null, past: 'the book is more than one merge-audit can hold' },
    'merge-scores': { or: null, past: 'lower SCORE_BUCKET_BYTES for more loan-id buckets' },
    'finalize-audit': { or: null, past: 'the book is more than one finalize can hold' },
  };
  const { or, past } = instead[step];
  const raise = `raise ${MEMORY_SETTING[step]} to at least ${needMb}`;
  const change =
    needMb > LAMBDA_MAX_MEMORY_MB
      ? `Lambda allows ${mb(LAMBDA_MAX_MEMORY_MB)} at most, so ${past}`
      : or === null
        ? raise
        : `${raise} or ${or}`;
  return `the run's ${step} step would need about ${mb(needMb)} for ${what}, more than the ${mb(configuredMb)} it is configured with: ${change}`;
}
