import { SnsEnvelope } from '@aws-lambda-powertools/parser/envelopes/sns';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { z } from 'zod';
import { classifyMailEvent, type MailCounter, type MailEventOutcome } from '../domain/mail-event.ts';
import { describeIssues, InvalidEventError } from './parse-event.ts';

/** An SES sending event as SES publishes it to SNS; fields this step does not read pass through unchecked. */
export const SesSendingEventSchema = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.object({ messageId: z.string().min(1), timestamp: z.string() }),
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(z.unknown()).default([]),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(z.unknown()).default([]),
      complaintFeedbackType: z.string().optional(),
    })
    .optional(),
  reject: z.object({ reason: z.string().optional() }).optional(),
});

/**
 * The SES events in an SNS delivery to a Lambda subscriber (each record's Message is one event);
 * a delivery that is not one is refused in one sentence naming each wrong field.
 */
export function parseMailEventNotifications(event: unknown): z.output<typeof SesSendingEventSchema>[] {
  try {
    return SnsEnvelope.parse(event, JSONStringified(SesSendingEventSchema));
  } catch (error) {
    const zodError = error instanceof z.ZodError ? error : (error as { cause?: unknown }).cause;
    if (!(zodError instanceof z.ZodError)) throw error;
    throw new InvalidEventError(`invalid SNS delivery of SES events: ${describeIssues(zodError.issues)}`, {
      cause: error,
    });
  }
}

/** Where the counts go (CloudWatch metrics on AWS) and where each event is logged. */
export interface MailEventDeps {
  count(counter: MailCounter, value: number): void;
  log(outcome: MailEventOutcome): void;
}

/**
 * Records the delivery events of the reports and failure notices (bounces, complaints, rejects)
 * as metrics the mail alarms watch, and one log line each (message id, kind, bounce type; no
 * address). Returns the totals by counter.
 */
export function recordMailEvents(
  events: readonly z.output<typeof SesSendingEventSchema>[],
  deps: MailEventDeps,
): Partial<Record<MailCounter, number>> {
  const totals: Partial<Record<MailCounter, number>> = {};
  for (const event of events) {
    const outcome = classifyMailEvent(event);
    deps.log(outcome);
    if (outcome.counter === null) continue;
    totals[outcome.counter] = (totals[outcome.counter] ?? 0) + outcome.count;
  }
  for (const [counter, value] of Object.entries(totals) as [MailCounter, number][])
    deps.count(counter, value);
  return totals;
}
