import { TapeRejectedError } from '../../errors.ts';
import type { AuditResult, Finding } from '../audit-result.ts';
import type { Policy } from '../policy/policy.ts';
import { mergeIntakeStats } from '../tape/intake.ts';
import type { TapeScanResult } from '../tape/scan.ts';
import {
  checkTape,
  everyRowQuarantinedProblem,
  runDateProblem,
  TAPE_FINDING_CODES,
  type TapeCheckInput,
  type TapeCheckSettings,
} from '../tape/tape-checks.ts';
import { mergePartialList, type PartialAudit } from './accumulator.ts';
import { type AuditBeforeDrift, auditBeforeDrift, completeAudit } from './finalize.ts';

/**
 * Shards merged into the audit of one pass: their partials and intake counts added, the tape
 * refused when it is not the run's to audit, and the tape-level findings.
 */

/** Merges shards' partials and intake counts: the result is exactly the one-pass result. */
export function mergeShards(shards: readonly { partial: PartialAudit; intake: TapeScanResult }[]): {
  partial: PartialAudit;
  intake: TapeScanResult;
} {
  if (shards.length === 0) throw new Error('mergeShards needs at least one shard');
  const partial = mergePartialList(shards.map((s) => s.partial));
  return { partial, intake: mergeScans(shards.map((s) => s.intake)) };
}

/** Adds the intake counts of consecutive shards or ranges of one tape (the first known date wins). */
export function mergeScans(scans: readonly TapeScanResult[]): TapeScanResult {
  if (scans.length === 0) throw new Error('mergeScans needs at least one scan');
  let intake: TapeScanResult = scans[0]!;
  for (let i = 1; i < scans.length; i++) {
    intake = {
      ...mergeIntakeStats(intake, scans[i]!),
      snapshotDate: intake.snapshotDate ?? scans[i]!.snapshotDate,
      currency: intake.currency ?? scans[i]!.currency,
    };
  }
  return intake;
}

/**
 * Refuses a tape that was read but is not the run's to audit: most of its rows dated otherwise,
 * or not one valid row (TapeRejectedError, one sentence). `dateSource` says where the run's date
 * came from ("its S3 partition", "--date", ...).
 */
export function assertTapeAuditable(intake: TapeScanResult, runDate: string, dateSource: string): void {
  const problem = runDateProblem(intake, runDate, dateSource) ?? everyRowQuarantinedProblem(intake);
  if (problem !== null) throw new TapeRejectedError(problem);
}

/** What finalize needs of merged shards besides their partial and intake. */
export interface ShardsFinalizeContext {
  snapshotDate: string;
  /** Where the run's date came from, for the run-date check's sentence. */
  dateSource: string;
  previousSnapshotDate: string | null;
  previousIntake: TapeScanResult | null;
  policy: Policy;
  borrowerRefKey: string;
  tapeFindings: readonly Finding[];
}

/**
 * The audit of merged shards but for drift (completed by `completeAudit` once the loan-id
 * buckets have joined the two dates' scores), with the tape-level findings raised outside the
 * per-row loop.
 */
export function shardsBeforeDrift(
  merged: { partial: PartialAudit; intake: TapeScanResult },
  ctx: ShardsFinalizeContext,
): AuditBeforeDrift {
  assertTapeAuditable(merged.intake, ctx.snapshotDate, ctx.dateSource);
  return auditBeforeDrift(merged.partial, merged.intake, {
    snapshotDate: ctx.snapshotDate,
    previousSnapshotDate: ctx.previousSnapshotDate,
    previousIntake: ctx.previousIntake,
    policy: ctx.policy,
    borrowerRefKey: ctx.borrowerRefKey,
    tapeFindings: ctx.tapeFindings,
  });
}

/** The audit of merged shards, drift from their partials' previous-tape counters. */
export function finalizeShards(
  merged: { partial: PartialAudit; intake: TapeScanResult },
  ctx: ShardsFinalizeContext,
): AuditResult {
  return completeAudit(shardsBeforeDrift(merged, ctx), merged.partial, ctx.policy);
}

/**
 * Folds the per-range entries of parts that were split into byte ranges back into one entry per
 * part, with the whole part's digest (computed separately), so `input.parts` does not depend on
 * how the tape was sharded.
 */
export function combineRangeParts(
  intake: TapeScanResult,
  digests: ReadonlyMap<string, string>,
): TapeScanResult {
  const byKey = new Map<string, TapeScanResult['parts']>();
  for (const p of intake.parts) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  const parts: TapeScanResult['parts'] = [];
  for (const [key, list] of byKey) {
    const digest = digests.get(key);
    if (list.length === 1 && digest === undefined) {
      parts.push(list[0]!);
      continue;
    }
    parts.push({
      key,
      sha256: digest ?? list[0]!.sha256,
      bytes: list.reduce((n, p) => n + p.bytes, 0),
      rowsRead: list.reduce((n, p) => n + p.rowsRead, 0),
    });
  }
  return { ...intake, parts: parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

/**
 * The tape-level (technical) findings of a run. Quarantine and duplicate-id counts are rated by
 * the risk appetite's data-quality thresholds (with their source), so the tape checks' own
 * findings for them are dropped rather than reported twice.
 */
export function tapeLevelFindings(input: TapeCheckInput, settings: TapeCheckSettings): Finding[] {
  const rated = new Set<string>([TAPE_FINDING_CODES.ROWS_QUARANTINED, TAPE_FINDING_CODES.DUPLICATE_LOAN_IDS]);
  return checkTape(input, settings).filter((f) => !rated.has(f.code));
}
