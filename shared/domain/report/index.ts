/** The report model: pure functions from an audit result to the report's display strings. */
export * from './failure.ts';
export * from './format.ts';
export * from './model.ts';
export * from './text.ts';
export * from './types.ts';
export * from './watchlist-csv.ts';
