import type { ReportRenderer } from '../../ports/report-renderer.ts';
import { buildFailureNotice, buildFullReport, buildReport } from './build-report.ts';

/**
 * The reports as MJML email (charts as PNG by resvg, MIME by nodemailer's composer) and one HTML
 * page (charts as SVG). resvg is a native add-on shipped beside the bundles of send-report and
 * notify-failure only: their handlers alone import this (test/unit/architecture.test.ts).
 */
export const mjmlReportRenderer: ReportRenderer = {
  buildReport,
  buildFullReport,
  buildFailureNotice,
};
