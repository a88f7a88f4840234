import mjml2html from 'mjml';
import type { Rating } from '../../domain/audit-result.ts';
import { escapeHtml as e, safeHref } from '../../domain/report/escape.ts';
import type { FailureNoticeModel } from '../../domain/report/failure.ts';
import type {
  ChartImage,
  FindingLine,
  HeadlineFigure,
  RatingLine,
  ReportModel,
} from '../../domain/report/types.ts';

/** MJML rejected the template: a bug in this module, never a data problem (data is escaped). */
export class ReportTemplateError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportTemplateError';
  }
}

const INK = '#101828';
const MUTED = '#475467';
const LINE = '#eaecf0';
const PAGE = '#f2f4f7';

const RATING_COLORS: Record<Rating, { fg: string; bg: string }> = {
  red: { fg: '#ffffff', bg: '#b42318' },
  amber: { fg: '#ffffff', bg: '#b54708' },
  green: { fg: '#ffffff', bg: '#067647' },
};

const VERDICT_BG: Record<ReportModel['verdict'], string> = {
  RED: '#b42318',
  AMBER: '#b54708',
  GREEN: '#067647',
  FAILED: '#344054',
};

const SEVERITY_COLORS: Record<FindingLine['severity'], string> = {
  critical: '#b42318',
  high: '#d92d20',
  medium: '#b54708',
  low: '#475467',
  info: '#667085',
};

const TONE_COLORS = { bad: '#b42318', good: '#067647', neutral: MUTED } as const;

const TH = `padding:6px;border-bottom:2px solid #d0d5dd;color:${MUTED};font-size:12px;font-weight:600;word-break:normal;`;
const TD = `padding:5px 6px;border-bottom:1px solid ${LINE};`;
// Figures: right-aligned by the align attribute (which Outlook honours), never wrapped.
const NUM = `${TD}white-space:nowrap;`;

function pill(text: string, bg: string, fg = '#ffffff'): string {
  return `<span style="display:inline-block;padding:1px 7px;border-radius:9px;background:${bg};color:${fg};font-size:11px;font-weight:700;letter-spacing:0.3px;white-space:nowrap;">${e(text)}</span>`;
}

// A real h2, so screen readers and mail clients' outlines can jump between sections.
function heading(title: string): string {
  return `<mj-text padding="18px 16px 4px" color="${INK}"><h2 style="margin:0;font-size:17px;line-height:22px;font-weight:700;">${e(title)}</h2></mj-text>`;
}

function paragraphs(lines: readonly string[]): string {
  if (lines.length === 0) return '';
  return `<mj-text padding="2px 16px 6px" color="${MUTED}">${lines.map((l) => `<p style="margin:0 0 4px;">${e(l)}</p>`).join('')}</mj-text>`;
}

/**
 * Escapes a table cell and adds break opportunities after `_ - / .` (not a decimal point) and
 * inside long runs, so a long code or a hostile tape name wraps on a phone instead of widening
 * the table.
 */
function cellText(value: string): string {
  return e(value)
    .replace(/([_/]|\.(?!\d)|-(?=\D))/g, '$1<wbr>')
    .replace(/[^\s<>&;_/.-]{14,}/g, (run) => run.replace(/(.{12})/g, '$1<wbr>'));
}

function image(img: ChartImage): string {
  return `<mj-image padding="8px 16px" src="cid:${e(img.cid)}" alt="${e(img.alt)}" title="${e(img.title)}" width="480px" fluid-on-mobile="true" border="1px solid ${LINE}" />`;
}

function section(body: string, background = '#ffffff', padding = '0 0 8px'): string {
  return `<mj-section background-color="${background}" padding="${padding}"><mj-column>${body}</mj-column></mj-section>`;
}

