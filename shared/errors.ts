/**
 * The project's error hierarchy. Every error meant for a person carries one readable sentence
 * as its message (no stack trace is shown to users); `cause` keeps the underlying error.
 */
export class RiskAuditError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A tape (or one of its parts) cannot be read at all: the run fails with this sentence. */
export class TapeUnreadableError extends RiskAuditError {}

/** No tape was found for the requested date. */
export class TapeMissingError extends RiskAuditError {}

/** A configuration, policy or mapping file is invalid. */
export class ConfigError extends RiskAuditError {}

/** Another run holds the lease for this date. */
export class RunInProgressError extends RiskAuditError {}

/** A run's plan exceeds what one workflow execution can carry (Step Functions' state limit). */
export class WorkflowLimitError extends RiskAuditError {}

/** A store or mail operation failed after its retries. */
export class StoreError extends RiskAuditError {}

/** Turns anything thrown into one readable sentence for a person. */
export function toSentence(error: unknown): string {
  if (error instanceof RiskAuditError) return error.message;
  if (error instanceof Error) return `unexpected error: ${error.message.split('\n')[0]}`;
  return `unexpected error: ${String(error)}`;
}
