/**
 * `--format html`: one self-contained page (inline CSS, inline SVG chart, a few lines of inline script
 * for sorting; nothing fetched), for people who do not read JSON.
 *
 * Cluster tags, tag-exemption reasons and error messages are written by cluster owners or come from AWS:
 * every value goes through the `html` template tag, which escapes all it interpolates; only markup built
 * here is marked `raw`. As a second line of defence the page's Content-Security-Policy runs no script but
 * the sorting script (by its hash) and loads nothing, so an injection that slipped through would stay inert.
 */
import { createHash } from 'node:crypto';
import { summaryLine } from '../build';
import { ROW_VERDICTS, type Report, type RowVerdict } from '../types';
import { endpointText, orderedLines, problemText, ruleText, SCOPE_ROW_CLUSTER, scopeProblemText, skippedText, verdictLabel } from './text';

class Html {
  constructor(readonly text: string) {}
}

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const raw = (text: string) => new Html(text);

function toHtml(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(toHtml).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** A template tag that escapes every interpolated value (arrays are joined, `Html` values kept as they are). */
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += toHtml(v) + strings[i + 1]!;
  });
  return new Html(out);
}

const COLORS: Record<RowVerdict, string> = { compliant: '#2e7d32', violation: '#c62828', exempt: '#b7791f', error: '#6b46c1' };
// Sorting by verdict puts what needs action first. The sort arrows have empty alternative text (`/ ""`):
// a header's accessible name stays the column's, and aria-sort tells the direction.
const VERDICT_RANK: Record<RowVerdict, number> = { violation: 0, error: 1, exempt: 2, compliant: 3 };

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1a202c;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#4a5568;margin:0 0 16px}.meta code{font-size:12px}
.totals{display:flex;gap:12px;flex-wrap:wrap}
.total{border:1px solid #e2e8f0;border-radius:6px;padding:8px 14px;min-width:110px}
.total .n{display:block;font-size:24px;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e2e8f0;padding:5px 8px;text-align:left;vertical-align:top}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:" \\25B2" / ""}th[aria-sort=descending] button::after{content:" \\25BC" / ""}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-weight:600}.v-compliant{color:${COLORS.compliant}}.v-violation{color:${COLORS.violation}}.v-exempt{color:${COLORS.exempt}}.v-error{color:${COLORS.error}}
ul.plain{margin:0;padding-left:16px}td p{margin:0 0 4px}#clusters td:nth-child(-n+5){white-space:nowrap}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
`;

// Sorts the cluster table by the clicked column (a cell's data-sort, else its text); a second click reverses.
const SCRIPT = `(() => {
  const table = document.getElementById('clusters');
  if (!table || !table.tHead) return;
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead.rows[0].cells);
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  headers.forEach((th, col) => {
    const button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', () => {
      const dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      headers.forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', dir);
      const key = (row) => { const cell = row.cells[col]; return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim(); };
      const sign = dir === 'ascending' ? 1 : -1;
      const rows = Array.from(body.rows).sort((a, b) => sign * collator.compare(key(a), key(b)));
      body.append(...rows);
    });
  });
})();`;

const scriptHash = () => `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

/** A stacked horizontal bar per account and region, drawn as inline SVG (no chart library, nothing fetched). */
function chart(report: Report): Html {
  const places = report.summary.byAccountRegion;
  const label = 250;
  const width = 420;
  const row = 26;
  const top = 8;
  const height = top * 2 + Math.max(1, places.length) * row;
  const max = Math.max(1, ...places.map((p) => ROW_VERDICTS.reduce((n, v) => n + p[v], 0)));
  const bars = places.map((p, i) => {
    const y = top + i * row;
    let x = label;
    const segments = ROW_VERDICTS.filter((v) => p[v] > 0).map((v) => {
      const w = (p[v] / max) * width;
      const seg = html`<rect class="seg seg-${v}" x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${row - 8}" fill="${COLORS[v]}"><title>${p.account} ${p.region}: ${p[v]} ${v}</title></rect>`;
      x += w;
      return seg;
    });
    const total = ROW_VERDICTS.reduce((n, v) => n + p[v], 0);
    return html`<g class="bar" data-account="${p.account}" data-region="${p.region}"><text x="0" y="${y + row / 2 + 4}">${p.account} ${p.region}</text>${segments}<text x="${(x + 6).toFixed(1)}" y="${y + row / 2 + 4}">${total}</text></g>`;
  });
  return html`<svg id="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title" width="${label + width + 50}" height="${height}" viewBox="0 0 ${label + width + 50} ${height}" font-size="12" font-family="system-ui,sans-serif"><title id="chart-title">Clusters per account and region, by verdict</title>${bars}</svg>
<p class="legend">${ROW_VERDICTS.map((v) => html`<span><i style="background:${COLORS[v]}"></i>${v}</span>`)}</p>`;
}

