/**
 * The posture report: what `eks-endpoint-guard report --format json` prints (schemaVersion 1). Every
 * renderer reads this one shape. Additive changes (a new optional field) keep schemaVersion 1; renaming,
 * removing or retyping a field bumps it.
 */
import type { Action, EndpointConfig, EndpointTarget, Exemption, Mode, Verdict, Violation, Warning } from '../policy/types';

export const REPORT_SCHEMA_VERSION = 1 as const;

/** The verdict of a report row: the policy's three, plus `error` for a cluster that could not be read or judged. */
export type RowVerdict = Verdict | 'error';

export const ROW_VERDICTS: readonly RowVerdict[] = ['compliant', 'violation', 'exempt', 'error'];

/** Why a cluster, or a whole account and region, could not be judged. */
export type ReadError = {
  /** The AWS error name (`AccessDenied`, `ResourceNotFoundException`), or `UNREADABLE` for a response the policy cannot read. */
  code: string;
  message: string;
};

/**
 * One cluster. The fields `name`, `arn` and `tags` are those `validate --inventory` reads, so a saved
 * JSON report is an inventory. An `error` row has `verdict: "error"`, the `error`, and null/empty judgement fields.
 */
export type ReportRow = {
  account: string;
  region: string;
  name: string;
  arn: string;
  verdict: RowVerdict;
  /** DescribeCluster's status (ACTIVE, UPDATING, ...); null when unknown. */
  status: string | null;
  /** The rule that applied; null for the policy's defaults (and for error rows). */
  rule: string | null;
  mode: Mode | null;
  /** What the guard would do: `remediate` (enforce mode), `alert`, or `none`. */
  action: Action | null;
  observed: EndpointConfig | null;
  tags: Record<string, string>;
  violations: Violation[];
  warnings: Warning[];
  exemption: Exemption | null;
  /** The settings the guard would change the endpoint to (null: nothing to do, or no safe change). */
  target: EndpointTarget | null;
  error: ReadError | null;
};

/** An account and region whose clusters could not be listed (the role could not be assumed, ListClusters was refused). */
export type ScopeError = { account: string; region: string; error: ReadError };

/**
 * An account of the organization that `--organization` did not read, because Organizations says it
 * cannot be acted on (SUSPENDED, PENDING_CLOSURE: the account is closed or closing, its roles are not
 * to be trusted to answer). Listed, never dropped: a reader must see that the report does not cover it.
 * Not counted in the summary (no cluster was judged there) and not a finding.
 */
export type SkippedAccount = {
  account: string;
  /** The account's name in Organizations ('' when it has none). */
  name: string;
  /** Its Organizations status: why it was not read. */
  status: string;
};

export type Counts = Record<RowVerdict, number>;

export type AccountRegionSummary = { account: string; region: string } & Counts;

export type Report = {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** ISO 8601 instant the clusters were judged at (exemption expiry is judged at this instant). */
  generatedAt: string;
  policy: { file: string; sha256: string };
  scope: { accounts: string[]; regions: string[] };
  /** Scope errors count as one `error` each, in the totals and in their account and region. */
  summary: Counts & { byAccountRegion: AccountRegionSummary[] };
  /** Sorted by account, region and name. */
  clusters: ReportRow[];
  /** Sorted by account and region. */
  errors: ScopeError[];
  /**
   * Added in schema version 1 (additive): the accounts of the organization left out of `scope.accounts`
   * and why, sorted by account. Always present in reports written since; empty without `--organization`.
   * A report written before has no such field: read it as empty.
   */
  skipped: SkippedAccount[];
};

export type ReportFormat = 'table' | 'json' | 'csv' | 'html' | 'asff';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv', 'html', 'asff'];
