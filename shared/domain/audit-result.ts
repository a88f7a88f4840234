/**
 * The `audit.json` contract of docs/contracts/audit-result.md as TypeScript types. Field names
 * are a contract read by the email, the run record and downstream tools: never rename them.
 */

export const DPD_BUCKETS = ['0', '1-30', '31-60', '61-90', '91-180', '181-360', '361+'] as const;
export type DpdBucket = (typeof DPD_BUCKETS)[number];

export const CLASSIFICATIONS = ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const IFRS9_STAGES = ['1', '2', '3'] as const;
export type Ifrs9Stage = (typeof IFRS9_STAGES)[number];

export const MATURITY_BANDS = ['overdue', '0-7', '8-30', '31-90', '91-365', '366+'] as const;
export type MaturityBand = (typeof MATURITY_BANDS)[number];

export const CREDIT_SCORE_BANDS = [
  'missing',
  '<550',
  '550-599',
  '600-649',
  '650-699',
  '700-749',
  '750+',
] as const;
export type CreditScoreBand = (typeof CREDIT_SCORE_BANDS)[number];

export const RISK_CATEGORIES = [
  'credit',
  'regulatory',
  'concentration',
  'vulnerability',
  'technical',
  'liquidity',
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

export type Rating = 'green' | 'amber' | 'red';
export type AuditStatus = 'ok' | 'partial' | 'failed';
/** Finding severities, most severe first: the order findings are listed in. */
export const FINDING_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];
/** Each severity's place in FINDING_SEVERITIES (0 for critical), for sorting. */
export const SEVERITY_RANK: Readonly<Record<FindingSeverity, number>> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  info: 4,
};

export interface CountOutstanding {
  count: number;
  outstanding: number;
}

export interface LoansOutstanding {
  loans: number;
  outstanding: number;
}

export interface AuditInput {
  rowsRead: number;
  rowsValid: number;
  rowsQuarantined: number;
  quarantineByCode: Record<string, number>;
  /** sha256 of the tape; for a multi-part tape, of the parts' digests in key order. */
  sha256: string;
  /** Added beyond the spec: each part file with its own digest and row count. */
  parts?: { key: string; sha256: string; bytes: number; rowsRead: number }[];
  unknownColumns?: string[];
  /** Added beyond the spec: rows the column mapping's `where` left out (not read, so not in rowsRead). */
  rowsFiltered?: number;
  /** Added beyond the spec: rows of a panel that are not their loan's latest (mapping `latest`; not in rowsRead). */
  rowsSuperseded?: number;
}

export interface PortfolioSection {
  /** The tape's ISO 4217 currency: every amount of the audit is in it. */
  currency: string;
  loanCount: number;
  borrowerCount: number;
  totalPrincipal: number;
  totalOutstanding: number;
  weightedAverageRate: number | null;
  dpdBuckets: Record<DpdBucket, CountOutstanding>;
  classification: Record<Classification, CountOutstanding>;
  nplRatio: number | null;
  ifrs9Stages: Record<Ifrs9Stage, CountOutstanding>;
  expectedLoss: number;
  maturityLadder: Record<MaturityBand, number>;
}

export interface TopBorrower {
  borrowerRef: string;
  exposure: number;
  share: number;
  loanCount: number;
}

export interface SegmentShare {
  count: number;
  outstanding: number;
  share: number;
}

export interface ConcentrationSection {
  borrowerHhi: number | null;
  top10BorrowerShare: number | null;
  largestBorrowerShare: number | null;
  topBorrowers: TopBorrower[];
  byIndustry: Record<string, SegmentShare>;
  byRegion: Record<string, SegmentShare>;
  byProduct: Record<string, SegmentShare>;
  industryHhi: number | null;
  regionHhi: number | null;
}

/** A rule's status on a tape (audit-result.md, compliance). */
export type ComplianceRuleStatus = 'in_force' | 'not_in_force' | 'not_applicable';

