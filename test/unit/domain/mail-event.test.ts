import { describe, expect, it } from 'vitest';
import type { MailEventOutcome } from '../../../shared/domain/mail-event.ts';
import { classifyMailEvent, type MailCounter } from '../../../shared/domain/mail-event.ts';
import {
  parseMailEventNotifications,
  recordMailEvents,
} from '../../../shared/use-cases/record-mail-events.ts';
import { sesFixture, snsDelivery } from '../../fixtures/ses-events/sns-delivery.ts';

const fixture = sesFixture;

const MESSAGE_ID = 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000';

describe('Function: classifyMailEvent', () => {
  const [bounce, soft, complaint, delivery] = parseMailEventNotifications(
    snsDelivery(
      fixture('bounce.json'),
      fixture('transient-bounce.json'),
      fixture('complaint.json'),
      fixture('delivery.json'),
    ),
  );

  it("counts SES's permanent bounce as one bounced recipient", () => {
    expect(classifyMailEvent(bounce!)).toEqual({
      counter: 'mailBounced',
      count: 1,
      kind: 'Bounce',
      detail: 'Permanent/General',
      messageId: MESSAGE_ID,
    });
  });

  it('counts a transient bounce apart: SES gave up for now, the address may be fine', () => {
    expect(classifyMailEvent(soft!)).toMatchObject({
      counter: 'mailSoftBounced',
      count: 1,
      detail: 'Transient/MailboxFull',
    });
  });

  it("counts SES's complaint with its feedback type", () => {
    expect(classifyMailEvent(complaint!)).toEqual({
      counter: 'mailComplained',
      count: 1,
      kind: 'Complaint',
      detail: 'abuse',
      messageId: MESSAGE_ID,
    });
  });

  it('counts a reject once, and nothing for a delivery', () => {
    expect(
      classifyMailEvent({
        eventType: 'Reject',
        mail: { messageId: 'm', timestamp: 't' },
        reject: { reason: 'Bad content' },
      }),
    ).toEqual({ counter: 'mailRejected', count: 1, kind: 'Reject', detail: 'Bad content', messageId: 'm' });
    expect(classifyMailEvent(delivery!)).toMatchObject({ counter: null, count: 0, kind: 'Delivery' });
  });

  it('reads the notificationType of identity notifications as the event type', () => {
    const { eventType: _, ...rest } = JSON.parse(fixture('bounce.json')) as Record<string, unknown>;
    const [event] = parseMailEventNotifications(
      snsDelivery(JSON.stringify({ ...rest, notificationType: 'Bounce' })),
    );
    expect(classifyMailEvent(event!).counter).toBe('mailBounced');
  });
});

describe('Function: recordMailEvents', () => {
  it('sums each counter over a delivery and logs every event without an address', () => {
    // Prepare: two recipients of one message bounced for good, one complained, one was delivered.
    const twoBounced = JSON.parse(fixture('bounce.json')) as { bounce: { bouncedRecipients: unknown[] } };
    twoBounced.bounce.bouncedRecipients.push({
      emailAddress: 'cro@example.com',
      action: 'failed',
      status: '5.1.1',
    });
    const events = parseMailEventNotifications(
      snsDelivery(JSON.stringify(twoBounced), fixture('complaint.json'), fixture('delivery.json')),
    );
    const counted: [MailCounter, number][] = [];
    const logged: MailEventOutcome[] = [];

    // Act
    const totals = recordMailEvents(events, {
      count: (counter, value) => counted.push([counter, value]),
      log: (outcome) => logged.push(outcome),
    });

    // Assess
    expect(totals).toEqual({ mailBounced: 2, mailComplained: 1 });
    expect(counted).toEqual([
      ['mailBounced', 2],
      ['mailComplained', 1],
    ]);
    expect(logged.map((o) => o.kind)).toEqual(['Bounce', 'Complaint', 'Delivery']);
    expect(JSON.stringify(logged)).not.toContain('@');
  });

  it('refuses a delivery whose message is not an SES event, naming the record', () => {
    expect(() => parseMailEventNotifications(snsDelivery(fixture('bounce.json'), '{"not": "ses"}'))).toThrow(
      'invalid SNS delivery of SES events: Records.1.Sns.Message.mail: Invalid input: expected object, received undefined',
    );
    expect(() => parseMailEventNotifications({ Records: [] })).toThrow(
      /^invalid SNS delivery of SES events: Records: /,
    );
  });
});
