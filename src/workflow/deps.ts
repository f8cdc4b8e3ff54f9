import type { FindingsPort } from '../findings/ports';
import type { MetricsSink } from '../observability/metrics';
import type { LedgerPort } from '../ledger/types';
import type { OrganizationPort } from '../org/types';
import type { Policy } from '../policy';
import type { TrackingSettings } from './tracking';
import type { AlertPort, Ec2Port, EksPort, ExecutionPort, OutcomeEventPort } from './ports';

/** The structured logger the use cases write to (Powertools Logger satisfies it). */
export type Log = {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
};

export type WorkflowSettings = {
  shadowMode: boolean;
  notifyCompliant: boolean;
  /** How long the guard waits for an update or a busy cluster before it stops and schedules a re-check. */
  maxWaitSeconds: number;
  /** Import one Security Hub finding per cluster (the stack parameter SecurityHubFindings); off unless set. */
  securityHubFindings?: boolean;
  /** How the Express tracker polls (the stack's region and account, its roles); absent: through pollChange. */
  tracking?: TrackingSettings;
};

/** What the state machine's steps are given: ports, the policy, settings and a clock. */
export type WorkflowDeps = {
  eks: EksPort;
  ec2: Ec2Port;
  alerts: AlertPort;
  /**
   * Outcome events on the home account's default bus (NotifyOutcome). Absent (test fakes): no event is
   * put; OUTCOME_EVENTS=false wires a port that puts nothing.
   */
  outcomeEvents?: OutcomeEventPort;
  /** Metrics (EMF): outcomes by kind, time to fix, exposure, alert publish failures. Absent: none. */
  metrics?: MetricsSink;
  /** Security Hub findings, each imported in its cluster's own account (used when settings.securityHubFindings). */
  findings?: FindingsPort;
  ledger: LedgerPort;
  policy: Policy;
  settings: WorkflowSettings;
  now: () => number;
  log: Log;
  /**
   * AWS Organizations, read only when the policy's decision for a cluster depends on its account's OUs
   * or tags (`ous`, `accountTags`); without it such a decision fails rather than guessing.
   */
  organization?: OrganizationPort;
};

/** Who the guard is, for telling its own changes from everyone else's (see triage). */
export type GuardIdentity = {
  /** The guard's exact role ARNs in the home account. */
  selfRoleArns: string[];
  /** The role it assumes in governed accounts; counts as the guard only outside the home account. */
  crossAccountRoleName: string | null;
  homeAccount: string | null;
};

/** What the intake (triage of one CloudTrail event, then StartExecution) is given. */
export type IntakeDeps = {
  executions: ExecutionPort;
  eks: EksPort;
  policy: Policy;
  settings: WorkflowSettings;
  ledger: LedgerPort;
  identity: GuardIdentity;
  now: () => number;
  log: Log;
  /** As in WorkflowDeps: read only for clusters whose decision depends on `ous` or `accountTags`, or when `scope.governedOus` is set. */
  organization?: OrganizationPort;
  /** What the deployment governs (the stack parameters ExcludedAccounts, GovernedOus, Regions); null: everything it hears. */
  scope?: IntakeScope | null;
};

export type IntakeScope = { excludedAccounts: readonly string[]; governedOus: readonly string[]; regions: readonly string[] };
