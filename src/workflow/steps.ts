/**
 * One use case per Task state of statemachine/enforce-endpoint.asl.yml. Each takes the execution state
 * and the ports, and returns the JSON stored under its ResultPath. Transient AWS errors are thrown (the
 * state machine retries them); expected outcomes (busy cluster, rejected request) are returned as data
 * so the state machine can branch on them.
 */
import { createHash } from 'node:crypto';
import { AwsRequestRejectedError, ClusterBusyError, GuardError } from '../errors';
import { changeOf, claimChanges, isLaxer, judgedBefore, withJudgement, judgedSettings, tryLease, withChange, withOwnUpdate } from '../ledger/rules';
import type { ChangeRecord, ClusterLedger, JudgedSettings } from '../ledger/types';
import { evaluateInOrganization } from '../org/evaluate';
import { parseObservedCluster, type ObservedCluster } from '../policy';
import type { ClusterRef, EndpointConfig, EndpointTarget, Evaluation } from '../policy/types';
import { busyWaitSeconds, pollWaitSeconds } from './backoff';
import { triggerChange } from './changes';
import { trackerFailure, trackOf, type TrackResult } from './tracking';
import { METRIC_NAMES } from '../observability/metrics';
import type { WorkflowDeps } from './deps';
import type { AlertCase, EvaluateResult, ExecutionState, LeaseResult, PollResult, PreflightProblem, PreflightResult, RemediateResult, VerifyResult } from './types';
import { putOwn } from '../records';

/** An execution state that lacks what a step needs: a bug in the definition or a hand-started execution. */
export class WorkflowStateError extends GuardError {
  override readonly name = 'WorkflowStateError';
}

/** Statuses that mean "not done yet" (the Express tracker's Choice states test the same ones). */
export const NOT_DONE_UPDATE: ReadonlySet<string> = new Set(['InProgress']);
export const NOT_DONE_CLUSTER: ReadonlySet<string> = new Set(['CREATING', 'UPDATING', 'PENDING']);

/** Is an update (or, without one, a new cluster) done, given the status EKS reports for it? */
export function changeDone(updateId: string | null, status: string): boolean {
  return updateId ? !NOT_DONE_UPDATE.has(status) : !NOT_DONE_CLUSTER.has(status);
}

/** The status of an update, or without one of the cluster itself (a new cluster being created). */
async function changeStatus(cluster: ClusterRef, updateId: string | null, deps: Pick<WorkflowDeps, 'eks'>): Promise<{ status: string; errors: PollResult['errors'] }> {
  if (updateId) {
    const update = await deps.eks.describeUpdate(cluster, updateId);
    return { status: update.status, errors: update.errors };
  }
  const described = await deps.eks.describeCluster(cluster);
  return { status: typeof described.status === 'string' ? described.status : 'UNKNOWN', errors: [] };
}

/** The wait budget counts from the start of the execution, or for the guard's own revert from its call. */
function budgetExceeded(state: ExecutionState, deps: WorkflowDeps, since = state.startedAt): boolean {
  return deps.now() - since > deps.settings.maxWaitSeconds * 1000;
}

async function pollUpdate(
  cluster: ClusterRef,
  updateId: string | null,
  previous: PollResult | undefined,
  tracked: TrackResult | undefined,
  state: ExecutionState,
  deps: WorkflowDeps,
  since = state.startedAt,
): Promise<PollResult> {
  const polls = (previous?.polls ?? 0) + 1;
  const { status, errors } = await changeStatus(cluster, updateId, deps);
  const done = changeDone(updateId, status);
  const timedOut = !done && budgetExceeded(state, deps, since);
  deps.log.info('change polled', { cluster, updateId, status, polls, done, timedOut });
  // Not done: the Express tracker polls next (or, should it fail, a Wait state of waitSeconds).
  const budgetLeftSeconds = deps.settings.maxWaitSeconds - (deps.now() - since) / 1000;
  const track = done || timedOut ? null : trackOf(cluster, updateId, deps.settings.tracking, budgetLeftSeconds);
  // The Wait state after a failed tracker run doubles with the failures in a row (30 s to 180 s), not with
  // the polls (each tracker run is one), and never outlasts the budget; without a tracker (a definition
  // that polls in Wait states) it doubles with the polls, as before the tracker.
  const trackerFailures = trackerFailure(tracked) ? (previous?.trackerFailures ?? 0) + 1 : 0;
  const doubling = pollWaitSeconds(tracked === undefined ? polls : Math.max(1, trackerFailures));
  const waitSeconds = Math.max(1, Math.min(doubling, Math.ceil(budgetLeftSeconds)));
  return { done, status, errors, polls, waitSeconds, timedOut, track, trackerFailures };
}

