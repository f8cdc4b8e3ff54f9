/**
 * One use case per Task state of statemachine/enforce-endpoint.asl.yml. Each takes the execution state
 * and the ports, and returns the JSON stored under its ResultPath. Transient AWS errors are thrown (the
 * state machine retries them); expected outcomes (busy cluster, rejected request) are returned as data
 * so the state machine can branch on them.
 */
import { AwsRequestRejectedError, ClusterBusyError, GuardError } from '../errors';
import { evaluateCluster as judge, parseObservedCluster } from '../policy';
import type { ClusterRef, EndpointTarget, Evaluation } from '../policy/types';
import { busyWaitSeconds, pollWaitSeconds } from './backoff';
import type { WorkflowDeps } from './deps';
import type { EvaluateResult, ExecutionState, PollResult, PreflightProblem, PreflightResult, RemediateResult, VerifyResult } from './types';

/** An execution state that lacks what a step needs: a bug in the definition or a hand-started execution. */
export class WorkflowStateError extends GuardError {
  override readonly name = 'WorkflowStateError';
}

const NOT_DONE_UPDATE = new Set(['InProgress']);
const NOT_DONE_CLUSTER = new Set(['CREATING', 'UPDATING', 'PENDING']);

function budgetExceeded(state: ExecutionState, deps: WorkflowDeps): boolean {
  return deps.now() - state.startedAt > deps.settings.maxWaitSeconds * 1000;
}

async function pollUpdate(cluster: ClusterRef, updateId: string | null, previous: PollResult | undefined, state: ExecutionState, deps: WorkflowDeps): Promise<PollResult> {
  const polls = (previous?.polls ?? 0) + 1;
  let status: string;
  let errors: PollResult['errors'] = [];
  if (updateId) {
    const update = await deps.eks.describeUpdate(cluster, updateId);
    status = update.status;
    errors = update.errors;
  } else {
    // No update to follow (a new cluster): wait for the cluster itself to settle.
    const described = await deps.eks.describeCluster(cluster);
    status = typeof described.status === 'string' ? described.status : 'UNKNOWN';
  }
  const done = updateId ? !NOT_DONE_UPDATE.has(status) : !NOT_DONE_CLUSTER.has(status);
  const timedOut = !done && budgetExceeded(state, deps);
  deps.log.info('change polled', { cluster, updateId, status, polls, done, timedOut });
  return { done, status, errors, polls, waitSeconds: pollWaitSeconds(polls), timedOut };
}

/** WaitForChange: is the triggering change (an update, or a new cluster's creation) finished yet? */
export async function waitForChange(state: ExecutionState, deps: WorkflowDeps): Promise<PollResult> {
  const { trigger } = state;
  if (trigger.waitFor === 'none') return { done: true, status: 'none', errors: [], polls: 0, waitSeconds: 0, timedOut: false };
  const updateId = trigger.waitFor === 'update' ? trigger.updateId : null;
  return pollUpdate(state.cluster, updateId, state.change, state, deps);
}

/** WaitForRevert: is the guard's own update finished yet? */
export async function waitForRevert(state: ExecutionState, deps: WorkflowDeps): Promise<PollResult> {
  const updateId = state.remediation?.updateId;
  if (!updateId) throw new WorkflowStateError('WaitForRevert needs $.remediation.updateId');
  return pollUpdate(state.cluster, updateId, state.revert, state, deps);
}

async function judgeLiveCluster(state: ExecutionState, deps: WorkflowDeps): Promise<{ evaluation: Evaluation; status: string | null }> {
  const description = await deps.eks.describeCluster(state.cluster);
  const observed = parseObservedCluster(description, { account: state.cluster.account, region: state.cluster.region });
  const evaluation = judge(deps.policy, observed, { now: deps.now(), forceMode: deps.settings.shadowMode ? 'alert' : undefined });
  return { evaluation, status: observed.status };
}