function headlineTable(figures: readonly HeadlineFigure[]): string {
  const rows = figures
    .map((f) => {
      const change = f.change
        ? `<span style="color:${TONE_COLORS[f.tone]};font-weight:600;">${e(f.change)}</span>`
        : `<span style="color:${MUTED};">—</span>`;
      return `<tr><td style="${TD}">${e(f.label)}</td><td align="right" style="${NUM}font-weight:700;">${e(f.value)}</td><td align="right" style="${NUM}">${change}</td></tr>`;
    })
    .join('');
  return `<mj-table padding="2px 16px 8px" font-size="14px" line-height="20px" color="${INK}" width="100%"><tr><th align="left" style="${TH}">Figure</th><th align="right" style="${TH}">Today</th><th align="right" style="${TH}">vs previous</th></tr>${rows}</mj-table>`;
}

function ratingsTable(ratings: readonly RatingLine[]): string {
  const rows = ratings
    .map((r) => {
      const c = RATING_COLORS[r.rating];
      return `<tr><td valign="top" style="${TD}width:1%;white-space:nowrap;padding-right:10px;">${pill(r.rating.toUpperCase(), c.bg, c.fg)}</td><td style="${TD}"><strong>${e(r.label)}</strong><br /><span style="color:${MUTED};font-size:13px;">${e(r.reason)}</span></td></tr>`;
    })
    .join('');
  return `<mj-table padding="2px 16px 8px" font-size="14px" line-height="19px" color="${INK}" width="100%">${rows}</mj-table>`;
}

function findingsTable(findings: readonly FindingLine[]): string {
  if (findings.length === 0) return paragraphs(['No findings today.']);
  const rows = findings
    .map(
      (f) =>
        `<tr><td valign="top" style="${TD}width:1%;white-space:nowrap;padding-right:10px;">${pill(f.severity.toUpperCase(), SEVERITY_COLORS[f.severity])}</td><td style="${TD}"><strong>${cellText(f.message)}</strong><br /><span style="color:${MUTED};font-size:12px;">${e(f.category)} · ${cellText(f.code)} · value ${e(f.value)} vs threshold ${e(f.threshold)}<br />Source: ${e(f.source)}</span></td></tr>`,
    )
    .join('');
  return `<mj-table padding="2px 16px 8px" font-size="14px" line-height="19px" color="${INK}" width="100%">${rows}</mj-table>`;
}

function head(title: string, preheader: string): string {
  return [
    '<mj-head>',
    `<mj-title>${e(title)}</mj-title>`,
    `<mj-preview>${e(preheader)}</mj-preview>`,
    '<mj-attributes>',
    '<mj-all font-family="-apple-system, \'Segoe UI\', Helvetica, Arial, sans-serif" />',
    `<mj-text font-size="14px" line-height="20px" color="${INK}" />`,
    '</mj-attributes>',
    '<mj-style>a { color: #1849a9; } p { margin: 0; }</mj-style>',
    '</mj-head>',
  ].join('');
}

/**
 * The email as an MJML document, a one-minute read on a phone: verdict, what to do first with the
 * link to the full report, headline figures, ratings, the most severe findings and the trend.
 * Every string from the model is escaped here, once.
 */
