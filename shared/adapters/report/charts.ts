import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { renderAsync } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ChartData, ChartImage, ChartUnit } from '../../domain/report/types.ts';

/** Drawing width of a chart in CSS pixels: sized for a phone, still sharp on a desktop. */
export const CHART_WIDTH = 420;
/** Pixel density of the PNGs (retina phones, and desktops that upscale the 420 px design). */
export const CHART_SCALE = 2;

const FONT_FAMILY = 'DejaVu Sans';
const COLORS = {
  red: '#b42318',
  amber: '#dc6803',
  green: '#079455',
  base: '#2e6db4',
  muted: '#98a2b3',
  hot: '#b42318',
};

// resvg draws text only with the fonts it is given, and Lambda images and CI machines may have no
// system fonts, so the font ships as an npm dependency (dejavu-fonts-ttf: DejaVu Sans, a TTF; the
// @fontsource packages ship woff2, which resvg cannot read). DejaVu has Latin, Greek and Cyrillic
// but no CJK glyphs: chart labels are ASCII by construction except tape names in the industry
// chart, whose tables below carry the same names in the mail client's own fonts.
// Where the TTF comes from, first found wins: an explicit option, REPORT_FONT_FILE (a Lambda
// bundle copies the file next to the handler), the dejavu-fonts-ttf package, Debian's fonts.
const SYSTEM_FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
];

/** Finds the TrueType font resvg draws chart text with; throws when none is present. */
export function resolveChartFont(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  const fromEnv = process.env.REPORT_FONT_FILE;
  if (fromEnv) candidates.push(fromEnv);
  try {
    candidates.push(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'));
  } catch {
    // the package is absent from a bundle: fall through to the system fonts
  }
  candidates.push(...SYSTEM_FONTS);
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `no chart font found: tried ${candidates.join(', ')}; set REPORT_FONT_FILE to a .ttf file`,
    );
  }
  return found;
}

const BASE_CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 8,
  view: { stroke: null },
  title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', color: '#101828', offset: 10 },
  axis: {
    labelFontSize: 13,
    titleFontSize: 13,
    labelColor: '#344054',
    titleColor: '#475467',
    titleFontWeight: 'normal',
    gridColor: '#eaecf0',
    domainColor: '#98a2b3',
    tickColor: '#98a2b3',
  },
  legend: { labelFontSize: 13, titleFontSize: 13, orient: 'bottom' },
} as const;

function amountAxis(values: readonly number[]): { divisor: number; title: string } {
  const max = Math.max(0, ...values);
  if (max >= 1e9) return { divisor: 1e9, title: 'outstanding, billions' };
  if (max >= 1e6) return { divisor: 1e6, title: 'outstanding, millions' };
  return { divisor: 1, title: 'outstanding' };
}

const DAY_MS = 86_400_000;

// Axis format and scaling of a trend's values by unit (amounts in millions or billions).
function trendAxis(
  unit: ChartUnit,
  values: readonly number[],
): { divisor: number; format: string; title: string | null } {
  switch (unit) {
    case 'share':
      // Three significant digits: 1.5%-1.8% and 0.030%-0.042% alike get distinct labels.
      return { divisor: 1, format: '.3~p', title: null };
    case 'count':
      return { divisor: 1, format: ',~d', title: null };
    case 'index':
      return { divisor: 1, format: '.3f', title: null };
    case 'amount': {
      const axis = amountAxis(values);
      return { divisor: axis.divisor, format: ',.3~r', title: axis.title.replace('outstanding', 'amount') };
    }
  }
}

/**
 * The Vega-Lite specification of one chart: a pure function of its data and drawing width. A
 * trend's axis ticks whole days, so no date label repeats however few runs there are; a day
 * without a value breaks the line.
 */
