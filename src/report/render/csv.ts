/** `--format csv`: RFC 4180 (csv-stringify), one record per cluster and per scope that could not be listed. */
import { stringify } from 'csv-stringify/sync';
import type { Report } from '../types';
import { orderedLines, problemText, SCOPE_ROW_CLUSTER, scopeProblemText, SKIPPED_ROW_CLUSTER, skippedText } from './text';

export const CSV_COLUMNS = [
  'account',
  'region',
  'cluster',
  'arn',
  'verdict',
  'status',
  'rule',
  'mode',
  'action',
  'endpoint_public_access',
  'endpoint_private_access',
  'public_access_cidrs',
  'violations',
  'exemption',
  'exemption_expires',
  'error_code',
  'error',
] as const;

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a formula; tag values
 * and messages can come from cluster owners, so such a cell gets a leading apostrophe (OWASP's advice).
 */
export function neutralizeFormula(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

type Record = Partial<{ [K in (typeof CSV_COLUMNS)[number]]: string }>;

/**
 * Renders the report as CSV with a header line and CRLF line ends (RFC 4180); lists (CIDRs, violation codes)
 * are separated by spaces. The accounts of the organization not read come last, one record each, with
 * verdict `skipped`, no region, and the account's Organizations status in `status`: a spreadsheet built
 * from the file must show them too (they count in no verdict total).
 */
export function renderCsv(report: Report): string {
  const records: Record[] = orderedLines(report).map((line): Record => {
    if (line.kind === 'scope') {
      const e = line.scope;
      return { account: e.account, region: e.region, cluster: SCOPE_ROW_CLUSTER, verdict: 'error', error_code: e.error.code, error: scopeProblemText(e) };
    }
    const r = line.row;
    return {
      account: r.account,
      region: r.region,
      cluster: r.name,
      arn: r.arn,
      verdict: r.verdict,
      status: r.status ?? '',
      rule: r.rule ?? '',
      mode: r.mode ?? '',
      action: r.action ?? '',
      endpoint_public_access: r.observed ? String(r.observed.endpointPublicAccess) : '',
      endpoint_private_access: r.observed ? String(r.observed.endpointPrivateAccess) : '',
      public_access_cidrs: r.observed ? r.observed.publicAccessCidrs.join(' ') : '',
      violations: r.violations.map((v) => v.code).join(' '),
      exemption: r.exemption?.name ?? '',
      exemption_expires: r.exemption?.expires ?? '',
      error_code: r.error?.code ?? '',
      error: r.error ? problemText(r) : '',
    };
  });
  for (const s of report.skipped ?? []) {
    records.push({ account: s.account, region: '', cluster: SKIPPED_ROW_CLUSTER, verdict: 'skipped', status: s.status, error: `${s.name ? `${s.name}: ` : ''}${skippedText(s)}` });
  }
  const cells = records.map((record) => CSV_COLUMNS.map((column) => neutralizeFormula(record[column] ?? '')));
  // csv-stringify quotes a field holding the record delimiter (CRLF) but not a bare CR or LF, which
  // spreadsheets still read as a line break: quote those too.
  return stringify(cells, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows', quoted_match: /[\r\n]/ });
}
