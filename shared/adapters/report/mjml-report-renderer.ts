import type { ReportRenderer } from '../../ports/report-renderer.ts';
import { buildFailureNotice, buildFullReport, buildReport } from './build-report.ts';
import { readStoredQuarantineSample, writeQuarantineSample } from './quarantine-sample.ts';

/**
 * The reports as MJML email (charts as PNG, MIME by nodemailer's composer) and one HTML page
 * (charts as SVG), with the quarantine sample kept as JSON in the artifact store.
 */
export const mjmlReportRenderer: ReportRenderer = {
  buildReport,
  buildFullReport,
  buildFailureNotice,
  writeQuarantineSample,
  readStoredQuarantineSample,
};
