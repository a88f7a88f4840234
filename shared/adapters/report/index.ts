/** The emailed report: MJML rendering, charts, MIME composition. */
export {
  type BuildReportOptions,
  type BuiltNotice,
  type BuiltReport,
  buildFailureNotice,
  buildReport,
  inlineImagesAsDataUris,
} from './build-report.ts';
export { type ChartImage, resolveChartFont } from './charts.ts';
export { composeMime, type MailAttachment } from './mime.ts';
export { ReportTemplateError } from './mjml-report.ts';
