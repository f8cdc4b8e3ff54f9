/**
 * Judging what was collected with the policy, and the report's totals and exit code. Pure: the instant
 * the exemptions are judged at comes in as an argument.
 */
import { GuardError } from '../errors';
import { clusterArn } from '../findings/arn';
import type { AccountContext } from '../org/types';
import { evaluateCluster, parseClusterArn, parseObservedCluster, type Policy } from '../policy';
import type { Collected } from './collect';
import { REPORT_SCHEMA_VERSION, ROW_VERDICTS, type AccountRegionSummary, type Counts, type Report, type ReportRow, type ScopeError, type SkippedAccount } from './types';

export type BuildReportInput = {
  policy: Policy;
  policyFile: string;
  policySha256: string;
  scope: { accounts: readonly string[]; regions: readonly string[] };
  collected: readonly Collected[];
  /** Epoch ms: exemptions are judged at this instant, and it is the report's `generatedAt`. */
  now: number;
  /** Where each account stands in the organization, for rules matching `ous`/`accountTags`; absent: unknown. */
  accountContexts?: ReadonlyMap<string, AccountContext>;
  /** Accounts of the organization deliberately not read (organizationScope); absent: none. */
  skipped?: readonly SkippedAccount[];
};

const zero = (): Counts => ({ compliant: 0, violation: 0, exempt: 0, error: 0 });

function errorRow(account: string, region: string, name: string, error: ReportRow['error'], partial: Partial<ReportRow> = {}): ReportRow {
  return {
    account,
    region,
    name,
    arn: clusterArn(account, region, name),
    verdict: 'error',
    status: null,
    rule: null,
    mode: null,
    action: null,
    observed: null,
    tags: {},
    violations: [],
    warnings: [],
    exemption: null,
    target: null,
    error,
    ...partial,
  };
}

/**
 * Judges one described cluster. The account and region are those the cluster was read in, not what its
 * ARN claims. A description the policy cannot read, or a decision that cannot be made (a rule on the
 * organization's OUs while the account's place is unknown), is an error row: judged as anything else,
 * it could hide a violation.
 */
export function judgeCollected(policy: Policy, entry: Extract<Collected, { kind: 'cluster' }>, now: number, accountContext?: AccountContext): ReportRow {
  const { account, region, name } = entry;
  let observed;
  try {
    observed = parseObservedCluster(entry.description, { account, region });
  } catch (err) {
    if (!(err instanceof GuardError)) throw err;
    const problems = 'problems' in err && Array.isArray(err.problems) ? (err.problems as string[]) : [err.message];
    return errorRow(account, region, name, { code: 'UNREADABLE', message: `DescribeCluster response cannot be judged: ${problems.join('; ')}` });
  }
  // The ARN EKS gave, unless it names another place (the finding Id and AwsAccountId must agree).
  const place = observed.arn ? parseClusterArn(observed.arn) : null;
  const arn = place && place.account === account && place.region === region ? observed.arn! : clusterArn(account, region, name);
  const known = { arn, status: observed.status, tags: observed.tags, observed: observed.config };
  let e;
  try {
    e = evaluateCluster(policy, observed, { now, ...(accountContext ? { accountContext } : {}) });
  } catch (err) {
    if (!(err instanceof GuardError)) throw err;
    return errorRow(account, region, name, { code: err.name, message: err.message }, known);
  }
  return {
    account,
    region,
    name,
    arn: known.arn,
    verdict: e.verdict,
    status: known.status,
    rule: e.settings.rule,
    mode: e.settings.mode,
    action: e.action,
    observed: { endpointPublicAccess: e.observed.endpointPublicAccess, endpointPrivateAccess: e.observed.endpointPrivateAccess, publicAccessCidrs: e.observed.publicAccessCidrs },
    tags: known.tags,
    violations: e.violations,
    warnings: e.warnings,
    exemption: e.exemption,
    target: e.target,
    error: null,
  };
}