/**
 * The tracker's last run failed and the workflow waited in a Wait state instead: said in the log and
 * counted (TrackerFailures), since every wait then costs minutes of lag until the cause is fixed. Called
 * once the step has done its AWS calls: metrics are flushed even when a Lambda fails, so a step retried
 * after a throttled call would otherwise count the same failure again (and EKS throttling is what
 * usually fails the tracker).
 */
function reportTrackerFailure(result: TrackResult | undefined, state: ExecutionState, deps: WorkflowDeps): void {
  const failure = trackerFailure(result);
  if (!failure) return;
  deps.log.warn('the update tracker failed; waited in the workflow instead', { cluster: state.cluster, error: failure.Error, cause: failure.Cause });
  deps.metrics?.add({ name: METRIC_NAMES.trackerFailures, unit: 'Count', value: 1 });
}

/**
 * PollChange, inside the Express tracker, for a cluster in another region than the stack's (SDK
 * integrations reach their own region only): one poll, through the member read role there.
 */
export async function pollChange(input: { cluster: ClusterRef; updateId: string | null }, deps: Pick<WorkflowDeps, 'eks'>): Promise<{ done: boolean; status: string }> {
  if (!input?.cluster?.name || !input.cluster.account || !input.cluster.region) throw new WorkflowStateError('PollChange needs {cluster: {account, region, name}, updateId}');
  const updateId = input.updateId ?? null;
  const { status } = await changeStatus(input.cluster, updateId, deps);
  return { done: changeDone(updateId, status), status };
}

/** WaitForChange: is the triggering change (an update, or a new cluster's creation) finished yet? */
export async function waitForChange(state: ExecutionState, deps: WorkflowDeps): Promise<PollResult> {
  const { trigger } = state;
  if (trigger.waitFor === 'none') return { done: true, status: 'none', errors: [], polls: 0, waitSeconds: 0, timedOut: false, track: null, trackerFailures: 0 };
  const updateId = trigger.waitFor === 'update' ? trigger.updateId : null;
  const result = await pollUpdate(state.cluster, updateId, state.change, state.changeTracking, state, deps);
  reportTrackerFailure(state.changeTracking, state, deps);
  return result;
}

/** WaitForRevert: is the guard's own update finished yet? */
export async function waitForRevert(state: ExecutionState, deps: WorkflowDeps): Promise<PollResult> {
  const updateId = state.remediation?.updateId;
  if (!updateId) throw new WorkflowStateError('WaitForRevert needs $.remediation.updateId');
  await renewLease(state, deps);
  const result = await pollUpdate(state.cluster, updateId, state.revert, state.revertTracking, state, deps, state.remediation?.at ?? state.startedAt);
  reportTrackerFailure(state.revertTracking, state, deps);
  return result;
}

/**
 * How long a lease lasts without renewal. Every step of the holder renews it; the longest gap between
 * two of its renewals is one step's transient-error retries (about 25 minutes, 50 at the very most), so
 * an hour lapses only for a dead holder (aborted, timed out), whose cluster then waits at most that long.
 */
export const LEASE_SECONDS = 3600;
const LEASE_WAIT_SECONDS = 30;
const LEASE_WAIT_MAX_SECONDS = 300;

