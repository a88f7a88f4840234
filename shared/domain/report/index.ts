/** The report model: pure functions from an audit result to the reports' display strings. */
export * from './compliance-section.ts';
export * from './failure.ts';
export * from './format.ts';
export * from './full-report.ts';
export * from './model.ts';
export * from './sections.ts';
export * from './summary.ts';
export * from './text.ts';
export * from './trend.ts';
export * from './trend-section.ts';
export * from './types.ts';
export * from './watchlist-csv.ts';
