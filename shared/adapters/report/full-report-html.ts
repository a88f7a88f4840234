import { createHash } from 'node:crypto';
import type { Rating } from '../../domain/audit-result.ts';
import { escapeHtml as e } from '../../domain/report/escape.ts';
import type {
  FullReportModel,
  HeadlineFigure,
  RatingLine,
  ReportSection,
  ReportTable,
} from '../../domain/report/types.ts';
import type { ChartSvg } from './charts.ts';

/**
 * The full report as one self-contained HTML page: no request leaves it (no external script,
 * style, font or image; a Content-Security-Policy says so to the browser), it reads on a phone
 * (tables become cards, nothing scrolls sideways) and on a wide screen (two charts a row, tables
 * at full width), and it prints to PDF whole. Tables sort (click a header) and filter (a text
 * box) with the few lines of plain script below. Every string from the model is escaped here.
 */

/** Rows a long table shows before "Show all" (filtering and sorting always cover every row). */
export const TABLE_PAGE_ROWS = 100;
/** Tables with at least this many rows get a filter box. */
const FILTER_FROM_ROWS = 10;

const RATING_BG: Record<Rating, string> = { red: '#b42318', amber: '#b54708', green: '#067647' };
const VERDICT_BG: Record<FullReportModel['verdict'], string> = {
  RED: '#b42318',
  AMBER: '#b54708',
  GREEN: '#067647',
  FAILED: '#344054',
};

const STYLE = `
:root{--ink:#101828;--muted:#475467;--line:#eaecf0;--page:#f2f4f7;--link:#1849a9}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);background:var(--page)}
a{color:var(--link)}
.wrap{max-width:1240px;margin:0 auto;padding:0 12px}
header.banner{color:#fff;padding:16px 0 14px}
header.banner .kicker{font-size:13px;letter-spacing:.5px;margin:0}
header.banner h1{margin:2px 0 4px;font-size:28px;line-height:34px}
header.banner p{margin:0 0 4px;overflow-wrap:anywhere}
nav{margin:10px 0 0;font-size:13px;display:flex;flex-wrap:wrap;gap:4px 12px}
nav a{color:#fff}
section{background:#fff;margin:12px 0;padding:10px 14px 12px;border-radius:8px;min-width:0}
h2{font-size:18px;line-height:24px;margin:4px 0 6px}
h3{font-size:14px;margin:12px 0 4px}
p{margin:0 0 6px;overflow-wrap:anywhere}
p.note,.count{color:var(--muted);font-size:12px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:4px 20px}
.cols>*{min-width:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:8px 20px;margin:8px 0}
figure{margin:0;min-width:0;border:1px solid var(--line);border-radius:6px;overflow:hidden}
figure svg{display:block;width:100%;height:auto}
figure .wide{display:none}
.pill{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:11px;font-weight:700;white-space:nowrap}
ol{margin:0 0 6px;padding-left:22px}
li{margin:0 0 4px;overflow-wrap:anywhere}
.tbl{margin:6px 0 10px;min-width:0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;overflow-wrap:break-word}
th{color:var(--muted);font-size:12px;font-weight:600;border-bottom:2px solid #d0d5dd;white-space:nowrap}
.n{text-align:right;white-space:nowrap}
th[data-sort]{cursor:pointer;user-select:none}
th[data-sort]:focus{outline:2px solid var(--link)}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.tools{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px;margin:4px 0}
.tools input{font:inherit;padding:5px 8px;border:1px solid #d0d5dd;border-radius:6px;width:16em;max-width:100%}
button.more{font:inherit;margin:6px 0;padding:5px 12px;border:1px solid #d0d5dd;border-radius:6px;background:#fff;color:var(--link);cursor:pointer}
.sev-critical{background:#b42318}.sev-high{background:#d92d20}.sev-medium{background:#b54708}.sev-low{background:#475467}.sev-info{background:#667085}
.tone-bad{color:#b42318;font-weight:600}.tone-good{color:#067647;font-weight:600}.tone-neutral{color:var(--muted)}
footer{color:var(--muted);font-size:12px;padding:8px 0 24px}
@media (min-width:720px){figure .narrow{display:none}figure .wide{display:block}}
@media (max-width:719px){
table.data thead tr{display:flex;flex-wrap:wrap;gap:4px}
table.data thead th{border:1px solid #d0d5dd;border-radius:12px;padding:2px 8px}
table.data tbody tr{display:block;border-bottom:2px solid var(--line);padding:4px 0}
table.data tbody td{display:flex;justify-content:space-between;gap:10px;border:0;padding:1px 0;text-align:right;white-space:normal;overflow-wrap:anywhere}
table.data tbody td::before{color:var(--muted);text-align:left;flex:0 0 auto;max-width:45%}
.scroll{overflow-x:visible}
}
@media print{
@page{margin:12mm}
body{background:#fff;font-size:11px}
header.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}
nav,.tools,button.more{display:none}
section{margin:0 0 10px;padding:0;border-radius:0}
figure{break-inside:avoid}
figure .narrow{display:none}figure .wide{display:block}
tr{break-inside:avoid}
thead{display:table-header-group}
.scroll{overflow:visible}
}
`.trim();

