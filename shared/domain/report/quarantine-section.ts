import { cleanText, formatInteger, plural } from './format.ts';
import type { QuarantineSample, ReportSection } from './types.ts';

/** The quarantined rows, their ids masked, with where the complete list is. */
export function quarantineSection(sample: QuarantineSample | undefined): ReportSection {
  if (sample === undefined || sample.total === 0) {
    return {
      id: 'quarantine',
      title: 'Quarantined rows',
      lines: [
        sample === undefined
          ? 'The quarantined rows were not available to this report.'
          : 'No row was quarantined.',
      ],
      tables: [],
      charts: [],
    };
  }
  const withheld = sample.rows.filter((r) => r.raw === null).length;
  const lines = [
    sample.total > sample.rows.length
      ? `The first ${formatInteger(sample.rows.length)} of ${plural(sample.total, 'quarantined row', 'quarantined rows')} (at most ${formatInteger(sample.limit)} are shown here).`
      : `All ${plural(sample.total, 'quarantined row', 'quarantined rows')}.`,
    `Loan and borrower ids in the raw text are masked (loan references as elsewhere in the report, borrower references as keyed hashes)${withheld > 0 ? `; the raw text of ${plural(withheld, 'row is', 'rows are')} withheld because its ids could not be located` : ''}. The complete list with the raw rows is ${sample.fileName}${sample.location ? ` (${sample.location})` : ''}.`,
  ];
  return {
    id: 'quarantine',
    title: 'Quarantined rows',
    lines,
    tables: [
      {
        name: 'quarantine',
        caption: 'Quarantined rows',
        columns: [
          { label: 'Line', numeric: true },
          { label: 'Part', numeric: false },
          { label: 'Reasons', numeric: false },
          { label: 'Detail', numeric: false },
          { label: 'Raw text (ids masked)', numeric: false },
        ],
        rows: sample.rows.map((r) => [
          formatInteger(r.line),
          cleanText(r.part, 60),
          r.codes.map((c) => cleanText(c, 40)).join(', '),
          cleanText(r.detail, 240),
          r.raw === null ? '(withheld)' : cleanText(r.raw, 600),
        ]),
        values: sample.rows.map((r) => [r.line, null, null, null, null]),
      },
    ],
    charts: [],
  };
}
