import {
  type AuditResult,
  type Finding,
  RISK_CATEGORIES,
  type RiskCategory,
  SEVERITY_RANK,
} from '../audit-result.ts';
import {
  cleanText,
  formatAmount,
  formatCountChange,
  formatFindingValue,
  formatHhi,
  formatInteger,
  formatPercent,
  formatPointChange,
  formatRelativeChange,
  plural,
  share,
} from './format.ts';
import { pastDue30Share } from './trend.ts';
import type { FindingLine, HeadlineFigure, RatingLine, ReportInput, Tone, Verdict } from './types.ts';

/**
 * The top of every report: verdict, what to do first, headline figures with their change, the
 * ratings with their reasons and the findings. The email and the full report both open with it,
 * built here once, so they never disagree.
 */

/** Display label of each risk category and of the overall rating. */
export const CATEGORY_LABELS: Record<RiskCategory | 'overall', string> = {
  overall: 'Overall',
  credit: 'Credit',
  regulatory: 'Regulatory',
  concentration: 'Concentration',
  vulnerability: 'Vulnerability',
  technical: 'Technical',
  liquidity: 'Liquidity',
};

// The first step a risk officer takes for a finding of each category; the findings say why.
const CATEGORY_ACTIONS: Record<RiskCategory, string> = {
  credit: 'review collections on the loans 31+ days past due and the roll into 91+',
  regulatory: 'stop new lending under the breached rule and remediate the loans concerned',
  concentration: 'check the limits of the largest exposures and segments',
  vulnerability: 'review the flagged borrowers on the watchlist',
  technical: 'check the tape with the data team: quarantined rows are not in the metrics',
  liquidity: 'check funding against the maturities of the next 30 days',
};

/** Findings ordered by severity, most severe first (stable, so the audit's own order breaks ties). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_RANK[a.f.severity] - SEVERITY_RANK[b.f.severity] || a.i - b.i)
    .map((x) => x.f);
}

/** The verdict label of the subject. */
export function verdictOf(audit: AuditResult): Verdict {
  if (audit.status === 'failed') return 'FAILED';
  return audit.ratings.overall === 'red' ? 'RED' : audit.ratings.overall === 'amber' ? 'AMBER' : 'GREEN';
}

/** The subject line: verdict, date, NPL with its change and the rules breached. */
export function buildSubject(audit: AuditResult, previous: AuditResult | null): string {
  const verdict = verdictOf(audit);
  const head = `[${verdict}] Risk audit ${audit.snapshotDate}`;
  if (audit.status === 'failed') return `${head} · run failed`;
  const npl = audit.portfolio.nplRatio;
  const prevNpl = previous?.portfolio.nplRatio ?? null;
  const change = npl !== null && prevNpl !== null ? ` (${formatPointChange(npl - prevNpl)})` : '';
  const { rulesBreached } = audit.compliance;
  return `${head} · NPL ${formatPercent(npl)}${change} · ${plural(rulesBreached, 'rule', 'rules')} breached`;
}

function toneOf(delta: number, higherIsWorse: boolean | null): Tone {
  if (higherIsWorse === null || delta === 0) return 'neutral';
  return delta > 0 === higherIsWorse ? 'bad' : 'good';
}

function ratioFigure(
  label: string,
  today: number | null,
  previous: number | null | undefined,
  higherIsWorse: boolean,
): HeadlineFigure {
  if (today === null || previous === null || previous === undefined) {
    return { label, value: formatPercent(today), change: null, tone: 'neutral' };
  }
  const delta = Number(((today - previous) * 100).toFixed(2));
  return {
    label,
    value: formatPercent(today),
    change: formatPointChange(today - previous),
    tone: toneOf(delta, higherIsWorse),
  };
}

function amountFigure(
  label: string,
  today: number,
  previous: number | undefined,
  higherIsWorse: boolean | null,
  currency: string,
): HeadlineFigure {
  const change = previous === undefined ? null : formatRelativeChange(today, previous);
  const delta = previous === undefined ? 0 : Number(((today / (previous || 1) - 1) * 100).toFixed(1));
  return {
    label,
    value: formatAmount(today, currency),
    change,
    tone: change === null ? 'neutral' : toneOf(delta, higherIsWorse),
  };
}

function countFigure(label: string, today: number, previous: number | null): HeadlineFigure {
  return {
    label,
    value: formatInteger(today),
    change: previous === null ? null : formatCountChange(today - previous),
    tone: previous === null ? 'neutral' : toneOf(today - previous, true),
  };
}

