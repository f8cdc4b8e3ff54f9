import { createHash } from 'node:crypto';
import { InputError } from '../errors';
import { triageEvent, type TriageResult } from '../events/triage';
import { evaluateCluster as judge, parseObservedCluster } from '../policy';
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
  // The account that owns the cluster: the record's recipientAccountId, in an EventBridge envelope or a bare record.
  const e = event as { account?: unknown; recipientAccountId?: unknown; detail?: { recipientAccountId?: unknown } } | null;
  const account = e?.detail?.recipientAccountId ?? e?.recipientAccountId ?? e?.account;
  const triage = triageEvent(event, { selfRoleArns: deps.selfRoleArnsFor(typeof account === 'string' ? account : null) });
  if (triage.decision === 'ignore') {
    deps.log.info('event ignored', { reason: triage.reason, eventName: triage.eventName, eventId: triage.eventId, cluster: triage.cluster });
    return { triage, executionName: null, started: false };
  }
  if (!triage.cluster || !triage.waitFor) throw new InputError([`event ${triage.eventId}: no cluster name, account or region`]);
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
    },
  };
  const name = executionName('evt', triage.eventId);
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
    for (const name of names) {
      const cluster = { name, account, region };
      try {
        result.scanned += 1;
        const observed = parseObservedCluster(await deps.eks.describeCluster(cluster), { account, region });
        const evaluation = judge(deps.policy, observed, { now: deps.now(), forceMode: deps.settings.shadowMode ? 'alert' : undefined });
        if (evaluation.verdict !== 'violation') continue;
        result.violations += 1;
        const input: ExecutionInput = {
          cluster,
          startedAt: deps.now(),
          trigger: { kind: 'sweep', eventId: `sweep-${stamp}-${account}-${name}`, eventName: 'ScheduledSweep', eventTime: sweepTime, updateId: null, requested: null, actor: null, waitFor: 'none' },
        };
        if (await deps.executions.start(executionName(`sweep-${stamp}-${account}`, name), input)) result.started += 1;
      } catch (err) {
        result.failures.push({ account, cluster: name, error: (err as Error).message });
      }
    }
  }
  deps.log.info('sweep finished', { ...result });
  return result;
}
