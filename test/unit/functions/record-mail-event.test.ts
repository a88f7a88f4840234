import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../../shared/cli/lambda-context.ts';
import { sesFixture, snsDelivery } from '../../fixtures/ses-events/sns-delivery.ts';

const fixture = sesFixture;

/** What the handler wrote to stdout: its EMF metric documents and its log lines, as JSON. */
function captureStdout(): { lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return {
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function loadHandler() {
  vi.resetModules();
  return (await import('../../../functions/record-mail-event/handler.ts')).handler;
}

describe('Function: record-mail-event', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'record-mail-event');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('publishes the bounces and complaints of one SNS delivery as RiskAudit metrics, logging no address', async () => {
    const handler = await loadHandler();
    const out = captureStdout();

    const totals = await handler(
      snsDelivery(fixture('bounce.json'), fixture('complaint.json'), fixture('delivery.json')),
      lambdaContext('record-mail-event'),
    );

    expect(totals).toEqual({ mailBounced: 1, mailComplained: 1 });
    const lines = out.lines();
    const emf = lines.filter((l) => '_aws' in l);
    expect(emf).toHaveLength(1);
    const doc = emf[0] as {
      _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
    } & Record<string, unknown>;
    expect(doc._aws.CloudWatchMetrics[0]!.Namespace).toBe('RiskAudit');
    expect(doc._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name).sort()).toEqual([
      'MailBounced',
      'MailComplained',
    ]);
    expect([doc.MailBounced, doc.MailComplained, doc.service]).toEqual([1, 1, 'risk-audit']);
    const logged = lines.filter((l) => l.message === 'mail event');
    expect(logged.map((l) => l.kind)).toEqual(['Bounce', 'Complaint', 'Delivery']);
    // The SES examples' recipients are on example.com: no address reaches the logs.
    expect(JSON.stringify(lines)).not.toMatch(/@example\.com/);
  });

  it('refuses a delivery whose message is not an SES event, in one sentence', async () => {
    const handler = await loadHandler();
    captureStdout();
    await expect(handler(snsDelivery('{"mail": 42}'), lambdaContext('record-mail-event'))).rejects.toThrow(
      /mail/,
    );
  });
});
