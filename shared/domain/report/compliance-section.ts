import type { AuditResult, ComplianceRuleResult, Finding } from '../audit-result.ts';
import { BINDING_KINDS, LICENCES, type Licence } from '../policy/policy.ts';
import { bindingLabel, licenceLabel } from '../policy/resolve.ts';
import { cleanText, formatAmount, formatInteger, plural } from './format.ts';
import type { ReportSection, ReportTable } from './types.ts';

/**
 * The full report's compliance section: every rule of the pack as audit.json's
 * `compliance.rules` gives it, grouped by status, so a reader sees what was checked (and what it
 * found), what was not yet in force and what did not apply to this lender, and why; each rule
 * with its code, its source's title and number (or "no public number"), its binding kind and its
 * effective date.
 */

/** A rules entry, with the fields an earlier release may lack or a later one may add. */
type RuleEntry = Omit<ComplianceRuleResult, 'source'> & { source?: unknown };

const STATUS_LABELS: Record<string, string> = {
  in_force: 'in force',
  not_in_force: 'not yet in force',
  not_applicable: 'not applicable',
};

// audit.json's values are read back as strings: a value the pack does not know is shown as given.
const bindingOf = (binding: string): string =>
  (BINDING_KINDS as readonly string[]).includes(binding)
    ? bindingLabel(binding as (typeof BINDING_KINDS)[number])
    : binding;
const licenceOf = (licence: string): string | undefined =>
  (LICENCES as readonly string[]).includes(licence) ? licenceLabel(licence as Licence) : undefined;

/** Whether a source is the rule pack's structured citation (title, number, binding kind). */
function isCitation(source: unknown): source is { title: string; number?: string | null; binding: string } {
  return (
    source !== null &&
    typeof source === 'object' &&
    typeof (source as { title?: unknown }).title === 'string' &&
    typeof (source as { binding?: unknown }).binding === 'string'
  );
}

/** A source as one line: a string as given; an object's text fields (title, number, issuer, ...) joined. */
export function formatRuleSource(source: unknown): string | null {
  if (typeof source === 'string') return cleanText(source, 240);
  if (isCitation(source)) {
    const number = typeof source.number === 'string' && source.number !== '' ? source.number : null;
    return cleanText(`${source.title}, ${number ?? 'no public number'} (${bindingOf(source.binding)})`, 240);
  }
  if (source === null || typeof source !== 'object') return null;
  const parts = Object.values(source as Record<string, unknown>).filter(
    (v): v is string | number => (typeof v === 'string' && v.length > 0) || typeof v === 'number',
  );
  return parts.length === 0 ? null : cleanText(parts.join(', '), 240);
}

/**
 * The sources a report cites, by code: each rule's as audit.json carries it (title, number or "no
 * public number", binding kind, effective date), then the findings' own for other codes.
 */
export function reportSources(audit: AuditResult): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const [code, rule] of Object.entries(audit.compliance.rules) as [string, RuleEntry][]) {
    const cited = isCitation(rule.source) ? formatRuleSource(rule.source) : null;
    if (cited !== null)
      sources[code] =
        typeof rule.effectiveDate === 'string' ? `${cited}; in force from ${rule.effectiveDate}` : cited;
  }
  for (const f of audit.findings) if (f.source && sources[f.code] === undefined) sources[f.code] = f.source;
  return sources;
}

/** Where a rule comes from: its entry's own source, the one given with the report, or its finding's. */
function sourceOfRule(
  code: string,
  rule: RuleEntry,
  findings: readonly Finding[],
  sources: Readonly<Record<string, string>>,
): string {
  const own = formatRuleSource(rule.source);
  if (own !== null) return own;
  // An audit.json of an earlier release has no source in its rule entries: its findings cite it.
  const given = sources[code];
  if (given !== undefined) return cleanText(given, 240);
  return (
    formatRuleSource(findings.find((f) => f.code === code)?.source) ??
    'in the rule pack (not named in this audit)'
  );
}

type Entry = [code: string, rule: RuleEntry];

// Entries of an earlier release carry no status: every rule listed was in force.
const statusOf = (r: RuleEntry): string => r.status ?? 'in_force';

function resultOf(rule: RuleEntry): string {
  if (rule.loans === 0) return 'clear';
  return rule.severity === 'breach' ? 'breached' : 'on watch';
}

