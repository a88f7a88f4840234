import {
  buildFailureNoticeModel,
  type FailureNoticeInput,
  renderFailureText,
} from '../../domain/report/failure.ts';
import { buildFullReportModel } from '../../domain/report/full-report.ts';
import { buildReportModel } from '../../domain/report/model.ts';
import { renderReportText } from '../../domain/report/text.ts';
import type { FullReportModel, ReportInput, ReportModel } from '../../domain/report/types.ts';
import { buildWatchlistCsv } from '../../domain/report/watchlist-csv.ts';
import { type ChartImage, renderChartSvgs, renderCharts, resolveChartFont } from './charts.ts';
import { renderFullReportHtml } from './full-report-html.ts';
import { composeMime, type MailAttachment } from './mime.ts';
import { compileMjml, renderFailureMjml, renderReportMjml } from './mjml-report.ts';

/** A finished report: the parts, the raw message and what it carries. */
export interface BuiltReport {
  subject: string;
  /** Email HTML; charts are referenced as `cid:` URLs. */
  html: string;
  text: string;
  /** The raw MIME message, ready for SES and for `report.eml`. */
  eml: Uint8Array;
  /** The file attachments (the watchlist CSV). */
  attachments: MailAttachment[];
  /** The inline chart images the HTML references by cid. */
  images: ChartImage[];
  model: ReportModel;
}

/** A finished failure notice. */
export interface BuiltNotice {
  subject: string;
  html: string;
  text: string;
  eml: Uint8Array;
}

/** Options of the renderer (not of the report's content). */
export interface BuildReportOptions {
  /** A TTF for chart text; by default the dejavu-fonts-ttf package or REPORT_FONT_FILE. */
  fontFile?: string;
}

/**
 * Replaces `cid:` image references with data: URIs, giving the email's HTML as one self-contained
 * file a browser can open (a browser cannot resolve cid: URLs).
 */
export function inlineImagesAsDataUris(html: string, images: readonly ChartImage[]): string {
  let out = html;
  for (const img of images) {
    const uri = `data:image/png;base64,${Buffer.from(img.png).toString('base64')}`;
    out = out.split(`cid:${img.cid}`).join(uri);
  }
  return out;
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

/** The full report: one self-contained HTML page. */
export interface BuiltFullReport {
  html: string;
  model: FullReportModel;
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
