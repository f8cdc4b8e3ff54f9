import { renderAlert } from '../alerts/render';
import type { WorkflowDeps } from './deps';
import { buildAlertCase } from './outcome';
import type { AlertCase, ExecutionState, Outcome, Severity } from './types';

export type NotifyResult = {
  outcome: Outcome;
  severity: Severity;
  published: boolean;
  messageId: string | null;
  subject: string;
  /** Why a failed outcome failed (or why it was ignored), in one line. */
  reason: string | null;
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
  if (alertCase.outcome === 'compliant') return deps.settings.notifyCompliant || state.trigger.kind === 'recheck';
  return true;
}

/**
 * NotifyOutcome: one SNS publish per outcome. A publish that fails (after the state machine's retries)
 * fails the execution visibly; the stack's alarms reach people through the separate operations topic.
 */
export async function notifyOutcome(state: ExecutionState, deps: WorkflowDeps): Promise<NotifyResult> {
  const alertCase = buildAlertCase(state, deps.now());
  const alert = renderAlert(alertCase, { exemptionTag: deps.policy.exemptionTag });
  const publish = shouldPublish(alertCase, state, deps);
  let messageId: string | null = null;
  if (publish) {
    try {
      messageId = await deps.alerts.publish(alert);
    } catch (err) {
      // A constant message: the operations alarm's metric filter matches it.
      deps.log.error('alert publish failed', { cluster: state.cluster, outcome: alertCase.outcome, errorName: (err as Error).name, errorMessage: (err as Error).message });
      throw err;
    }
  }
  deps.log.info(publish ? 'alert published' : 'outcome not published', { cluster: state.cluster, outcome: alertCase.outcome, messageId });
  const reason = alertCase.failure ? `${alertCase.failure.error}: ${alertCase.failure.cause}` : alertCase.ignoredReason;
  return { outcome: alertCase.outcome, severity: alert.attributes.severity, published: publish, messageId, subject: alert.subject, reason };
}
