/**
 * The enforcement execution a sweep starts for a violation. The name carries the schedule's time, the
 * account, the region and the cluster, so a redelivered schedule (same time) finds its executions
 * already there and starts nothing twice. The region is part of it because EKS names are unique per
 * account and region only: `prod` in us-east-1 and in eu-west-1 must not share one execution, or the
 * second would never be enforced. Pure.
 */
import type { ClusterRef } from '../policy/types';
import { executionName } from '../workflow/intake';
import type { ExecutionInput } from '../workflow/types';

/** The digits of the schedule's time down to the minute: `2026-01-01T06:00:00Z` → `202601010600`. */
export function sweepStamp(sweepTime: string): string {
  return sweepTime.replace(/[^0-9]/g, '').slice(0, 12);
}

/** The execution for a violation found by the sweep of `sweepTime`, started at `now` (epoch ms). */
export function sweepExecution(cluster: ClusterRef, sweepTime: string, now: number): ExecutionInput {
  const stamp = sweepStamp(sweepTime);
  const name = executionName(`sweep-${stamp}-${cluster.account}-${cluster.region}`, cluster.name);
  return {
    cluster,
    executionName: name,
    startedAt: now,
    trigger: { kind: 'sweep', eventId: `sweep-${stamp}-${cluster.account}-${cluster.region}-${cluster.name}`, eventName: 'ScheduledSweep', eventTime: sweepTime, updateId: null, requested: null, actor: null, waitFor: 'none' },
  };
}
