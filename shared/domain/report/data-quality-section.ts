import type { AuditResult } from '../audit-result.ts';
import { OPTIONAL_COLUMNS, TAPE_COLUMNS } from '../loan.ts';
import { cleanText, formatInteger, formatPercent, formatPointChange, plural, share } from './format.ts';
import type { QuarantineSample, ReportSection, ReportTable } from './types.ts';

/** Label of the rows that could not be split into columns (bad JSON, broken quoting). */
export const WHOLE_ROW = '(row)';

/** Data quality: intake counts, drift, and each column's profile. */
export function dataQualitySection(
  audit: AuditResult,
  quarantine: QuarantineSample | undefined,
): ReportSection {
  const d = audit.dataQuality;
  const lines = [
    `${formatInteger(d.rowsRead)} rows read, ${formatInteger(d.rowsQuarantined)} quarantined (${formatPercent(d.quarantineRate)}); ${plural(d.duplicateLoanIds, 'duplicate loan id', 'duplicate loan ids')}.`,
    d.rowCountChange === null
      ? 'Row count change: no previous tape.'
      : `Valid rows changed ${formatPointChange(d.rowCountChange, 1).replace(' pp', '%')} since the previous tape.`,
  ];
  const drift = audit.drift;
  if (drift.psi) {
    lines.push(
      `Population stability (PSI): credit score ${drift.psi.creditScore.toFixed(3)}, product ${drift.psi.product.toFixed(3)}, DPD bucket ${drift.psi.dpdBucket.toFixed(3)} (above 0.25 is a major shift).`,
    );
  }
  if (drift.newLoans !== null)
    lines.push(`${plural(drift.newLoans, 'new loan', 'new loans')} since the previous tape.`);
  const unknown = audit.input.unknownColumns ?? [];
  if (unknown.length > 0) {
    lines.push(
      `Columns in the tape that the audit does not read (ignored): ${unknown.map((c) => cleanText(c, 40)).join(', ')}.`,
    );
  }
  const tables: ReportTable[] = [];
  const codes = Object.entries(audit.input.quarantineByCode).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0) {
    tables.push({
      name: 'quarantine-reasons',
      caption: 'Quarantined rows by reason',
      columns: [
        { label: 'Reason', numeric: false },
        { label: 'Rows', numeric: true },
        { label: 'Share of rows read', numeric: true },
      ],
      rows: codes.map(([code, n]) => [
        cleanText(code, 40),
        formatInteger(n),
        formatPercent(share(n, d.rowsRead), 3),
      ]),
      values: codes.map(([, n]) => [null, n, share(n, d.rowsRead)]),
    });
  }
  const byColumn = quarantine?.byColumn ?? {};
  const profile = [...TAPE_COLUMNS, ...(byColumn[WHOLE_ROW] ? [WHOLE_ROW] : [])].map((column) => {
    const optional = (OPTIONAL_COLUMNS as readonly string[]).includes(column);
    const q = byColumn[column];
    const empty = optional ? (d.missingRate[column] ?? null) : column === WHOLE_ROW ? null : 0;
    return { column, optional, empty, q };
  });
  tables.push({
    name: 'columns',
    caption: 'Each column of the tape',
    columns: [
      { label: 'Column', numeric: false },
      { label: 'Kind', numeric: false },
      { label: 'Empty in valid rows', numeric: true },
      { label: 'Rows quarantined', numeric: true },
      { label: 'Reasons', numeric: false },
    ],
    rows: profile.map((p) => [
      p.column,
      p.column === WHOLE_ROW ? 'whole row' : p.optional ? 'optional' : 'required',
      p.empty === null ? 'n/a' : formatPercent(p.empty, 1),
      quarantine === undefined ? 'n/a' : formatInteger(p.q?.rows ?? 0),
      p.q === undefined
        ? '—'
        : Object.entries(p.q.codes)
            .sort((a, b) => b[1] - a[1])
            .map(([code, n]) => `${cleanText(code, 40)} ${formatInteger(n)}`)
            .join(', '),
    ]),
    values: profile.map((p) => [
      null,
      null,
      p.empty,
      quarantine === undefined ? null : (p.q?.rows ?? 0),
      null,
    ]),
    note:
      quarantine === undefined
        ? 'Required columns are never empty in a valid row (an empty one quarantines the row).'
        : `Required columns are never empty in a valid row (an empty one quarantines the row). Rows quarantined: rows of ${quarantine.fileName} whose reasons name the column (a row may name several).`,
  });
  return { id: 'data-quality', title: 'Data quality', lines, tables, charts: [] };
}