/**
 * EvaluateCluster: judges the live cluster. A cluster that is UPDATING or CREATING still shows its old
 * endpoint values (endpoint-rules.md, rule 14), so it is judged again later rather than acted on.
 */
export async function evaluateClusterStep(state: ExecutionState, deps: WorkflowDeps): Promise<EvaluateResult> {
  const { evaluation, status } = await judgeLiveCluster(state, deps);
  const observedAt = deps.now();
  if (status !== null && NOT_DONE_CLUSTER.has(status)) {
    const timedOut = budgetExceeded(state, deps);
    deps.log.info('cluster busy, judging later', { cluster: state.cluster, status, timedOut });
    return { settled: false, waitSeconds: 60, timedOut, evaluation, observedAt };
  }
  deps.log.info('cluster evaluated', { cluster: state.cluster, verdict: evaluation.verdict, action: evaluation.action, violations: evaluation.violations.map((v) => v.code) });
  return { settled: true, waitSeconds: 0, timedOut: false, evaluation, observedAt };
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
function assertSafeTarget(target: EndpointTarget, observed: Evaluation['observed']): void {
  if (!target.endpointPublicAccess && !target.endpointPrivateAccess) throw new WorkflowStateError('refusing a target with both endpoints off');
  if (target.endpointPublicAccess && !observed.endpointPublicAccess) throw new WorkflowStateError('refusing a target that turns public access on');
  if (!target.endpointPrivateAccess && observed.endpointPrivateAccess) throw new WorkflowStateError('refusing a target that turns private access off');
}

/**
 * RemediateCluster: applies the target with UpdateClusterConfig (endpoint fields only). A busy cluster is
 * not an error: the state machine waits and judges again on fresh data, up to `maxBusyAttempts` times.
 */
export async function remediateCluster(state: ExecutionState, deps: WorkflowDeps): Promise<RemediateResult> {
  const evaluation = state.assessment?.evaluation;
  const target = evaluation?.target;
  if (!evaluation || !target || evaluation.action !== 'remediate') throw new WorkflowStateError('RemediateCluster needs a remediate decision in $.assessment.evaluation');
  assertSafeTarget(target, evaluation.observed);
  const busyAttempts = state.remediation?.busyAttempts ?? 0;
  const base = { target, busyAttempts, waitSeconds: 0, error: null, updateId: null };
  try {
    const { updateId } = await deps.eks.updateEndpointAccess(state.cluster, target);
    deps.log.info(updateId ? 'remediation started' : 'already at the desired configuration', { cluster: state.cluster, updateId, target });
    return { ...base, status: updateId ? 'started' : 'already-compliant', updateId };
  } catch (err) {
    if (err instanceof ClusterBusyError) {
      const attempts = busyAttempts + 1;
      const gaveUp = attempts >= deps.settings.maxBusyAttempts;
      deps.log.warn('cluster busy with another update', { cluster: state.cluster, attempts, gaveUp });
      return { ...base, status: gaveUp ? 'gave-up' : 'busy', busyAttempts: attempts, waitSeconds: busyWaitSeconds(attempts), error: { name: err.name, message: err.message } };
    }
    if (err instanceof AwsRequestRejectedError) {
      deps.log.error('remediation rejected', { cluster: state.cluster, error: err.message, awsError: err.awsErrorName });
      return { ...base, status: 'rejected', error: { name: err.awsErrorName, message: err.message } };
    }
    throw err;
  }
}

/** VerifyRemediation: judges the cluster again after the revert; compliant (or now exempt) means fixed. */
export async function verifyRemediation(state: ExecutionState, deps: WorkflowDeps): Promise<VerifyResult> {
  const { evaluation } = await judgeLiveCluster(state, deps);
  const compliant = evaluation.verdict !== 'violation';
  deps.log.info('remediation verified', { cluster: state.cluster, compliant, verdict: evaluation.verdict });
  return { compliant, evaluation, verifiedAt: deps.now() };
}
