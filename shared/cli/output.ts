import type { AuditResult } from '../domain/audit-result.ts';
import { INPUT_WARNING_CODES } from '../domain/tape/tape-checks.ts';

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const money = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** The few headline figures the CLI prints after an audit (borrower data never appears here). */
export function headlineLines(audit: AuditResult): string[] {
  const p = audit.portfolio;
  const { loansInBreach, rulesBreached } = audit.compliance;
  return [
    `Audit ${audit.snapshotDate}: overall ${audit.ratings.overall.toUpperCase()} (status ${audit.status})`,
    `  loans ${money(p.loanCount)} · borrowers ${money(p.borrowerCount)} · outstanding ${money(p.totalOutstanding)}`,
    `  NPL ${pct(p.nplRatio)} · expected loss ${money(p.expectedLoss)} · loans in breach ${money(loansInBreach)} (${money(rulesBreached)} rules)`,
    `  rows read ${money(audit.input.rowsRead)} · quarantined ${money(audit.input.rowsQuarantined)} · findings ${audit.findings.length}`,
    // What suggests the tape was misread comes first-hand, not only among the findings.
    ...audit.findings.filter((f) => INPUT_WARNING_CODES.has(f.code)).map((f) => `  warning: ${f.message}`),
  ];
}

/** Prints the headline figures and where the outputs are. */
export function printHeadline(audit: AuditResult, where: { auditPath: string; reportPath?: string }): void {
  const lines = headlineLines(audit);
  lines.push(`  audit: ${where.auditPath}`);
  if (where.reportPath) lines.push(`  report: ${where.reportPath}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
