import { cleanText } from './format.ts';

/** Why and where a run failed, for the short notice sent instead of the report. */
export interface FailureNoticeInput {
  snapshotDate: string;
  /** One readable sentence (see toSentence in shared/errors.ts). */
  reason: string;
  runId?: string;
  /** How to re-run the date, e.g. the CLI command or the state-machine input. */
  rerunHint: string;
  /** The step that failed, e.g. `ingest` or `audit`. */
  stage?: string;
  from: string;
  to: readonly string[];
  /** Fixed in tests so the message is reproducible. @default new Date() */
  occurredAt?: Date;
}

/** The failure notice as display strings. */
export interface FailureNoticeModel {
  subject: string;
  preheader: string;
  snapshotDate: string;
  reason: string;
  stage: string | null;
  runId: string | null;
  rerunHint: string;
  occurredAt: string;
}

/** Builds the display model of the failure notice; the reason may quote a file name, so it is cleaned. */
export function buildFailureNoticeModel(input: FailureNoticeInput): FailureNoticeModel {
  const reason = cleanText(input.reason, 400) || 'no reason recorded';
  const stage = input.stage ? cleanText(input.stage, 40) : null;
  return {
    subject: `[FAILED] Risk audit ${cleanText(input.snapshotDate, 10)} · no report today`,
    preheader: `The audit of ${cleanText(input.snapshotDate, 10)} did not complete: ${reason}`,
    snapshotDate: cleanText(input.snapshotDate, 10),
    reason,
    stage,
    runId: input.runId ? cleanText(input.runId, 120) : null,
    rerunHint: cleanText(input.rerunHint, 400),
    occurredAt: (input.occurredAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** The plain-text part of the failure notice. */
export function renderFailureText(model: FailureNoticeModel): string {
  return [
    model.subject,
    '='.repeat(60),
    '',
    `The risk audit of ${model.snapshotDate} did not complete, so there is no report today.`,
    '',
    `Reason: ${model.reason}`,
    ...(model.stage ? [`Step: ${model.stage}`] : []),
    ...(model.runId ? [`Run: ${model.runId}`] : []),
    `When: ${model.occurredAt}`,
    '',
    'To re-run the date once the cause is fixed:',
    `  ${model.rerunHint}`,
    '',
  ].join('\n');
}