/** Where a rule comes from, as the rule pack cites it (`number` null where no public number exists). */
export interface ComplianceSource {
  title: string;
  number: string | null;
  issuer: string;
  issued: string | null;
  effective: string | null;
  binding: 'law' | 'regulation' | 'normative_document' | 'supervisory_guidance' | 'draft' | 'internal';
  note: string | null;
}

export interface ComplianceRuleResult {
  status: ComplianceRuleStatus;
  /** The severity in force on snapshotDate. */
  severity: 'breach' | 'watch';
  loans: number;
  borrowers: number;
  outstanding: number;
  /** Why the rule is off, in one sentence (null when in force). */
  reason: string | null;
  /** Added beyond the spec: what the rule is, from the pack. */
  kind: string;
  description: string;
  /** The threshold in words (e.g. "annualRate > 0.36"). */
  threshold: string;
  effectiveDate: string;
  source: ComplianceSource;
}

export interface ComplianceSection {
  /** One entry for every rule of the pack, keyed by code. */
  rules: Record<string, ComplianceRuleResult>;
  /** Distinct loans hit by at least one in-force breach rule (loan, borrower, group, partner or portfolio level). */
  loansInBreach: number;
  /** In-force breach rules with loans > 0. */
  rulesBreached: number;
  /** Added beyond the spec: the pack and the lender it audits. */
  pack: { name: string; version: string; licence: string; currency: string };
}

export interface VulnerabilitySection {
  flags: Record<string, LoansOutstanding>;
  anyFlag: LoansOutstanding;
}

export interface DriftSection {
  psi: { creditScore: number; product: number; dpdBucket: number } | null;
  rollRates: Record<string, Record<string, number>> | null;
  newLoans: number | null;
}

export interface DataQualitySection {
  rowsRead: number;
  rowsQuarantined: number;
  quarantineRate: number;
  duplicateLoanIds: number;
  missingRate: Record<string, number>;
  rowCountChange: number | null;
}

export type RatingsSection = Record<RiskCategory | 'overall', Rating>;

export interface Finding {
  category: RiskCategory;
  severity: FindingSeverity;
  code: string;
  message: string;
  value: number | string | null;
  threshold: number | string | null;
  /** Added beyond the spec: where the rule or threshold comes from (policy source). */
  source?: string;
}

export interface AuditResult {
  schemaVersion: 1;
  snapshotDate: string;
  previousSnapshotDate: string | null;
  status: AuditStatus;
  /** Added beyond the spec: one readable sentence when status is failed. */
  error?: string;
  input: AuditInput;
  portfolio: PortfolioSection;
  concentration: ConcentrationSection;
  compliance: ComplianceSection;
  vulnerability: VulnerabilitySection;
  drift: DriftSection;
  dataQuality: DataQualitySection;
  ratings: RatingsSection;
  findings: Finding[];
}

/**
 * The audit.json of a run that failed (tape missing, unreadable, engine error): the one readable
 * sentence and no metric sections, so that nothing partial is ever read as a complete audit.
 */
export interface FailedAudit {
  schemaVersion: 1;
  snapshotDate: string | null;
  previousSnapshotDate: string | null;
  status: 'failed';
  error: string;
  /** When the run failed (ISO timestamp). */
  failedAt: string;
  runId?: string;
}

/** What an audit.json holds: a finished audit, or the record of a failed run. */
export type AuditDocument = AuditResult | FailedAudit;

/** Builds the audit.json of a failed run. */
export function failedAudit(input: {
  snapshotDate: string | null;
  previousSnapshotDate?: string | null;
  error: string;
  failedAt: Date;
  runId?: string;
}): FailedAudit {
  return {
    schemaVersion: 1,
    snapshotDate: input.snapshotDate,
    previousSnapshotDate: input.previousSnapshotDate ?? null,
    status: 'failed',
    error: input.error,
    failedAt: input.failedAt.toISOString(),
    ...(input.runId === undefined ? {} : { runId: input.runId }),
  };
}
