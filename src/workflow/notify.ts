import { renderAlert } from '../alerts/render';
import { alertPublishFailureMetrics, emitMetrics, outcomeMetricsOf } from '../observability/metrics';
import type { WorkflowDeps } from './deps';
import { buildAlertCase } from './outcome';
import { buildOutcomeEvent, outcomeReason } from './outcome-event';
import type { AlertCase, ExecutionState, Outcome, Severity } from './types';

export type NotifyResult = {
  outcome: Outcome;
  severity: Severity;
  published: boolean;
  messageId: string | null;
  subject: string;
  /** Why a failed outcome failed (or why it was ignored), in one line. */
  reason: string | null;
  /** The outcome event's EventBridge id; null when none was put (ALREADY_HANDLED, or outcome events off). */
  eventId: string | null;
  /** UpdateFinding runs next: Security Hub findings are on and the outcome says something about the cluster. */
  finding: boolean;
};

/**
 * Whether on-call hears of this outcome. Good news needs nobody's attention (unless configured), except
 * when it is news: a guard role used by someone else, a tag change that loosened the rule, or a
 * cluster the guard had been failing to fix that is now fine. RecordOutcome already decided whether a
 * repeated failure of a re-check series is worth telling again.
 */
function shouldPublish(alertCase: AlertCase, state: ExecutionState, deps: WorkflowDeps): boolean {
  if (state.record && !state.record.publish) return false;
  // Another execution's alert covers the change (also when RecordOutcome could not run).
  if (alertCase.ignoredReason === 'ALREADY_HANDLED') return false;
  if (alertCase.guardRoleMisuse || alertCase.tagChange?.laxer) return true;
  // A violation on-call was told about is now fixed by someone else: closing it is news.
  if (alertCase.closedAlert) return true;
  // A re-check that found the cluster fine ends the series it belongs to: news, unless another
  // execution's outcome already ended it (and said so).
  if (alertCase.outcome === 'compliant') return deps.settings.notifyCompliant || (state.trigger.kind === 'recheck' && state.record?.endedSeries !== false);
  return true;
}

/**
 * NotifyOutcome: one outcome event on the home account's bus, then one SNS publish per outcome worth
 * telling. The event goes first, so a publish that fails cannot lose it; a failure of either fails the
 * invocation and the state machine's Retry runs both again. Consumers of the event de-duplicate on its
 * `executionName` (the same on every retry); a publish that failed was not delivered. A failure that
 * outlasts the retries fails the execution visibly; the stack's alarms reach people through the
 * separate operations topic.
 */
export async function notifyOutcome(state: ExecutionState, deps: WorkflowDeps): Promise<NotifyResult> {
  const alertCase = buildAlertCase(state, deps.now());
  const alert = renderAlert(alertCase, { exemptionTag: deps.policy.exemptionTag });
  const publish = shouldPublish(alertCase, state, deps);
  const event = deps.outcomeEvents ? buildOutcomeEvent(alertCase, { executionName: state.executionName, verifiedAt: state.verification?.verifiedAt ?? null, published: publish }) : null;
  let eventId: string | null = null;
  if (event) {
    try {
      eventId = await deps.outcomeEvents!.put(event);
    } catch (err) {
      // A constant message, like the publish failure's: a metric filter can match it.
      deps.log.error('outcome event put failed', { cluster: state.cluster, outcome: alertCase.outcome, errorName: (err as Error).name, errorMessage: (err as Error).message });
      throw err;
    }
  }
  let messageId: string | null = null;
  if (publish) {
    try {
      messageId = await deps.alerts.publish(alert);
    } catch (err) {
      // A constant message: the operations alarm's metric filter matches it.
      deps.log.error('alert publish failed', { cluster: state.cluster, outcome: alertCase.outcome, errorName: (err as Error).name, errorMessage: (err as Error).message });
      emitMetrics(deps.metrics, alertPublishFailureMetrics());
      throw err;
    }
  }
  deps.log.info(publish ? 'alert published' : 'outcome not published', { cluster: state.cluster, outcome: alertCase.outcome, messageId, eventId });
  // Counted once the outcome is told: a publish that failed and is retried counts it once.
  emitMetrics(deps.metrics, outcomeMetricsOf(alertCase));
  const finding = deps.settings.securityHubFindings === true && alertCase.outcome !== 'ignored' && state.assessment?.evaluation != null;
  return { outcome: alertCase.outcome, severity: alert.attributes.severity, published: publish, messageId, subject: alert.subject, reason: outcomeReason(alertCase), eventId, finding };
}
