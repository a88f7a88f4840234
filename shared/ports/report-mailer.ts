/** Sends a finished MIME message (report or failure notice) to its recipients. */
export interface ReportMailer {
  sendRaw(message: Uint8Array, recipients: readonly string[]): Promise<{ messageId: string }>;
}
