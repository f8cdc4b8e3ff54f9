import { createHash } from 'node:crypto';
import { InputError } from '../errors';
import { triageEvent, type TriageResult } from '../events/triage';
import { ownTokens, withChange } from '../ledger/rules';
import { evaluateCluster as judge, parseObservedCluster } from '../policy';
import { triggerChange } from './changes';
import type { IntakeDeps } from './deps';
import type { ExecutionInput } from './types';

export type IntakeResult = { triage: TriageResult; executionName: string | null; started: boolean };

const MAX_EXECUTION_NAME = 80;

/**
 * Step Functions execution names: 1-80 characters of letters, digits, `-` and `_`. A longer name ends in a
 * hash of the whole: cut short alone, two long cluster names that share their beginning would get one name,
 * and the second execution would be refused as if it were a redelivery.
 */
export function executionName(prefix: string, id: string): string {
  const name = `${prefix}-${id}`.replace(/[^A-Za-z0-9_-]/g, '_');
  if (name.length <= MAX_EXECUTION_NAME) return name;
  const hash = createHash('sha256').update(`${prefix}-${id}`).digest('hex').slice(0, 16);
  return `${name.slice(0, MAX_EXECUTION_NAME - hash.length - 1)}-${hash}`;
}

/**
 * The intake: triages a CloudTrail event and starts one execution per event, named from the CloudTrail
 * eventID so that a redelivered event finds its execution already there and starts nothing.
 * A malformed event throws, so the invocation fails and the event goes to the dead-letter queue
 * instead of vanishing.
 */
export async function intakeEvent(event: unknown, deps: IntakeDeps): Promise<IntakeResult> {
  // The raw record carries identities and source IPs: debug level only.
  deps.log.debug('event received', { event });
  const options = { selfRoleArns: deps.identity.selfRoleArns, crossAccountRoleName: deps.identity.crossAccountRoleName, homeAccount: deps.identity.homeAccount };
  let triage = triageEvent(event, options);
  // Made with one of the guard's roles: its own only if the ledger recorded the update (by its token).
  if (triage.reason === 'GUARD_ROLE_UNVERIFIED' && triage.cluster) {
    const ledger = await deps.ledger.read(triage.cluster);
    triage = triageEvent(event, { ...options, ownTokens: ownTokens(ledger) });
  }
  if (triage.guardRole && triage.reason === 'GUARD_ROLE_UNVERIFIED') {
    deps.log.warn('guard role used outside the guard', { eventId: triage.eventId, cluster: triage.cluster, session: triage.actor?.arn });
  }
  if (triage.decision === 'ignore') {
    deps.log.info('event ignored', { reason: triage.reason, eventName: triage.eventName, eventId: triage.eventId, cluster: triage.cluster });
    return { triage, executionName: null, started: false };
  }
  if (!triage.cluster || !triage.waitFor) throw new InputError([`event ${triage.eventId}: no cluster name, account or region`]);
  const name = executionName('evt', triage.eventId);
  const input: ExecutionInput = {
    cluster: triage.cluster,
    startedAt: deps.now(),
    trigger: {
      kind: 'event',
      eventId: triage.eventId,
      eventName: triage.eventName,
      eventTime: triage.eventTime ?? new Date(deps.now()).toISOString(),
      updateId: triage.updateId,
      requested: triage.requested,
      actor: triage.actor,
      waitFor: triage.waitFor === 'update' && !triage.updateId ? 'cluster-active' : triage.waitFor,
      reason: triage.reason === 'GUARD_ROLE_UNVERIFIED' ? 'GUARD_ROLE_UNVERIFIED' : null,
      tags: triage.tags ?? null,
    },
    executionName: name,
  };
  // Recorded before the execution starts, while whichever execution holds the cluster may still be
  // judging it: its alert then names this actor too.
  const change = triggerChange(input, deps.now());
  if (change) await deps.ledger.mutate(input.cluster, (ledger) => ({ next: withChange(ledger, change), result: null }));
  const started = await deps.executions.start(name, input);
  deps.log.info(started ? 'execution started' : 'execution already exists (redelivered event)', { executionName: name, cluster: triage.cluster });
  return { triage, executionName: name, started };
}

export type SweepResult = {
  scanned: number;
  violations: number;
  started: number;
  failures: { account: string; cluster: string; error: string }[];
};

/**
 * The scheduled sweep: CloudTrail delivery is best effort and clusters created before deployment never
 * produced an event, so every cluster is judged on a schedule and each violation gets an execution.
 * Execution names carry the sweep's scheduled time, so a redelivered schedule event starts nothing twice.
 * One cluster's error does not stop the others; all are reported.
 */
export async function sweepClusters(accounts: string[], region: string, sweepTime: string, deps: IntakeDeps): Promise<SweepResult> {
  const result: SweepResult = { scanned: 0, violations: 0, started: 0, failures: [] };
  const stamp = sweepTime.replace(/[^0-9]/g, '').slice(0, 12);
  for (const account of accounts) {
    let names: string[];
    try {
      names = await deps.eks.listClusters(account, region);
    } catch (err) {
      result.failures.push({ account, cluster: '*', error: (err as Error).message });
      continue;
    }
    for (const clusterName of names) {
      const cluster = { name: clusterName, account, region };
      try {
        result.scanned += 1;
        const observed = parseObservedCluster(await deps.eks.describeCluster(cluster), { account, region });
        const evaluation = judge(deps.policy, observed, { now: deps.now(), forceMode: deps.settings.shadowMode ? 'alert' : undefined });
        if (evaluation.verdict !== 'violation') continue;
        result.violations += 1;
        const name = executionName(`sweep-${stamp}-${account}`, cluster.name);
        const input: ExecutionInput = {
          cluster,
          executionName: name,
          startedAt: deps.now(),
          trigger: { kind: 'sweep', eventId: `sweep-${stamp}-${account}-${clusterName}`, eventName: 'ScheduledSweep', eventTime: sweepTime, updateId: null, requested: null, actor: null, waitFor: 'none' },
        };
        if (await deps.executions.start(name, input)) result.started += 1;
      } catch (err) {
        result.failures.push({ account, cluster: clusterName, error: (err as Error).message });
      }
    }
  }
  deps.log.info('sweep finished', { ...result });
  return result;
}
