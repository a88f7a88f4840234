/** Structured fields beside a log message: counts, dates, run ids, keys; never a loan or borrower id. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where the steps write what happened (structured JSON logs on AWS); a message and its fields. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}
