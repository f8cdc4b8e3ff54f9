/**
 * NotifyDetection: the first word of a violation the guard is about to revert, before the revert, on the
 * chat channel (threaded with the outcome that follows) and as an event on the home account's bus. It is
 * a courtesy, not the record: the outcome alert follows whatever happens here, so a notice that cannot be
 * sent is logged and the revert goes on (the state machine catches this step's failure).
 */
import { clusterThreadId, renderDetection } from '../alerts/detection';
import { derivedClusterArn } from '../alerts/describe';
import type { EndpointConfig, EndpointTarget } from '../policy/types';
import type { WorkflowDeps } from './deps';
import { OUTCOME_EVENT_SOURCE, type GuardEvent } from './outcome-event';
import { recordFinding } from './finding';
import type { ClusterLedger } from '../ledger/types';
import type { ExecutionState } from './types';

export const DETECTION_EVENT_DETAIL_TYPE = 'Endpoint Guard Detection';
export const DETECTION_EVENT_SCHEMA_VERSION = 1;
const MAX_LISTED = 40;

/** The detection event's detail: a public contract like the outcome event's (`schemaVersion`). */
export type DetectionEventDetail = {
  schemaVersion: typeof DETECTION_EVENT_SCHEMA_VERSION;
  executionName: string;
  /** The outcome event of the same execution carries the same `threadId` and `executionName`. */
  threadId: string;
  cluster: { account: string; region: string; name: string; arn: string };
  severity: 'warning';
  rule: string | null;
  mode: 'enforce' | 'alert';
  trigger: { kind: string; eventId: string; eventName: string; eventTime: string; updateId: string | null };
  actors: { arn: string | null; eventName: string; eventTime: string; eventId: string; sourceIP: string | null }[];
  observed: EndpointConfig;
  /** What the guard is about to apply. */
  target: EndpointTarget | null;
  violations: { code: string; cidr: string | null }[];
  detectedTime: string;
};

export type DetectionResult = {
  noticed: boolean;
  messageId: string | null;
  eventId: string | null;
  /** Why no notice was sent: the violation is not news (a re-check, an open alert or a re-check series on the cluster). */
  skipped?: 'RECHECK' | 'OPEN_ALERT' | 'RECHECK_SERIES' | 'NOT_A_VIOLATION';
};

/**
 * Whether a violation about to be reverted is news. A re-check, or a cluster with an alert still open or
 * a re-check series under way, is a violation on-call has heard of: its outcome (or the next reminder)
 * says what came of it, and a "reverting" notice every hour would undo the one-alert-then-reminders rule.
 */
export function detectionSkipped(state: ExecutionState, ledger: Pick<ClusterLedger, 'openAlert' | 'recheck'>): DetectionResult['skipped'] | null {
  if (state.trigger.kind === 'recheck') return 'RECHECK';
  if (ledger.openAlert && !ledger.openAlert.closedBy) return 'OPEN_ALERT';
  if (ledger.recheck) return 'RECHECK_SERIES';
  return null;
}

/** NotifyDetection: one chat notice and one event for a violation about to be reverted. */
export async function notifyDetection(state: ExecutionState, deps: WorkflowDeps): Promise<DetectionResult> {
  const evaluation = state.assessment?.evaluation;
  if (!evaluation || evaluation.verdict !== 'violation') return { noticed: false, messageId: null, eventId: null, skipped: 'NOT_A_VIOLATION' };
  const skipped = detectionSkipped(state, await deps.ledger.read(state.cluster));
  if (skipped) {
    deps.log.info('detection notice not sent', { cluster: state.cluster, reason: skipped });
    return { noticed: false, messageId: null, eventId: null, skipped };
  }
  const now = deps.now();
  const actors = state.assessment?.actors ?? [];
  const t = state.trigger;
  const detail: DetectionEventDetail = {
    schemaVersion: DETECTION_EVENT_SCHEMA_VERSION,
    executionName: state.executionName,
    threadId: clusterThreadId(state.cluster),
    cluster: { ...state.cluster, arn: evaluation.cluster.arn ?? derivedClusterArn(state.cluster) },
    severity: 'warning',
    rule: evaluation.settings.rule,
    mode: evaluation.settings.mode,
    trigger: { kind: t.kind, eventId: t.eventId, eventName: t.eventName, eventTime: t.eventTime, updateId: t.updateId },
    actors: actors.slice(0, MAX_LISTED).map((a) => ({ arn: a.actor?.arn ?? null, eventName: a.eventName, eventTime: a.eventTime, eventId: a.eventId, sourceIP: a.actor?.sourceIPAddress ?? null })),
    observed: { endpointPublicAccess: evaluation.observed.endpointPublicAccess, endpointPrivateAccess: evaluation.observed.endpointPrivateAccess, publicAccessCidrs: evaluation.observed.publicAccessCidrs.slice(0, MAX_LISTED) },
    target: evaluation.target,
    violations: evaluation.violations.slice(0, MAX_LISTED).map((v) => ({ code: v.code, cidr: v.cidr ?? null })),
    detectedTime: new Date(now).toISOString(),
  };
  const event: GuardEvent = { source: OUTCOME_EVENT_SOURCE, detailType: DETECTION_EVENT_DETAIL_TYPE, resources: [detail.cluster.arn], detail };
  // The event first, as for outcomes: a publish that fails cannot lose it.
  const eventId = deps.outcomeEvents ? await deps.outcomeEvents.put(event) : null;
  const notice = renderDetection({ cluster: state.cluster, trigger: t, evaluation, actors, executionName: state.executionName, at: now });
  const messageId = await deps.alerts.publish(notice);
  deps.log.info('detection notice sent', { cluster: state.cluster, messageId, eventId });
  // The finding opens now (NEW); UpdateFinding moves it on after the outcome. Best effort here: the
  // outcome's import is the one that must land, and this step must not hold the revert up.
  try {
    await recordFinding(state, deps, { outcome: null });
  } catch (err) {
    deps.log.warn('finding not imported', { cluster: state.cluster, stage: 'detection', errorName: (err as Error).name, errorMessage: (err as Error).message });
  }
  return { noticed: true, messageId, eventId };
}