/**
 * AcquireLease: one enforcing execution per cluster at a time. The trigger's change is recorded first
 * (the intake usually has already), so whichever execution judges the cluster next names its actor.
 * When another execution's judgement already covered this change, there is nothing left to do: its
 * alert named this actor, and a second alert would split one incident in two.
 */
export async function acquireLease(state: ExecutionState, deps: WorkflowDeps): Promise<LeaseResult> {
  const now = deps.now();
  const change = triggerChange(state, now);
  const holder = state.executionName;
  return deps.ledger.mutate<LeaseResult>(state.cluster, (ledger) => {
    const recorded = change ? (withChange(ledger, change) ?? ledger) : ledger;
    const seen = change ? changeOf(recorded, change.eventId) : null;
    if (seen?.handledBy && seen.handledBy !== holder) {
      deps.log.info('change already handled', { cluster: state.cluster, eventId: seen.eventId, handledBy: seen.handledBy });
      return { next: recorded === ledger ? null : recorded, result: { acquired: false, handled: true, handledBy: seen.handledBy, holder: null, waitSeconds: 0, waits: 0, timedOut: false } };
    }
    const { next, result } = tryLease(recorded, holder, now, LEASE_SECONDS * 1000);
    const waits = result.acquired ? 0 : (state.lease?.waits ?? 0) + 1;
    // Waited past the budget: stop, alert and re-check later rather than wait for ever in one execution.
    const timedOut = !result.acquired && budgetExceeded(state, deps);
    if (!result.acquired) deps.log.info('cluster leased by another execution, waiting', { cluster: state.cluster, holder: result.holder, waits, timedOut });
    const written = next ?? (recorded === ledger ? null : recorded);
    const waitSeconds = result.acquired ? 0 : Math.min(LEASE_WAIT_MAX_SECONDS, LEASE_WAIT_SECONDS * 2 ** Math.min(waits - 1, 8));
    return { next: written, result: { acquired: result.acquired, handled: false, handledBy: null, holder: result.holder, waitSeconds, waits, timedOut } };
  });
}

/** Renews this execution's lease; `held` is false when it has lost it (expired and taken over). */
async function renewLease(state: ExecutionState, deps: WorkflowDeps): Promise<{ held: boolean; ledger: ClusterLedger }> {
  const now = deps.now();
  return deps.ledger.mutate<{ held: boolean; ledger: ClusterLedger }>(state.cluster, (ledger) => {
    if (ledger.lease && ledger.lease.holder !== state.executionName && ledger.lease.expiresAt > now) return { next: null, result: { held: false, ledger } };
    return { next: tryLease(ledger, state.executionName, now, LEASE_SECONDS * 1000).next, result: { held: true, ledger } };
  });
}

/**
 * The organization is read only when the decision depends on the account's OUs or tags; when it cannot
 * be read the step fails (retried when transient, else a failed outcome and a re-check): never a
 * verdict on a guess.
 */
function judgeObserved(observed: ObservedCluster, deps: WorkflowDeps): Promise<Evaluation> {
  return evaluateInOrganization(deps.policy, observed, { now: deps.now(), forceMode: deps.settings.shadowMode ? 'alert' : undefined }, deps.organization);
}

async function readLive(cluster: ClusterRef, deps: WorkflowDeps): Promise<ObservedCluster> {
  const description = await deps.eks.describeCluster(cluster);
  return parseObservedCluster(description, { account: cluster.account, region: cluster.region });
}

async function judgeLiveCluster(state: ExecutionState, deps: WorkflowDeps): Promise<{ evaluation: Evaluation; status: string | null; observed: ObservedCluster }> {
  const observed = await readLive(state.cluster, deps);
  return { evaluation: await judgeObserved(observed, deps), status: observed.status, observed };
}

const TAG_EVENTS = new Set(['TagResource', 'UntagResource']);

/** The Wait before judging a busy cluster again when the tracker could not follow it (never past the budget). */
const BUSY_CLUSTER_WAIT_SECONDS = 60;
/**
 * The Wait after RemediateCluster found the cluster showing an update (UPDATING): EvaluateCluster then
 * has the tracker follow it. Only a refusal while the cluster shows none (an EKS platform update) waits
 * with `busyWaitSeconds`, since nothing then tells when it ends.
 */
