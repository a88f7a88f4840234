import type { AuditResult } from '../audit-result.ts';
import { cleanText, formatAmount, formatInteger, plural } from './format.ts';
import type { BreachRow, ReportSection } from './types.ts';

/** The loans behind each breached rule, largest outstanding first within a rule. */
export function breachesSection(
  audit: AuditResult,
  rows: readonly BreachRow[],
  perRule: number | undefined,
  currency: string,
): ReportSection {
  const shown = new Map<string, number>();
  for (const r of rows) shown.set(r.ruleCode, (shown.get(r.ruleCode) ?? 0) + 1);
  const lines: string[] = [];
  for (const [code, rule] of Object.entries(audit.compliance.rules)) {
    if (rule.severity !== 'breach' || rule.loans === 0) continue;
    const n = shown.get(code) ?? 0;
    if (n === 0) {
      lines.push(
        `${cleanText(code, 60)}: ${plural(rule.loans, 'loan', 'loans')}, not listed (the breach index had none of them).`,
      );
      continue;
    }
    lines.push(
      n >= rule.loans
        ? `${cleanText(code, 60)}: all ${plural(rule.loans, 'loan', 'loans')} below.`
        : `${cleanText(code, 60)}: the ${formatInteger(n)} largest of ${plural(rule.loans, 'loan', 'loans')} below${perRule !== undefined ? ` (at most ${formatInteger(perRule)} a rule)` : ''}.`,
    );
  }
  if (lines.length === 0) lines.push('No loan is in breach of a rule today.');
  return {
    id: 'breaches',
    title: 'Loans in breach',
    lines,
    tables:
      rows.length === 0
        ? []
        : [
            {
              name: 'breaches',
              caption: 'Loans behind each breached rule (masked references)',
              columns: [
                { label: 'Rule', numeric: false },
                { label: 'Loan', numeric: false },
                { label: 'Borrower', numeric: false },
                { label: 'Grade', numeric: false },
                { label: 'Outstanding', numeric: true },
              ],
              rows: rows.map((r) => [
                cleanText(r.ruleCode, 60),
                cleanText(r.loanRef, 24),
                cleanText(r.borrowerRef, 24),
                cleanText(r.grade, 8),
                formatAmount(r.outstanding, currency),
              ]),
              values: rows.map((r) => [null, null, null, null, r.outstanding]),
            },
          ],
    charts: [],
  };
}
