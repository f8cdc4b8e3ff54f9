/**
 * The JSON that flows through the state machine. Every step reads the execution state and its result is
 * stored under its own key (ResultPath), so later steps and the alert see the whole story.
 * These are `type` aliases, not interfaces: the local Step Functions runner requires JSON-shaped values.
 */
import type { Actor, WaitFor } from '../events/triage';
import type { ClusterRef, EndpointConfig, EndpointTarget, Evaluation } from '../policy/types';

/** Why an execution exists: a CloudTrail event, or a scheduled sweep that found a violation. */
export type Trigger = {
  kind: 'event' | 'sweep';
  eventId: string;
  eventName: string;
  /** When the change was made (CloudTrail eventTime), or when the sweep ran. */
  eventTime: string;
  updateId: string | null;
  requested: Partial<EndpointTarget> | null;
  actor: Actor | null;
  /** What must finish before the live configuration means anything; `none` for a sweep. */
  waitFor: WaitFor | 'none';
};

/** The state machine's input, built by the intake (or the sweep). */
export type ExecutionInput = {
  cluster: ClusterRef;
  trigger: Trigger;
  /** Epoch ms when the guard started on it: the overall wait timeout counts from here. */
  startedAt: number;
};

/** Result of one poll of an update (or of a cluster's creation). */
export type PollResult = {
  done: boolean;
  /** InProgress | Successful | Failed | Cancelled for an update; the cluster status for a creation. */
  status: string;
  errors: { errorCode: string | null; errorMessage: string | null }[];
  polls: number;
  /** Seconds the next Wait state lasts (only meaningful while not done). */
  waitSeconds: number;
  /** The overall wait budget ran out: the workflow stops and alerts. */
  timedOut: boolean;
};

/** Result of EvaluateCluster: the policy decision on the live cluster. */
export type EvaluateResult = {
  /** The cluster is busy (UPDATING/CREATING): the live values are not final yet, so judge later. */
  settled: boolean;
  waitSeconds: number;
  /** The cluster stayed busy past the wait budget: stop and alert. */
  timedOut: boolean;
  evaluation: Evaluation | null;
  /** When the live cluster was read (epoch ms). */
  observedAt: number;
};

export type PreflightProblem = { check: 'enableDnsSupport' | 'enableDnsHostnames' | 'AmazonProvidedDNS'; message: string; fix: string };

/** Result of PreflightCheck: can the target be applied without cutting anyone off? */
export type PreflightResult = { safe: boolean; checked: boolean; vpcId: string | null; problems: PreflightProblem[] };

/** Result of RemediateCluster. */
export type RemediateResult = {
  status: 'started' | 'already-compliant' | 'busy' | 'gave-up' | 'rejected';
  updateId: string | null;
  target: EndpointTarget | null;
  /** How many times the cluster was found busy so far (bounded). */
  busyAttempts: number;
  waitSeconds: number;
  error: { name: string; message: string } | null;
};

/** Result of VerifyRemediation. */
export type VerifyResult = { compliant: boolean; evaluation: Evaluation; verifiedAt: number };

export type Outcome = 'ignored' | 'compliant' | 'exempt' | 'alerted' | 'remediated' | 'manual-action-required' | 'failed';
export type Severity = 'info' | 'warning' | 'critical';

/** What the execution state looks like by the time NotifyOutcome runs; every key but the first two is optional. */
export type ExecutionState = ExecutionInput & {
  change?: PollResult;
  assessment?: EvaluateResult;
  preflight?: PreflightResult;
  remediation?: RemediateResult;
  revert?: PollResult;
  verification?: VerifyResult;
  /** Set by a Catch: the error that stopped the workflow. */
  failure?: { Error: string; Cause: string };
};

/** Everything an alert is rendered from. */
export type AlertCase = {
  outcome: Outcome;
  severity: Severity;
  cluster: ClusterRef;
  trigger: Trigger;
  /** The endpoint settings when judged, and after the guard acted (null when it did not). */
  before: EndpointConfig | null;
  after: EndpointConfig | null;
  evaluation: Evaluation | null;
  preflight: PreflightResult | null;
  remediation: RemediateResult | null;
  revertUpdate: PollResult | null;
  failure: { error: string; cause: string } | null;
  /** Seconds from the change (eventTime) to the verified fix, when remediated. */
  timeToFixSeconds: number | null;
  /** When the alert is written (epoch ms). */
  at: number;
};

/** A rendered alert, ready for SNS. */
export type Alert = {
  subject: string;
  /** Plain text for email. */
  text: string;
  /** The chat custom-notification JSON (Amazon Q Developer in chat applications). */
  chat: Record<string, unknown>;
  /** SNS message attributes for subscription filter policies. */
  attributes: { severity: Severity; outcome: Outcome; account: string; region: string; cluster: string };
};
