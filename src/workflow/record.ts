/**
 * RecordOutcome: the execution's last word in the ledger, before anyone is told. It releases the lease,
 * remembers a revert (and turns the remediation that ends a tug-of-war round into `escalated`), and for
 * a failure that may yet pass schedules a re-check, so the guard never leaves an open cluster to the
 * next sweep. Deciding this before NotifyOutcome means an alert that cannot be published does not also
 * lose the re-check.
 */
import { alertSeverity } from '../alerts/render';
import { reminderHoursOf } from '../policy/compile';
import { changeOf, closeOpenAlert, decideEscalation, decideOpenAlert, judgedSettings, nextRecheck, openAlertFingerprint, uniqueActors, withoutLease, withRevert } from '../ledger/rules';
import type { ClusterLedger } from '../ledger/types';
import type { WorkflowDeps } from './deps';
import { executionName } from './intake';
import { buildAlertCase, decideOutcome, failureReason, ignoredReasonOf, isPermanentFailure } from './outcome';
import type { ExecutionInput, ExecutionState, Outcome, RecordResult, Severity } from './types';

// Outcomes a later look may change without anyone's help: the guard keeps coming back to these.
const RECHECKED: ReadonlySet<Outcome> = new Set(['failed', 'manual-action-required']);
// Outcomes that close whatever violation on-call was told about.
const CLOSING: ReadonlySet<Outcome> = new Set(['compliant', 'remediated', 'escalated', 'exempt']);

/**
 * The open violation this outcome leaves, or null: a violation the guard does not close (alert mode,
 * manual action, a revert EKS refused for good). A failure that may pass is the re-check series' to tell.
 */
function openViolation(outcome: Outcome, state: ExecutionState): string | null {
  const evaluation = state.assessment?.evaluation;
  if (!evaluation) return null;
  const open = outcome === 'alerted' || outcome === 'manual-action-required' || (outcome === 'failed' && isPermanentFailure(state));
  if (!open) return null;
  const failure = outcome === 'failed' ? (state.remediation?.error?.name ?? 'failed') : outcome === 'manual-action-required' ? (state.preflight?.problems.map((p) => p.check).sort().join(',') ?? null) : null;
  return openAlertFingerprint({
    outcome,
    rule: evaluation.settings.rule,
    mode: evaluation.settings.mode,
    endpointPublicAccess: evaluation.observed.endpointPublicAccess,
    endpointPrivateAccess: evaluation.observed.endpointPrivateAccess,
    publicAccessCidrs: evaluation.observed.publicAccessCidrs,
    violations: evaluation.violations.map((v) => (v.cidr ? `${v.code}:${v.cidr}` : v.code)),
    failure,
  });
}

function severityOf(outcome: Outcome, state: ExecutionState): Severity {
  return alertSeverity({ ...buildAlertCase(state, 0), outcome });
}

function recheckInput(state: ExecutionState, name: string, attempt: number, incident: string, delaySeconds: number, nextAt: number): ExecutionInput {
  return {
    cluster: state.cluster,
    executionName: name,
    // The wait budget of the re-check counts from when it wakes up.
    startedAt: nextAt,
    trigger: {
      kind: 'recheck',
      eventId: name,
      eventName: 'Recheck',
      eventTime: new Date(nextAt).toISOString(),
      updateId: null,
      requested: null,
      actor: null,
      waitFor: 'none',
      delaySeconds,
      recheck: { incident, attempt },
    },
  };
}

