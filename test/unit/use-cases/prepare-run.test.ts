import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDeps } from '../../../shared/adapters/local-deps.ts';
import { loadSecretsConfig, RuntimeConfigSchema } from '../../../shared/config.ts';
import { encodePreviousIndex, PreviousTape } from '../../../shared/domain/engine/previous-tape.ts';
import { SCORE_FILE_VERSION } from '../../../shared/domain/store/score-file.ts';
import { VALIDATION_RULES_VERSION } from '../../../shared/domain/tape/row-validator.ts';
import { PlanMemoryError } from '../../../shared/errors.ts';
import type { TapePart, TapeSource } from '../../../shared/ports/tape-source.ts';
import { KEYS } from '../../../shared/schema/tables.ts';
import type { AuditDeps } from '../../../shared/use-cases/deps.ts';
import {
  configuredMemory,
  mappingFingerprint,
  planSize,
  prepareRun,
  runningSummary,
} from '../../../shared/use-cases/prepare-run.ts';
import { recordFailure } from '../../../shared/use-cases/record-failure.ts';
import { runIdFor, type ShardSpec } from '../../../shared/use-cases/workflow-types.ts';

const DATE = '2026-11-25';
const PREVIOUS = '2026-11-24';
const MiB = 2 ** 20;
const execution = { name: '2026-11-25-schedule-mh3k2x1p', startTime: '2026-11-25T22:00:07.412Z' };
const HEADER =
  'snapshot_date,loan_id,borrower_id,borrower_type,product,principal,outstanding_principal,annual_rate,term_months,origination_date,maturity_date,days_past_due,currency,region,industry,merchant_id,borrower_age,annual_income,monthly_debt_payments,other_lenders_count,credit_score,is_student,own_funding_share,loan_purpose,partner_id,related_party_group,reported_classification';
const ROW =
  '2026-11-25,L000000001,P00007543,individual,credit_loan,21146.64,7048.88,0.0724,12,2026-03-30,2027-03-30,0,CNY,Tianjin,gig_worker,,,105733.22,1711.4,2,565,false,1,consumption,,,normal';

/**
 * Tapes listed at the sizes given, each part reading as a header and one row: prepare reads only
 * a tape's first rows (its currency) before the lease, so the sizes alone make the plan.
 */
class ListedTapes implements TapeSource {
  public constructor(private readonly parts: Record<string, TapePart[]>) {}
  public async listParts(snapshotDate: string): Promise<TapePart[]> {
    return this.parts[snapshotDate] ?? [];
  }
  public async open(): Promise<AsyncIterable<Uint8Array>> {
    const text = Buffer.from(`${HEADER}\n${ROW}\n`);
    return (async function* () {
      yield text;
    })();
  }
}

const part = (date: string, name: string, bytes: number): TapePart => ({
  key: `${KEYS.tapePrefix(date)}${name}`,
  bytes,
  lastModified: new Date(`${date}T21:58:03.000Z`),
});

let root: string;
let mails: string[];

/** Local ports over a scratch folder, the tapes listed as given, the functions' memory as given. */
function depsWith(tapes: Record<string, TapePart[]>, memory: Record<string, string>): AuditDeps {
  const deps = createLocalDeps({
    root,
    tapes: {},
    config: RuntimeConfigSchema.parse({
      BUCKET_NAME: 'local',
      TABLE_NAME: 'local',
      REPORT_RECIPIENTS: 'risk-team@bank.example',
      TIMEZONE: 'UTC',
      ...memory,
    }),
    secrets: loadSecretsConfig({ SECRET_SOURCE: 'environment' }),
  });
  return {
    ...deps,
    tapes: new ListedTapes(tapes),
    mailer: {
      sendRaw: async (eml) => {
        mails.push(Buffer.from(eml).toString('utf8'));
        return { messageId: `m-${mails.length}` };
      },
    },
    now: () => new Date('2026-11-25T22:00:09.000Z'),
  };
}