// Sort and filter: every table with data-table, its headers with data-sort ("number" sorts the
// cells' data-v values, missing ones last; "text" their text), its filter box data-filter.
const SCRIPT = `
(function(){
var PAGE=${TABLE_PAGE_ROWS},showAll=[];
document.querySelectorAll('table[data-table]').forEach(function(t){
var body=t.tBodies[0];if(!body)return;
var name=t.getAttribute('data-table'),rows=[].slice.call(body.rows),all=rows.length<=PAGE,q='';
var box=document.querySelector('input[data-filter="'+name+'"]'),count=document.querySelector('[data-count="'+name+'"]'),more=document.querySelector('button[data-more="'+name+'"]');
function show(){var hits=0,shown=0;rows.forEach(function(r){var hit=q===''||r.textContent.toLowerCase().indexOf(q)!==-1;if(hit)hits++;r.hidden=!(hit&&(all||hits<=PAGE));if(!r.hidden)shown++;});
if(count)count.textContent=(q===''?rows.length+' rows':hits+' of '+rows.length+' rows match')+(shown<hits?'; the first '+shown+' shown':'');if(more)more.hidden=shown>=hits;}
if(box)box.addEventListener('input',function(){q=box.value.trim().toLowerCase();show();});
if(more)more.addEventListener('click',function(){all=true;show();});
showAll.push(function(){all=true;show();});
[].forEach.call(t.tHead.rows[0].cells,function(th,i){if(!th.hasAttribute('data-sort'))return;th.tabIndex=0;
function sort(){var asc=th.getAttribute('aria-sort')!=='ascending',num=th.getAttribute('data-sort')==='number';
[].forEach.call(th.parentNode.cells,function(c){c.removeAttribute('aria-sort');});th.setAttribute('aria-sort',asc?'ascending':'descending');
var keyed=rows.map(function(r,k){var c=r.cells[i],v=c.getAttribute('data-v');return[num?(v===null?NaN:Number(v)):c.textContent.toLowerCase(),k,r];});
keyed.sort(function(a,b){var x=a[0],y=b[0];if(num){if(isNaN(x)||isNaN(y))return isNaN(x)===isNaN(y)?a[1]-b[1]:isNaN(x)?1:-1;}var d=x<y?-1:x>y?1:0;return(asc?d:-d)||a[1]-b[1];});
rows=keyed.map(function(k){return k[2];});rows.forEach(function(r){body.appendChild(r);});show();}
th.addEventListener('click',sort);th.addEventListener('keydown',function(ev){if(ev.key==='Enter'||ev.key===' '){ev.preventDefault();sort();}});});
show();});
window.addEventListener('beforeprint',function(){showAll.forEach(function(f){f();});});
})();
`.trim();

/** The sha256 of the inline script, as the Content-Security-Policy names it. */
export const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}`;

// Nothing may be fetched: no default source, inline style, data: images, and only this script.
const CSP = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;

function pill(text: string, className: string, bg?: string): string {
  return `<span class="pill ${className}"${bg ? ` style="background:${bg}"` : ''}>${e(text)}</span>`;
}

// A CSS string literal for a label of ours (not tape text, but escaped all the same).
function cssString(value: string): string {
  return `"${value.replace(/[\\"\n\r]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;
}

function numberAttr(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '' : ` data-v="${value}"`;
}

/** A table: sortable headers, a filter box when long, cards on a phone (labels from CSS). */
function table(t: ReportTable, labels: string[]): string {
  const name = t.name.replace(/[^a-z0-9-]/g, '-');
  const sortsByNumber = t.columns.map((_, i) =>
    (t.values ?? []).some((row) => row[i] !== null && row[i] !== undefined),
  );
  t.columns.forEach((c, i) => {
    labels.push(`table[data-table="${name}"] td:nth-child(${i + 1})::before{content:${cssString(c.label)}}`);
  });
  const head = t.columns
    .map(
      (c, i) =>
        `<th scope="col"${c.numeric ? ' class="n"' : ''} data-sort="${sortsByNumber[i] ? 'number' : 'text'}">${e(c.label)}</th>`,
    )
    .join('');
  const body = t.rows
    .map((row, r) => {
      const values = t.values?.[r];
      return `<tr>${t.columns
        .map(
          (c, i) => `<td${c.numeric ? ' class="n"' : ''}${numberAttr(values?.[i])}>${e(row[i] ?? '')}</td>`,
        )
        .join('')}</tr>`;
    })
    .join('\n');
  const filter =
    t.rows.length >= FILTER_FROM_ROWS
      ? `<label><span class="count">Filter</span> <input type="search" data-filter="${name}" placeholder="Filter ${e(t.caption.toLowerCase())}" aria-label="Filter ${e(t.caption)}"></label>`
      : '';
  return [
    `<div class="tbl"><h3 id="t-${name}">${e(t.caption)}</h3>`,
    `<div class="tools">${filter}<span class="count" data-count="${name}" aria-live="polite">${t.rows.length} ${t.rows.length === 1 ? 'row' : 'rows'}</span></div>`,
    `<div class="scroll"><table class="data" data-table="${name}" aria-labelledby="t-${name}">`,
    `<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`,
    t.rows.length > TABLE_PAGE_ROWS
      ? `<button type="button" class="more" data-more="${name}" hidden>Show all ${t.rows.length} rows</button>`
      : '',
    t.note ? `<p class="note">${e(t.note)}</p>` : '',
    '</div>',
  ].join('');
}

