import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { MailDeliveryDelayedError, StoreError } from '../errors.ts';
import type { ReportMailer } from '../ports/report-mailer.ts';
import { isTransient } from './aws-errors.ts';

/** SES takes at most 50 recipients per message. */
export const SES_MAX_RECIPIENTS = 50;
/** SESv2 refuses raw messages above 40 MB. */
export const SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

/** Options of the SES mailer. */
export interface SesReportMailerOptions {
  /** Envelope sender; by default SES takes the message's From header. */
  fromAddress?: string;
  /** SES configuration set (event publishing, suppression). */
  configurationSetName?: string;
}

/**
 * Sends a finished MIME message through SESv2 `SendEmail` with `Content.Raw`. The recipients are
 * the envelope (`Destination`), in batches of 50; the message's own headers stay as composed.
 */
export class SesReportMailer implements ReportMailer {
  readonly #client: SESv2Client;
  readonly #options: SesReportMailerOptions;

  public constructor(client: SESv2Client, options: SesReportMailerOptions = {}) {
    this.#client = client;
    this.#options = options;
  }

  public async sendRaw(message: Uint8Array, recipients: readonly string[]): Promise<{ messageId: string }> {
    const to = [...new Set(recipients.map((r) => r.trim()).filter((r) => r.length > 0))];
    if (to.length === 0) throw new StoreError('cannot send the report: no recipients are configured');
    if (message.byteLength > SES_MAX_MESSAGE_BYTES) {
      throw new StoreError(
        `cannot send the report: the message is ${message.byteLength} bytes, above the SES limit`,
      );
    }
    const ids: string[] = [];
    for (let i = 0; i < to.length; i += SES_MAX_RECIPIENTS) {
      const batch = to.slice(i, i + SES_MAX_RECIPIENTS);
      try {
        const out = await this.#client.send(
          new SendEmailCommand({
            Content: { Raw: { Data: message } },
            Destination: { ToAddresses: batch },
            ...(this.#options.fromAddress ? { FromEmailAddress: this.#options.fromAddress } : {}),
            ...(this.#options.configurationSetName
              ? { ConfigurationSetName: this.#options.configurationSetName }
              : {}),
          }),
        );
        ids.push(out.MessageId ?? 'unknown');
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
        // Throttling, a 5xx or a network failure may pass: the workflow retries the report step.
        // A refusal (unverified sender, sandbox, a rejected message) will not: it fails at once.
        const Kind = isTransient(error) ? MailDeliveryDelayedError : StoreError;
        throw new Kind(`cannot send the report through SES (${name}): ${detail}`, { cause: error });
      }
    }
    return { messageId: ids.join(',') };
  }
}
