import type { ReportModel, ReportTable } from './types.ts';

const RULE = '='.repeat(60);

/** Lays a table out in fixed-width columns, numbers right-aligned, for plain text. */
export function renderTextTable(table: Pick<ReportTable, 'caption' | 'columns' | 'rows'>): string[] {
  const widths = table.columns.map((c, i) =>
    Math.max(c.label.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    table.columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] ?? 0;
        return c.numeric ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [
    `${table.caption}:`,
    line(table.columns.map((c) => c.label)),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.rows.map(line),
  ];
}

/** The email's plain-text part: the same facts and figures as its HTML, in reading order. */
export function renderReportText(model: ReportModel): string {
  const out: string[] = [];
  out.push(model.subject, RULE, '');
  out.push(`VERDICT: ${model.verdict} (${model.snapshotDate})`, model.summary);
  if (model.statusNote) out.push(model.statusNote);
  out.push('', 'WHAT TO DO FIRST');
  model.actions.forEach((a, i) => {
    out.push(`${i + 1}. ${a}`);
  });
  if (model.reportUrl) out.push('', `Full report: ${model.reportUrl}`, model.reportUrlNote ?? '');
  out.push('', 'HEADLINE FIGURES (today, vs previous run)');
  for (const f of model.headline) out.push(`- ${f.label}: ${f.value}${f.change ? ` (${f.change})` : ''}`);
  out.push('', 'RATINGS');
  for (const r of model.ratings) out.push(`- ${r.label}: ${r.rating.toUpperCase()}: ${r.reason}`);
  out.push('', 'FINDINGS, MOST SEVERE FIRST');
  if (model.findings.length === 0) out.push('No findings today.');
  model.findings.forEach((f, i) => {
    out.push(
      `${i + 1}. [${f.severity.toUpperCase()}] ${f.message}`,
      `   ${f.category} / ${f.code} · value ${f.value} vs threshold ${f.threshold}`,
      `   Source: ${f.source}`,
    );
  });
  const more = model.findingsTotal - model.findings.length;
  if (more > 0) out.push(`${more} more ${more === 1 ? 'finding is' : 'findings are'} in the full report.`);
  out.push('', 'TREND', model.trend.line);
  out.push('', RULE, ...model.footer, '');
  return out.join('\n');
}