export function chartSpec(chart: ChartData, width: number = CHART_WIDTH): TopLevelSpec {
  const common = {
    width: width - 16,
    autosize: { type: 'fit-x', contains: 'padding' },
    // A title longer than the chart is cut with an ellipsis rather than drawn past its edge.
    config: { ...BASE_CONFIG, title: { ...BASE_CONFIG.title, limit: width - 24 } },
  };
  switch (chart.kind) {
    case 'trend': {
      const known = chart.points.map((p) => p.value).filter((v): v is number => v !== null);
      const axis = trendAxis(chart.unit, known);
      // Ticks on whole days from the first, evenly spaced, a label every `step` days (about one
      // per 90 px): never two labels for one day, whatever the span. Dates are UTC days.
      const first = Date.parse(chart.points[0]?.date ?? '');
      const last = Date.parse(chart.points[chart.points.length - 1]?.date ?? '');
      const span = Number.isFinite(first) && Number.isFinite(last) ? Math.round((last - first) / DAY_MS) : 0;
      const step = Math.max(1, Math.ceil(span / Math.max(2, Math.floor(width / 90))));
      const ticks: number[] = [];
      for (let day = 0; day <= span; day += step) ticks.push(first + day * DAY_MS);
      return {
        ...common,
        height: 170,
        title: chart.title,
        data: {
          values: chart.points.map((p) => ({
            date: p.date,
            value: p.value === null ? null : p.value / axis.divisor,
            rating: p.rating,
          })),
        },
        encoding: {
          x: {
            field: 'date',
            type: 'temporal',
            title: null,
            scale: { type: 'utc' },
            axis: { format: '%d %b', labelAngle: 0, values: ticks, grid: false },
          },
          y: {
            field: 'value',
            type: 'quantitative',
            title: axis.title,
            axis: { format: axis.format, tickCount: 4 },
            scale: { zero: chart.unit === 'count' },
          },
        },
        layer: [
          { mark: { type: 'line', color: COLORS.base, strokeWidth: 2 } },
          {
            mark: { type: 'point', filled: true, size: 40 },
            encoding: {
              color: {
                field: 'rating',
                type: 'nominal',
                title: 'Overall rating',
                scale: { domain: ['green', 'amber', 'red'], range: [COLORS.green, COLORS.amber, COLORS.red] },
              },
            },
          },
        ],
      } as TopLevelSpec;
    }
    case 'bars': {
      const axis =
        chart.unit === 'amount' ? amountAxis(chart.bars.map((b) => b.value)) : { divisor: 1, title: 'share' };
      return {
        ...common,
        height: 170,
        title: chart.title,
        data: {
          values: chart.bars.map((b) => ({
            label: b.label,
            value: chart.unit === 'amount' ? b.value / axis.divisor : b.value,
            highlight: b.highlight ? 'yes' : 'no',
          })),
        },
        mark: { type: 'bar', cornerRadiusEnd: 2 },
        encoding: {
          x: {
            field: 'label',
            type: 'nominal',
            sort: null,
            title: null,
            axis: { labelAngle: 0, labelFontSize: 11 },
          },
          y: {
            field: 'value',
            type: 'quantitative',
            title: axis.title,
            axis: { format: chart.unit === 'amount' ? ',.3~r' : '.0%', tickCount: 4 },
          },
          color: {
            field: 'highlight',
            type: 'nominal',
            legend: null,
            scale: { domain: ['no', 'yes'], range: [COLORS.base, COLORS.hot] },
          },
        },
      } as TopLevelSpec;
    }
    case 'hbars':
      return {
        ...common,
        height: { step: 22 },
        title: chart.title,
        data: {
          values: chart.bars.map((b) => ({
            label: b.label,
            value: b.value,
            highlight: b.highlight ? 'yes' : 'no',
          })),
        },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 170 } },
          x: {
            field: 'value',
            type: 'quantitative',
            title: chart.unit === 'share' ? 'share of outstanding' : 'outstanding',
            axis: { format: chart.unit === 'share' ? '.0%' : ',.3~r', tickCount: 4 },
          },
        },
        layer: [
          {
            mark: { type: 'bar', cornerRadiusEnd: 2 },
            encoding: {
              color: {
                field: 'highlight',
                type: 'nominal',
                legend: null,
                scale: { domain: ['no', 'yes'], range: [COLORS.base, COLORS.hot] },
              },
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 3, fontSize: 12, color: '#344054' },
            encoding: { text: { field: 'value', type: 'quantitative', format: '.1%' } },
          },
        ],
      } as TopLevelSpec;
    case 'heatmap':
      return {
        ...common,
        height: { step: 28 },
        title: chart.title,
        data: { values: chart.cells.map((c) => ({ row: c.row, column: c.column, value: c.value })) },
        encoding: {
          x: {
            field: 'column',
            type: 'ordinal',
            sort: [...chart.columns],
            title: 'today',
            axis: { orient: 'top', labelAngle: -35, labelFontSize: 12 },
          },
          y: { field: 'row', type: 'ordinal', sort: [...chart.rows], title: 'previous tape' },
        },
        layer: [
          {
            mark: { type: 'rect' },
            encoding: {
              color: {
                field: 'value',
                type: 'quantitative',
                legend: null,
                scale: { domain: [0, 1], range: ['#f5f8ff', '#1d3f8f'] },
              },
            },
          },
          {
            mark: { type: 'text', fontSize: 12 },
            encoding: {
              text: { field: 'value', type: 'quantitative', format: '.0%' },
              color: { condition: { test: 'datum.value > 0.5', value: 'white' }, value: '#101828' },
            },
            transform: [{ filter: 'datum.value > 0' }],
          },
        ],
      } as TopLevelSpec;
  }
}

