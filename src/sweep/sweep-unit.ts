/**
 * SweepUnit: judges the clusters of one account in one region, page by page, and starts an enforcement
 * execution per violation. It works until its time is nearly up, then returns where it stands (the
 * continuation); the state machine calls it again with that, so no Lambda timeout caps coverage.
 * Throttling the SDK's adaptive retries could not absorb ends in a Wait state and another round, not
 * in a dropped cluster; what still cannot be judged is reported with its reason.
 */
import { ClusterNotFoundError, TransientAwsError } from '../errors';
import { evaluateCluster, parseObservedCluster, type Policy } from '../policy';
import type { Log } from '../workflow/deps';
import type { ExecutionPort } from '../workflow/ports';
import { addNotJudged, backoffSeconds, deferOrGiveUp, emptyResult, nextStep, shortError, startContinuation, startRound, statusOf, SWEEP_LIMITS, withPage } from './continuation';
import { compactResult } from './coverage';
import { sweepExecution } from './execution';
import { mapBounded } from './pool';
import { MemberRoleUnavailableError, type SweepEksPort } from './ports';
import type { Continuation, NotJudgedReason, RetryEntry, UnitResult, UnitState } from './types';

export type SweepUnitDeps = {
  eks: SweepEksPort;
  executions: ExecutionPort;
  policy: Policy;
  /** Alert-only everywhere (SHADOW_MODE): violations still start executions, which only alert. */
  shadowMode: boolean;
  now: () => number;
  log: Log;
  /** Milliseconds this invocation may still start work (the Lambda's remaining time less a margin). */
  timeLeftMs: () => number;
  /** DescribeCluster calls in flight at once. */
  describeConcurrency: number;
};

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function copyState(state: UnitState): { c: Continuation; result: UnitResult } {
  const c0 = state.continuation ?? startContinuation();
  const c: Continuation = { ...startContinuation(), ...c0, pending: [...c0.pending], retry: [...c0.retry], retrying: [...(c0.retrying ?? [])] };
  const r0 = state.result ?? emptyResult(state.unit);
  return { c, result: { ...r0, notJudged: [...r0.notJudged], notJudgedByReason: { ...r0.notJudgedByReason } } };
}

