import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics, withObservability } from '../../shared/adapters/observability.ts';
import { METRIC } from '../../shared/schema/metrics.ts';
import { parseMailEventNotifications, recordMailEvents } from '../../shared/use-cases/record-mail-events.ts';

/** Subscriber of the mail-events topic: counts the bounces, complaints and rejects SES reports. */
export const handler = withObservability(async (event: unknown) =>
  recordMailEvents(parseMailEventNotifications(event), {
    count: (counter, value) => metrics.addMetric(METRIC[counter], MetricUnit.Count, value),
    log: (outcome) => logger.info('mail event', { ...outcome }),
  }),
);
