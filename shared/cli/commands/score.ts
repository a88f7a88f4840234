import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadMapping, loadPolicy } from '../../adapters/config-files.ts';
import { localTapeParts } from '../../adapters/tape/local-tape-source.ts';
import { type AuditDocument, failedAudit } from '../../domain/audit-result.ts';
import { QUARANTINE_CSV_HEADER } from '../../domain/tape/quarantine-csv.ts';
import { checkTape } from '../../domain/tape/tape-checks.ts';
import { toSentence } from '../../errors.ts';
import { auditShard, finalizeShards, loadPreviousTape, mergeShards } from '../../use-cases/audit-engine.ts';
import { printHeadline } from '../output.ts';

export interface ScoreOptions {
  snapshot: string;
  previous?: string;
  mapping?: string;
  policy?: string;
  out: string;
  borrowerRefKey?: string;
}

/** Audits local tape files with no AWS at all; returns the audit document it wrote. */
export async function scoreLocal(options: ScoreOptions): Promise<AuditDocument> {
  await mkdir(options.out, { recursive: true });
  const auditPath = join(options.out, 'audit.json');
  const quarantinePath = join(options.out, 'quarantine.csv');
  try {
    const [policy, mapping] = await Promise.all([loadPolicy(options.policy), loadMapping(options.mapping)]);
    const prev = options.previous
      ? await loadPreviousTape(await localTapeParts(options.previous), { mapping })
      : null;
    const parts = await localTapeParts(options.snapshot);
    const shard = await auditShard(parts, {
      mapping,
      policy,
      previous: prev?.previous ?? null,
    });
    const merged = mergeShards([shard]);
    const snapshotDate = merged.intake.snapshotDate ?? 'unknown';
    const tapeFindings = checkTape(
      {
        snapshotDate,
        // Local files carry no arrival time worth judging: the cutoff check is the pipeline's.
        parts: parts.map((p) => ({ key: p.key, bytes: p.bytes ?? 0, lastModified: null })),
        stats: merged.intake,
        previous: prev ? { columns: prev.intake.columns, rowsValid: prev.intake.rowsValid } : null,
      },
      { cutoff: '23:59', timeZone: 'UTC' },
    );
    const audit = finalizeShards(merged, {
      snapshotDate,
      previousSnapshotDate: prev?.intake.snapshotDate ?? null,
      previousIntake: prev?.intake ?? null,
      policy,
      borrowerRefKey: options.borrowerRefKey ?? process.env.BORROWER_REF_KEY ?? 'risk-audit-local-key',
      tapeFindings,
    });
    await writeFile(quarantinePath, [QUARANTINE_CSV_HEADER, ...shard.quarantineLines, ''].join('\n'));
    await writeFile(auditPath, `${JSON.stringify(audit, null, 2)}\n`);
    return audit;
  } catch (error) {
    const failed = failedAudit({ snapshotDate: null, error: toSentence(error), failedAt: new Date() });
    await writeFile(auditPath, `${JSON.stringify(failed, null, 2)}\n`);
    await writeFile(quarantinePath, `${QUARANTINE_CSV_HEADER}\n`);
    return failed;
  }
}

/** `risk-audit score`: the engine alone on local files. */
export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      'Audit local tape files with the engine alone (no AWS): writes DIR/audit.json and DIR/quarantine.csv',
    )
    .requiredOption(
      '--snapshot <file>',
      "the day's tape: a CSV, JSON Lines or Parquet file (optionally .gz), or a folder of parts",
    )
    .option('--previous <file>', "the previous day's tape, for drift and roll rates")
    .option('--mapping <file>', "a column mapping (YAML or JSON) for a lender's own export")
    .option('--policy <file>', 'a rule pack or risk appetite replacing the default one of its kind')
    .option('--out <dir>', 'output folder', 'out')
    .action(async (opts: ScoreOptions) => {
      const audit = await scoreLocal(opts);
      if (audit.status === 'failed') {
        process.stderr.write(`risk-audit: ${audit.error}\n`);
        process.exitCode = 1;
        return;
      }
      printHeadline(audit, { auditPath: join(opts.out, 'audit.json') });
    });
}
