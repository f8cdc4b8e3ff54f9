/**
 * NotifyOutcome (src/workflow/notify.ts) with a fake AlertPort: one publish per outcome, a compliant
 * change published only when configured (or when it is news), RecordOutcome's "do not tell again"
 * honoured, the publish error left to the state machine's Retry/Catch.
 */
import { readFileSync } from 'node:fs';
import type { JudgedSettings } from '../../src/ledger/types';
import { parsePolicy, type Evaluation } from '../../src/policy';
import type { Log, WorkflowDeps } from '../../src/workflow/deps';
import { notifyOutcome } from '../../src/workflow/notify';
import type { Alert, ExecutionState, Outcome, RecordResult, Severity } from '../../src/workflow/types';

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
    ledger: { read: fail, mutate: fail },
    alerts: {
      publish: async (alert) => {
        published.push(alert);
        return options.publish ? options.publish(alert) : `msg-${published.length}`;
      },
    },
    policy: POLICY,
    settings: { shadowMode: false, notifyCompliant: options.notifyCompliant ?? false, maxWaitSeconds: 3600 },
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
    target: action === 'none' ? null : { endpointPublicAccess: false, endpointPrivateAccess: true },
    exemption: verdict === 'exempt' ? { source: 'policy', name: 'legacy', reason: 'vendor VPN', expires: '2099-12-31' } : null,
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

