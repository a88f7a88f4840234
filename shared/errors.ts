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

/**
 * A tape that was read but cannot be audited as the run's tape: most of its rows carry another
 * date, or not one row is valid. The run fails with this sentence; the quarantine file is kept.
 */
export class TapeRejectedError extends RiskAuditError {}

/** No tape was found for the requested date. */
export class TapeMissingError extends RiskAuditError {}

/** A configuration, policy or mapping file is invalid. */
export class ConfigError extends RiskAuditError {}

/** Another run holds the lease for this date. */
export class RunInProgressError extends RiskAuditError {}

/** A run's plan exceeds what one workflow execution can carry (Step Functions' state limit). */
export class WorkflowLimitError extends RiskAuditError {}

/** A step of a run's plan would need more memory than its function is configured with. */
export class PlanMemoryError extends WorkflowLimitError {}

/**
 * An item of a map step (a shard, a loan-id bucket) failed after its retries: the step after the
 * map fails the run with it, under the item's own error name and sentence.
 */
export class MapItemFailedError extends RiskAuditError {
  public constructor(errorName: string, message: string) {
    super(message);
    this.name = errorName;
  }
}

/** A score file is not one this release reads (another version of its format, or not a score file). */
export class ScoreFileError extends RiskAuditError {}

/** A store or mail operation failed after its retries. */
export class StoreError extends RiskAuditError {}

/**
 * SES throttled or failed for a while (after the SDK's own retries): the report step is retried
 * by the workflow (TRANSIENT_DELIVERY_ERRORS), then recorded as a failed delivery.
 */
export class MailDeliveryDelayedError extends StoreError {}

/**
 * Errors that are outcomes of the audit, not faults of the system: a duplicate start, a tape
 * missing or unreadable, a delivery in too many parts. The workflow records and reports each one
 * (run record, failure notice, the run and tape alarms), so they stay out of the function-error
 * alarm, which is for bugs and infrastructure.
 */
const EXPECTED_ERRORS = [RunInProgressError, TapeMissingError, TapeUnreadableError, WorkflowLimitError];

/** Whether a thrown error is an expected outcome of a run (see EXPECTED_ERRORS). */
export function isExpectedError(error: unknown): boolean {
  // A map item's expected outcome (an unreadable shard) stays expected when the step after the
  // map fails the run with it.
  if (error instanceof MapItemFailedError) return EXPECTED_ERRORS.some((kind) => kind.name === error.name);
  return EXPECTED_ERRORS.some((kind) => error instanceof kind);
}

/** Turns anything thrown into one readable sentence for a person. */
export function toSentence(error: unknown): string {
  if (error instanceof RiskAuditError) return error.message;
  if (error instanceof Error) return `unexpected error: ${error.message.split('\n')[0]}`;
  return `unexpected error: ${String(error)}`;
}
