/**
 * The JSON that flows through the state machine. Every step reads the execution state and its result is
 * stored under its own key (ResultPath), so later steps and the alert see the whole story.
 * These are `type` aliases, not interfaces: the local Step Functions runner requires JSON-shaped values.
 */
import type { Actor, WaitFor } from '../events/triage';
import type { ChangeRecord, JudgedSettings } from '../ledger/types';
import type { ClusterRef, EndpointConfig, EndpointTarget, Evaluation } from '../policy/types';
import type { Track, TrackResult } from './tracking';

/**
 * Why an execution exists: a CloudTrail event (an endpoint change, a cluster creation or a tag change), a
 * scheduled sweep that found a violation, or a re-check the guard scheduled for a cluster it could not fix.
 */
export type Trigger = {
  kind: 'event' | 'sweep' | 'recheck';
  eventId: string;
  eventName: string;
  /** When the change was made (CloudTrail eventTime), or when the sweep ran. */
  eventTime: string;
  updateId: string | null;
  requested: Partial<EndpointTarget> | null;
  actor: Actor | null;
  /** What must finish before the live configuration means anything; `none` for a sweep, a re-check or a tag change. */
  waitFor: WaitFor | 'none';
  /** `GUARD_ROLE_UNVERIFIED`: made with one of the guard's roles, but not an update the guard recorded. */
  reason?: 'GUARD_ROLE_UNVERIFIED' | null;
  /** TagResource / UntagResource: what the tag change did. */
  tags?: { set: Record<string, string>; removed: string[] } | null;
  /** A re-check waits this long before it starts (a Wait state at the top of the definition). */
  delaySeconds?: number;
  /** A re-check: which attempt of which series. */
  recheck?: { incident: string; attempt: number } | null;
};

/** The state machine's input, built by the intake (or the sweep). */
export type ExecutionInput = {
  cluster: ClusterRef;
  trigger: Trigger;
  /** The execution's own name: the holder of the cluster's lease, and the seed of its update tokens. */
  executionName: string;
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
  /** Not done (and not timed out): what the Express tracker polls next (src/workflow/tracking.ts). */
  track?: Track | null;
  /** Tracker runs that failed in a row, each followed by a Wait state of waitSeconds (0 while it works). */
  trackerFailures?: number;
};

/** Result of AcquireLease: may this execution enforce the cluster now? */
export type LeaseResult = {
  acquired: boolean;
  /** The triggering change was already covered by another execution's judgement (and its alert). */
  handled: boolean;
  handledBy: string | null;
  /** Who holds the lease when it was not acquired. */
  holder: string | null;
  waitSeconds: number;
  /** How many times this execution has waited for the lease so far (the wait grows to 5 minutes). */
  waits: number;
  /** Waited past the wait budget: the execution stops, alerts and schedules a re-check. */
  timedOut: boolean;
};

/** Result of EvaluateCluster: the policy decision on the live cluster. */
export type EvaluateResult = {
  /** The cluster is busy (UPDATING/CREATING): the live values are not final yet, so judge later. */
  settled: boolean;
  /** This execution's lease lapsed and another execution holds the cluster: back to AcquireLease. */
  leaseLost: boolean;
  waitSeconds: number;
  /** The cluster stayed busy past the wait budget: stop and alert. */
  timedOut: boolean;
  evaluation: Evaluation | null;
  /** When the live cluster was read (epoch ms). */
  observedAt: number;
  /** Every change that led to what was judged (claimed in the ledger by this execution). */
  actors?: ChangeRecord[];
  /** Set when the trigger was a tag change: how the judgement moved. */
  tagChange?: AlertCase['tagChange'];
  /** Busy (not timed out): the Express tracker's input to follow the cluster's status until it settles; the Wait of `waitSeconds` is its fallback. */
  track?: Track | null;
};

export type PreflightProblem = { check: 'enableDnsSupport' | 'enableDnsHostnames' | 'AmazonProvidedDNS'; message: string; fix: string };

/** Result of PreflightCheck: can the target be applied without cutting anyone off? */
export type PreflightResult = { safe: boolean; checked: boolean; vpcId: string | null; problems: PreflightProblem[] };

/** Result of RemediateCluster. */
export type RemediateResult = {
  /**
   * `stale`: the cluster changed since it was judged, so it is judged again before anything is written;
   * `lost-lease`: another execution enforces the cluster now; `gave-up`: busy past the wait budget.
   */
  status: 'started' | 'already-compliant' | 'busy' | 'stale' | 'lost-lease' | 'gave-up' | 'rejected';
  /** The clientRequestToken of the update, recorded in the ledger before the call. */
  token?: string | null;
  /** Which try of this execution (a stale or busy cluster is judged again and tried again). */
  attempt?: number;
  /** When the update was accepted (epoch ms): the wait for the revert counts from here. */
  at?: number;
  /** A rejection that repeating will not fix (EKS refused the target itself). */
  permanent?: boolean;
  updateId: string | null;
  target: EndpointTarget | null;
  /** How many times the cluster was found busy so far (bounded). */
  busyAttempts: number;
  waitSeconds: number;
  error: { name: string; message: string } | null;
};