export function renderReportMjml(model: ReportModel, charts: readonly ChartImage[]): string {
  const images = new Map(charts.map((c) => [c.id, c]));
  const href = safeHref(model.reportUrl);
  const verdictBg = VERDICT_BG[model.verdict];
  const banner = section(
    [
      `<mj-text padding="18px 16px 2px" color="#ffffff" font-size="13px" letter-spacing="0.5px">RISK AUDIT · ${e(model.snapshotDate)}</mj-text>`,
      `<mj-text padding="0 16px 6px" color="#ffffff"><h1 style="margin:0;font-size:26px;line-height:32px;font-weight:800;">${e(model.verdict)}</h1></mj-text>`,
      `<mj-text padding="0 16px 16px" color="#ffffff" font-size="15px" line-height="21px">${e(model.summary)}${model.statusNote ? `<br /><span style="font-size:13px;">${e(model.statusNote)}</span>` : ''}</mj-text>`,
    ].join(''),
    verdictBg,
    '0',
  );
  const todo = section(
    [
      heading('What to do first'),
      `<mj-text padding="2px 16px 8px"><ol style="margin:0;padding-left:20px;">${model.actions.map((a) => `<li style="margin:0 0 6px;">${e(a)}</li>`).join('')}</ol></mj-text>`,
      href
        ? `<mj-button href="${href}" align="left" padding="4px 16px 6px" background-color="#1849a9" color="#ffffff" font-size="15px" font-weight="600" inner-padding="10px 18px" border-radius="6px">Open the full report</mj-button>`
        : '',
      model.reportUrlNote ? paragraphs([model.reportUrlNote]) : '',
    ].join(''),
  );
  const headline = section([heading('Headline figures'), headlineTable(model.headline)].join(''));
  const ratings = section([heading('Ratings'), ratingsTable(model.ratings)].join(''));
  const more = model.findingsTotal - model.findings.length;
  const findings = section(
    [
      heading('Findings, most severe first'),
      findingsTable(model.findings),
      more > 0
        ? paragraphs([`${more} more ${more === 1 ? 'finding is' : 'findings are'} in the full report.`])
        : '',
    ].join(''),
  );
  const trendImage = model.trend.chart ? images.get(model.trend.chart.id) : undefined;
  const trend = section(
    [heading('Trend'), trendImage ? image(trendImage) : '', paragraphs([model.trend.line])].join(''),
  );
  const footer = section(
    `<mj-text padding="12px 16px" font-size="12px" line-height="17px" color="${MUTED}">${model.footer.map((l) => `<p style="margin:0 0 3px;">${e(l)}</p>`).join('')}</mj-text>`,
    PAGE,
  );
  return [
    '<mjml lang="en">',
    head(model.subject, model.preheader),
    `<mj-body background-color="${PAGE}" width="600px">`,
    banner,
    todo,
    headline,
    ratings,
    findings,
    trend,
    footer,
    '</mj-body></mjml>',
  ].join('');
}

/** The failure notice as an MJML document. */
export function renderFailureMjml(model: FailureNoticeModel): string {
  const facts = [
    `<p style="margin:0 0 6px;"><strong>Reason:</strong> ${e(model.reason)}</p>`,
    model.stage ? `<p style="margin:0 0 6px;"><strong>Step:</strong> ${e(model.stage)}</p>` : '',
    model.runId ? `<p style="margin:0 0 6px;"><strong>Run:</strong> ${e(model.runId)}</p>` : '',
    `<p style="margin:0 0 6px;"><strong>When:</strong> ${e(model.occurredAt)}</p>`,
  ].join('');
  return [
    '<mjml lang="en">',
    head(model.subject, model.preheader),
    `<mj-body background-color="${PAGE}" width="600px">`,
    section(
      [
        `<mj-text padding="18px 16px 2px" color="#ffffff" font-size="13px">RISK AUDIT · ${e(model.snapshotDate)}</mj-text>`,
        `<mj-text padding="0 16px 16px" color="#ffffff" font-size="24px" line-height="30px" font-weight="800">Run failed: no report today</mj-text>`,
      ].join(''),
      VERDICT_BG.FAILED,
      '0',
    ),
    section(
      [
        `<mj-text padding="16px 16px 4px">${facts}</mj-text>`,
        heading('How to re-run the date'),
        `<mj-text padding="4px 16px 16px"><code style="display:block;padding:8px;background:${PAGE};border-radius:4px;font-family:Menlo,Consolas,monospace;font-size:13px;word-break:break-all;">${e(model.rerunHint)}</code></mj-text>`,
      ].join(''),
    ),
    '</mj-body></mjml>',
  ].join('');
}

/** Compiles MJML to email HTML with strict validation, so a template mistake fails loudly. */
export async function compileMjml(mjml: string): Promise<string> {
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(mjml, { validationLevel: 'strict', fonts: {}, keepComments: false });
  } catch (error) {
    throw new ReportTemplateError(
      `report template is invalid: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (result.errors.length > 0) {
    throw new ReportTemplateError(
      `report template is invalid: ${result.errors.map((x) => x.formattedMessage).join('; ')}`,
    );
  }
  // MJML indents its output; the indentation is a tenth of the bytes and no client needs it.
  return result.html.replace(/\n[ \t]+/g, '\n');
}