const SHOWN_BUSY_WAIT_SECONDS = 1;

/** Tag keys the policy decides on: rule and exemption matches, and the exemption tag. */
function policyTagKeys(deps: WorkflowDeps): Set<string> {
  const keys = new Set<string>([deps.policy.exemptionTag]);
  for (const m of [...deps.policy.rules.map((r) => r.match), ...deps.policy.exemptions.map((e) => e.match)]) for (const k of Object.keys(m.tags ?? {})) keys.add(k);
  return keys;
}

/**
 * How the tag changes this judgement covers moved it. The settings before are the newest judgement the
 * ledger keeps from before the first of them. Without one (a cluster never judged since, or judged only in
 * the same second), what the overwritten or removed tags were cannot be known: a change to a tag the
 * policy decides on is then reported as possibly laxer (`before: null`), so that someone looks, rather
 * than passing silently; a change to other tags is not. A change the ledger kept only in part (over 10
 * tags in one call) may have touched such a tag unseen, so it counts as touching one.
 */
function tagChangeOf(claimed: ChangeRecord[], ledger: ClusterLedger, observed: ObservedCluster, evaluation: Evaluation, deps: WorkflowDeps): AlertCase['tagChange'] {
  // Every tag change this judgement covers, this execution's trigger or not: together they moved the rule.
  const changes = claimed.filter((c) => TAG_EVENTS.has(c.eventName));
  if (changes.length === 0) return null;
  const set: Record<string, string> = {};
  const removed = new Set<string>();
  let omitted = 0;
  for (const c of changes) {
    omitted += c.tags?.omitted ?? 0;
    for (const [k, v] of Object.entries(c.tags?.set ?? {})) {
      putOwn(set, k, v);
      removed.delete(k);
    }
    for (const k of c.tags?.removed ?? []) {
      delete set[k];
      removed.add(k);
    }
  }
  const last = changes[changes.length - 1]!;
  const after = judgedSettings(evaluation.settings, evaluation.verdict === 'exempt', observed.tags, deps.now());
  const before = judgedBefore(ledger, changes[0]!.eventTime);
  const relevant = policyTagKeys(deps);
  const touched = omitted > 0 || [...Object.keys(set), ...removed].some((k) => relevant.has(k));
  const laxer = before ? isLaxer(before, after) : touched || after.exempt;
  return { actor: last.actor, set, removed: [...removed], ...(omitted > 0 ? { omitted } : {}), before, after, laxer };
}

/**
 * EvaluateCluster: judges the live cluster. A cluster that is UPDATING or CREATING still shows its old
 * endpoint values (endpoint-rules.md, rule 14), so it is judged again later rather than acted on: the
 * Express tracker follows its status (an update the guard has no id for: another person's, one the
 * trigger did not name) and the cluster is judged within one poll of it settling; should the tracker
 * fail, the workflow waits a minute instead.
 */
export async function evaluateClusterStep(state: ExecutionState, deps: WorkflowDeps): Promise<EvaluateResult> {
  const result = await evaluateLive(state, deps);
  // Only the judgement right after a busy one follows a tracker run (or its fallback Wait).
  if (state.assessment && !state.assessment.settled && !state.assessment.leaseLost) reportTrackerFailure(state.busyTracking, state, deps);
  return result;
}

