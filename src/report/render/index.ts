/** One renderer per `--format`. */
import { toAsffFinding, toAsffScopeErrorFinding, type AsffFinding } from '../../findings/asff';
import type { Report, ReportFormat } from '../types';
import { renderCsv } from './csv';
import { renderHtml } from './html';
import { renderTable } from './table';

/**
 * The findings of a report: one per cluster, then one per account and region that could not be listed.
 * Skipped accounts are no finding: nothing was observed there, and a finding for a closed account would
 * stay open in Security Hub with nobody able to resolve it (they are in the json, table, csv and html).
 */
export function reportFindings(report: Report): AsffFinding[] {
  const context = { observedAt: report.generatedAt };
  return [...report.clusters.map((row) => toAsffFinding(row, context)), ...report.errors.map((e) => toAsffScopeErrorFinding(e, context))];
}

/** The report in the given format, as the text written to stdout or `--output`. */
export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'table':
      return renderTable(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report);
    case 'asff':
      return `${JSON.stringify(reportFindings(report), null, 2)}\n`;
  }
}
