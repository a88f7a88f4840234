import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SesReportMailer } from '../../../shared/adapters/ses-report-mailer.ts';
import { StoreError } from '../../../shared/errors.ts';

const ses = mockClient(SESv2Client);
const MESSAGE = new TextEncoder().encode('From: a@example.com\r\nSubject: x\r\n\r\nbody');

describe('Class: SesReportMailer', () => {
  beforeEach(() => {
    ses.reset();
  });

  it('sends the raw message with the recipients as its envelope', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({ MessageId: 'msg-1' });
    const mailer = new SesReportMailer(new SESv2Client({ region: 'eu-west-1' }), {
      configurationSetName: 'risk',
    });

    // Act
    const out = await mailer.sendRaw(MESSAGE, ['cro@example.com', ' cro@example.com ', 'risk@example.com']);

    // Assess
    expect(out).toEqual({ messageId: 'msg-1' });
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Content: { Raw: { Data: MESSAGE } },
      Destination: { ToAddresses: ['cro@example.com', 'risk@example.com'] },
      ConfigurationSetName: 'risk',
    });
  });

  it('splits more than 50 recipients into batches', async () => {
    ses.on(SendEmailCommand).resolvesOnce({ MessageId: 'a' }).resolvesOnce({ MessageId: 'b' });
    const mailer = new SesReportMailer(new SESv2Client({ region: 'eu-west-1' }));
    const recipients = Array.from({ length: 51 }, (_, i) => `r${i}@example.com`);

    const out = await mailer.sendRaw(MESSAGE, recipients);

    expect(out.messageId).toBe('a,b');
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls.map((c) => c.args[0].input.Destination?.ToAddresses?.length)).toEqual([50, 1]);
  });

  it('refuses to send without recipients', async () => {
    const mailer = new SesReportMailer(new SESv2Client({ region: 'eu-west-1' }));
    await expect(mailer.sendRaw(MESSAGE, [' '])).rejects.toThrow(StoreError);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('turns an SES error into a StoreError that names it', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' }));
    const mailer = new SesReportMailer(new SESv2Client({ region: 'eu-west-1' }));
    const error = await mailer.sendRaw(MESSAGE, ['cro@example.com']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toBe(
      'cannot send the report through SES (MessageRejected): Email address is not verified.',
    );
  });
});