describe('notifyOutcome', () => {
  it.each<[Outcome, Severity, Partial<ExecutionState>]>([
    ['exempt', 'info', { assessment: assessment(evaluation('exempt', 'none')) }],
    ['alerted', 'warning', { assessment: assessment(evaluation('violation', 'alert')) }],
    ['manual-action-required', 'critical', { assessment: assessment(evaluation('violation', 'remediate')), preflight: { safe: false, checked: true, vpcId: 'vpc-1', problems: [{ check: 'enableDnsHostnames', message: 'off', fix: 'turn on' }] } }],
    // Was a ClusterNotFoundError before the ledger; that one is now an ignored CLUSTER_DELETED (below).
    ['failed', 'critical', { failure: { Error: 'TransientAwsError', Cause: 'gone' } }],
  ])('publishes exactly one alert for %s (%s)', async (outcome, severity, over) => {
    const d = deps();

    const result = await notifyOutcome(state(over), d);

    expect(d.published).toHaveLength(1);
    expect(d.published[0]!.attributes).toEqual({ kind: 'outcome', severity, outcome, account: '111122223333', region: 'us-east-1', cluster: 'prod-api' });
    expect(result).toEqual({ outcome, severity, published: true, messageId: 'msg-1', subject: d.published[0]!.subject, reason: outcome === 'failed' ? expect.stringMatching(/\S/) : null, eventId: null, finding: false });
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

describe('notifyOutcome: what is news', () => {
  const record = (over: Partial<RecordResult>): RecordResult => ({ outcome: 'failed', severity: 'critical', publish: true, ignoredReason: null, escalation: null, recheck: null, ...over });
  const timedOut = { change: { done: false, status: 'InProgress', errors: [], polls: 20, waitSeconds: 180, timedOut: true } };
  const judged = (over: Partial<JudgedSettings>): JudgedSettings => ({
    at: NOW - 1000,
    rule: null,
    mode: 'enforce',
    publicAccess: 'restricted',
    privateAccess: 'required',
    allowedPublicCidrs: ['203.0.113.0/24'],
    maxPublicCidrs: 40,
    exempt: false,
    tags: {},
    ...over,
  });

  it('a deleted cluster is told once, as ignored with its reason', async () => {
    const d = deps();

    const result = await notifyOutcome(state({ failure: { Error: 'ClusterNotFoundError', Cause: 'gone' }, record: record({ outcome: 'ignored', severity: 'info', ignoredReason: 'CLUSTER_DELETED' }) }), d);

    expect(d.published).toHaveLength(1);
    expect(d.published[0]!.attributes).toEqual({ kind: 'outcome', severity: 'info', outcome: 'ignored', account: '111122223333', region: 'us-east-1', cluster: 'prod-api', reason: 'CLUSTER_DELETED' });
    expect(result).toMatchObject({ outcome: 'ignored', published: true, reason: 'CLUSTER_DELETED' });
  });

  it.each<[string, Partial<RecordResult>]>([
    ['a re-check series failing again at the same stage', { publish: false, recheck: { name: 'recheck-evt-e-1-2', input: state({}), attempt: 2, nextAt: NOW + 1_200_000, incident: 'evt-e-1' } }],
    ['a change another execution already told', { outcome: 'ignored', severity: 'info', publish: false, ignoredReason: 'ALREADY_HANDLED' }],
  ])('RecordOutcome said not to tell again (%s): nothing is published', async (_what, over) => {
    const d = deps();

    const result = await notifyOutcome(state({ ...timedOut, record: record(over) }), d);

    expect(d.published).toEqual([]);
    expect(result).toMatchObject({ published: false, messageId: null });
  });

  it('RecordOutcome\'s escalation is published as critical, with the ESCALATED reason', async () => {
    const d = deps();
    const escalation = { reverts: 3, withinMinutes: 60, actors: [{ arn: 'arn:aws:iam::111122223333:role/ci', type: 'AssumedRole', sourceIPAddress: null, userAgent: 'terraform' }] };

    const result = await notifyOutcome(state({ assessment: assessment(evaluation('violation', 'remediate')), record: record({ outcome: 'escalated', severity: 'critical', escalation }) }), d);

    expect(result).toMatchObject({ outcome: 'escalated', severity: 'critical', published: true });
    expect(d.published[0]!.attributes).toMatchObject({ outcome: 'escalated', severity: 'critical', reason: 'ESCALATED' });
  });

  it('a failure with a re-check scheduled says so in its attributes', async () => {
    const d = deps();
    const recheck = { name: 'recheck-evt-e-1-1', input: state({}), attempt: 1, nextAt: NOW + 600_000, incident: 'evt-e-1' };

    await notifyOutcome(state({ ...timedOut, record: record({ recheck }) }), d);

    expect(d.published[0]!.attributes).toMatchObject({ outcome: 'failed', reason: 'RECHECK_SCHEDULED' });
  });

  it('a compliant cluster is news after a guard role was used outside the guard: published as critical', async () => {
    const d = deps();
    const misuse = { ...state({}).trigger, reason: 'GUARD_ROLE_UNVERIFIED' as const, actor: { arn: 'arn:aws:sts::111122223333:assumed-role/guard/someone', type: 'AssumedRole', sourceIPAddress: null, userAgent: null } };

    const result = await notifyOutcome(state({ trigger: misuse, assessment: assessment(evaluation('compliant', 'none')) }), d);

    expect(result).toMatchObject({ outcome: 'compliant', published: true });
    expect(d.published[0]!.attributes).toMatchObject({ severity: 'critical', reason: 'GUARD_ROLE_MISUSE' });
  });

  it('a compliant cluster is news after a tag change loosened its rule: published as a warning', async () => {
    const d = deps();
    const tagChange = { actor: null, set: { guard: 'alert' }, removed: [], before: judged({}), after: judged({ mode: 'alert', rule: 'watch-only' }), laxer: true };

    const result = await notifyOutcome(state({ assessment: { ...assessment(evaluation('compliant', 'none')), tagChange } }), d);

    expect(result).toMatchObject({ outcome: 'compliant', published: true });
    expect(d.published[0]!.attributes).toMatchObject({ severity: 'warning', reason: 'TAG_CHANGE_LAXER' });
  });

  it('a tag change that tightened nothing is no news', async () => {
    const d = deps();
    const tagChange = { actor: null, set: { team: 'x' }, removed: [], before: judged({}), after: judged({ tags: { team: 'x' } }), laxer: false };

    await expect(notifyOutcome(state({ assessment: { ...assessment(evaluation('compliant', 'none')), tagChange } }), d)).resolves.toMatchObject({ published: false });
  });

  it('a re-check that finds the cluster compliant is news (the guard had been failing to fix it)', async () => {
    const d = deps();
    const recheck = { ...state({}).trigger, kind: 'recheck' as const, eventName: 'Recheck', actor: null, updateId: null, requested: null, waitFor: 'none' as const, delaySeconds: 600, recheck: { incident: 'evt-e-1', attempt: 1 } };

    await expect(notifyOutcome(state({ trigger: recheck, assessment: assessment(evaluation('compliant', 'none')) }), d)).resolves.toMatchObject({ outcome: 'compliant', published: true });
  });

  // Regression (found by review, fixed): src/workflow/notify.ts shouldPublish (lines 22-27): the "one incident, one alert" rule for
  // ALREADY_HANDLED lives only in RecordOutcome (src/workflow/record.ts line 93). When RecordOutcome
  // fails (its Catch goes to NotifyOutcome with $.recordFailure and no $.record), an execution whose
  // change another execution already covered publishes an `[IGNORED]` alert, a second alert for the same
  // incident. The outcome and its reason are known from the state alone (lease.handled), so expected:
  // not published, as with the record.
  it('a change another execution already covered is not published even when RecordOutcome failed', async () => {
    const d = deps();
    const handled = state({ lease: { acquired: false, handled: true, handledBy: 'evt-other', holder: null, waitSeconds: 0, waits: 0, timedOut: false } });

    const result = await notifyOutcome(handled, d);

    expect(result.outcome).toBe('ignored');
    expect(d.published).toEqual([]);
  });
});
