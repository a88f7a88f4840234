import { buildFailureNotice } from '../adapters/report/build-report.ts';
import { failedAudit } from '../domain/audit-result.ts';
import { auditDateForSchedule } from '../domain/calendar.ts';
import { KEYS } from '../schema/tables.ts';
import type { AuditDeps } from './deps.ts';
import { failureSentence } from './map-results.ts';
import { runningSummary } from './prepare-run.ts';
import { rerunHint } from './send-report.ts';
import type { FailureEvent } from './workflow-types.ts';

/**
 * The Catch step: records the failed run (run record and a failed audit.json, so nothing partial
 * is read as complete), gives the date's lease back and sends the short failure notice.
 */
export async function recordFailure(event: FailureEvent, deps: AuditDeps): Promise<{ reason: string }> {
  const { type, sentence } = failureSentence(event.error);
  const now = deps.now();
  const snapshotDate =
    event.plan?.snapshotDate ??
    event.snapshotDate ??
    (event.scheduledTime ? auditDateForSchedule(new Date(event.scheduledTime), deps.config.TIMEZONE) : null);
  deps.metrics.count('RunFailed');
  // A second run refused by the lease must not touch the record of the run that holds it.
  if (type !== 'RunInProgressError' && snapshotDate !== null) {
    const runId = event.plan?.runId ?? event.runId ?? `${snapshotDate}-failed-${now.getTime().toString(36)}`;
    await deps.store.recordRun({
      ...runningSummary(snapshotDate, runId, event.plan?.trigger ?? 'unknown', now),
      startedAt: event.plan?.startedAt ?? now.toISOString(),
      status: 'failed',
      finishedAt: now.toISOString(),
      error: sentence,
    });
    await deps.artifacts.put(
      KEYS.audit(snapshotDate),
      `${JSON.stringify(failedAudit({ snapshotDate, previousSnapshotDate: event.plan?.previousSnapshotDate ?? null, error: sentence, failedAt: now, runId }), null, 2)}\n`,
      'application/json',
    );
    if (event.plan) await deps.store.releaseLease(snapshotDate, event.plan.runId);
  }
  // A duplicate start refused by the lease is not news for the recipients.
  if (type !== 'RunInProgressError' && deps.config.REPORT_RECIPIENTS.length > 0) {
    const notice = await buildFailureNotice({
      snapshotDate: snapshotDate ?? 'unknown date',
      reason: sentence,
      ...(event.plan ? { runId: event.plan.runId } : {}),
      rerunHint: rerunHint(snapshotDate),
      from: deps.config.REPORT_SENDER,
      to: deps.config.REPORT_RECIPIENTS,
      occurredAt: now,
    });
    await deps.mailer.sendRaw(notice.eml, deps.config.REPORT_RECIPIENTS);
  }
  return { reason: sentence };
}

export { failureSentence } from './map-results.ts';
