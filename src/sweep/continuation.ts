/**
 * A unit's progress from one SweepUnit invocation to the next: the bookkeeping, without any AWS call.
 * Pure.
 */
import type { Continuation, NotJudged, NotJudgedReason, RetryEntry, SweepUnit, UnitResult, UnitStatus } from './types';

/** Bounds that keep a unit's state and result small (see the Step Functions payload limit in types.ts). */
export const SWEEP_LIMITS = {
  /** Not-judged clusters a unit's result names (all are counted and logged). */
  notJudgedPerUnit: 5,
  /** Characters of an error message kept in a result. */
  errorChars: 240,
  /**
   * Failed attempts at one ListClusters page (each after the SDK's own retries) before the listing
   * gives up, and rounds a cluster whose DescribeCluster (or StartExecution) stays throttled is tried
   * before it is reported as not judged. No cluster is dropped under throttling: 16 attempts are 15
   * pauses of backoffSeconds (2, 4, 8, 16, 32, 64, then 120 s), 1,206 s in all, so a unit keeps
   * trying for over 20 minutes before it reports itself partial (see minimumPersistenceSeconds).
   * The pauses are Wait states: no Lambda time is billed while waiting. Cost of a unit that stays
   * throttled to the end: 16 SweepUnit invocations and ~3 state transitions a round (Task, Choice,
   * Wait), ~48 transitions, about $0.0012 at $0.025 per 1,000, and the payload does not grow (the
   * continuation holds one page of names and at most retryHeld retries, whatever the round).
   */
  listRounds: 16,
  clusterRounds: 16,
  /** Retries held before they are worked off, ahead of further pages: bounds the continuation's size. */
  retryHeld: 200,
  /** The longest pause between rounds. */
  maxWaitSeconds: 120,
  /** The least a unit keeps retrying a throttled call before giving up (the issue: none dropped under throttling). */
  minimumPersistenceSeconds: 20 * 60,
} as const;

/** The continuation of a unit nothing has been done for yet. */
export function startContinuation(): Continuation {
  return { nextToken: null, listingDone: false, pending: [], retry: [], retrying: [], listFailures: 0, retryWaited: false };
}

/** The result of a unit before anything was found. */
export function emptyResult(unit: Pick<SweepUnit, 'account' | 'region'>): UnitResult {
  return {
    account: unit.account,
    region: unit.region,
    status: 'covered',
    listed: 0,
    judged: 0,
    violations: 0,
    started: 0,
    notJudgedCount: 0,
    notJudgedByReason: {},
    notJudged: [],
    listingComplete: true,
    error: null,
    invocations: 0,
    throttleRounds: 0,
  };
}

/** Seconds of pauses a call that stays throttled gets before it is given up after `rounds` attempts. */
export function persistenceSeconds(rounds: number): number {
  let total = 0;
  for (let attempt = 1; attempt < rounds; attempt += 1) total += backoffSeconds(attempt);
  return total;
}

/** An error message cut to what a result keeps. */
export function shortError(message: string): string {
  return message.length <= SWEEP_LIMITS.errorChars ? message : `${message.slice(0, SWEEP_LIMITS.errorChars - 3)}...`;
}

/** Seconds to pause before round `attempt` (1, 2, ...): doubling from 2 s, capped at maxWaitSeconds. */
export function backoffSeconds(attempt: number): number {
  return Math.min(SWEEP_LIMITS.maxWaitSeconds, 2 ** Math.max(1, attempt));
}

/** Counts one not-judged cluster in the result, naming it while there is room. */
export function addNotJudged(result: UnitResult, cluster: string, reason: NotJudgedReason, error: string): void {
  result.notJudgedCount += 1;
  result.notJudgedByReason[reason] = (result.notJudgedByReason[reason] ?? 0) + 1;
  if (result.notJudged.length < SWEEP_LIMITS.notJudgedPerUnit) result.notJudged.push({ cluster, reason, error: shortError(error) } satisfies NotJudged);
}

/** A page read: its names wait to be judged, the token points at the next one. */
export function withPage(c: Continuation, page: { names: string[]; nextToken: string | null }): Continuation {
  return { ...c, pending: [...c.pending, ...page.names], nextToken: page.nextToken, listingDone: page.nextToken === null, listFailures: 0 };
}

/**
 * What to do next, given the continuation: judge the pending names, read the next page, work off the
 * retries (once the listing is done, or when so many are held that the continuation would grow), pause
 * before a retry round, or finish.
 */
export type NextStep = { kind: 'judge' } | { kind: 'list' } | { kind: 'pause'; seconds: number } | { kind: 'retry' } | { kind: 'startRound' } | { kind: 'finish' };

export function nextStep(c: Continuation): NextStep {
  if (c.pending.length > 0) return { kind: 'judge' };
  if (c.retrying.length > 0) return { kind: 'retry' };
  const retriesDue = c.retry.length > 0 && (c.listingDone || c.retry.length >= SWEEP_LIMITS.retryHeld);
  if (retriesDue) {
    // A Wait state pauses, not the Lambda: a pause costs one state transition and no Lambda time.
    if (!c.retryWaited) return { kind: 'pause', seconds: backoffSeconds(Math.max(...c.retry.map((r) => r.attempts))) };
    return { kind: 'startRound' };
  }
  if (!c.listingDone) return { kind: 'list' };
  return { kind: 'finish' };
}

/** The held retries become the round under way; the next round waits again. */
export function startRound(c: Continuation): Continuation {
  return { ...c, retrying: [...c.retrying, ...c.retry], retry: [], retryWaited: false };
}

/** A cluster whose calls stayed throttled: tried again later, or reported once its rounds are spent. */
export function deferOrGiveUp(result: UnitResult, retry: RetryEntry[], entry: RetryEntry, reason: NotJudgedReason): void {
  if (entry.attempts >= SWEEP_LIMITS.clusterRounds) addNotJudged(result, entry.cluster, reason, `${entry.error} (gave up after ${entry.attempts} rounds)`);
  else retry.push(entry);
}

/** The unit's status from what it found. */
export function statusOf(result: UnitResult): UnitStatus {
  if (result.status === 'uncovered' || result.status === 'failed') return result.status;
  // A cluster deleted between ListClusters and DescribeCluster leaves nothing to judge: no gap.
  const gaps = result.notJudgedCount - (result.notJudgedByReason.DELETED ?? 0);
  return !result.listingComplete || gaps > 0 ? 'partial' : 'covered';
}