async function evaluateLive(state: ExecutionState, deps: WorkflowDeps): Promise<EvaluateResult> {
  const { evaluation, status, observed } = await judgeLiveCluster(state, deps);
  const observedAt = deps.now();
  if (status !== null && NOT_DONE_CLUSTER.has(status)) {
    const timedOut = budgetExceeded(state, deps);
    await renewLease(state, deps);
    const budgetLeftSeconds = deps.settings.maxWaitSeconds - (observedAt - state.startedAt) / 1000;
    const track = timedOut ? null : trackOf(state.cluster, null, deps.settings.tracking, budgetLeftSeconds);
    deps.log.info('cluster busy, judging later', { cluster: state.cluster, status, timedOut, trackedVia: track?.via ?? null });
    const waitSeconds = Math.max(1, Math.min(BUSY_CLUSTER_WAIT_SECONDS, Math.ceil(budgetLeftSeconds)));
    return { settled: false, leaseLost: false, waitSeconds, timedOut, evaluation, observedAt, track };
  }
  // One write: renew the lease and claim the changes this judgement covers. The last judgement of an
  // earlier execution (RecordOutcome writes it) is what a tag change is compared with.
  const judged = judgedSettings(evaluation.settings, evaluation.verdict === 'exempt', observed.tags, observedAt, state.executionName);
  const { leased, actors, previous } = await deps.ledger.mutate(state.cluster, (ledger: ClusterLedger) => {
    const lease = tryLease(ledger, state.executionName, observedAt, LEASE_SECONDS * 1000);
    // Our lease lapsed and another execution enforces now: claim nothing (its alert names them), wait.
    if (!lease.result.acquired) return { next: null, result: { leased: false, actors: [] as ChangeRecord[], previous: ledger } };
    const withLease = lease.next ?? ledger;
    // The trigger's own change is in the ledger already (intake, AcquireLease); recorded again in case not.
    const own = triggerChange(state, observedAt);
    const withOwn = own ? (withChange(withLease, own) ?? withLease) : withLease;
    const claim = claimChanges(withOwn, state.executionName, observedAt, own?.eventId ?? null);
    // The judgement joins the short history (compared by time, so a re-judgement never compares with itself).
    return { next: withJudgement(claim.next ?? withOwn, judged), result: { leased: true, actors: claim.result, previous: ledger } };
  });
  if (!leased) {
    deps.log.warn('lease lost: another execution enforces the cluster, waiting', { cluster: state.cluster });
    return { settled: false, leaseLost: true, waitSeconds: 0, timedOut: false, evaluation, observedAt };
  }
  const tagChange = tagChangeOf(actors, previous, observed, evaluation, deps);
  deps.log.info('cluster evaluated', { cluster: state.cluster, verdict: evaluation.verdict, action: evaluation.action, violations: evaluation.violations.map((v) => v.code), actors: actors.length, laxerTags: tagChange?.laxer ?? null });
  return { settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation, observedAt, actors, tagChange };
}

const DNS_FIXES = {
  enableDnsSupport: (vpc: string) => `aws ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-support '{"Value":true}'`,
  enableDnsHostnames: (vpc: string) => `aws ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-hostnames '{"Value":true}'`,
  AmazonProvidedDNS: (vpc: string) =>
    `create a DHCP options set whose domain-name-servers include AmazonProvidedDNS and associate it: aws ec2 associate-dhcp-options --vpc-id ${vpc} --dhcp-options-id <new-id>`,
};

/**
 * PreflightCheck: a target that turns private access on or public access off relies on the private
 * endpoint, which resolves inside the VPC only with DNS support, DNS hostnames and AmazonProvidedDNS in
 * the DHCP options (endpoint-rules.md, rule 8). If any is missing, applying it would cut clients off.
 */