const byPlace = (a: { account: string; region: string; name?: string }, b: { account: string; region: string; name?: string }) =>
  a.account.localeCompare(b.account) || a.region.localeCompare(b.region) || (a.name ?? '').localeCompare(b.name ?? '');

/**
 * Builds the report: one row per cluster (judged, or its error), the scopes that could not be listed,
 * and the counts overall and per account and region. Every account and region of the scope has a
 * summary entry, with zeros when it holds no cluster, so "nothing there" is visible.
 */
export function buildReport(input: BuildReportInput): Report {
  const clusters: ReportRow[] = [];
  const errors: ScopeError[] = [];
  for (const entry of input.collected) {
    if (entry.kind === 'scope-error') errors.push({ account: entry.account, region: entry.region, error: entry.error });
    else if (entry.kind === 'cluster-error') clusters.push(errorRow(entry.account, entry.region, entry.name, entry.error));
    else clusters.push(judgeCollected(input.policy, entry, input.now, input.accountContexts?.get(entry.account)));
  }
  clusters.sort(byPlace);
  errors.sort(byPlace);

  const totals = zero();
  const places = new Map<string, AccountRegionSummary>();
  const place = (account: string, region: string) => {
    const key = `${account}/${region}`;
    let s = places.get(key);
    if (!s) places.set(key, (s = { account, region, ...zero() }));
    return s;
  };
  for (const account of input.scope.accounts) for (const region of input.scope.regions) place(account, region);
  for (const row of clusters) {
    totals[row.verdict]++;
    place(row.account, row.region)[row.verdict]++;
  }
  for (const e of errors) {
    totals.error++;
    place(e.account, e.region).error++;
  }
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: new Date(input.now).toISOString(),
    policy: { file: input.policyFile, sha256: input.policySha256 },
    scope: { accounts: [...input.scope.accounts], regions: [...input.scope.regions] },
    summary: { ...totals, byAccountRegion: [...places.values()].sort(byPlace) },
    clusters,
    errors,
    skipped: [...(input.skipped ?? [])].map((s) => ({ account: s.account, name: s.name, status: s.status })).sort((a, b) => a.account.localeCompare(b.account)),
  };
}

/**
 * The exit code of `report`: 0 when every cluster complies or is exempt (or there are none), 1 when any
 * violates or could not be judged (a cluster nobody could read is not known to comply).
 */
export function reportExitCode(summary: Counts): 0 | 1 {
  return summary.violation > 0 || summary.error > 0 ? 1 : 0;
}

/** The counts as one line: `4 clusters: 1 compliant, 1 violation, 1 exempt, 1 error`. */
export function summaryLine(report: Report): string {
  const s = report.summary;
  const clusters = report.clusters.length;
  const scopes = report.errors.length > 0 ? ` (${report.errors.length} account/region ${report.errors.length === 1 ? 'scope' : 'scopes'} unreadable)` : '';
  const accounts = report.scope.accounts.length;
  const regions = report.scope.regions.length;
  const skipped = report.skipped?.length ?? 0;
  const notRead = skipped > 0 ? `; ${skipped} ${skipped === 1 ? 'account' : 'accounts'} of the organization not read (${skippedStatusText(report.skipped)})` : '';
  return `${clusters} ${clusters === 1 ? 'cluster' : 'clusters'} in ${accounts} ${accounts === 1 ? 'account' : 'accounts'} × ${regions} ${regions === 1 ? 'region' : 'regions'}: ${ROW_VERDICTS.map((v) => `${s[v]} ${v}`).join(', ')}${scopes}${notRead}`;
}

/** `2 SUSPENDED, 1 PENDING_CLOSURE`: the skipped accounts counted by status, most first. */
function skippedStatusText(skipped: readonly SkippedAccount[]): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([status, n]) => `${n} ${status}`).join(', ');
}
