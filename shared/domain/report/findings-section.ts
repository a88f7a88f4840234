import { FINDING_SEVERITIES } from '../audit-result.ts';
import { plural } from './format.ts';
import type { FindingLine, ReportSection } from './types.ts';

/** Every finding, most severe first, with its value, threshold and source. */
export function findingsSection(findings: readonly FindingLine[]): ReportSection {
  return {
    id: 'findings',
    title: 'Findings',
    lines: [
      findings.length === 0
        ? 'No findings today.'
        : `${plural(findings.length, 'finding', 'findings')}, most severe first.`,
    ],
    tables:
      findings.length === 0
        ? []
        : [
            {
              name: 'findings',
              caption: 'Findings',
              columns: [
                { label: 'Severity', numeric: false },
                { label: 'Category', numeric: false },
                { label: 'Code', numeric: false },
                { label: 'Finding', numeric: false },
                { label: 'Value', numeric: true },
                { label: 'Threshold', numeric: true },
                { label: 'Source', numeric: false },
              ],
              rows: findings.map((f) => [
                f.severity,
                f.category,
                f.code,
                f.message,
                f.value,
                f.threshold,
                f.source,
              ]),
              // Severity sorts by rank (critical first), not alphabetically.
              values: findings.map((f) => [
                FINDING_SEVERITIES.indexOf(f.severity),
                null,
                null,
                null,
                null,
                null,
                null,
              ]),
            },
          ],
    charts: [],
  };
}
