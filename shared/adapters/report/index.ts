/** The reports: the email (MJML, a PNG chart, MIME) and the full report (one HTML page). */
export {
  type BuildReportOptions,
  type BuiltFullReport,
  type BuiltNotice,
  type BuiltReport,
  buildFailureNotice,
  buildFullReport,
  buildReport,
  inlineImagesAsDataUris,
} from './build-report.ts';
export { type ChartImage, resolveChartFont } from './charts.ts';
export { composeMime, type MailAttachment } from './mime.ts';
export { ReportTemplateError } from './mjml-report.ts';