export async function preflightCheck(state: ExecutionState, deps: WorkflowDeps): Promise<PreflightResult> {
  const evaluation = state.assessment?.evaluation;
  const target = evaluation?.target;
  if (!evaluation || !target) throw new WorkflowStateError('PreflightCheck needs $.assessment.evaluation.target');
  const observed = evaluation.observed;
  const reliesOnPrivate = (target.endpointPrivateAccess && !observed.endpointPrivateAccess) || (!target.endpointPublicAccess && observed.endpointPublicAccess);
  if (!reliesOnPrivate) return { safe: true, checked: false, vpcId: observed.vpcId, problems: [] };
  const vpcId = observed.vpcId;
  if (!vpcId) {
    return {
      safe: false,
      checked: true,
      vpcId: null,
      problems: [{ check: 'enableDnsSupport', message: 'DescribeCluster reported no VPC id, so private endpoint DNS could not be checked', fix: 'check the cluster\'s VPC by hand' }],
    };
  }
  const facts = await deps.ec2.vpcDnsFacts(state.cluster, vpcId);
  const problems: PreflightProblem[] = [];
  if (!facts.enableDnsSupport) problems.push({ check: 'enableDnsSupport', message: `VPC ${vpcId} has enableDnsSupport off: the private endpoint would not resolve`, fix: DNS_FIXES.enableDnsSupport(vpcId) });
  if (!facts.enableDnsHostnames) problems.push({ check: 'enableDnsHostnames', message: `VPC ${vpcId} has enableDnsHostnames off: the private endpoint would not resolve`, fix: DNS_FIXES.enableDnsHostnames(vpcId) });
  if (!facts.domainNameServers.includes('AmazonProvidedDNS')) {
    problems.push({
      check: 'AmazonProvidedDNS',
      message: `VPC ${vpcId} DHCP options ${facts.dhcpOptionsId ?? '(none)'} do not list AmazonProvidedDNS (${facts.domainNameServers.join(', ') || 'no servers'}): the private endpoint would not resolve`,
      fix: DNS_FIXES.AmazonProvidedDNS(vpcId),
    });
  }
  deps.log.info('preflight checked', { cluster: state.cluster, vpcId, problems: problems.map((p) => p.check) });
  return { safe: problems.length === 0, checked: true, vpcId, problems };
}

/** Refuses targets that break the guard's safety rules, whatever produced them. */
function assertSafeTarget(target: EndpointTarget, observed: EndpointConfig): void {
  if (!target.endpointPublicAccess && !target.endpointPrivateAccess) throw new WorkflowStateError('refusing a target with both endpoints off');
  if (target.endpointPublicAccess && !observed.endpointPublicAccess) throw new WorkflowStateError('refusing a target that turns public access on');
  if (!target.endpointPrivateAccess && observed.endpointPrivateAccess) throw new WorkflowStateError('refusing a target that turns private access off');
}

const sameConfig = (a: EndpointConfig, b: EndpointConfig) =>
  a.endpointPublicAccess === b.endpointPublicAccess &&
  a.endpointPrivateAccess === b.endpointPrivateAccess &&
  a.publicAccessCidrs.length === b.publicAccessCidrs.length &&
  a.publicAccessCidrs.every((c, i) => c === b.publicAccessCidrs[i]);
const sameTags = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/**
 * The clientRequestToken of one update attempt: derived from the execution and the attempt, so a retried
 * Lambda sends the same token (EKS answers a repeated token with the update it already started) and a
 * new attempt after fresh judgement gets a new one. A UUID's shape, as the SDK's own tokens have.
 */
