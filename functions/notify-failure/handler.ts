import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { mjmlReportRenderer } from '../../shared/adapters/report/mjml-report-renderer.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { notifyEnding } from '../../shared/use-cases/record-failure.ts';
import { NotifyEventSchema } from '../../shared/use-cases/workflow-types.ts';

// A step that renders reports (send-report, notify-failure): its bundle ships the chart renderer.
const deps = createAwsDeps(loadConfig(), { reports: mjmlReportRenderer });

/**
 * The workflow's Catch step (record the failed run, send the failure notice, release the lease),
 * its failed-delivery step (record it, no notice), and the target of the execution status-change
 * rule (an ending outside the catch: recorded and notified once).
 */
export const handler = withObservability(async (event: unknown) =>
  notifyEnding(parseEvent(NotifyEventSchema, event, 'failure event'), deps),
);