const DEPLOYED = {
  SHARD_MEMORY_MB: '1769',
  MERGE_AUDIT_MEMORY_MB: '3008',
  MERGE_SCORES_MEMORY_MB: '1769',
  FINALIZE_MEMORY_MB: '1024',
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'risk-audit-prepare-'));
  mails = [];
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Function: configuredMemory', () => {
  it("reads each planned step's memory from the environment, and none when unset (local runs)", () => {
    const config = RuntimeConfigSchema.parse({ BUCKET_NAME: 'b', TABLE_NAME: 't', ...DEPLOYED });
    expect(configuredMemory(config)).toEqual({
      'score-shard': 1769,
      'merge-audit': 3008,
      'merge-scores': 1769,
      'finalize-audit': 1024,
    });
    expect(configuredMemory(RuntimeConfigSchema.parse({ BUCKET_NAME: 'b', TABLE_NAME: 't' }))).toEqual({});
  });

  it('refuses a memory Lambda cannot have', () => {
    expect(
      RuntimeConfigSchema.safeParse({ BUCKET_NAME: 'b', TABLE_NAME: 't', SHARD_MEMORY_MB: '20000' }).success,
    ).toBe(false);
  });
});

describe('Function: planSize', () => {
  const shard = (over: Partial<ShardSpec>): ShardSpec => ({
    runId: 'r',
    snapshotDate: DATE,
    previousSnapshotDate: PREVIOUS,
    index: 0,
    scoreBuckets: 1,
    partKey: `${KEYS.tapePrefix(DATE)}a.csv`,
    partBytes: 300 * MiB,
    ...over,
  });

  it("takes the largest shard, a gzip part as four times its bytes, and the lender's own row width", () => {
    const size = planSize({
      shards: [
        shard({ range: { start: 0, end: 100 * MiB } }),
        shard({ index: 1, range: { start: 100 * MiB, end: 200 * MiB } }),
        // 40 MiB gzipped: about 160 MiB of rows, one shard (it cannot be split).
        shard({ index: 2, partKey: `${KEYS.tapePrefix(DATE)}b.csv.gz`, partBytes: 40 * MiB }),
      ],
      wholeParts: false,
      parts: [part(DATE, 'a.csv', 200 * MiB), part(DATE, 'b.csv.gz', 40 * MiB)],
      previousParts: [part(PREVIOUS, 'a.csv', 300_000_000)],
      previousRun: { rowsRead: 1_500_000, loanCount: 1_480_000 },
      scoreBuckets: 1,
    });
    // 200 MiB + 4 x 40 MiB = 360 MiB = 377,487,360 bytes at 300,000,000 / 1,500,000 = 200 bytes a row.
    expect(size).toEqual({
      largestShardBytes: 160 * MiB,
      largestShardWhole: true,
      loans: 1_887_437,
      previousLoans: 1_480_000,
      scoreBuckets: 1,
    });
  });

  it('estimates at 160 bytes a row with no previous run, and counts no index with no previous tape', () => {
    const size = planSize({
      shards: [shard({ range: { start: 0, end: 64 * MiB } })],
      wholeParts: false,
      parts: [part(DATE, 'a.csv', 64 * MiB)],
      previousParts: [],
      previousRun: null,
      scoreBuckets: 1,
    });
    // 67,108,864 / 160 = 419,430.4.
    expect(size).toMatchObject({ largestShardWhole: false, loans: 419_431, previousLoans: 0 });
  });
});