/** RecordOutcome: decides the final outcome with the ledger's memory and writes what it must remember. */
export async function recordOutcome(state: ExecutionState, deps: WorkflowDeps): Promise<RecordResult> {
  const now = deps.now();
  const decided = decideOutcome(state);
  const me = state.executionName;
  const settings = state.assessment?.evaluation?.settings;
  const actors = buildAlertCase(state, now).actors;

  return deps.ledger.mutate(state.cluster, (ledger: ClusterLedger) => {
    let next: ClusterLedger = withoutLease(ledger, me) ?? ledger;
    // An execution that ended before judging (the cluster deleted while it waited, an error before its
    // lease) may find its change judged by another: that execution's outcome and alert cover it.
    const handledBy = state.trigger.kind === 'recheck' ? null : (changeOf(next, state.trigger.eventId)?.handledBy ?? null);
    const coveredElsewhere = handledBy !== null && handledBy !== me && decided !== 'remediated' && !state.assessment;
    let outcome: Outcome = coveredElsewhere ? 'ignored' : decided;
    let escalation: RecordResult['escalation'] = null;

    if (decided === 'remediated' && settings) {
      // A retry of this step (its write landed, its answer was lost) finds its own revert: same answer again.
      const mine = next.reverts.find((r) => r.execution === me);
      const before = mine ? { ...next, reverts: next.reverts.filter((r) => r !== mine) } : next;
      const decision = decideEscalation(before, mine?.at ?? now, settings.escalation);
      const escalate = mine ? mine.escalated === true : decision.escalate;
      if (escalate) {
        outcome = 'escalated';
        escalation = { reverts: decision.reverts, withinMinutes: settings.escalation.withinMinutes, actors: uniqueActors([...decision.actors, ...actors.map((c) => c.actor)]) };
      }
      if (!mine) {
        next = withRevert(next, { at: now, execution: me, updateId: state.remediation?.updateId ?? null, actors: actors.map((c) => c.actor).filter((a) => a !== null), escalated: escalate }) ?? next;
        if (escalate) next = { ...next, escalatedAt: now };
      }
    }
    // What this execution judged, for the next one to compare a tag change with.
    const evaluation = state.assessment?.evaluation;
    if (evaluation && state.assessment?.settled) {
      next = { ...next, lastJudged: judgedSettings(evaluation.settings, evaluation.verdict === 'exempt', evaluation.observed.tags, state.assessment.observedAt, me) };
    }

    let recheck: RecordResult['recheck'] = null;
    let publish = true;
    const series = next.recheck;
    // A re-check is already on its way: this execution's failure is part of the same series, and a second
    // chain of re-checks would double every attempt from here on.
    const covered = series !== null && series.pending !== null && series.pending !== me && series.lastExecution !== me && (series.nextAt ?? 0) > now;
    if (coveredElsewhere) {
      publish = false;
    } else if (RECHECKED.has(outcome) && !isPermanentFailure(state) && covered) {
      publish = false;
    } else if (RECHECKED.has(outcome) && !isPermanentFailure(state)) {
      const reason = failureReason(state)?.error ?? outcome;
      const plan = nextRecheck(next, me, reason, now);
      const name = executionName('recheck', `${plan.series.incident}-${plan.series.attempts}`);
      recheck = { name, input: recheckInput(state, name, plan.series.attempts, plan.series.incident, plan.delaySeconds, plan.series.nextAt!), attempt: plan.series.attempts, nextAt: plan.series.nextAt!, incident: plan.series.incident };
      publish = plan.alert;
      next = { ...next, recheck: { ...plan.series, pending: name } };
    } else if (next.recheck && outcome !== 'ignored') {
      // The series is over: fixed, compliant, exempt, or a refusal that re-checking cannot change.
      next = { ...next, recheck: null, recheckEnded: { incident: next.recheck.incident, by: me } };
    }
    // A re-check that ends its own series is news ("fixed on re-check N"); one whose series another
    // execution already ended (the owner fixed it, and that outcome said so) is not.
    const recheckIncident = state.trigger.recheck?.incident ?? null;
    const endedSeries = state.trigger.kind === 'recheck' && recheckIncident !== null && (ledger.recheck?.incident === recheckIncident || (ledger.recheckEnded?.incident === recheckIncident && ledger.recheckEnded.by === me));

    const ignoredReason = coveredElsewhere ? 'ALREADY_HANDLED' : outcome === 'ignored' ? ignoredReasonOf(state) : null;

    // No repeated pages: an open violation the guard does not close is told once, then reminded at most
    // once per reminderHours until it changes or is fixed; an outcome that closes it says so once.
    let reminder: RecordResult['reminder'] = null;
    let closedAlert: RecordResult['closedAlert'] = null;
    const fingerprint = coveredElsewhere ? null : openViolation(outcome, state);
    if (fingerprint) {
      const hours = reminderHoursOf(deps.policy, settings?.rule ?? null);
      // A cluster just created is new, whatever a deleted cluster of the same name left open.
      const fresh = state.trigger.eventName === 'CreateCluster';
      const { next: open, decision } = decideOpenAlert(next.openAlert ?? null, fingerprint, outcome, me, now, hours, fresh);
      next = { ...next, openAlert: open };
      publish = decision !== 'quiet';
      if (decision === 'reminder') reminder = { firstAlertedAt: open.firstAlertedAt, count: open.reminders, reminderHours: hours };
    } else if (next.openAlert && (CLOSING.has(outcome) || ignoredReason === 'CLUSTER_DELETED')) {
      const { next: open, closed } = closeOpenAlert(next.openAlert, me);
      if (closed) closedAlert = { firstAlertedAt: closed.firstAlertedAt, outcome: closed.outcome };
      if (open !== next.openAlert) next = { ...next, openAlert: open };
    }
    // A misused guard role or a loosened rule is news whatever the re-check series says: always told.
    const alertCase = buildAlertCase(state, now);
    if (alertCase.guardRoleMisuse || alertCase.tagChange?.laxer) publish = true;
    // Another execution's alert already covers this change: one incident, one alert.
    if (ignoredReason === 'ALREADY_HANDLED') publish = false;
    const severity = severityOf(outcome, state);
    deps.log.info('outcome recorded', { cluster: state.cluster, outcome, severity, publish, recheck: recheck ? { name: recheck.name, nextAt: recheck.nextAt } : null, escalated: escalation !== null });
    return { next: next === ledger ? null : next, result: { outcome, severity, publish, ignoredReason, escalation, recheck, reminder, closedAlert, endedSeries } };
  });
}
