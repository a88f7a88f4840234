/**
 * Parts several sections of the full report share: the labels of the five-category classes and
 * the columns of a count-and-outstanding table.
 */

/** Display label of each five-category class. */
export const CLASSIFICATION_LABELS: Record<string, string> = {
  normal: 'Normal',
  special_mention: 'Special mention',
  substandard: 'Substandard',
  doubtful: 'Doubtful',
  loss: 'Loss',
};

/** The columns after the first of a table of loans, outstanding and share of outstanding. */
export const COUNT_COLUMNS = [
  { label: 'Loans', numeric: true },
  { label: 'Outstanding', numeric: true },
  { label: 'Share', numeric: true },
] as const;
