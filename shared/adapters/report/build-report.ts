import {
  buildFailureNoticeModel,
  type FailureNoticeInput,
  renderFailureText,
} from '../../domain/report/failure.ts';
import { buildFullReportModel } from '../../domain/report/full-report.ts';
import { buildReportModel } from '../../domain/report/model.ts';
import { renderReportText } from '../../domain/report/text.ts';
import type { MailAttachment, ReportInput } from '../../domain/report/types.ts';
import { buildWatchlistCsv } from '../../domain/report/watchlist-csv.ts';
import type { BuiltFullReport, BuiltNotice, BuiltReport } from '../../ports/report-renderer.ts';
import { renderChartSvgs, renderCharts, resolveChartFont } from './charts.ts';
import { renderFullReportHtml } from './full-report-html.ts';
import { composeMime } from './mime.ts';
import { compileMjml, renderFailureMjml, renderReportMjml } from './mjml-report.ts';

/** Options of the renderer (not of the report's content). */
export interface BuildReportOptions {
  /** A TTF for chart text; by default the dejavu-fonts-ttf package or REPORT_FONT_FILE. */
  fontFile?: string;
}

/** Builds the email: subject, MJML-rendered HTML, text part, the trend chart, the watchlist CSV and MIME. */
export async function buildReport(
  input: ReportInput,
  options: BuildReportOptions = {},
): Promise<BuiltReport> {
  const model = buildReportModel(input);
  const charts = model.trend.chart ? [model.trend.chart] : [];
  const images = await renderCharts(charts, options.fontFile ?? resolveChartFont());
  const html = await compileMjml(renderReportMjml(model, images));
  const text = renderReportText(model);
  const attachments: MailAttachment[] = [];
  if (input.watchlist && input.watchlist.length > 0) {
    attachments.push({
      fileName: model.watchlistFileName,
      contentType: 'text/csv; charset=utf-8',
      content: buildWatchlistCsv(input.watchlist),
    });
  }
  const eml = await composeMime({
    from: input.from,
    to: input.to,
    subject: model.subject,
    html,
    text,
    inlineImages: images,
    attachments,
    date: input.generatedAt ?? new Date(),
    headers: {
      'X-Risk-Audit-Date': model.snapshotDate,
      'X-Risk-Audit-Rating': model.verdict,
      'Auto-Submitted': 'auto-generated',
    },
  });
  return { subject: model.subject, html, text, eml, attachments, images, model };
}

/** Builds the full report (every section, charts as inline SVG, sortable and filterable tables). */
export async function buildFullReport(input: ReportInput): Promise<BuiltFullReport> {
  const model = buildFullReportModel(input);
  const svgs = await renderChartSvgs(model.sections.flatMap((s) => s.charts));
  return { html: renderFullReportHtml(model, svgs), model };
}

/** Builds the short email sent instead of the report when a run fails: the reason and how to re-run. */
export async function buildFailureNotice(input: FailureNoticeInput): Promise<BuiltNotice> {
  const model = buildFailureNoticeModel(input);
  const html = await compileMjml(renderFailureMjml(model));
  const text = renderFailureText(model);
  const eml = await composeMime({
    from: input.from,
    to: input.to,
    subject: model.subject,
    html,
    text,
    date: input.occurredAt ?? new Date(),
    headers: {
      'X-Risk-Audit-Date': model.snapshotDate,
      'X-Risk-Audit-Rating': 'FAILED',
      'Auto-Submitted': 'auto-generated',
    },
  });
  return { subject: model.subject, html, text, eml };
}
