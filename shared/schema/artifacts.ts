/**
 * Schemas of the JSON artifacts the steps write to the data bucket and read back (KEYS names
 * where each lies): what is read back is checked like an event, never cast.
 */
import { z } from 'zod';
import { CLASSIFICATIONS, CREDIT_SCORE_BANDS, DPD_BUCKETS, IFRS9_STAGES } from '../domain/audit-result.ts';
import type { PartialAudit } from '../domain/engine/accumulator.ts';
import type { BorrowerHits } from '../domain/engine/compliance.ts';
import type { BucketDrift } from '../domain/engine/drift-counts.ts';
import type { AuditBeforeDrift } from '../domain/engine/finalize.ts';
import { GRADES } from '../domain/engine/scorecard.ts';
import { LOAN_PURPOSES } from '../domain/loan.ts';
import type { ScoredLoan } from '../domain/store/score-file.ts';
import type { TapeScanResult } from '../domain/tape/scan.ts';
import type { BreachEntry } from '../ports/risk-store.ts';
import { AuditSectionsSchema, FindingSchema } from './audit-document.ts';
import { dataRecord } from './data-record.ts';

/** The tape's parts as a run lists them (kept in S3 beside the run: KEYS.runParts). */
export const PlannedPartSchema = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  lastModified: z.string().nullable(),
});
export const PlannedPartsSchema = z.array(PlannedPartSchema);
export type PlannedPart = z.infer<typeof PlannedPartSchema>;

/** What a date's carried drift index was built from (KEYS.carriedIndexInfo). */
export const CarriedIndexInfoSchema = z.object({
  /** The tape's parts as that run listed them. */
  parts: PlannedPartsSchema,
  /** `mappingFingerprint` of the column mapping that read them. */
  mapping: z.string(),
  /** VALIDATION_RULES_VERSION of the release that validated them (absent: version 1). */
  rules: z.number().int().positive().optional(),
  /**
   * The run that wrote the index: when the date's score manifest names the same run, its score
   * files hold exactly the index's loans, and the next date's buckets count drift from them.
   */
  runId: z.string().min(1).optional(),
});
export type CarriedIndexInfo = z.infer<typeof CarriedIndexInfoSchema>;

/** Which run's score files are a date's, in how many loan-id buckets (KEYS.scoresManifest, written last by finalize). */
export const ScoreManifestSchema = z.object({
  runId: z.string().min(1),
  buckets: z.number().int().positive(),
  loans: z.number().int().nonnegative(),
  /** The score file format's version its files are written in (SCORE_FILE_VERSION, docs/score-file.md). */
  format: z.number().int().positive(),
});
export type ScoreManifest = z.infer<typeof ScoreManifestSchema>;

const count = z.number().int().nonnegative();
const counts = z.array(count);
const amounts = z.array(z.number());

type Exactly<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * The schema of a domain type, checked at compile time to give exactly that type: a field added to
 * the type and not to its schema (which would drop it on the way back) fails the typecheck.
 */
function schemaOf<T>() {
  return <S extends z.ZodType>(
    schema: S & (Exactly<z.output<S>, T> extends true ? unknown : 'its output is not exactly the type'),
  ): S => schema;
}

/** A shard's intake counts (TapeScanResult), as its partial stores them. */
const TapeScanResultSchema = schemaOf<TapeScanResult>()(
  z.object({
    rowsRead: count,
    rowsValid: count,
    rowsQuarantined: count,
    quarantineByCode: dataRecord(count),
    duplicateLoanIds: count,
    missingCounts: dataRecord(count),
    parts: z.array(z.object({ key: z.string(), sha256: z.string(), bytes: count, rowsRead: count })),
    columns: z.array(z.string()),
    unknownColumns: z.array(z.string()),
    rowsByOtherDate: dataRecord(count).exactOptional(),
    rowsFiltered: count.exactOptional(),
    rowsSuperseded: count.exactOptional(),
    ratesAboveOne: count.exactOptional(),
    pastMaturity: count.exactOptional(),
    snapshotDate: z.string().nullable(),
    currency: z.string().nullable(),
  }),
);

