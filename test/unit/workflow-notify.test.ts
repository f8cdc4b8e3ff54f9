/**
 * NotifyOutcome (src/workflow/notify.ts) with a fake AlertPort: one publish per outcome, a compliant
 * change published only when configured, the publish error left to the state machine's Retry/Catch.
 */
import { readFileSync } from 'node:fs';
import { parsePolicy, type Evaluation } from '../../src/policy';
import type { Log, WorkflowDeps } from '../../src/workflow/deps';
import { notifyOutcome } from '../../src/workflow/notify';
import type { Alert, ExecutionState, Outcome, Severity } from '../../src/workflow/types';

const POLICY = parsePolicy(readFileSync(new URL('../fixtures/workflow/policy.yaml', import.meta.url), 'utf8'), 'workflow policy');
const NOW = Date.parse('2026-03-02T10:00:00Z');
const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

function deps(options: { notifyCompliant?: boolean; publish?: (alert: Alert) => Promise<string> } = {}): WorkflowDeps & { published: Alert[] } {
  const published: Alert[] = [];
  const fail = async () => {
    throw new Error('NotifyOutcome never reads the cluster');
  };
  return {
    published,
    eks: { describeCluster: fail, describeUpdate: fail, updateEndpointAccess: fail, listClusters: fail },
    ec2: { vpcDnsFacts: fail },
    alerts: {
      publish: async (alert) => {
        published.push(alert);
        return options.publish ? options.publish(alert) : `msg-${published.length}`;
      },
    },
    policy: POLICY,
    settings: { shadowMode: false, notifyCompliant: options.notifyCompliant ?? false, maxWaitSeconds: 3600, maxBusyAttempts: 8 },
    now: () => NOW,
    log: silentLog,
  };
}

function evaluation(verdict: Evaluation['verdict'], action: Evaluation['action']): Evaluation {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1', arn: null },
    settings: { rule: 'prod-private-only', mode: action === 'alert' ? 'alert' : 'enforce', publicAccess: 'forbidden', privateAccess: 'required', allowedPublicCidrs: [], maxPublicCidrs: 40 },
    observed: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'], status: 'ACTIVE', vpcId: 'vpc-1', tags: {} },
    verdict,
    action,
    violations: verdict === 'compliant' ? [] : [{ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public access is forbidden' }],
    warnings: [],
    target: action === 'none' ? null : { endpointPublicAccess: false, endpointPrivateAccess: true },
    exemption: verdict === 'exempt' ? { source: 'policy', name: 'legacy', reason: 'vendor VPN', expires: '2099-12-31' } : null,
  };
}

function state(over: Partial<ExecutionState>): ExecutionState {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1' },
    trigger: { kind: 'event', eventId: 'e-1', eventName: 'UpdateClusterConfig', eventTime: '2026-03-02T09:14:27Z', updateId: 'u-1', requested: null, actor: null, waitFor: 'update' },
    startedAt: NOW - 600_000,
    change: { done: true, status: 'Successful', errors: [], polls: 3, waitSeconds: 120, timedOut: false },
    ...over,
  };
}

const assessment = (ev: Evaluation) => ({ settled: true, waitSeconds: 0, timedOut: false, evaluation: ev, observedAt: NOW - 1000 });

describe('notifyOutcome', () => {
  it.each<[Outcome, Severity, Partial<ExecutionState>]>([
    ['exempt', 'info', { assessment: assessment(evaluation('exempt', 'none')) }],
    ['alerted', 'warning', { assessment: assessment(evaluation('violation', 'alert')) }],
    ['manual-action-required', 'critical', { assessment: assessment(evaluation('violation', 'remediate')), preflight: { safe: false, checked: true, vpcId: 'vpc-1', problems: [{ check: 'enableDnsHostnames', message: 'off', fix: 'turn on' }] } }],
    ['failed', 'critical', { failure: { Error: 'ClusterNotFoundError', Cause: 'gone' } }],
  ])('publishes exactly one alert for %s (%s)', async (outcome, severity, over) => {
    const d = deps();

    const result = await notifyOutcome(state(over), d);

    expect(d.published).toHaveLength(1);
    expect(d.published[0]!.attributes).toEqual({ severity, outcome, account: '111122223333', region: 'us-east-1', cluster: 'prod-api' });
    expect(result).toEqual({ outcome, severity, published: true, messageId: 'msg-1', subject: d.published[0]!.subject, reason: outcome === 'failed' ? expect.stringMatching(/\S/) : null });
    expect(result.subject.length).toBeLessThan(100);
  });

  it('a compliant change is not published by default', async () => {
    const d = deps();

    const result = await notifyOutcome(state({ assessment: assessment(evaluation('compliant', 'none')) }), d);

    expect(d.published).toEqual([]);
    expect(result).toMatchObject({ outcome: 'compliant', severity: 'info', published: false, messageId: null });
    expect(result.subject).not.toBe('');
  });

  it('a compliant change is published as info when notifyCompliant is on', async () => {
    const d = deps({ notifyCompliant: true });

    const result = await notifyOutcome(state({ assessment: assessment(evaluation('compliant', 'none')) }), d);

    expect(d.published).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'compliant', severity: 'info', published: true, messageId: 'msg-1' });
  });

  it('a publish error propagates, for the state machine to retry or fail visibly', async () => {
    const err = new Error('SNS down');
    const d = deps({ publish: async () => { throw err; } });

    await expect(notifyOutcome(state({ assessment: assessment(evaluation('violation', 'alert')) }), d)).rejects.toBe(err);
  });
});
