import { renderAlert } from '../alerts/render';
import type { WorkflowDeps } from './deps';
import { buildAlertCase } from './outcome';
import type { ExecutionState, Outcome, Severity } from './types';

export type NotifyResult = {
  outcome: Outcome;
  severity: Severity;
  published: boolean;
  messageId: string | null;
  subject: string;
  /** Why a failed outcome failed, in one line. */
  reason: string | null;
};

/**
 * NotifyOutcome (and NotifyFailure): one SNS publish per outcome. A compliant result is published only
 * when configured: a change that met the policy needs nobody's attention.
 */
export async function notifyOutcome(state: ExecutionState, deps: WorkflowDeps): Promise<NotifyResult> {
  const alertCase = buildAlertCase(state, deps.now());
  const alert = renderAlert(alertCase, { exemptionTag: deps.policy.exemptionTag });
  const quiet = alertCase.outcome === 'compliant' && !deps.settings.notifyCompliant;
  const messageId = quiet ? null : await deps.alerts.publish(alert);
  deps.log.info(quiet ? 'outcome not published' : 'alert published', { cluster: state.cluster, outcome: alertCase.outcome, messageId });
  const reason = alertCase.failure ? `${alertCase.failure.error}: ${alertCase.failure.cause}` : null;
  return { outcome: alertCase.outcome, severity: alertCase.severity, published: !quiet, messageId, subject: alert.subject, reason };
}