/** Count, whole fen and millionths of one segment value (SegmentCounter). */
const SegmentCounterSchema = z.tuple([count, z.number(), z.number()]);

/** A shard's accumulated audit state (PartialAudit): its tables as base64 (SerializedBorrowers, SerializedPairs). */
const PartialAuditSchema = schemaOf<PartialAudit>()(
  z.object({
    kind: z.literal('risk-audit-partial'),
    version: z.literal(3),
    policyKey: z.string(),
    previous: z
      .object({
        snapshotDate: z.string().nullable(),
        validCount: count,
        dpdCounts: counts,
        creditBandCounts: counts,
        productCounts: counts,
      })
      .nullable(),
    snapshotDate: z.string().nullable(),
    loans: count,
    principalFen: z.number(),
    outstandingFen: z.number(),
    rateFen: amounts,
    expectedLoss: amounts,
    partnerFen: amounts,
    dpdCount: counts,
    dpdFen: amounts,
    classCount: counts,
    classFen: amounts,
    stageCount: counts,
    stageFen: amounts,
    maturityFen: amounts,
    gradeCount: counts,
    creditBandCount: counts,
    productCount: counts,
    productFen: amounts,
    industry: dataRecord(SegmentCounterSchema),
    region: dataRecord(SegmentCounterSchema),
    ruleLoans: counts,
    ruleFen: amounts,
    flagLoans: counts,
    flagFen: amounts,
    anyFlagLoans: count,
    anyFlagFen: z.number(),
    sub: z.object({
      principal: z.number(),
      outstanding: z.number(),
      anyFlag: z.number(),
      dpd: amounts,
      class: amounts,
      stage: amounts,
      maturity: amounts,
      product: amounts,
      rule: amounts,
      flag: amounts,
    }),
    transitions: counts,
    matched: count,
    borrowers: z.object({
      count,
      keys: z.string(),
      amounts: z.string(),
      extCount: count,
      extInts: z.string(),
      extAmounts: z.string(),
    }),
    groups: z.object({ count, slots: z.string() }),
    partners: dataRecord(SegmentCounterSchema),
    partnerBorrowers: z.object({ count, slots: z.string() }),
  }),
);

/** The fields a drift index's header carries beside its table (encodePreviousIndex's extra): its tape's intake counts. */
export const PreviousIndexExtraSchema = z.object({ intake: TapeScanResultSchema });
export type PreviousIndexExtra = z.infer<typeof PreviousIndexExtraSchema>;

/** A shard's output as stored between the map and the merge step (KEYS.partial). */
export const StoredPartialSchema = z.object({
  partial: PartialAuditSchema,
  intake: TapeScanResultSchema,
  /** The shard's quarantined rows (KEYS.partialQuarantine), streamed there while it was read. */
  quarantineKey: z.string().min(1),
  /** The shard's valid loans as drift-index entries (uint32 little-endian triples). */
  indexEntriesKey: z.string().min(1),
  /**
   * Loan ids whose first row in this shard was quarantined, as 16 hex digits of their 64-bit hash
   * (engine/hash.ts `hashKey`): merge-audit finds a later shard's row of such an id (a repeat).
   */
  quarantinedIdHashes: z.array(z.string().regex(/^[0-9a-f]{16}$/)).exactOptional(),
});
export type StoredPartial = z.infer<typeof StoredPartialSchema>;

/**
 * What every bucket's merge needs from the merged shards (KEYS.bucketContext): the aggregate
 * rules' hits (a borrower's, a group's or a partner's exposure is known only once every shard is
 * merged) and the codes of the in-force breach rules. Maps are stored as their entries.
 */
export const BucketContextSchema = z.object({
  /** By borrowerKey: codes on all the borrower's loans, on its consumption loans, on its business loans. */
  borrowerHits: z.array(
    z.tuple([
      z.string(),
      schemaOf<BorrowerHits>()(
        z.object({
          all: z.array(z.string()),
          consumption: z.array(z.string()),
          business: z.array(z.string()),
        }),
      ),
    ]),
  ),
  /** By partner_id: codes on the partner's co-lent loans. */
  partnerHits: z.array(z.tuple([z.string(), z.array(z.string())])),
  /** Codes on every co-lent loan (portfolio rules). */
  coLentHits: z.array(z.string()),
  /** In-force rules whose severity on the tape's date is breach. */
  breachCodes: z.array(z.string()),
});
export type BucketContext = z.infer<typeof BucketContextSchema>;

