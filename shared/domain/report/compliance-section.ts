import type { AuditResult, Finding } from '../audit-result.ts';
import { cleanText, formatAmount, formatInteger } from './format.ts';
import { plural } from './summary.ts';
import { complianceCounts } from './trend.ts';
import type { ReportSection } from './types.ts';

/**
 * The full report's compliance section: every rule of the rule pack as audit.json's
 * `compliance.rules` gives it, rendered from the entries themselves (their status, severity,
 * counts, reason and source, whichever they carry), so that new rule kinds and fields need no
 * change here beyond how they are grouped.
 */

/** A rules entry, with the fields a rule pack may add beyond the counts every release writes. */
type RuleEntry = AuditResult['compliance']['rules'][string] & {
  status?: string;
  reason?: string | null;
  source?: unknown;
};

const STATUS_LABELS: Record<string, string> = {
  in_force: 'in force',
  not_in_force: 'not yet in force',
  not_applicable: 'not applicable',
};

function resultOf(rule: RuleEntry): string {
  if (rule.status !== undefined && rule.status !== 'in_force') return '—';
  if (rule.loans === 0) return 'clear';
  return rule.severity === 'breach' ? 'breached' : 'on watch';
}

// Breached first, then rules on watch with loans, then the clear ones, then those not in force.
function rank(rule: RuleEntry): number {
  const result = resultOf(rule);
  return result === 'breached' ? 0 : result === 'on watch' ? 1 : result === 'clear' ? 2 : 3;
}

/** A source as one line: a string as given; an object's text fields (title, number, issuer, ...) joined. */
export function formatRuleSource(source: unknown): string | null {
  if (typeof source === 'string') return cleanText(source, 240);
  if (source === null || typeof source !== 'object') return null;
  const parts = Object.values(source as Record<string, unknown>).filter(
    (v): v is string | number => (typeof v === 'string' && v.length > 0) || typeof v === 'number',
  );
  return parts.length === 0 ? null : cleanText(parts.join(', '), 240);
}

/** Where a rule comes from: its entry's own source, the one given with the report, or its finding's. */
function sourceOfRule(
  code: string,
  rule: RuleEntry,
  findings: readonly Finding[],
  sources: Readonly<Record<string, string>>,
): string {
  const given = sources[code];
  if (given !== undefined) return cleanText(given, 240);
  const own =
    formatRuleSource(rule.source) ?? formatRuleSource(findings.find((f) => f.code === code)?.source);
  return own ?? 'in the rule pack (not named in this audit)';
}

/** The compliance section of the full report: the rules with their status, counts and sources. */
export function complianceSection(
  audit: AuditResult,
  findings: readonly Finding[],
  sources: Readonly<Record<string, string>>,
  rulePack: { name: string; version: string } | null,
  currency: string,
): ReportSection {
  const rules = (Object.entries(audit.compliance.rules) as [string, RuleEntry][]).sort(
    (a, b) => rank(a[1]) - rank(b[1]) || b[1].outstanding - a[1].outstanding || (a[0] < b[0] ? -1 : 1),
  );
  const { rulesBreached, loansInBreach } = complianceCounts(audit);
  const withReason = rules.some(([, r]) => typeof r.reason === 'string' && r.reason.length > 0);
  const pack = rulePack
    ? ` (rule pack ${cleanText(rulePack.name, 40)} ${cleanText(rulePack.version, 20)})`
    : '';
  return {
    id: 'compliance',
    title: 'Compliance',
    lines: [
      rulesBreached === 0
        ? `No rule of the active rule pack${pack} is breached.`
        : `${plural(rulesBreached, 'rule', 'rules')} of the active rule pack${pack} ${rulesBreached === 1 ? 'is' : 'are'} breached; ${plural(loansInBreach, 'loan is', 'loans are')} in breach.`,
      `${plural(rules.length, 'rule', 'rules')} in the pack; each is listed with the loans it concerns today and its source.`,
    ],
    tables: [
      {
        name: 'rules',
        caption: 'Rules',
        columns: [
          { label: 'Rule', numeric: false },
          { label: 'Status', numeric: false },
          { label: 'Severity', numeric: false },
          { label: 'Result', numeric: false },
          { label: 'Loans', numeric: true },
          { label: 'Borrowers', numeric: true },
          { label: 'Outstanding', numeric: true },
          { label: 'Source', numeric: false },
          ...(withReason ? [{ label: 'Reason', numeric: false }] : []),
        ],
        rows: rules.map(([code, r]) => [
          cleanText(code, 60),
          r.status === undefined ? 'in force' : (STATUS_LABELS[r.status] ?? cleanText(r.status, 30)),
          cleanText(r.severity, 20),
          resultOf(r),
          formatInteger(r.loans),
          formatInteger(r.borrowers),
          formatAmount(r.outstanding, currency),
          sourceOfRule(code, r, findings, sources),
          ...(withReason ? [typeof r.reason === 'string' ? cleanText(r.reason, 240) : '—'] : []),
        ]),
        values: rules.map(([, r]) => [
          null,
          null,
          null,
          null,
          r.loans,
          r.borrowers,
          r.outstanding,
          null,
          ...(withReason ? [null] : []),
        ]),
      },
    ],
    charts: [],
  };
}
