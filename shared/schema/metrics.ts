/**
 * Custom CloudWatch metrics the functions emit (Powertools EMF, namespace RiskAudit, dimension
 * `service`) and the alarms read: one source for both sides.
 */

/** Namespace of every custom metric. */
export const METRICS_NAMESPACE = 'RiskAudit';
/** Powertools service name of every function (the metrics' `service` dimension). */
export const POWERTOOLS_SERVICE_NAME = 'risk-audit';

/** Names of the custom metrics the alarms watch. */
export const METRIC = {
  /** prepare-run found no tape at run time (value 1). */
  tapeMissing: 'TapeMissing',
  /**
   * A handler threw an expected outcome (isExpectedError); dimension FunctionName, timestamped at
   * the invocation's start. The function-error alarm subtracts it from Lambda's Errors.
   */
  expectedErrors: 'ExpectedErrors',
  /** Recipients of a report or notice whose mail server refused it for good (SES permanent bounce). */
  mailBounced: 'MailBounced',
  /** Recipients whose server refused the message for now (SES transient bounce; SES retried). */
  mailSoftBounced: 'MailSoftBounced',
  /** Recipients who marked a report or notice as spam (SES complaint). */
  mailComplained: 'MailComplained',
  /** Messages SES refused to send (SES reject: it found a virus). */
  mailRejected: 'MailRejected',
  /** A finished audit's report could not be sent (after the report step's retries); the audit stands. */
  reportNotDelivered: 'ReportNotDelivered',
  /** An execution ended outside the workflow's own catch (timed out, aborted, an uncaught error). */
  runEndedUncaught: 'RunEndedUncaught',
} as const;