function buildHeadline(audit: AuditResult, previous: AuditResult | null, currency: string): HeadlineFigure[] {
  const p = audit.portfolio;
  const q = previous?.portfolio;
  const counts = audit.compliance;
  const before = previous?.compliance;
  return [
    ratioFigure('NPL ratio', p.nplRatio, q?.nplRatio, true),
    ratioFigure(
      '30+ days past due',
      pastDue30Share(audit),
      previous ? pastDue30Share(previous) : undefined,
      true,
    ),
    amountFigure('Expected loss', p.expectedLoss, q?.expectedLoss, true, currency),
    amountFigure('Outstanding', p.totalOutstanding, q?.totalOutstanding, null, currency),
    countFigure('Loans in breach', counts.loansInBreach, before?.loansInBreach ?? null),
    countFigure('Rules breached', counts.rulesBreached, before?.rulesBreached ?? null),
    {
      label: 'Loans',
      value: formatInteger(p.loanCount),
      change: q ? formatRelativeChange(p.loanCount, q.loanCount) : null,
      tone: 'neutral',
    },
  ];
}

/** Where a rule or threshold comes from: the source given with the report, the finding's own, or the config. */
export function sourceOf(
  code: string,
  finding: Finding | undefined,
  sources: Readonly<Record<string, string>>,
): string {
  const s = sources[code] ?? finding?.source;
  // A rule's citation (title, number, binding kind, effective date) can be long: keep it whole.
  return s ? cleanText(s, 240) : 'risk-appetite config';
}

// A fraction below 1 reads as a percentage (a rate, a share, an APR threshold), except for
// indices such as HHI and PSI; a zero follows its partner so `0` and `1.50%` line up.
function looksLikeFraction(v: number | string | null, code: string): boolean {
  return typeof v === 'number' && !Number.isInteger(v) && Math.abs(v) < 1 && !/HHI|PSI/i.test(code);
}

function findingFigures(f: Finding): { value: string; threshold: string } {
  const valuePct =
    looksLikeFraction(f.value, f.code) || (f.value === 0 && looksLikeFraction(f.threshold, f.code));
  const thresholdPct =
    looksLikeFraction(f.threshold, f.code) || (f.threshold === 0 && looksLikeFraction(f.value, f.code));
  return {
    value: formatFindingValue(f.value, valuePct),
    threshold: formatFindingValue(f.threshold, thresholdPct),
  };
}

/** Every finding ready to print, most severe first. */
export function buildFindingLines(
  audit: AuditResult,
  sources: Readonly<Record<string, string>>,
): FindingLine[] {
  return sortFindings(audit.findings).map((f) => ({
    severity: f.severity,
    category: f.category,
    code: cleanText(f.code, 60),
    message: cleanText(f.message, 240),
    ...findingFigures(f),
    source: sourceOf(f.code, f, sources),
  }));
}

function defaultReason(category: RiskCategory, audit: AuditResult, currency: string): string {
  const p = audit.portfolio;
  const c = audit.concentration;
  switch (category) {
    case 'credit':
      return `NPL ${formatPercent(p.nplRatio)}, 30+ DPD ${formatPercent(pastDue30Share(audit))}, expected loss ${formatAmount(p.expectedLoss, currency)}`;
    case 'regulatory': {
      const { rulesBreached } = audit.compliance;
      const watches = Object.values(audit.compliance.rules).filter(
        (r) => r.severity === 'watch' && r.loans > 0,
      ).length;
      return rulesBreached === 0
        ? `No rule breached${watches > 0 ? `; ${plural(watches, 'rule', 'rules')} on watch` : ''}`
        : `${plural(rulesBreached, 'rule', 'rules')} breached`;
    }
    case 'concentration':
      return `Largest borrower ${formatPercent(c.largestBorrowerShare)}, top 10 ${formatPercent(c.top10BorrowerShare)}, industry HHI ${formatHhi(c.industryHhi)}`;
    case 'vulnerability':
      return `${formatPercent(share(audit.vulnerability.anyFlag.outstanding, p.totalOutstanding))} of outstanding carries a vulnerability flag`;
    case 'technical':
      return `${formatPercent(audit.dataQuality.quarantineRate)} of rows quarantined, ${plural(audit.dataQuality.duplicateLoanIds, 'duplicate loan id', 'duplicate loan ids')}`;
    case 'liquidity': {
      const m = p.maturityLadder;
      return `${formatPercent(share(m.overdue + m['0-7'] + m['8-30'], p.totalOutstanding))} of outstanding overdue or maturing within 30 days`;
    }
  }
}

