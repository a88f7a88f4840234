/**
 * What each step of a run needs in memory, from its plan: the model behind the settings' memory
 * defaults and prepare's check that a plan fits the functions as configured. Every coefficient
 * comes from peak RSS measured by `bench/steps.ts` (each workflow step in a process of its own,
 * on the 1M and 10M two-day books) and `bench/shard.ts` (shards of 64-512 MiB, with and without
 * the drift index), rounded up so that every measurement is below the model (figures and
 * commands in the README's Performance table). The bench's processes also carry about 130 MB
 * of loader and modules (tsx), more than a bundled Lambda's: a margin, not a term.
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
  /**
   * A shard without the drift index: 2.25 MB per MiB of tape and about 150 MB fixed measured
   * (the 10M book's 64-512 MiB shards less its 134 MB index: 294-1,301 MB; 412-477 MB for 128
   * MiB with no index), taken as 2.4 and 200 so that every measured shard is below.
   */
  shard: { fixedMb: 200, perMibMb: 2.4 },
  /**
   * merge-audit: every shard's partial (read all before they are merged), the merged borrower
   * table, the rule hits every bucket needs, the date's new drift index. Measured 351-357 MB at
   * 1M loans, 2,013-2,045 MB at 10M (188 MB per million, 169 fixed).
   */
  mergeAudit: { fixedMb: 200, perMillionLoansMb: 210 },
  /**
   * One loan-id bucket's merge: the shards' score files of its loans and the previous date's,
   * its changes, its compressed output. Measured 385-406 MB for 1M loans, 1,062-1,213 MB for 5M
   * (202 MB per million, 204 fixed).
   */
  bucketMerge: { fixedMb: 200, perMillionLoansMb: 215 },
  /** finalize: the buckets' small results and the watchlist; measured 167-168 MB at 1M, 208 MB at 10M. */
  finalize: { fixedMb: 200, perMillionLoansMb: 5 },
} as const;

/**
 * The previous date's drift index as a shard holds it: a table of 8 bytes a slot, a power of two
 * of slots at most 0.75 full (PreviousTape), so 16.8 MB at 1M loans, 134 MB at 10M, 1.07 GB at
 * 100M (measured: a 128 MiB shard peaks 13 MB higher with the 1M book's index, 120 MB with the
 * 10M book's).
 */
export function previousIndexMb(previousLoans: number): number {
  if (previousLoans <= 0) return 0;
  let slots = 1024;
  while (slots * 0.75 < previousLoans) slots *= 2;
  return (slots * 8) / MB;
}

/**
 * What loading the previous date's drift index adds to a shard that needs `scoringMb` without it:
 * the index, held while the shard scores, and before that, for a moment, twice the index (the S3
 * body's chunks beside the bytes they are joined into: the SDK's stream collector, not measured
 * here, where the index is read from a file), which passes what scoring needs once the index is
 * larger than the shard's own share (307 MB for 128 MiB: above 25,165,824 loans, 2^25 slots).
 * This is the one term of the model that grows with the book, and it applies only when the shards
 * count drift from the index: when the loan-id buckets count it (RunPlan.driftFromScores, every
 * night whose previous date was audited by a run on an unchanged tape) no shard loads the index
 * and planSize gives 0 previous loans. The index path stays for first nights and a previous tape
 * delivered again since its run.
 */
export function previousIndexShareMb(scoringMb: number, previousLoans: number): number {
  const index = previousIndexMb(previousLoans);
  return Math.max(index, MEMORY_COEFFICIENTS.shard.fixedMb + 2 * index - scoringMb);
}

/** What a shard of `shardBytes` (uncompressed) needs, loading a drift index of `previousLoans` loans. */
export function shardNeedMb(shardBytes: number, previousLoans: number): number {
  const { fixedMb, perMibMb } = MEMORY_COEFFICIENTS.shard;
  const scoringMb = fixedMb + (perMibMb * shardBytes) / 2 ** 20;
  return Math.ceil(scoringMb + previousIndexShareMb(scoringMb, previousLoans));
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
  /** Loans in the previous date's drift index every shard loads (0: no previous date, or drift counted in the buckets). */
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
  // Loan ids hash evenly into buckets (the 10M book's larger one 0.04% over the mean): 5% kept.
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
  // Smaller shards help unless the drift index's download alone is the need.
  const smaller =
    shardNeedMb(size.largestShardBytes, size.previousLoans) <= shardNeedMb(0, size.previousLoans)
      ? null
      : size.largestShardWhole
        ? 'deliver that part in smaller or uncompressed parts'
        : 'lower shardBytes';
  // What else changes the need (beside the function's memory), and what is left past Lambda's most.
  const instead: Record<PlannedStep, { or: string | null; past: string }> = {
    'score-shard': {
      or: smaller,
      past: smaller ?? 'this release cannot audit a book this size in one run (README, Scale plan)',
    },
    'merge-audit': {
      or: null,
      past: 'this release cannot audit a book this size in one run (README, Scale plan)',
    },
    'merge-scores': { or: null, past: 'lower SCORE_BUCKET_BYTES for more loan-id buckets' },
    'finalize-audit': {
      or: null,
      past: 'this release cannot audit a book this size in one run (README, Scale plan)',
    },
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