// Breached first, then rules on watch with loans, then the clear ones.
function rank(rule: RuleEntry): number {
  const result = resultOf(rule);
  return result === 'breached' ? 0 : result === 'on watch' ? 1 : 2;
}

/** The compliance section of the full report: the rules by status, with counts and sources. */
export function complianceSection(
  audit: AuditResult,
  findings: readonly Finding[],
  sources: Readonly<Record<string, string>>,
  rulePack: { name: string; version: string } | null,
  currency: string,
): ReportSection {
  const entries = Object.entries(audit.compliance.rules) as Entry[];
  const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const inForce = entries
    .filter(([, r]) => statusOf(r) === 'in_force')
    .sort(([a, x], [b, y]) => rank(x) - rank(y) || y.outstanding - x.outstanding || byCode(a, b));
  const notYet = entries.filter(([, r]) => statusOf(r) === 'not_in_force');
  const notApplicable = entries.filter(([, r]) => statusOf(r) === 'not_applicable');
  const watched = inForce.filter(([, r]) => r.severity === 'watch' && r.loans > 0).length;
  const { rulesBreached, loansInBreach } = audit.compliance;
  const pack = audit.compliance.pack;

  const lines: string[] = [];
  if (pack !== undefined) {
    lines.push(
      `Rule pack ${cleanText(pack.name, 40)} ${cleanText(pack.version, 20)} for ${licenceOf(pack.licence) ?? cleanText(pack.licence, 40)}; amounts in ${cleanText(pack.currency, 3)}.`,
    );
  } else if (rulePack) {
    lines.push(`Rule pack ${cleanText(rulePack.name, 40)} ${cleanText(rulePack.version, 20)}.`);
  }
  const onWatch = watched > 0 ? `; ${plural(watched, 'rule', 'rules')} on watch` : '';
  lines.push(
    rulesBreached === 0
      ? `No in-force rule is breached${onWatch}.`
      : `${plural(loansInBreach, 'loan is', 'loans are')} in breach of ${plural(rulesBreached, 'rule', 'rules')}${onWatch}.`,
  );
  lines.push(
    `${plural(inForce.length, 'rule', 'rules')} checked, ${plural(notYet.length, 'rule', 'rules')} not yet in force, ${plural(notApplicable.length, 'rule', 'rules')} not applicable to this lender.`,
  );

  const cite = ([code, r]: Entry) => sourceOfRule(code, r, findings, sources);
  const tables: ReportTable[] = [
    {
      name: 'rules',
      caption: 'In force: checked on this tape',
      columns: [
        { label: 'Rule', numeric: false },
        { label: 'Severity', numeric: false },
        { label: 'Result', numeric: false },
        { label: 'Loans', numeric: true },
        { label: 'Borrowers', numeric: true },
        { label: 'Outstanding', numeric: true },
        { label: 'Source', numeric: false },
        { label: 'In force from', numeric: false },
      ],
      rows: inForce.map((e) => {
        const [code, r] = e;
        return [
          cleanText(code, 60),
          cleanText(r.severity, 20),
          resultOf(r),
          formatInteger(r.loans),
          formatInteger(r.borrowers),
          formatAmount(r.outstanding, currency),
          cite(e),
          r.effectiveDate ?? '—',
        ];
      }),
      values: inForce.map(([, r]) => [null, null, null, r.loans, r.borrowers, r.outstanding, null, null]),
    },
  ];
  const offTable = (name: string, caption: string, list: Entry[]): ReportTable => ({
    name,
    caption,
    columns: [
      { label: 'Rule', numeric: false },
      { label: 'Status', numeric: false },
      { label: 'Why', numeric: false },
      { label: 'Source', numeric: false },
      { label: 'In force from', numeric: false },
    ],
    rows: list.map((e) => {
      const [code, r] = e;
      return [
        cleanText(code, 60),
        STATUS_LABELS[statusOf(r)] ?? cleanText(statusOf(r), 30),
        typeof r.reason === 'string' ? cleanText(r.reason, 240) : '—',
        cite(e),
        r.effectiveDate ?? '—',
      ];
    }),
  });
  if (notYet.length > 0) tables.push(offTable('rules-not-in-force', 'Not yet in force on this date', notYet));
  if (notApplicable.length > 0)
    tables.push(offTable('rules-not-applicable', 'Not applicable to this lender', notApplicable));
  return { id: 'compliance', title: 'Compliance', lines, tables, charts: [] };
}
