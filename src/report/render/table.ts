/** `--format table`: aligned text for a terminal, one line per cluster, then the summary line. */
import { summaryLine } from '../build';
import type { Report } from '../types';
import { endpointText, orderedLines, problemText, ruleText, SCOPE_ROW_CLUSTER, scopeProblemText, skippedText, verdictLabel } from './text';

/** One line per account of the organization not read, above the summary: `skipped 999900001111 (closed): SUSPENDED, not read`. */
function skippedLines(report: Report): string[] {
  return (report.skipped ?? []).map((s) => `skipped ${s.account}${s.name ? ` (${s.name})` : ''}: ${skippedText(s)}`);
}

const HEADER = ['ACCOUNT', 'REGION', 'CLUSTER', 'VERDICT', 'RULE', 'ENDPOINT', 'VIOLATIONS'] as const;

// Tag values and error messages reach the terminal: control characters (an ESC sequence could rewrite
// the screen or hide a line) are shown as `?`.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const printable = (text: string) => text.replace(CONTROL, '?');

/** Renders the report as a table; every column but the last is padded to its widest cell. */
export function renderTable(report: Report): string {
  const rows: string[][] = orderedLines(report)
    .map((line) => {
      if (line.kind === 'scope') return [line.account, line.region, SCOPE_ROW_CLUSTER, 'ERROR', '-', '-', scopeProblemText(line.scope)];
      const r = line.row;
      return [r.account, r.region, r.name, verdictLabel(r.verdict), ruleText(r), endpointText(r.observed), problemText(r)];
    })
    .map((cells) => cells.map(printable));
  const all = [[...HEADER], ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const body = rows.length > 0 ? all.map(line) : ['(no clusters)'];
  return `${body.join('\n')}\n\n${skippedLines(report).map((l) => `${printable(l)}\n`).join('')}${summaryLine(report)}\n`;
}
