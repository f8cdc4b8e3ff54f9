/**
 * The cluster ledger: the guard's memory across executions, one record per cluster (account, region,
 * name). It is what makes enforcement trustworthy: the enforcing execution's lease, the guard's own
 * updates (so triage can tell its own changes from someone holding its role), its recent reverts (for
 * tug-of-war escalation), every change it has seen (so an alert names every actor), the last judgement
 * (so a tag change that loosens the rule is noticed) and the re-check series of a cluster the guard could
 * not fix yet. Stored as one DynamoDB item (src/aws/ledger.ts); these are the JSON shapes.
 */
import type { Actor } from '../events/triage';
import type { ClusterRef, EndpointTarget, Mode, PrivateAccessLevel, PublicAccessLevel } from '../policy/types';

/** Held by the execution that enforces the cluster; others wait for it. Expires so a dead holder cannot block forever. */
export type Lease = { holder: string; acquiredAt: number; expiresAt: number };

/** A change someone made to the cluster, as its CloudTrail event told it. */
export type ChangeRecord = {
  eventId: string;
  eventName: string;
  eventTime: string;
  actor: Actor | null;
  /** The endpoint fields asked for (UpdateClusterConfig / CreateCluster), null for tag changes. */
  requested: Partial<EndpointTarget> | null;
  updateId: string | null;
  /**
   * For TagResource / UntagResource: the tags set, and the keys removed, each cut at
   * `LEDGER_LIMITS.tagsPerChange`; `omitted` counts what was cut (absent when nothing was), so a judgement
   * never mistakes a cut list for the whole change.
   */
  tags: { set: Record<string, string>; removed: string[]; omitted?: number } | null;
  /** The change was made with one of the guard's roles but is not one the guard recorded. */
  guardRoleMisuse: boolean;
  /** When the guard first saw it (epoch ms). */
  seenAt: number;
  /** The execution whose judgement covered this change (its alert named the actor); null until judged. */
  handledBy: string | null;
};

/** An UpdateClusterConfig the guard made, recorded before the call (token) and completed after it (updateId). */
export type OwnUpdate = { token: string; updateId: string | null; execution: string; at: number; target: EndpointTarget };

/** A revert the guard completed, with the actors whose changes it undid. */
export type RevertRecord = {
  at: number;
  execution: string;
  updateId: string | null;
  actors: Actor[];
  /** This revert's outcome was `escalated` (kept so a retried RecordOutcome says the same). */
  escalated?: boolean;
};

/** The settings a cluster was last judged under: a later tag change is compared with these. */
export type JudgedSettings = {
  at: number;
  rule: string | null;
  mode: Mode;
  publicAccess: PublicAccessLevel;
  privateAccess: PrivateAccessLevel;
  allowedPublicCidrs: string[];
  maxPublicCidrs: number;
  exempt: boolean;
  tags: Record<string, string>;
  /** The execution that judged: a later judgement of the same execution compares with what came before it. */
  execution?: string;
};

/** A cluster the guard could not bring into compliance yet: it keeps coming back. */
export type RecheckSeries = {
  /** The execution that first failed; the series' identity. */
  incident: string;
  startedAt: number;
  /** Re-checks scheduled so far. */
  attempts: number;
  nextAt: number | null;
  /** The re-check execution scheduled for `nextAt`; only it (or a series' first failure) schedules the next one. */
  pending: string | null;
  /** The failure that started (or last changed) the series, in one line. */
  reason: string;
  /** The execution that last advanced the series, and whether it alerted: a retried step must not count twice. */
  lastExecution: string;
  lastAlerted: boolean;
  /** When on-call was last told, and at which escalation stage (one alert per stage). */
  alertedAt: number | null;
  alertedStage: number;
};

/**
 * A violation on-call has been told about that stays open because the guard does not close it: alert
 * mode, manual action, a revert EKS refused. The same violation is told once, then reminded at most once
 * per `reminderHours`, until it changes (a new fingerprint is told at once) or it is fixed (cleared).
 */
export type OpenAlert = {
  /** What was told, without times: the outcome, rule, mode, settings and violations (see `openAlertFingerprint`). */
  fingerprint: string;
  outcome: string;
  /** When on-call was first told of it, and last told (the first alert or the latest reminder). */
  firstAlertedAt: number;
  lastAlertedAt: number;
  /** Reminders sent since the first alert. */
  reminders: number;
  /** The execution that last decided, and what it decided. */
  lastExecution: string;
  lastDecision: 'alert' | 'reminder' | 'quiet';
  /**
   * The latest decisions, by execution (at most 8): a retried RecordOutcome answers what it answered
   * before, even when another execution decided in between.
   */
  recent?: { execution: string; decision: 'alert' | 'reminder' | 'quiet' | 'closed' }[];
  /** The execution whose outcome closed it (fixed, compliant, exempt, deleted): kept so a retried step says the same. */
  closedBy?: string;
};

export type ClusterLedger = {
  cluster: ClusterRef;
  lease: Lease | null;
  ownUpdates: OwnUpdate[];
  reverts: RevertRecord[];
  changes: ChangeRecord[];
  lastJudged: JudgedSettings | null;
  /** The latest judgements (newest last): a tag change is compared with the last one made before it. */
  judgements: JudgedSettings[];
  recheck: RecheckSeries | null;
  /** Set when a tug-of-war was escalated; cleared once the cluster has been quiet for a whole window. */
  escalatedAt: number | null;
  /** The re-check series last ended, and by which execution (a re-check of an ended series tells nothing). */
  recheckEnded?: { incident: string; by: string } | null;
  /** The open violation on-call was told about, or null (absent in records written before reminders existed). */
  openAlert: OpenAlert | null;
};

/**
 * Bounds that keep one cluster's item below DynamoDB's 400 KB: counts per list, the size of what one
 * change may carry (a TagResource may set 50 tags of 384 characters), and the whole record, past which
 * the oldest entries go first (`fitLedger`).
 */
export const LEDGER_LIMITS = { judgements: 5, ownUpdates: 20, reverts: 50, changes: 50, actorsPerRevert: 10, textChars: 512, tagsPerChange: 10, recordBytes: 300_000 } as const;

/** How long a record is kept after its last write: a quiet cluster's ledger expires (DynamoDB TTL). */
export const LEDGER_RETENTION_DAYS = 90;

/**
 * The ledger as the workflow sees it. `mutate` reads the record, applies `change` (a pure function of the
 * current record; return null to write nothing) and writes it back only if nobody wrote in between,
 * re-reading and re-applying on a conflict. That one compare-and-set is what every lease, record and
 * series update is built on.
 */
export type LedgerPort = {
  read(cluster: ClusterRef): Promise<ClusterLedger>;
  mutate<T>(cluster: ClusterRef, change: (current: ClusterLedger) => { next: ClusterLedger | null; result: T }): Promise<T>;
};
