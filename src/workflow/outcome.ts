import { alertSeverity } from '../alerts/render';
import type { ChangeRecord } from '../ledger/types';
import { triggerChange } from './changes';
import type { AlertCase, ExecutionState, IgnoredReason, Outcome } from './types';

const revertUnsuccessful = (state: ExecutionState) => state.revert?.done === true && state.revert.status !== 'Successful';

/** Why the execution has nothing to report, or null: the cluster is gone, or another execution covered the change. */
export function ignoredReasonOf(state: ExecutionState): IgnoredReason | null {
  if (state.failure?.Error === 'ClusterNotFoundError') return 'CLUSTER_DELETED';
  if (state.lease?.handled) return 'ALREADY_HANDLED';
  if (state.remediation?.status === 'lost-lease') return 'ALREADY_HANDLED';
  return null;
}

/**
 * Reads the outcome off the execution state: the last thing that happened decides. Pure, so every path
 * through the state machine maps to exactly one outcome and one alert. (Escalation needs the ledger's
 * memory of earlier reverts: RecordOutcome turns a `remediated` into `escalated`.)
 */
export function decideOutcome(state: ExecutionState): Outcome {
  if (ignoredReasonOf(state)) return 'ignored';
  if (state.failure) return 'failed';
  if (state.change?.timedOut || state.lease?.timedOut || state.assessment?.timedOut || state.revert?.timedOut) return 'failed';
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

/** A failure the same request would meet again: EKS refused the target itself. Re-checking cannot help. */
export function isPermanentFailure(state: ExecutionState): boolean {
  return state.remediation?.status === 'rejected' && state.remediation.permanent === true;
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
  if (state.lease?.timedOut) return { error: 'ClusterLeased', cause: `another execution (${state.lease.holder}) held the cluster for longer than the wait budget; the guard will look again` };
  const waited = state.change?.timedOut ? 'the change' : state.revert?.timedOut ? 'the revert' : state.assessment?.timedOut ? 'the busy cluster' : null;
  if (waited) return { error: 'WaitTimedOut', cause: `gave up waiting for ${waited} to finish` };
  const r = state.remediation;
  if (r?.status === 'gave-up') return { error: 'ClusterBusy', cause: `the cluster stayed busy with other updates through ${r.busyAttempts} attempts, past the wait budget` };
  if (r?.status === 'rejected' && r.error) return { error: r.error.name, cause: r.error.message };
  if (revertUnsuccessful(state)) {
    const errors = state.revert!.errors.map((e) => `${e.errorCode}: ${e.errorMessage}`).join('; ');
    return { error: 'RevertUpdateFailed', cause: `the revert update ${state.remediation?.updateId} ended ${state.revert!.status}${errors ? `: ${errors}` : ''}` };
  }
  if (state.verification && !state.verification.compliant) return { error: 'StillNotCompliant', cause: 'the cluster still violates the policy after the revert' };
  return null;
}

/** The failure of a failed outcome, in one line (error: cause). */
export function failureReason(state: ExecutionState): { error: string; cause: string } | null {
  return decideOutcome(state) === 'failed' ? failureOf(state) : null;
}

/** The trigger's own change, for executions whose judgement claimed none (it ran into an error first). */
function triggerActor(state: ExecutionState): ChangeRecord[] {
  const change = triggerChange(state, state.startedAt);
  return change ? [{ ...change, handledBy: state.executionName }] : [];
}

/** Collects what an alert says from the execution state (RecordOutcome's decision included, once made). */
export function buildAlertCase(state: ExecutionState, now: number): AlertCase {
  const outcome = state.record?.outcome ?? decideOutcome(state);
  const evaluation = state.assessment?.evaluation ?? null;
  const before = evaluation
    ? { endpointPublicAccess: evaluation.observed.endpointPublicAccess, endpointPrivateAccess: evaluation.observed.endpointPrivateAccess, publicAccessCidrs: evaluation.observed.publicAccessCidrs }
    : null;
  const v = state.verification?.evaluation.observed;
  const after = v ? { endpointPublicAccess: v.endpointPublicAccess, endpointPrivateAccess: v.endpointPrivateAccess, publicAccessCidrs: v.publicAccessCidrs } : null;
  const changeTime = Date.parse(state.trigger.eventTime);
  const timeToFixSeconds = (outcome === 'remediated' || outcome === 'escalated') && state.verification && !Number.isNaN(changeTime) ? Math.max(0, Math.round((state.verification.verifiedAt - changeTime) / 1000)) : null;
  const claimed = state.assessment?.actors ?? [];
  const actors = claimed.length > 0 ? claimed : triggerActor(state);
  const misuse = actors.find((c) => c.guardRoleMisuse) ?? null;
  const r = state.record?.recheck ?? null;
  return {
    outcome,
    severity: state.record?.severity ?? alertSeverity({ outcome, guardRoleMisuse: misuse ? { session: misuse.actor?.arn ?? 'unknown session' } : null, tagChange: state.assessment?.tagChange ?? null }),
    cluster: state.cluster,
    trigger: state.trigger,
    before,
    after,
    evaluation,
    preflight: state.preflight ?? null,
    remediation: state.remediation ?? null,
    revertUpdate: state.revert ?? null,
    failure: outcome === 'failed' ? failureOf(state) : null,
    actors,
    ignoredReason: outcome === 'ignored' ? (state.record?.ignoredReason ?? ignoredReasonOf(state)) : null,
    guardRoleMisuse: misuse ? { session: misuse.actor?.arn ?? 'unknown session' } : null,
    tagChange: state.assessment?.tagChange ?? null,
    escalation: state.record?.escalation ?? null,
    recheck: r ? { attempt: r.attempt, nextAt: r.nextAt, incident: r.incident } : null,
    timeToFixSeconds,
    reminder: state.record?.reminder ?? null,
    closedAlert: state.record?.closedAlert ?? null,
    at: now,
  };
}
