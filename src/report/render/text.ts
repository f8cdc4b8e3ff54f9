/** Text pieces every renderer shares: the endpoint in words, the verdict label, what a row says went wrong. */
import type { EndpointConfig } from '../../policy/types';
import type { ReadError, Report, ReportRow, RowVerdict, ScopeError, SkippedAccount } from '../types';

/** `public on (203.0.113.0/24), private off`; `-` when the settings are unknown. */
export function endpointText(config: EndpointConfig | null): string {
  if (config === null) return '-';
  const pub = config.endpointPublicAccess ? `public on (${config.publicAccessCidrs.join(', ')})` : 'public off';
  return `${pub}, private ${config.endpointPrivateAccess ? 'on' : 'off'}`;
}

export const verdictLabel = (v: RowVerdict): string => v.toUpperCase();

/** The rule that applied: its name, `(defaults)`, or `-` for a cluster that was not judged. */
export const ruleText = (row: ReportRow): string => row.rule ?? (row.verdict === 'error' ? '-' : '(defaults)');

/** The violations of a row as codes, its exemption, or its error: what a reader acts on. */
export function problemText(row: ReportRow): string {
  if (row.error) return errorText(row.error);
  const codes = [...new Set(row.violations.map((v) => (v.cidr ? `${v.code}(${v.cidr})` : v.code)))].join(', ');
  if (row.exemption) return `exempt by ${row.exemption.name} until ${row.exemption.expires}${codes ? `; ${codes}` : ''}`;
  return codes || '-';
}

/** A scope that could not be listed, as a row of every tabular format: the cluster column says so. */
export const SCOPE_ROW_CLUSTER = '(clusters not listed)';

export function scopeProblemText(e: ScopeError): string {
  return errorText(e.error);
}

/** Why an account of the organization was not read, in words every format shares. */
export function skippedText(s: SkippedAccount): string {
  return `${s.status} in AWS Organizations, not read`;
}

/** A skipped account, as a row of the tabular formats: the cluster column says so. */
export const SKIPPED_ROW_CLUSTER = '(account not read)';

/** An error's message, prefixed by its code unless the message already names it. */
export function errorText(error: ReadError): string {
  return error.message.includes(error.code) ? error.message : `${error.code}: ${error.message}`;
}

export type Line = { kind: 'scope'; account: string; region: string; scope: ScopeError } | { kind: 'cluster'; account: string; region: string; row: ReportRow };

/**
 * The rows of the tabular formats in reading order: by account and region, a scope that could not be
 * listed first in its place, then its clusters by name (the order the report keeps them in).
 */
export function orderedLines(report: Report): Line[] {
  const lines: Line[] = [
    ...report.errors.map((scope) => ({ kind: 'scope' as const, account: scope.account, region: scope.region, scope })),
    ...report.clusters.map((row) => ({ kind: 'cluster' as const, account: row.account, region: row.region, row })),
  ];
  // Array.prototype.sort is stable: within a place, scope errors stay ahead of the (already sorted) clusters.
  return lines.sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
}