function summaryTable(report: Report): Html {
  return html`<table id="summary"><thead><tr><th>Account</th><th>Region</th>${ROW_VERDICTS.map((v) => html`<th class="num">${v}</th>`)}</tr></thead><tbody>
${report.summary.byAccountRegion.map((p) => html`<tr data-account="${p.account}" data-region="${p.region}"><td>${p.account}</td><td>${p.region}</td>${ROW_VERDICTS.map((v) => html`<td class="num" data-verdict="${v}">${p[v]}</td>`)}</tr>\n`)}</tbody></table>`;
}

function tagList(tags: Record<string, string>): Html {
  const entries = Object.entries(tags);
  return entries.length === 0 ? html`-` : html`<ul class="plain">${entries.map(([k, v]) => html`<li><code>${k}=${v}</code></li>`)}</ul>`;
}

function clusterTable(report: Report): Html {
  const columns = ['Account', 'Region', 'Cluster', 'Verdict', 'Rule', 'Endpoint', 'Violations', 'Tags'];
  const verdictCell = (v: RowVerdict) => html`<td class="verdict v-${v}" data-sort="${VERDICT_RANK[v]}-${v}">${verdictLabel(v)}</td>`;
  const rows = orderedLines(report).map((line) => {
    if (line.kind === 'scope') {
      const e = line.scope;
      return html`<tr data-verdict="error"><td>${e.account}</td><td>${e.region}</td><td>${SCOPE_ROW_CLUSTER}</td>${verdictCell('error')}<td>-</td><td>-</td><td>${scopeProblemText(e)}</td><td>-</td></tr>\n`;
    }
    const r = line.row;
    const problems = r.error
      ? html`${problemText(r)}`
      : r.violations.length === 0 && !r.exemption
        ? html`-`
        : html`${r.exemption ? html`<p>exempt by ${r.exemption.name} until ${r.exemption.expires}: ${r.exemption.reason}</p>` : ''}<ul class="plain">${r.violations.map((v) => html`<li title="${v.code}">${v.message}</li>`)}</ul>`;
    return html`<tr data-verdict="${r.verdict}"><td>${r.account}</td><td>${r.region}</td><td class="cluster" title="${r.arn}">${r.name}</td>${verdictCell(r.verdict)}<td>${ruleText(r)}</td><td>${endpointText(r.observed)}</td><td>${problems}</td><td>${tagList(r.tags)}</td></tr>\n`;
  });
  return html`<table id="clusters"><thead><tr>${columns.map((c) => html`<th scope="col"><button type="button">${c}</button></th>`)}</tr></thead><tbody>
${rows}</tbody></table>`;
}

/** The accounts of the organization not read: a section of their own, absent when there are none. */
function skippedSection(report: Report): Html {
  const skipped = report.skipped ?? [];
  if (skipped.length === 0) return html``;
  return html`<h2 id="skipped-heading">Accounts not read</h2>
<p class="meta">Accounts of the organization the report did not read: no cluster of theirs is judged above.</p>
<table id="skipped" aria-labelledby="skipped-heading"><thead><tr><th scope="col">Account</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Why</th></tr></thead><tbody>
${skipped.map((s) => html`<tr data-account="${s.account}" data-status="${s.status}"><td>${s.account}</td><td>${s.name || '-'}</td><td>${s.status}</td><td>${skippedText(s)}</td></tr>
`)}</tbody></table>`;
}

/** Renders the whole report as one HTML document. */
export function renderHtml(report: Report): string {
  const s = report.summary;
  // Built here from constants and a base64 hash: nothing in it needs escaping, and it stays readable.
  // Built here from constants and a base64 hash: nothing in it needs escaping (raw keeps it readable).
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src '${scriptHash()}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${raw(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EKS endpoint posture ${report.generatedAt}</title>
<style>${raw(STYLE)}</style></head>
<body>
<h1>EKS endpoint posture</h1>
<p class="meta">Generated ${report.generatedAt} with policy <code>${report.policy.file}</code> (sha256 <code>${report.policy.sha256.slice(0, 12)}</code>);
accounts ${report.scope.accounts.join(', ')}; regions ${report.scope.regions.join(', ')}.</p>
<div class="totals" id="totals">${ROW_VERDICTS.map((v) => html`<div class="total" data-verdict="${v}"><span class="n v-${v}" id="count-${v}">${s[v]}</span>${v}</div>`)}</div>
<p id="summary-line">${summaryLine(report)}</p>
<h2>By account and region</h2>
${chart(report)}
${summaryTable(report)}
<h2>Clusters</h2>
<p class="meta">Click a column header to sort.</p>
${clusterTable(report)}
${skippedSection(report)}
<script>${raw(SCRIPT)}</script>
</body></html>
`;
  return page.text;
}
