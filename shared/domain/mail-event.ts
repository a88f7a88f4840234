/**
 * What an SES sending event (published through the configuration set) says about the delivery
 * of a report or failure notice, counted for the metrics the mail alarms watch. Pure: no AWS
 * types, no I/O; the recipients' addresses are counted, never kept.
 */

/** The fields of an SES sending event this module reads (SES's "Contents of event data"). */
export interface SesSendingEvent {
  /** `Bounce`, `Complaint`, `Reject`, ...; identity notifications call it notificationType. */
  readonly eventType?: string | undefined;
  readonly notificationType?: string | undefined;
  readonly mail: { readonly messageId: string; readonly timestamp: string };
  readonly bounce?:
    | {
        readonly bounceType: string;
        readonly bounceSubType?: string | undefined;
        readonly bouncedRecipients: readonly unknown[];
      }
    | undefined;
  readonly complaint?:
    | {
        readonly complainedRecipients: readonly unknown[];
        readonly complaintFeedbackType?: string | undefined;
      }
    | undefined;
  readonly reject?: { readonly reason?: string | undefined } | undefined;
}

/** Names of the delivery counters (see METRIC in shared/schema/metrics.ts). */
export type MailCounter = 'mailBounced' | 'mailSoftBounced' | 'mailComplained' | 'mailRejected';

/** One event, classified: which counter it adds to and by how much, and a log line's facts. */
export interface MailEventOutcome {
  readonly counter: MailCounter | null;
  readonly count: number;
  readonly kind: string;
  readonly detail: string | null;
  readonly messageId: string;
}

/**
 * Classifies an SES event: a permanent bounce (the address does not exist or refuses for good:
 * the recipient must be fixed) counts its recipients as bounced; a transient or undetermined one
 * as soft-bounced (SES retried and gave up for now); a complaint counts its complainants; a reject
 * (SES found a virus) counts the message. Any other event type counts nothing.
 */
export function classifyMailEvent(event: SesSendingEvent): MailEventOutcome {
  const kind = event.eventType ?? event.notificationType ?? 'unknown';
  const messageId = event.mail.messageId;
  if (kind === 'Bounce' && event.bounce !== undefined) {
    const permanent = event.bounce.bounceType === 'Permanent';
    return {
      counter: permanent ? 'mailBounced' : 'mailSoftBounced',
      count: Math.max(1, event.bounce.bouncedRecipients.length),
      kind,
      detail: [event.bounce.bounceType, event.bounce.bounceSubType].filter(Boolean).join('/'),
      messageId,
    };
  }
  if (kind === 'Complaint' && event.complaint !== undefined) {
    return {
      counter: 'mailComplained',
      count: Math.max(1, event.complaint.complainedRecipients.length),
      kind,
      detail: event.complaint.complaintFeedbackType ?? null,
      messageId,
    };
  }
  if (kind === 'Reject') {
    return { counter: 'mailRejected', count: 1, kind, detail: event.reject?.reason ?? null, messageId };
  }
  return { counter: null, count: 0, kind, detail: null, messageId };
}
