import { severityFor } from '../alerts/render';
import type { AlertCase, ExecutionState, Outcome } from './types';

const revertUnsuccessful = (state: ExecutionState) => state.revert?.done === true && state.revert.status !== 'Successful';

/**
 * Reads the outcome off the execution state: the last thing that happened decides. Pure, so every path
 * through the state machine maps to exactly one outcome and one alert.
 */
export function decideOutcome(state: ExecutionState): Outcome {
  if (state.failure) return 'failed';
  if (state.change?.timedOut || state.assessment?.timedOut || state.revert?.timedOut) return 'failed';
  const evaluation = state.assessment?.evaluation;
  if (!evaluation) return 'failed';
  if (evaluation.verdict === 'exempt') return 'exempt';
  if (evaluation.verdict === 'compliant') return 'compliant';
  if (evaluation.action !== 'remediate') return 'alerted';
  if (state.preflight && !state.preflight.safe) return 'manual-action-required';
  if (!state.remediation || state.remediation.status === 'gave-up' || state.remediation.status === 'rejected') return 'failed';
  // A revert update that did not succeed is a failure even if the cluster looks compliant now: something
  // else changed it, and on-call must know the guard's own change did not land.
  if (revertUnsuccessful(state)) return 'failed';
  if (state.verification?.compliant) return 'remediated';
  return 'failed';
}

function failureOf(state: ExecutionState): AlertCase['failure'] {
  if (state.failure) {
    let cause = state.failure.Cause;
    // Lambda errors arrive as a JSON string {errorType, errorMessage, trace}: keep the message only.
    try {
      const parsed = JSON.parse(cause) as { errorMessage?: string };
      if (parsed.errorMessage) cause = parsed.errorMessage;
    } catch {
      /* a plain string cause is kept as it is */
    }
    return { error: state.failure.Error, cause };
  }
  const waited = state.change?.timedOut ? 'the change' : state.revert?.timedOut ? 'the revert' : state.assessment?.timedOut ? 'the busy cluster' : null;
  if (waited) return { error: 'WaitTimedOut', cause: `gave up waiting for ${waited} to finish` };
  const r = state.remediation;
  if (r?.status === 'gave-up') return { error: 'ClusterBusy', cause: `the cluster stayed busy with other updates through ${r.busyAttempts} attempts` };
  if (r?.status === 'rejected' && r.error) return { error: r.error.name, cause: r.error.message };
  if (revertUnsuccessful(state)) {
    const errors = state.revert!.errors.map((e) => `${e.errorCode}: ${e.errorMessage}`).join('; ');
    return { error: 'RevertUpdateFailed', cause: `the revert update ${state.remediation?.updateId} ended ${state.revert!.status}${errors ? `: ${errors}` : ''}` };
  }
  if (state.verification && !state.verification.compliant) return { error: 'StillNotCompliant', cause: 'the cluster still violates the policy after the revert' };
  return null;
}

/** Collects what an alert says from the execution state. */
export function buildAlertCase(state: ExecutionState, now: number): AlertCase {
  const outcome = decideOutcome(state);
  const evaluation = state.assessment?.evaluation ?? null;
  const before = evaluation
    ? { endpointPublicAccess: evaluation.observed.endpointPublicAccess, endpointPrivateAccess: evaluation.observed.endpointPrivateAccess, publicAccessCidrs: evaluation.observed.publicAccessCidrs }
    : null;
  const v = state.verification?.evaluation.observed;
  const after = v ? { endpointPublicAccess: v.endpointPublicAccess, endpointPrivateAccess: v.endpointPrivateAccess, publicAccessCidrs: v.publicAccessCidrs } : null;
  const changeTime = Date.parse(state.trigger.eventTime);
  const timeToFixSeconds = outcome === 'remediated' && state.verification && !Number.isNaN(changeTime) ? Math.max(0, Math.round((state.verification.verifiedAt - changeTime) / 1000)) : null;
  return {
    outcome,
    severity: severityFor(outcome),
    cluster: state.cluster,
    trigger: state.trigger,
    before,
    after,
    evaluation,
    preflight: state.preflight ?? null,
    remediation: state.remediation ?? null,
    revertUpdate: state.revert ?? null,
    failure: outcome === 'failed' ? failureOf(state) : null,
    timeToFixSeconds,
    at: now,
  };
}