/** One invocation of SweepUnit: from the state it is given to the state the Choice loops on. */
export async function sweepUnit(state: UnitState, deps: SweepUnitDeps): Promise<UnitState> {
  const { unit, sweepTime } = state;
  const { account, region } = unit;
  const { c, result } = copyState(state);
  result.invocations += 1;
  const chunk = Math.max(1, deps.describeConcurrency * 2);

  const notJudged = (cluster: string, reason: NotJudgedReason, error: string) => {
    addNotJudged(result, cluster, reason, error);
    deps.log.warn('cluster not judged', { account, region, cluster, reason, error });
  };
  const retryOrReport = (entry: RetryEntry, reason: NotJudgedReason) => {
    const before = result.notJudgedCount;
    deferOrGiveUp(result, c.retry, entry, reason);
    if (result.notJudgedCount > before) deps.log.warn('cluster not judged', { account, region, cluster: entry.cluster, reason, error: entry.error, rounds: entry.attempts });
  };

  const judge = async (entry: RetryEntry): Promise<void> => {
    const cluster = { name: entry.cluster, account, region };
    let description;
    try {
      description = await deps.eks.describeCluster(cluster);
    } catch (err) {
      if (err instanceof TransientAwsError) return retryOrReport({ cluster: entry.cluster, attempts: entry.attempts + 1, error: shortError(message(err)) }, 'THROTTLED');
      if (err instanceof ClusterNotFoundError) return notJudged(entry.cluster, 'DELETED', message(err));
      if (err instanceof MemberRoleUnavailableError) return notJudged(entry.cluster, 'ACCESS_DENIED', message(err));
      return notJudged(entry.cluster, 'ERROR', message(err));
    }
    let verdict;
    try {
      const observed = parseObservedCluster(description, { account, region });
      verdict = evaluateCluster(deps.policy, observed, { now: deps.now(), forceMode: deps.shadowMode ? 'alert' : undefined, ...(unit.accountContext ? { accountContext: unit.accountContext } : {}) }).verdict;
    } catch (err) {
      return notJudged(entry.cluster, 'UNREADABLE', message(err));
    }
    if (verdict === 'violation') {
      const input = sweepExecution(cluster, sweepTime, deps.now());
      let started: boolean;
      try {
        started = await deps.executions.start(input.executionName, input);
      } catch (err) {
        // Judged, but nothing enforces it yet: not done. The execution name makes a later try safe.
        if (err instanceof TransientAwsError) return retryOrReport({ cluster: entry.cluster, attempts: entry.attempts + 1, error: shortError(message(err)) }, 'START_FAILED');
        return notJudged(entry.cluster, 'START_FAILED', message(err));
      }
      result.violations += 1;
      if (started) result.started += 1;
      else deps.log.info('execution already exists (redelivered schedule)', { executionName: input.executionName, cluster });
    }
    result.judged += 1;
  };

  const finish = (): UnitState => {
    result.status = statusOf(result);
    const level = result.status === 'covered' ? 'info' : 'warn';
    deps.log[level]('sweep unit finished', { ...result });
    return { unit, sweepTime, continuation: null, result, done: true, waitSeconds: 0, summary: compactResult(result) };
  };
  const yieldState = (waitSeconds: number): UnitState => ({ unit, sweepTime, continuation: c, result, done: false, waitSeconds });

  // At least one step per invocation, however little time is left: a continuation always makes progress.
  let worked = false;
  for (;;) {
    if (worked && deps.timeLeftMs() <= 0) {
      deps.log.info('sweep unit continues', { account, region, pending: c.pending.length, retries: c.retry.length + c.retrying.length, listed: result.listed });
      return yieldState(0);
    }
    worked = true;
    const step = nextStep(c);
    if (step.kind === 'judge') {
      const batch = c.pending.splice(0, chunk);
      await mapBounded(batch, deps.describeConcurrency, (name) => judge({ cluster: name, attempts: 0, error: '' }));
    } else if (step.kind === 'retry') {
      const batch = c.retrying.splice(0, chunk);
      await mapBounded(batch, deps.describeConcurrency, judge);
    } else if (step.kind === 'startRound') {
      Object.assign(c, startRound(c));
      result.throttleRounds += 1;
    } else if (step.kind === 'pause') {
      c.retryWaited = true;
      return yieldState(step.seconds);
    } else if (step.kind === 'list') {
      try {
        const page = await deps.eks.listClustersPage(account, region, c.nextToken);
        Object.assign(c, withPage(c, page));
        result.listed += page.names.length;
      } catch (err) {
        if (err instanceof MemberRoleUnavailableError) {
          // Uncovered: whatever was still to judge cannot be, and is counted so.
          result.status = 'uncovered';
          result.error = shortError(message(err));
          for (const name of [...c.pending, ...c.retry.map((r) => r.cluster), ...c.retrying.map((r) => r.cluster)]) notJudged(name, 'ACCESS_DENIED', message(err));
          Object.assign(c, { pending: [], retry: [], retrying: [], listingDone: true });
          deps.log.warn('account uncovered', { account, region, error: message(err) });
          continue;
        }
        if (err instanceof TransientAwsError && c.listFailures + 1 < SWEEP_LIMITS.listRounds) {
          c.listFailures += 1;
          deps.log.info('cluster listing throttled, retrying the page', { account, region, attempt: c.listFailures });
          return yieldState(backoffSeconds(c.listFailures));
        }
        result.listingComplete = false;
        result.error = shortError(`ListClusters could not be finished after ${c.listFailures + 1} attempt(s) at one page (clusters of the pages not read are not known): ${message(err)}`);
        c.listingDone = true;
        deps.log.warn('cluster listing incomplete', { account, region, error: message(err) });
      }
    } else {
      return finish();
    }
  }
}