describe('Function: prepareRun', () => {
  const event = { start: { snapshotDate: DATE, trigger: 'on-demand' as const }, execution };
  const runId = runIdFor(DATE, execution);
  /** The previous date's finished run: its rows measure the lender's bytes a row. */
  const previousRun = (loans: number) => ({
    ...runningSummary(PREVIOUS, 'r-prev', 'schedule', new Date('2026-11-24T22:00:00Z')),
    status: 'ok' as const,
    rowsRead: loans,
    loanCount: loans,
  });

  it('plans a 10M-loan book the deployed functions hold, and takes the lease', async () => {
    const deps = depsWith(
      {
        [DATE]: [part(DATE, 'loans.csv', 1_869_421_391)],
        [PREVIOUS]: [part(PREVIOUS, 'loans.csv', 1_865_321_942)],
      },
      DEPLOYED,
    );
    await deps.store.recordRun(previousRun(10_000_000));
    const plan = await prepareRun(event, deps);
    // 1,869,421,391 bytes in ceil(13.93) = 14 shards of 133,530,100; 2 buckets of 1 GiB.
    expect(plan).toMatchObject({ runId, shardCount: 14, scoreBuckets: 2 });
    expect((await deps.store.getRun(DATE))?.status).toBe('running');
    await expect(deps.store.acquireLease(DATE, 'another-run', 60)).rejects.toThrow(/already running/);
  });

  it('refuses before the lease a plan whose shard would need more than the function has', async () => {
    // 30M loans: the index is 2^26 slots (536.87 MB), downloaded twice over: 200 + 1,073.74 MB.
    const deps = depsWith(
      {
        [DATE]: [part(DATE, 'loans.csv', 5_595_965_826)],
        [PREVIOUS]: [part(PREVIOUS, 'loans.csv', 5_595_965_826)],
      },
      { SHARD_MEMORY_MB: '1024' },
    );
    await deps.store.recordRun(previousRun(30_000_000));
    const sentence =
      "the run's score-shard step would need about 1,274 MB for a shard of 127 MiB of tape with the previous date's drift index of 30,000,000 loans, more than the 1,024 MB it is configured with: raise shardMemoryMb to at least 1274";
    const refused = prepareRun(event, deps);
    await expect(refused).rejects.toThrow(PlanMemoryError);
    await expect(refused).rejects.toThrow(sentence);
    // No lease, no run record: another run of the date may start at once.
    expect(await deps.store.getRun(DATE)).toBeNull();
    await expect(deps.store.acquireLease(DATE, 'another-run', 60)).resolves.toBeUndefined();

    // The workflow's Catch hands the error to the failure step, as for every refusal of prepare.
    const error = (await refused.catch((e: unknown) => e)) as Error;
    const outcome = await recordFailure(
      {
        snapshotDate: DATE,
        trigger: 'on-demand',
        execution,
        error: {
          Error: error.name,
          Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }),
        },
      },
      deps,
    );
    expect(outcome).toEqual({ reason: sentence, notified: true, recorded: true });
    expect(await deps.store.getRun(DATE)).toMatchObject({ runId, status: 'failed', error: sentence });
    const audit = JSON.parse(await readFile(join(root, 'artifacts', KEYS.audit(DATE)), 'utf8'));
    expect(audit).toMatchObject({ status: 'failed', error: sentence });
    expect(mails).toHaveLength(1);
    // The notice's text part carries the sentence (quoted-printable may wrap it: compare unwrapped).
    expect(mails[0]!.replace(/=\r?\n/g, '')).toContain('raise shardMemoryMb to at least 1274');
  });

  it("plans that same 30M-loan book when the buckets count drift from the previous date's score files, and no shard loads the index", async () => {
    // Prepare: the previous date's run left its index (with its description naming the run) and
    // its score files (the manifest naming the same run), on a tape unchanged since.
    const deps = depsWith(
      {
        [DATE]: [part(DATE, 'loans.csv', 5_595_965_826)],
        [PREVIOUS]: [part(PREVIOUS, 'loans.csv', 5_595_965_826)],
      },
      { SHARD_MEMORY_MB: '1024' },
    );
    await deps.store.recordRun(previousRun(30_000_000));
    const info = (runId: string) => ({
      parts: [
        {
          key: part(PREVIOUS, 'loans.csv', 0).key,
          bytes: 5_595_965_826,
          lastModified: '2026-11-24T21:58:03.000Z',
        },
      ],
      mapping: mappingFingerprint(undefined),
      rules: VALIDATION_RULES_VERSION,
      runId,
    });
    await deps.artifacts.put(
      KEYS.carriedIndexInfo(PREVIOUS),
      JSON.stringify(info('r-prev')),
      'application/json',
    );
    await deps.artifacts.put(
      KEYS.carriedIndex(PREVIOUS),
      encodePreviousIndex(new PreviousTape(PREVIOUS), { intake: {} }),
      'application/octet-stream',
    );
    const manifest = { runId: 'r-prev', buckets: 8, loans: 30_000_000, format: SCORE_FILE_VERSION };
    await deps.artifacts.put(KEYS.scoresManifest(PREVIOUS), JSON.stringify(manifest), 'application/json');

    // Act
    const plan = await prepareRun(event, deps);

    // Assess: a 127 MiB shard alone needs 200 + 2.4 x 127.07 = 505 MB; every shard is told not
    // to load the index, which prepare still copies (merge-audit reads its header).
    expect(plan.driftFromScores).toEqual({ runId: 'r-prev', buckets: 8, loans: 30_000_000 });
    const shards = JSON.parse(await readFile(join(root, 'artifacts', plan.shardsKey), 'utf8')) as ShardSpec[];
    expect(shards).toHaveLength(42);
    expect(shards.every((s) => s.driftInBuckets === true)).toBe(true);
    expect(await deps.artifacts.get(KEYS.previousIndex(DATE, plan.runId))).not.toBeNull();
  });

  it("leaves drift to the shards when the score files are another run's than the index", async () => {
    const deps = depsWith(
      {
        [DATE]: [part(DATE, 'loans.csv', 1_000_000)],
        [PREVIOUS]: [part(PREVIOUS, 'loans.csv', 1_000_000)],
      },
      {},
    );
    const info = {
      parts: [
        {
          key: part(PREVIOUS, 'loans.csv', 0).key,
          bytes: 1_000_000,
          lastModified: '2026-11-24T21:58:03.000Z',
        },
      ],
      mapping: mappingFingerprint(undefined),
      rules: VALIDATION_RULES_VERSION,
      runId: 'r-prev',
    };
    await deps.artifacts.put(KEYS.carriedIndexInfo(PREVIOUS), JSON.stringify(info), 'application/json');
    await deps.artifacts.put(
      KEYS.carriedIndex(PREVIOUS),
      encodePreviousIndex(new PreviousTape(PREVIOUS), { intake: {} }),
      'application/octet-stream',
    );
    for (const [runId, format, expected] of [
      ['r-later', SCORE_FILE_VERSION, undefined],
      ['r-prev', SCORE_FILE_VERSION - 1, undefined],
      ['r-prev', SCORE_FILE_VERSION, { runId: 'r-prev', buckets: 1, loans: 5 }],
    ] as const) {
      const manifest = { runId, buckets: 1, loans: 5, format };
      await deps.artifacts.put(KEYS.scoresManifest(PREVIOUS), JSON.stringify(manifest), 'application/json');
      const plan = await prepareRun(
        { ...event, execution: { ...execution, name: `${execution.name}-${runId}-${format}` } },
        deps,
      );
      expect(plan.driftFromScores).toEqual(expected);
      const shards = JSON.parse(
        await readFile(join(root, 'artifacts', plan.shardsKey), 'utf8'),
      ) as ShardSpec[];
      expect(shards[0]!.driftInBuckets).toBe(expected === undefined ? undefined : true);
      await deps.store.releaseLease(DATE, plan.runId);
    }
  });

  it('checks nothing when no memory is configured (a local run)', async () => {
    const deps = depsWith({ [DATE]: [part(DATE, 'loans.csv', 5_595_965_826)] }, {});
    const plan = await prepareRun(event, deps);
    // 5,595,965,826 bytes: 42 shards of 133,237,282; 8 buckets (5.2 GiB, rounded up to a power of two).
    expect(plan).toMatchObject({ shardCount: 42, scoreBuckets: 8 });
  });
});