export function updateToken(executionName: string, attempt: number): string {
  const h = createHash('sha256').update(`${executionName}#${attempt}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// EKS refusing the target itself (a CIDR it will not take, a malformed request): the same request would be refused again.
const PERMANENT_REFUSALS = new Set(['InvalidParameterException', 'InvalidRequestException', 'ValidationException']);

/**
 * RemediateCluster: compare-and-set. The cluster is read again immediately before UpdateClusterConfig;
 * when its endpoint settings or tags differ from what was judged, nothing is written (`stale`) and the
 * state machine judges again: a plan made from superseded settings could turn on what the owner just
 * turned off. The update's token is recorded in the ledger before the call, so triage knows the
 * CloudTrail event for it is the guard's own. A busy cluster is waited for (then judged again) until the
 * wait budget is spent.
 */
export async function remediateCluster(state: ExecutionState, deps: WorkflowDeps): Promise<RemediateResult> {
  const evaluation = state.assessment?.evaluation;
  const target = evaluation?.target;
  if (!evaluation || !target || evaluation.action !== 'remediate') throw new WorkflowStateError('RemediateCluster needs a remediate decision in $.assessment.evaluation');
  const busyAttempts = state.remediation?.busyAttempts ?? 0;
  // A Lambda retry of this step sees the same state, so the same attempt number and the same token.
  const attempt = (state.remediation?.attempt ?? 0) + 1;
  const base = { target, busyAttempts, attempt, waitSeconds: 0, error: null, updateId: null, token: null };
  const busy = (message: string, shown: boolean): RemediateResult => {
    const attempts = busyAttempts + 1;
    const gaveUp = budgetExceeded(state, deps);
    deps.log.warn('cluster busy with another update', { cluster: state.cluster, attempts, gaveUp, shown });
    return { ...base, status: gaveUp ? 'gave-up' : 'busy', busyAttempts: attempts, waitSeconds: shown ? SHOWN_BUSY_WAIT_SECONDS : busyWaitSeconds(attempts), error: { name: 'ClusterBusyError', message } };
  };

  const { held, ledger } = await renewLease(state, deps);
  if (!held) {
    deps.log.warn('lease lost before remediation: another execution enforces the cluster', { cluster: state.cluster });
    return { ...base, status: 'lost-lease' };
  }
  const token = updateToken(state.executionName, attempt);
  const live = await readLive(state.cluster, deps);
  const liveBusy = live.status !== null && NOT_DONE_CLUSTER.has(live.status);
  // A retry of this step after the token was recorded: the first try may have reached EKS, so the cluster
  // may be busy with (or already show) our own update. Asking again with the same token is safe then: EKS
  // answers with the update it started, refuses while someone else's runs, or finds nothing left to do.
  const retried = ledger.ownUpdates.some((u) => u.token === token) && (liveBusy || sameConfig(live.config, { publicAccessCidrs: live.config.publicAccessCidrs, ...target }));
  if (!retried) {
    if (liveBusy) return busy(`cluster is ${live.status}`, true);
    if (!sameConfig(live.config, evaluation.observed) || !sameTags(live.tags, evaluation.observed.tags)) {
      deps.log.warn('cluster changed since it was judged, judging again', { cluster: state.cluster, judged: evaluation.observed, live: live.config });
      return { ...base, status: 'stale' };
    }
    assertSafeTarget(target, live.config);
    await deps.ledger.mutate(state.cluster, (current) => ({ next: withOwnUpdate(current, { token, updateId: null, execution: state.executionName, at: deps.now(), target }), result: null }));
  }
  try {
    const { updateId } = await deps.eks.updateEndpointAccess(state.cluster, target, { observed: retried ? evaluation.observed : live.config, token });
    if (updateId) await deps.ledger.mutate(state.cluster, (ledger) => ({ next: withOwnUpdate(ledger, { token, updateId, execution: state.executionName, at: deps.now(), target }), result: null }));
    deps.log.info(updateId ? 'remediation started' : 'already at the desired configuration', { cluster: state.cluster, updateId, target, token });
    return { ...base, token, status: updateId ? 'started' : 'already-compliant', updateId, at: deps.now() };
  } catch (err) {
    if (err instanceof ClusterBusyError) return { ...busy(err.message, liveBusy), token };
    if (err instanceof AwsRequestRejectedError) {
      const permanent = PERMANENT_REFUSALS.has(err.awsErrorName);
      deps.log.error('remediation rejected', { cluster: state.cluster, error: err.message, awsError: err.awsErrorName, permanent });
      return { ...base, token, status: 'rejected', permanent, error: { name: err.awsErrorName, message: err.message } };
    }
    throw err;
  }
}

/** VerifyRemediation: judges the cluster again after the revert; compliant (or now exempt) means fixed. */
export async function verifyRemediation(state: ExecutionState, deps: WorkflowDeps): Promise<VerifyResult> {
  await renewLease(state, deps);
  const { evaluation } = await judgeLiveCluster(state, deps);
  const compliant = evaluation.verdict !== 'violation';
  deps.log.info('remediation verified', { cluster: state.cluster, compliant, verdict: evaluation.verdict });
  return { compliant, evaluation, verifiedAt: deps.now() };
}
