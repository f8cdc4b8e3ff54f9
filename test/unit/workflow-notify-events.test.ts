/**
 * NotifyOutcome and the outcome event (src/workflow/notify.ts): the event is put before the alert is
 * published, for outcomes that are not published too, never for an ALREADY_HANDLED duplicate; a put that
 * fails stops the publish (the state machine retries both), a publish that fails keeps the event put.
 */
import { readFileSync } from 'node:fs';
import { parsePolicy, type Evaluation } from '../../src/policy';
import type { Log, WorkflowDeps } from '../../src/workflow/deps';
import { notifyOutcome } from '../../src/workflow/notify';
import type { OutcomeEvent } from '../../src/workflow/outcome-event';
import type { ExecutionState } from '../../src/workflow/types';

const POLICY = parsePolicy(readFileSync(new URL('../fixtures/workflow/policy.yaml', import.meta.url), 'utf8'), 'workflow policy');
const NOW = Date.parse('2026-03-02T10:00:00Z');
const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

function deps(options: { put?: () => Promise<string | null>; publish?: () => Promise<string> } = {}): WorkflowDeps & { calls: string[]; events: OutcomeEvent[] } {
  const calls: string[] = [];
  const events: OutcomeEvent[] = [];
  const fail = async () => {
    throw new Error('NotifyOutcome never reads the cluster');
  };
  return {
    calls,
    events,
    eks: { describeCluster: fail, describeUpdate: fail, updateEndpointAccess: fail, listClusters: fail },
    ec2: { vpcDnsFacts: fail },
    ledger: { read: fail, mutate: fail },
    alerts: {
      publish: async () => {
        calls.push('publish');
        return options.publish ? options.publish() : 'msg-1';
      },
    },
    outcomeEvents: {
      put: async (event) => {
        calls.push('put');
        events.push(event as OutcomeEvent);
        return options.put ? options.put() : 'event-1';
      },
    },
    policy: POLICY,
    settings: { shadowMode: false, notifyCompliant: false, maxWaitSeconds: 3600 },
    now: () => NOW,
    log: silentLog,
  };
}

function evaluation(verdict: Evaluation['verdict'], action: Evaluation['action']): Evaluation {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1', arn: null },
    settings: { rule: 'prod-private-only', mode: action === 'alert' ? 'alert' : 'enforce', publicAccess: 'forbidden', privateAccess: 'required', allowedPublicCidrs: [], maxPublicCidrs: 40, maxTagExemptionDays: 30, escalation: { reverts: 3, withinMinutes: 60 } },
    observed: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'], status: 'ACTIVE', vpcId: 'vpc-1', tags: {} },
    verdict,
    action,
    violations: verdict === 'compliant' ? [] : [{ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public access is forbidden' }],
    warnings: [],
    target: null,
    exemption: null,
  };
}

function state(over: Partial<ExecutionState>): ExecutionState {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1' },
    trigger: { kind: 'event', eventId: 'e-1', eventName: 'UpdateClusterConfig', eventTime: '2026-03-02T09:14:27Z', updateId: 'u-1', requested: null, actor: null, waitFor: 'update' },
    executionName: 'evt-e-1',
    startedAt: NOW - 600_000,
    change: { done: true, status: 'Successful', errors: [], polls: 3, waitSeconds: 120, timedOut: false },
    ...over,
  };
}

const assessment = (ev: Evaluation) => ({ settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation: ev, observedAt: NOW - 1000 });
const alerted = () => state({ assessment: assessment(evaluation('violation', 'alert')) });

test('puts the event first, then publishes; returns both ids', async () => {
  const d = deps();
  const result = await notifyOutcome(alerted(), d);
  expect(d.calls).toEqual(['put', 'publish']);
  expect(result).toMatchObject({ outcome: 'alerted', published: true, messageId: 'msg-1', eventId: 'event-1' });
  expect(d.events[0]!.detail).toMatchObject({ outcome: 'alerted', executionName: 'evt-e-1' });
});

test('an outcome that is not published (compliant, notifyCompliant off) still gets its event', async () => {
  const d = deps();
  const result = await notifyOutcome(state({ assessment: assessment(evaluation('compliant', 'none')) }), d);
  expect(d.calls).toEqual(['put']);
  expect(result).toMatchObject({ outcome: 'compliant', published: false, eventId: 'event-1' });
});

test('an ALREADY_HANDLED duplicate puts no event and publishes nothing', async () => {
  const d = deps();
  const lease = { acquired: false, handled: true, handledBy: 'evt-other', holder: null, waitSeconds: 0, waits: 0, timedOut: false };
  const result = await notifyOutcome(state({ lease }), d);
  expect(d.calls).toEqual([]);
  expect(result).toMatchObject({ outcome: 'ignored', reason: 'ALREADY_HANDLED', eventId: null });
});

test('a failed put fails the invocation before anything is published (the Retry runs both again)', async () => {
  const err = Object.assign(new Error('throttled'), { name: 'TransientAwsError' });
  const d = deps({ put: () => Promise.reject(err) });
  await expect(notifyOutcome(alerted(), d)).rejects.toBe(err);
  expect(d.calls).toEqual(['put']);
});

test('a failed publish fails the invocation, with the event already put; the retry puts the same execution name again', async () => {
  let publishes = 0;
  const d = deps({ publish: () => (++publishes === 1 ? Promise.reject(new Error('SNS down')) : Promise.resolve('msg-2')) });
  await expect(notifyOutcome(alerted(), d)).rejects.toThrow('SNS down');
  await expect(notifyOutcome(alerted(), d)).resolves.toMatchObject({ messageId: 'msg-2' });
  expect(d.calls).toEqual(['put', 'publish', 'put', 'publish']);
  expect(d.events.map((e) => e.detail.executionName)).toEqual(['evt-e-1', 'evt-e-1']);
});

test('outcome events turned off (the port puts nothing): eventId null', async () => {
  const d = deps({ put: async () => null });
  await expect(notifyOutcome(alerted(), d)).resolves.toMatchObject({ published: true, eventId: null });
});