function buildRatings(audit: AuditResult, findings: readonly FindingLine[], currency: string): RatingLine[] {
  const lines: RatingLine[] = RISK_CATEGORIES.map((category) => {
    const own = findings.filter((f) => f.category === category);
    const top = own[0];
    const reason = top
      ? `${top.message}${own.length > 1 ? ` (+${own.length - 1} more)` : ''}`
      : defaultReason(category, audit, currency);
    return { category, label: CATEGORY_LABELS[category], rating: audit.ratings[category], reason };
  });
  const red = lines.filter((l) => l.rating === 'red').map((l) => l.label);
  const amber = lines.filter((l) => l.rating === 'amber').map((l) => l.label);
  const parts = [
    red.length > 0 ? `red: ${red.join(', ')}` : '',
    amber.length > 0 ? `amber: ${amber.join(', ')}` : '',
  ];
  const named = parts.filter((x) => x.length > 0).join('; ');
  const overallReason =
    named.length === 0 ? 'Every category is within risk appetite' : `The worst category sets it (${named})`;
  return [
    { category: 'overall', label: 'Overall', rating: audit.ratings.overall, reason: overallReason },
    ...lines,
  ];
}

function buildActions(audit: AuditResult, findings: readonly FindingLine[]): string[] {
  const actions: string[] = [];
  const seen = new Set<RiskCategory>();
  if (audit.status === 'partial' && !findings.some((f) => f.category === 'technical')) {
    actions.push(
      `Check the tape: ${formatInteger(audit.input.rowsQuarantined)} rows were quarantined, so figures cover valid rows only.`,
    );
    seen.add('technical');
  }
  for (const f of findings) {
    if (actions.length >= 3) break;
    if (f.severity === 'info' || f.severity === 'low' || seen.has(f.category)) continue;
    seen.add(f.category);
    actions.push(`${f.message}: ${CATEGORY_ACTIONS[f.category]}.`);
  }
  if (actions.length === 0)
    actions.push('Nothing needs action today; the full report has the detail for the record.');
  return actions;
}

function buildSummaryLine(
  audit: AuditResult,
  headline: readonly HeadlineFigure[],
  findings: readonly FindingLine[],
): string {
  const npl = headline[0];
  const { loansInBreach, rulesBreached } = audit.compliance;
  const serious = findings.filter((f) => f.severity === 'critical' || f.severity === 'high').length;
  const parts = [
    `Overall ${audit.ratings.overall.toUpperCase()}`,
    `NPL ${npl?.value ?? 'n/a'}${npl?.change ? ` (${npl.change})` : ''}`,
    `${plural(rulesBreached, 'rule', 'rules')} breached (${plural(loansInBreach, 'loan', 'loans')})`,
    plural(serious, 'critical or high finding', 'critical or high findings'),
  ];
  return `${parts.join(' · ')}.`;
}

function statusNote(audit: AuditResult): string | null {
  if (audit.status === 'partial') {
    return `Partial run: ${formatInteger(audit.input.rowsQuarantined)} of ${formatInteger(audit.input.rowsRead)} rows were quarantined or a check could not run; figures cover valid rows only.`;
  }
  if (audit.status === 'failed')
    return `The run failed: ${cleanText(audit.error ?? 'no reason recorded', 240)}`;
  return null;
}

/** The opening of a report, shared by the email and the full report. */
export interface ReportSummary {
  subject: string;
  verdict: Verdict;
  statusNote: string | null;
  summary: string;
  actions: string[];
  headline: HeadlineFigure[];
  ratings: RatingLine[];
  /** Every finding, most severe first. */
  findings: FindingLine[];
  footer: string[];
}

/** Builds the opening of a report: every figure rounded once, every tape text cleaned. */
export function buildReportSummary(input: ReportInput): ReportSummary {
  const audit = input.audit;
  const previous = input.previous ?? null;
  // The tape's currency (audit.json of an earlier release: CNY) unless the caller names one.
  const currency = input.currency ?? audit.portfolio.currency ?? 'CNY';
  const sources = input.sources ?? {};
  const generatedAt = input.generatedAt ?? new Date();
  const findings = buildFindingLines(audit, sources);
  const headline = buildHeadline(audit, previous, currency);
  const actions = buildActions(audit, findings);
  return {
    subject: buildSubject(audit, previous),
    verdict: verdictOf(audit),
    statusNote: statusNote(audit),
    summary: buildSummaryLine(audit, headline, findings),
    actions,
    headline,
    ratings: buildRatings(audit, findings, currency),
    findings,
    footer: [
      `Snapshot ${audit.snapshotDate}${audit.previousSnapshotDate ? `, compared with ${audit.previousSnapshotDate}` : ', no previous tape'}; status ${audit.status}.`,
      `Tape sha256 ${cleanText(audit.input.sha256, 64).slice(0, 16)}…${input.runId ? `; run ${cleanText(input.runId, 80)}` : ''}.`,
      `Generated ${generatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}. Amounts in ${cleanText(currency, 3)}; ratings against the risk-appetite config.`,
    ],
  };
}