/** A scored loan as a bucket's watchlist keeps it (ScoredLoan). */
/** One loan-id bucket's drift counts (drift-counts.ts). */
const BucketDriftSchema = schemaOf<BucketDrift>()(
  z.object({
    validCount: count,
    dpdCounts: z.array(count),
    creditBandCounts: z.array(count),
    productCounts: z.array(count),
    transitions: z.array(count),
    matched: count,
  }),
);

const ScoredLoanSchema = schemaOf<ScoredLoan>()(
  z.object({
    loanId: z.string(),
    borrowerKey: z.string(),
    product: z.string(),
    region: z.string().nullable(),
    industry: z.string().nullable(),
    loanPurpose: z.enum(LOAN_PURPOSES),
    partnerId: z.string().nullable(),
    coLent: z.boolean(),
    relatedPartyGroup: z.string().nullable(),
    reportedClassification: z.string().nullable(),
    outstanding: z.number(),
    score: z.number(),
    grade: z.enum(GRADES),
    pd: z.number(),
    el: z.number(),
    dpdBucket: z.enum(DPD_BUCKETS),
    classification: z.enum(CLASSIFICATIONS),
    stage: z.enum(IFRS9_STAGES),
    creditBand: z.enum(CREDIT_SCORE_BANDS),
    ruleCodes: z.array(z.string()),
    flags: z.array(z.string()),
    reasons: z.array(z.string()),
  }),
);

/** What one bucket's merge found, stored for finalize (KEYS.bucketResult). */
export const StoredBucketOutcomeSchema = z.object({
  bucket: count,
  /** The bucket's riskiest loans (at most WATCHLIST_LIMIT, in watchlist order). */
  watchlist: z.array(ScoredLoanSchema),
  /** Per breach rule, the bucket's largest exposures (at most WATCHLIST_LIMIT each). */
  breaches: z.array(
    schemaOf<BreachEntry>()(
      z.object({
        ruleCode: z.string(),
        loanId: z.string(),
        borrowerRef: z.string(),
        grade: z.string(),
        outstanding: z.number(),
      }),
    ),
  ),
  scoredLoans: count,
  changes: count,
  /** No previous score file: the bucket's loans are the book's starting state, no history items. */
  baseline: z.boolean(),
  /** The bucket's drift counts from its join with the previous date's scores; null when the shards counted drift. */
  drift: BucketDriftSchema.nullable(),
  timings: z.record(z.string(), z.number()),
});
export type BucketOutcome = z.infer<typeof StoredBucketOutcomeSchema>;

/** The merge step's draft of the audit (KEYS.auditDraft), read back by finalize: audit.json's schema. */
export { AuditResultSchema } from './audit-document.ts';

/**
 * The merge step's draft when the loan-id buckets count drift (KEYS.auditDraft): the audit but
 * for drift, which finalize completes with the buckets' counts.
 */
export const AuditBeforeDriftSchema = z
  .object({
    sections: AuditSectionsSchema,
    today: z.object({
      loans: count,
      creditBandCount: z.array(count),
      productCount: z.array(count),
      dpdCount: z.array(count),
    }),
    figures: z.object({
      breaches: z.object({ rules: count, loans: count, borrowers: count }),
      totalFen: z.number(),
      fen: z.object({
        stage2: z.number(),
        stage3: z.number(),
        watch: z.number(),
        anyFlag: z.number(),
        pastMaturity: z.number(),
        maturing30: z.number(),
        longDated: z.number(),
        partnerFunded: z.number(),
      }),
      flagFen: dataRecord(z.number()),
    }),
    findings: z.array(FindingSchema),
  })
  .transform((draft) => draft as AuditBeforeDrift);
