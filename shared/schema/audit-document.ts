/**
 * The `audit.json` contract (docs/contracts/audit-result.md, the types of
 * shared/domain/audit-result.ts) as a schema, for what is read back: the report step reads the
 * date's audit and the previous date's. Objects keep fields this release does not know (a later
 * release may add some); the contract's fields must be there with their types, and the fields it
 * adds beyond the contract (marked "added" in the types) may be missing from the audits of
 * releases that did not write them yet.
 */
import { z } from 'zod';
import {
  type AuditDocument,
  type AuditResult,
  CLASSIFICATIONS,
  DPD_BUCKETS,
  IFRS9_STAGES,
  MATURITY_BANDS,
  RISK_CATEGORIES,
} from '../domain/audit-result.ts';
import { BINDING_KINDS } from '../domain/policy/policy.ts';
import { dataRecord } from './data-record.ts';

const amount = z.number();
const share = z.number().nullable();
const count = z.number().int().nonnegative();

/** A record with every key of a closed set (the contract's buckets, classifications, stages). */
function everyKey<const K extends readonly [string, ...string[]], V extends z.ZodType>(keys: K, value: V) {
  return z.record(z.enum(keys), value);
}

const CountOutstandingSchema = z.looseObject({ count, outstanding: amount });
const LoansOutstandingSchema = z.looseObject({ loans: count, outstanding: amount });
const SegmentShareSchema = z.looseObject({ count, outstanding: amount, share: z.number() });
const RatingSchema = z.enum(['green', 'amber', 'red']);

export const FindingSchema = z.looseObject({
  category: z.enum(RISK_CATEGORIES),
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
  code: z.string(),
  message: z.string(),
  value: z.union([z.number(), z.string()]).nullable(),
  threshold: z.union([z.number(), z.string()]).nullable(),
  source: z.string().optional(),
});

const ComplianceRuleResultSchema = z.looseObject({
  status: z.enum(['in_force', 'not_in_force', 'not_applicable']),
  severity: z.enum(['breach', 'watch']),
  loans: count,
  borrowers: count,
  outstanding: amount,
  reason: z.string().nullable(),
  kind: z.string().optional(),
  description: z.string().optional(),
  threshold: z.string().optional(),
  effectiveDate: z.string().optional(),
  source: z
    .looseObject({
      title: z.string(),
      number: z.string().nullable(),
      issuer: z.string(),
      issued: z.string().nullable(),
      effective: z.string().nullable(),
      binding: z.enum(BINDING_KINDS),
      note: z.string().nullable(),
    })
    .optional(),
});

const FinishedAuditSchema = z.looseObject({
  schemaVersion: z.literal(1),
  snapshotDate: z.string(),
  previousSnapshotDate: z.string().nullable(),
  status: z.enum(['ok', 'partial']),
  error: z.string().optional(),
  input: z.looseObject({
    rowsRead: count,
    rowsValid: count,
    rowsQuarantined: count,
    quarantineByCode: z.record(z.string(), count),
    sha256: z.string(),
    parts: z
      .array(z.looseObject({ key: z.string(), sha256: z.string(), bytes: count, rowsRead: count }))
      .optional(),
    unknownColumns: z.array(z.string()).optional(),
    rowsFiltered: count.optional(),
    rowsSuperseded: count.optional(),
  }),
  portfolio: z.looseObject({
    currency: z.string(),
    loanCount: count,
    borrowerCount: count,
    totalPrincipal: amount,
    totalOutstanding: amount,
    weightedAverageRate: share,
    dpdBuckets: everyKey(DPD_BUCKETS, CountOutstandingSchema),
    classification: everyKey(CLASSIFICATIONS, CountOutstandingSchema),
    nplRatio: share,
    ifrs9Stages: everyKey(IFRS9_STAGES, CountOutstandingSchema),
    expectedLoss: amount,
    maturityLadder: everyKey(MATURITY_BANDS, amount),
  }),
  concentration: z.looseObject({
    borrowerHhi: share,
    top10BorrowerShare: share,
    largestBorrowerShare: share,
    topBorrowers: z.array(
      z.looseObject({ borrowerRef: z.string(), exposure: amount, share: z.number(), loanCount: count }),
    ),
    // The tape's names, kept as given (a region named __proto__ included).
    byIndustry: dataRecord(SegmentShareSchema),
    byRegion: dataRecord(SegmentShareSchema),
    byProduct: z.record(z.string(), SegmentShareSchema),
    industryHhi: share,
    regionHhi: share,
  }),
  compliance: z.looseObject({
    rules: z.record(z.string(), ComplianceRuleResultSchema),
    loansInBreach: count,
    rulesBreached: count,
    pack: z
      .looseObject({ name: z.string(), version: z.string(), licence: z.string(), currency: z.string() })
      .optional(),
  }),
  vulnerability: z.looseObject({
    flags: z.record(z.string(), LoansOutstandingSchema),
    anyFlag: LoansOutstandingSchema,
  }),
  drift: z.looseObject({
    psi: z.looseObject({ creditScore: z.number(), product: z.number(), dpdBucket: z.number() }).nullable(),
    rollRates: z.record(z.string(), z.record(z.string(), z.number())).nullable(),
    newLoans: count.nullable(),
  }),
  dataQuality: z.looseObject({
    rowsRead: count,
    rowsQuarantined: count,
    quarantineRate: z.number(),
    duplicateLoanIds: count,
    missingRate: z.record(z.string(), z.number()),
    rowCountChange: z.number().nullable(),
  }),
  ratings: everyKey([...RISK_CATEGORIES, 'overall'], RatingSchema),
  findings: z.array(FindingSchema),
});

const FailedAuditSchema = z.looseObject({
  schemaVersion: z.literal(1),
  snapshotDate: z.string().nullable(),
  previousSnapshotDate: z.string().nullable(),
  status: z.literal('failed'),
  error: z.string(),
  failedAt: z.string(),
  runId: z.string().optional(),
});

/** A finished audit (audit.json, or the merge step's draft of it), typed as the contract's AuditResult. */
export const AuditResultSchema: z.ZodType<AuditResult, unknown> = FinishedAuditSchema.transform(
  (audit) => audit as AuditResult,
);

/**
 * A finished audit but for its drift section, ratings and findings (what merge-audit stores when
 * the loan-id buckets count drift, AuditBeforeDrift's sections), typed as the contract's.
 */
export const AuditSectionsSchema: z.ZodType<
  Omit<AuditResult, 'drift' | 'ratings' | 'findings'>,
  unknown
> = FinishedAuditSchema.omit({ drift: true, ratings: true, findings: true }).transform(
  (audit) => audit as Omit<AuditResult, 'drift' | 'ratings' | 'findings'>,
);

/**
 * An audit.json: a finished audit or the record of a failed run, told apart by `status`. The
 * parsed value is the document as written (unknown fields kept), typed as the contract's types.
 */
export const AuditDocumentSchema: z.ZodType<AuditDocument, unknown> = z
  .discriminatedUnion('status', [FinishedAuditSchema, FailedAuditSchema])
  .transform((document) => document as AuditDocument);