/** Renders a Vega-Lite spec to SVG with no DOM and no canvas (the headless `none` renderer). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec, { logger: vega.logger(vega.Error) }).spec), {
    renderer: 'none',
    logLevel: vega.Error,
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterises an SVG to PNG with resvg, drawing text with the given TTF only (no system fonts).
 * resvg renders on the libuv pool, so the next chart's Vega work overlaps this one's pixels.
 */
export async function svgToPng(
  svg: string,
  fontFile: string,
  scale = CHART_SCALE,
): Promise<{ png: Uint8Array; width: number; height: number }> {
  const image = await renderAsync(svg, {
    font: {
      fontFiles: [fontFile],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
  });
  return {
    png: new Uint8Array(image.asPng()),
    width: Math.round(image.width / scale),
    height: Math.round(image.height / scale),
  };
}

/** Renders every chart of the report to an inline PNG with its content id and alt text. */
export async function renderCharts(
  charts: readonly ChartData[],
  fontFile = resolveChartFont(),
): Promise<ChartImage[]> {
  const pending: Promise<ChartImage>[] = [];
  for (const chart of charts) {
    const svg = await renderSvg(chartSpec(chart, CHART_WIDTH));
    pending.push(
      svgToPng(svg, fontFile).then(({ png, width, height }) => ({
        id: chart.id,
        cid: `${chart.id}.chart@risk-audit`,
        fileName: `${chart.id}.png`,
        alt: chart.alt,
        title: chart.title,
        png,
        width,
        height,
      })),
    );
  }
  return Promise.all(pending);
}

/** A chart drawn as SVG at two widths, for a phone and for a wide screen (or a printed page). */
export interface ChartSvg {
  id: string;
  title: string;
  alt: string;
  narrow: string;
  wide: string;
}

/** Drawing width of the full report's charts on a phone and on a wide screen, in CSS pixels. */
export const SVG_WIDTHS = { narrow: 340, wide: 560 } as const;

/**
 * Renders charts to SVG for the full report (no PNG: it prints sharp and weighs less). Vega's SVG
 * renderer escapes text, so a tape name drawn as a label stays text.
 */
export async function renderChartSvgs(charts: readonly ChartData[]): Promise<ChartSvg[]> {
  const out: ChartSvg[] = [];
  for (const chart of charts) {
    out.push({
      id: chart.id,
      title: chart.title,
      alt: chart.alt,
      narrow: scopeSvgIds(await renderSvg(chartSpec(chart, SVG_WIDTHS.narrow)), `${chart.id}-n`),
      wide: scopeSvgIds(await renderSvg(chartSpec(chart, SVG_WIDTHS.wide)), `${chart.id}-w`),
    });
  }
  return out;
}

/**
 * Prefixes the ids an SVG defines (Vega's clip paths are `clip1`, `clip2`, ... in every chart)
 * and its references to them, so that many SVGs in one page never clip by another's path.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}