/** Result of VerifyRemediation. */
export type VerifyResult = { compliant: boolean; evaluation: Evaluation; verifiedAt: number };

export type Outcome = 'ignored' | 'compliant' | 'exempt' | 'alerted' | 'remediated' | 'escalated' | 'manual-action-required' | 'failed';

/** Why an outcome is `ignored`. */
export type IgnoredReason = 'CLUSTER_DELETED' | 'ALREADY_HANDLED';
export type Severity = 'info' | 'warning' | 'critical';

/** Result of RecordOutcome: what became of the execution, written to the ledger; NotifyOutcome renders it. */
export type RecordResult = {
  outcome: Outcome;
  severity: Severity;
  /** Whether on-call is told (a re-check that failed the same way as before, at the same stage, is not). */
  publish: boolean;
  ignoredReason: IgnoredReason | null;
  escalation: AlertCase['escalation'];
  /** The re-check to start (ScheduleRecheck), or null. */
  recheck: { name: string; input: ExecutionInput; attempt: number; nextAt: number; incident: string } | null;
  /** This alert is a reminder of an open violation told before (null: first word, or not an open violation). */
  reminder?: { firstAlertedAt: number; count: number; reminderHours: number } | null;
  /** This outcome closes an open violation on-call was told about (and so is told, even when good news). */
  closedAlert?: { firstAlertedAt: number; outcome: string } | null;
  /** A re-check that ended its own series (its compliant outcome is news); false when another execution ended it first. */
  endedSeries?: boolean;
};

/** What the execution state looks like by the time NotifyOutcome runs; every key but the first three is optional. */
export type ExecutionState = ExecutionInput & {
  change?: PollResult;
  lease?: LeaseResult;
  record?: RecordResult;
  assessment?: EvaluateResult;
  preflight?: PreflightResult;
  remediation?: RemediateResult;
  revert?: PollResult;
  /** The Express tracker's last run for the change, for the revert and for a busy cluster, or the error its Catch kept. */
  changeTracking?: TrackResult;
  revertTracking?: TrackResult;
  busyTracking?: TrackResult;
  verification?: VerifyResult;
  /** NotifyOutcome's result (UpdateFinding runs after it). */
  notification?: { outcome: Outcome; finding?: boolean };
  /** NotifyDetection's result, or the error its Catch kept (the revert goes on either way). */
  detection?: { noticed: boolean; messageId: string | null; eventId: string | null } | { Error: string; Cause: string };
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
  /** Every change (actor, time, request) that led to what was judged, oldest first; the trigger's own included. */
  actors: ChangeRecord[];
  /** `ignored` outcomes: why. */
  ignoredReason: IgnoredReason | null;
  /** The change was made with a guard role outside the guard (critical, GUARD_ROLE_MISUSE): the session ARN. */
  guardRoleMisuse: { session: string } | null;
  /** A tag change gave the cluster a laxer rule or an exemption: who, and from what to what. */
  /** `omitted`: tags set or removed that the ledger did not keep (over its per-change bound), not listed in `set` / `removed`. */
  tagChange: { actor: Actor | null; set: Record<string, string>; removed: string[]; omitted?: number; before: JudgedSettings | null; after: JudgedSettings; laxer: boolean } | null;
  /** `escalated`: the guard's reverts of this cluster within the window, and everyone whose changes it undid. */
  escalation: { reverts: number; withinMinutes: number; actors: Actor[] } | null;
  /** The guard will look at this cluster again (a failure it may yet fix): when, and which attempt. */
  recheck: { attempt: number; nextAt: number; incident: string } | null;
  /** Seconds from the change (eventTime) to the verified fix, when remediated. */
  timeToFixSeconds: number | null;
  /** A reminder of an open violation told before: since when, which reminder, and the cadence. */
  reminder?: { firstAlertedAt: number; count: number; reminderHours: number } | null;
  /** The outcome closes a violation on-call was told about at `firstAlertedAt`. */
  closedAlert?: { firstAlertedAt: number; outcome: string } | null;
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
  attributes: {
    /** `outcome`: an execution's outcome; `reminder`: an open violation told again; `detection`: a violation just found, before the revert (not e-mailed by default). */
    kind?: 'outcome' | 'reminder' | 'detection';
    severity: Severity;
    /** The outcome; `detected` for a detection notice (the outcome follows). */
    outcome: Outcome | 'detected';
    account: string; region: string; cluster: string; reason?: 'GUARD_ROLE_MISUSE' | 'TAG_CHANGE_LAXER' | 'CLUSTER_DELETED' | 'RECHECK_SCHEDULED' | 'ESCALATED' };
};