function figure(chart: ChartSvg): string {
  // Vega's SVG escapes its text; the SVG is ours, drawn from the model's escaped-by-Vega strings.
  return `<figure role="img" aria-label="${e(chart.alt)}"><div class="narrow" aria-hidden="true">${chart.narrow}</div><div class="wide" aria-hidden="true">${chart.wide}</div></figure>`;
}

function section(s: ReportSection, charts: ReadonlyMap<string, ChartSvg>, labels: string[]): string {
  const figures = s.charts
    .map((c) => charts.get(c.id))
    .filter((c): c is ChartSvg => c !== undefined)
    .map(figure)
    .join('');
  return [
    `<section id="${e(s.id)}" aria-labelledby="h-${e(s.id)}"><h2 id="h-${e(s.id)}">${e(s.title)}</h2>`,
    s.lines.map((l) => `<p>${e(l)}</p>`).join(''),
    figures ? `<div class="charts">${figures}</div>` : '',
    s.tables.map((t) => table(t, labels)).join(''),
    '</section>',
  ].join('');
}

function headlineTable(figures: readonly HeadlineFigure[]): string {
  const rows = figures
    .map(
      (f) =>
        `<tr><td>${e(f.label)}</td><td class="n"><strong>${e(f.value)}</strong></td><td class="n"><span class="tone-${f.tone}">${e(f.change ?? '—')}</span></td></tr>`,
    )
    .join('');
  return `<table><caption>Headline figures</caption><thead><tr><th scope="col">Figure</th><th scope="col" class="n">Today</th><th scope="col" class="n">vs previous</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function ratingsTable(ratings: readonly RatingLine[]): string {
  const rows = ratings
    .map(
      (r) =>
        `<tr><td style="width:1%">${pill(r.rating.toUpperCase(), '', RATING_BG[r.rating])}</td><td><strong>${e(r.label)}</strong><br><span class="count">${e(r.reason)}</span></td></tr>`,
    )
    .join('');
  return `<table><caption>Ratings</caption><tbody>${rows}</tbody></table>`;
}

/** Renders the full report's HTML page, its charts drawn as inline SVG. */
export function renderFullReportHtml(model: FullReportModel, charts: readonly ChartSvg[]): string {
  const byId = new Map(charts.map((c) => [c.id, c]));
  const labels: string[] = [];
  const sections = model.sections.map((s) => section(s, byId, labels)).join('\n');
  const nav = [
    '<a href="#summary">Summary</a>',
    ...model.sections.map((s) => `<a href="#${e(s.id)}">${e(s.title)}</a>`),
  ].join('');
  const summary = [
    '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>',
    '<div class="cols"><div>',
    `<h3>What to do first</h3><ol>${model.actions.map((a) => `<li>${e(a)}</li>`).join('')}</ol>`,
    headlineTable(model.headline),
    `</div><div>${ratingsTable(model.ratings)}</div></div></section>`,
  ].join('');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${e(model.title)}</title>`,
    `<style>${STYLE}\n@media (max-width:719px){${labels.join('\n')}}</style>`,
    '</head><body>',
    `<header class="banner" style="background:${VERDICT_BG[model.verdict]}"><div class="wrap">`,
    `<p class="kicker">RISK AUDIT · ${e(model.snapshotDate)} · FULL REPORT</p>`,
    `<h1>${e(model.verdict)}</h1><p>${e(model.summary)}</p>`,
    model.statusNote ? `<p>${e(model.statusNote)}</p>` : '',
    `<nav aria-label="Sections">${nav}</nav></div></header>`,
    `<main class="wrap">${summary}\n${sections}</main>`,
    `<footer class="wrap">${model.footer.map((l) => `<p>${e(l)}</p>`).join('')}</footer>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
