import { createAwsDeps } from '../../shared/adapters/aws-deps.ts';
import { withObservability } from '../../shared/adapters/observability.ts';
import { mjmlReportRenderer } from '../../shared/adapters/report/mjml-report-renderer.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseEvent } from '../../shared/use-cases/parse-event.ts';
import { sendReport } from '../../shared/use-cases/send-report.ts';
import { RunOutcomeSchema } from '../../shared/use-cases/workflow-types.ts';

// A step that renders reports (send-report, notify-failure): its bundle ships the chart renderer.
const deps = createAwsDeps(loadConfig(), { reports: mjmlReportRenderer });

/** Step 4: render the audit email, archive it next to the run, send it. */
export const handler = withObservability(async (event: unknown) =>
  sendReport(parseEvent(RunOutcomeSchema, event, 'run outcome'), deps),
);
