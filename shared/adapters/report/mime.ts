import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { ChartImage, MailAttachment } from '../../domain/report/types.ts';

/** Everything a MIME message is made of. */
export interface ComposeInput {
  from: string;
  to: readonly string[];
  subject: string;
  html: string;
  text: string;
  inlineImages?: readonly ChartImage[];
  attachments?: readonly MailAttachment[];
  date?: Date;
  /** Extra headers, e.g. `X-Risk-Audit-Date`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Builds the raw message: multipart/alternative (text, then HTML with its cid images in
 * multipart/related) plus attachments. Local files and URLs are refused as content sources, so
 * a value can never make the composer read the disk or the network.
 */
export async function composeMime(input: ComposeInput): Promise<Uint8Array> {
  const composer = new MailComposer({
    from: input.from,
    to: [...input.to],
    subject: input.subject,
    text: input.text,
    html: input.html,
    date: input.date ?? new Date(),
    headers: { ...input.headers },
    disableFileAccess: true,
    disableUrlAccess: true,
    textEncoding: 'quoted-printable',
    attachments: [
      ...(input.inlineImages ?? []).map((img) => ({
        filename: img.fileName,
        content: Buffer.from(img.png),
        contentType: 'image/png',
        cid: img.cid,
        contentDisposition: 'inline' as const,
      })),
      ...(input.attachments ?? []).map((a) => ({
        filename: a.fileName,
        content: typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : Buffer.from(a.content),
        contentType: a.contentType,
        contentDisposition: 'attachment' as const,
        // Text stays nearly its own size in quoted-printable; base64 would add a third.
        ...(a.contentType.startsWith('text/')
          ? { contentTransferEncoding: 'quoted-printable' as const }
          : {}),
      })),
    ],
  });
  const message = await composer.compile().build();
  return new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
}
