import { failedAudit } from '../domain/audit-result.ts';
import { auditDateForSchedule } from '../domain/calendar.ts';
import { isIsoDate } from '../domain/tape/values.ts';
import { dateOfKey, KEYS } from '../schema/tables.ts';
import { type AuditDeps, type RunSummary, reportRenderer } from './deps.ts';
import { failureSentence } from './map-results.ts';
import { runningSummary } from './prepare-run.ts';
import { rerunHint } from './send-report.ts';
import {
  type CaughtError,
  type DeliveryFailureEvent,
  type ExecutionStatusChange,
  type FailureEvent,
  type NotifyEvent,
  runIdFor,
  UNCAUGHT_END_STATUSES,
} from './workflow-types.ts';

/** What the failure step did. */
export interface FailureOutcome {
  reason: string;
  /** Whether this call sent (or, with no recipients, would have sent) the failure notice. */
  notified: boolean;
  /** Whether the run record and audit.json now say failed. */
  recorded: boolean;
}

/**
 * What a failure does to the date's record, given it: `record` (no record, this run's own while
 * running, or an earlier failure), `keep` (another run's record stays: it holds the date, or its
 * audit is finished and this run never started auditing), `finished` (this run's audit is
 * finished: what failed came after, the report, so the audit and its record stand).
 */
export function failureAction(existing: RunSummary | null, runId: string): 'record' | 'keep' | 'finished' {
  if (existing === null) return 'record';
  if (existing.runId === runId)
    return existing.status === 'ok' || existing.status === 'partial' ? 'finished' : 'record';
  return existing.status === 'failed' ? 'record' : 'keep';
}

/** The date a failure concerns: the plan's, the start event's (a date, a schedule time, an arrival key). */
function dateOf(event: FailureEvent, timeZone: string): string | null {
  if (event.plan) return event.plan.snapshotDate;
  if (event.snapshotDate) return event.snapshotDate;
  if (event.scheduledTime) return auditDateForSchedule(new Date(event.scheduledTime), timeZone);
  const fromKey = event.objectKey === undefined ? null : dateOfKey(event.objectKey);
  return fromKey !== null && isIsoDate(fromKey) ? fromKey : null;
}

/**
 * The failure step (the workflow's Catch, or an execution's status-change event): records the
 * failed run (run record and a failed audit.json, so nothing partial is read as complete), gives
 * the date's lease back and sends the short failure notice, once per run: the notice leaves a
 * marker beside the run, and a second call for the same run (the execution's FAILED event after
 * its own Catch) does nothing. A finished audit is never marked failed: an ending after finalize
 * is a failed delivery of its report.
 */
export async function recordFailure(event: FailureEvent, deps: AuditDeps): Promise<FailureOutcome> {
  const { type, sentence } = failureSentence(event.error);
  const now = deps.now();
  const snapshotDate = dateOf(event, deps.config.TIMEZONE);
  // A second run refused by the lease is not news, and must not touch the run that holds it.
  if (type === 'RunInProgressError') return { reason: sentence, notified: false, recorded: false };
  const runId =
    event.plan?.runId ??
    event.runId ??
    (snapshotDate !== null && event.execution ? runIdFor(snapshotDate, event.execution) : null);
  const marker = KEYS.failureNotice(
    snapshotDate ?? 'undated',
    runId ?? event.execution?.name ?? `unknown-${now.getTime().toString(36)}`,
  );
  if ((await deps.artifacts.get(marker)) !== null)
    return { reason: sentence, notified: false, recorded: false };

  let recorded: RunSummary | null = null;
  if (snapshotDate !== null && runId !== null) {
    const existing = await deps.store.getRun(snapshotDate);
    const action = failureAction(existing, runId);
    if (action === 'finished' && existing !== null) {
      // The audit was stored: only its report went wrong.
      await recordDeliveryFailed(existing, sentence, deps);
      await deps.store.releaseLease(snapshotDate, runId);
      return { reason: sentence, notified: false, recorded: false };
    }
    if (action === 'record') {
      recorded = {
        ...runningSummary(snapshotDate, runId, event.plan?.trigger ?? event.trigger ?? 'unknown', now),
        startedAt: event.plan?.startedAt ?? existing?.startedAt ?? now.toISOString(),
        status: 'failed',
        finishedAt: now.toISOString(),
        error: sentence,
      };
      await deps.store.recordRun(recorded);
      await deps.artifacts.put(
        KEYS.audit(snapshotDate),
        `${JSON.stringify(failedAudit({ snapshotDate, previousSnapshotDate: event.plan?.previousSnapshotDate ?? null, error: sentence, failedAt: now, runId }), null, 2)}\n`,
        'application/json',
      );
    }
    await deps.store.releaseLease(snapshotDate, runId);
  }
  deps.metrics.count('RunFailed');
  let delivery: NonNullable<RunSummary['delivery']> = { status: 'none', at: now.toISOString() };
  if (deps.config.REPORT_RECIPIENTS.length > 0) {
    const notice = await reportRenderer(deps).buildFailureNotice({
      snapshotDate: snapshotDate ?? 'unknown date',
      reason: sentence,
      ...(runId !== null ? { runId } : {}),
      rerunHint: rerunHint(snapshotDate),
      from: deps.config.REPORT_SENDER,
      to: deps.config.REPORT_RECIPIENTS,
      occurredAt: now,
    });
    try {
      const { messageId } = await deps.mailer.sendRaw(notice.eml, deps.config.REPORT_RECIPIENTS);
      delivery = { status: 'sent', at: deps.now().toISOString(), messageId };
    } catch (error) {
      // No marker: the execution's status-change event tries the notice again.
      if (recorded !== null)
        await deps.store.recordRun({
          ...recorded,
          delivery: { status: 'failed', at: deps.now().toISOString(), error: sentenceOf(error) },
        });
      throw error;
    }
  }
  await deps.artifacts.put(marker, JSON.stringify({ runId, reason: sentence, delivery }), 'application/json');
  if (recorded !== null) await deps.store.recordRun({ ...recorded, delivery });
  return { reason: sentence, notified: true, recorded: recorded !== null };
}

function sentenceOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** Notes on a finished run's record that its report was not delivered, and raises the alarm's metric. */
async function recordDeliveryFailed(run: RunSummary, sentence: string, deps: AuditDeps): Promise<void> {
  // Sent, or already noted as failed (a second report of the same ending).
  if (run.delivery?.status === 'sent' || run.delivery?.status === 'failed') return;
  await deps.store.recordRun({
    ...run,
    delivery: { status: 'failed', at: deps.now().toISOString(), error: sentence },
  });
  deps.metrics.count('ReportNotDelivered');
  deps.logger.warn('report not delivered', {
    snapshotDate: run.snapshotDate,
    runId: run.runId,
    reason: sentence,
  });
}

/**
 * The report step failed (after its retries) with the audit finished and stored: the run record
 * notes the failed delivery (the next report names it), the alarm's metric counts it, and the
 * audit, its record's status and audit.json stay as they are. No failure notice: that is for
 * failed audits.
 */
export async function recordDeliveryFailure(
  event: DeliveryFailureEvent,
  deps: AuditDeps,
): Promise<{ reason: string; delivered: false }> {
  const { outcome, error } = event.deliveryFailed;
  const { sentence } = failureSentence(error);
  const run = await deps.store.getRun(outcome.snapshotDate);
  if (run !== null && run.runId === outcome.runId) await recordDeliveryFailed(run, sentence, deps);
  else deps.metrics.count('ReportNotDelivered');
  return { reason: sentence, delivered: false };
}

/** The failure as an execution's status-change event tells it (TIMED_OUT and ABORTED carry no error of ours). */
function endingError(detail: ExecutionStatusChange['detail']): CaughtError {
  if (detail.status === 'TIMED_OUT') return { Error: 'States.Timeout', Cause: detail.cause ?? '' };
  if (detail.status === 'ABORTED')
    return {
      Error: 'ExecutionAborted',
      Cause: 'the run was stopped before it finished (its execution was aborted)',
    };
  return { Error: detail.error ?? 'States.Runtime', Cause: detail.cause ?? '' };
}

/** The start event's fields a failure needs, from the execution's input (a JSON string). */
function startFields(
  input: string | null | undefined,
): Pick<FailureEvent, 'snapshotDate' | 'scheduledTime' | 'objectKey' | 'trigger'> {
  let start: unknown;
  try {
    start = JSON.parse(input ?? 'null');
  } catch {
    return {};
  }
  if (start === null || typeof start !== 'object') return {};
  const s = start as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const snapshotDate = text(s.snapshotDate);
  const fields = {
    ...(snapshotDate !== undefined && isIsoDate(snapshotDate) ? { snapshotDate } : {}),
    ...(text(s.scheduledTime) !== undefined ? { scheduledTime: text(s.scheduledTime)! } : {}),
    ...(text(s.objectKey) !== undefined ? { objectKey: text(s.objectKey)! } : {}),
    ...(text(s.trigger) !== undefined ? { trigger: text(s.trigger)! } : {}),
  };
  return fields;
}

/**
 * An execution that ended failed, timed out or aborted (EventBridge's status-change event): the
 * same failure step, for the run the execution names (its run id derives from the execution), so
 * a timed-out or aborted run is recorded, its lease given back and its notice sent, and a run its
 * own Catch already reported is not reported again.
 */
export async function recordEnding(event: ExecutionStatusChange, deps: AuditDeps): Promise<FailureOutcome> {
  const { detail } = event;
  if (!(UNCAUGHT_END_STATUSES as readonly string[]).includes(detail.status))
    return { reason: `the execution is ${detail.status.toLowerCase()}`, notified: false, recorded: false };
  const outcome = await recordFailure(
    {
      ...startFields(detail.input),
      execution: { name: detail.name, startTime: new Date(detail.startDate).toISOString() },
      error: endingError(detail),
    },
    deps,
  );
  if (outcome.notified) deps.metrics.count('RunEndedUncaught');
  return outcome;
}

/** The notify-failure function: a workflow failure, a failed delivery, or an execution's end. */
export function notifyEnding(event: NotifyEvent, deps: AuditDeps): Promise<unknown> {
  if ('detail' in event) return recordEnding(event as ExecutionStatusChange, deps);
  if ('deliveryFailed' in event) return recordDeliveryFailure(event as DeliveryFailureEvent, deps);
  return recordFailure(event as FailureEvent, deps);
}

export { failureSentence } from './map-results.ts';
