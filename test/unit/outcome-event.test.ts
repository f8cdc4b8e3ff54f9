/**
 * The outcome event's detail (src/workflow/outcome-event.ts), built from execution states as NotifyOutcome
 * sees them, through the real buildAlertCase: one event per outcome except an ALREADY_HANDLED duplicate,
 * the fields consumers route on, and the 256 KB PutEvents entry limit held for a pathological state.
 */
import fc from 'fast-check';
import type { ChangeRecord } from '../../src/ledger/types';
import type { EndpointTarget, Evaluation } from '../../src/policy/types';
import { buildAlertCase } from '../../src/workflow/outcome';
import { buildOutcomeEvent, EVENTBRIDGE_ENTRY_MAX_BYTES, OUTCOME_EVENT_DETAIL_TYPE, OUTCOME_EVENT_SOURCE, type OutcomeEvent } from '../../src/workflow/outcome-event';
import type { ExecutionState, Outcome, RecordResult, Severity } from '../../src/workflow/types';

const EVENT_TIME = '2026-03-02T09:14:27Z';
const EVENT_MS = Date.parse(EVENT_TIME);
const NOW = EVENT_MS + 3_600_000;
const VERIFIED_MS = EVENT_MS + 900_000;
const ALICE = { arn: 'arn:aws:iam::111122223333:user/alice', type: 'IAMUser', sourceIPAddress: '203.0.113.24', userAgent: 'aws-cli/2' };
const OPEN = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };
const CLOSED = { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
const TARGET: EndpointTarget = { endpointPublicAccess: false, endpointPrivateAccess: true };
const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod-api';

function evaluation(verdict: Evaluation['verdict'], action: Evaluation['action'], config = OPEN): Evaluation {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1', arn: ARN },
    settings: { rule: 'prod-private-only', mode: action === 'alert' ? 'alert' : 'enforce', publicAccess: 'forbidden', privateAccess: 'required', allowedPublicCidrs: [], maxPublicCidrs: 40, maxTagExemptionDays: 30, escalation: { reverts: 3, withinMinutes: 60 } },
    observed: { ...config, status: 'ACTIVE', vpcId: 'vpc-0a1b2c3d4e5f60001', tags: {} },
    verdict,
    action,
    violations: verdict === 'compliant' ? [] : [{ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public access is forbidden' }],
    warnings: [],
    target: action === 'none' ? null : TARGET,
    exemption: verdict === 'exempt' ? { source: 'policy', name: 'legacy-vpn', reason: 'vendor VPN', expires: '2099-01-01' } : null,
  };
}

const change = (over: Partial<ChangeRecord> = {}): ChangeRecord => ({
  eventId: 'e-1',
  eventName: 'UpdateClusterConfig',
  eventTime: EVENT_TIME,
  actor: ALICE,
  requested: OPEN,
  updateId: 'u-1',
  tags: null,
  guardRoleMisuse: false,
  seenAt: EVENT_MS,
  handledBy: 'evt-e-1',
  ...over,
});
const assessment = (ev: Evaluation, actors: ChangeRecord[] = [change()]) => ({ settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation: ev, observedAt: NOW - 1000, actors });
const poll = { done: true, status: 'Successful', errors: [], polls: 2, waitSeconds: 60, timedOut: false };
const started = { status: 'started' as const, updateId: 'revert-update-1', target: TARGET, busyAttempts: 0, waitSeconds: 0, error: null, attempt: 1 };
const record = (outcome: Outcome, severity: Severity, over: Partial<RecordResult> = {}): RecordResult => ({ outcome, severity, publish: true, ignoredReason: null, escalation: null, recheck: null, ...over });

function state(over: Partial<ExecutionState> = {}): ExecutionState {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1' },
    trigger: { kind: 'event', eventId: 'e-1', eventName: 'UpdateClusterConfig', eventTime: EVENT_TIME, updateId: 'u-1', requested: OPEN, actor: ALICE, waitFor: 'update' },
    executionName: 'evt-e-1',
    startedAt: EVENT_MS + 60_000,
    change: poll,
    ...over,
  };
}

const remediatedState = (over: Partial<ExecutionState> = {}) =>
  state({
    assessment: assessment(evaluation('violation', 'remediate')),
    preflight: { safe: true, checked: true, vpcId: 'vpc-0a1b2c3d4e5f60001', problems: [] },
    remediation: started,
    revert: poll,
    verification: { compliant: true, evaluation: evaluation('compliant', 'none', CLOSED), verifiedAt: VERIFIED_MS },
    ...over,
  });

function eventOf(s: ExecutionState): OutcomeEvent | null {
  return buildOutcomeEvent(buildAlertCase(s, NOW), { executionName: s.executionName, verifiedAt: s.verification?.verifiedAt ?? null });
}

const entryBytes = (e: OutcomeEvent) => Buffer.byteLength(e.source) + Buffer.byteLength(e.detailType) + Buffer.byteLength(JSON.stringify(e.detail)) + e.resources.reduce((n, r) => n + Buffer.byteLength(r), 0);

describe('one outcome event per outcome', () => {
  const cases: { name: string; state: ExecutionState; outcome: Outcome; severity: Severity; reason: RegExp | null; remediation: string | null; timeToFix: number | null }[] = [
    { name: 'remediated', state: remediatedState(), outcome: 'remediated', severity: 'warning', reason: null, remediation: 'revert-update-1', timeToFix: 900 },
    { name: 'compliant', state: state({ assessment: assessment(evaluation('compliant', 'none', CLOSED)) }), outcome: 'compliant', severity: 'info', reason: null, remediation: null, timeToFix: null },
    { name: 'exempt', state: state({ assessment: assessment(evaluation('exempt', 'none')) }), outcome: 'exempt', severity: 'info', reason: null, remediation: null, timeToFix: null },
    { name: 'alerted (alert mode)', state: state({ assessment: assessment(evaluation('violation', 'alert')) }), outcome: 'alerted', severity: 'warning', reason: null, remediation: null, timeToFix: null },
    {
      name: 'manual action required (preflight unsafe)',
      state: state({ assessment: assessment(evaluation('violation', 'remediate')), preflight: { safe: false, checked: true, vpcId: 'vpc-1', problems: [{ check: 'enableDnsHostnames', message: 'off', fix: 'turn it on' }] } }),
      outcome: 'manual-action-required',
      severity: 'critical',
      reason: null,
      remediation: null,
      timeToFix: null,
    },
    {
      name: 'failed (revert update failed)',
      state: remediatedState({ revert: { ...poll, status: 'Failed', errors: [{ errorCode: 'InsufficientFreeAddresses', errorMessage: 'no IPs' }] }, verification: undefined }),
      outcome: 'failed',
      severity: 'critical',
      reason: /^RevertUpdateFailed: .*revert-update-1 ended Failed: InsufficientFreeAddresses: no IPs/,
      remediation: 'revert-update-1',
      timeToFix: null,
    },
    {
      name: 'escalated (RecordOutcome decided)',
      state: remediatedState({ record: record('escalated', 'critical', { escalation: { reverts: 3, withinMinutes: 60, actors: [ALICE] } }) }),
      outcome: 'escalated',
      severity: 'critical',
      reason: null,
      remediation: 'revert-update-1',
      timeToFix: 900,
    },
    {
      name: 'ignored: cluster deleted',
      state: state({ failure: { Error: 'ClusterNotFoundError', Cause: 'gone' } }),
      outcome: 'ignored',
      severity: 'info',
      reason: /^CLUSTER_DELETED$/,
      remediation: null,
      timeToFix: null,
    },
  ];

  it.each(cases)('$name: outcome, severity, reason, update id and time to fix', ({ state: s, outcome, severity, reason, remediation, timeToFix }) => {
    const event = eventOf(s)!;

    expect(event).toMatchObject({ source: OUTCOME_EVENT_SOURCE, detailType: OUTCOME_EVENT_DETAIL_TYPE, resources: [ARN] });
    const d = event.detail;
    expect(d).toMatchObject({ schemaVersion: 1, executionName: 'evt-e-1', outcome, severity, cluster: { account: '111122223333', region: 'us-east-1', name: 'prod-api', arn: ARN } });
    if (reason) expect(d.reason).toMatch(reason);
    else expect(d.reason).toBeNull();
    expect(d.remediation?.updateId ?? null).toBe(remediation);
    expect(d.timings.timeToFixSeconds).toBe(timeToFix);
    expect(d.timings).toMatchObject({ changeTime: EVENT_TIME, reportedTime: new Date(NOW).toISOString() });
    expect(d.trigger).toEqual({ kind: 'event', eventId: 'e-1', eventName: 'UpdateClusterConfig', eventTime: EVENT_TIME, updateId: 'u-1' });
    expect(d.truncated).toBe(false);
    // The detail is JSON through and through: what PutEvents carries is what consumers read.
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('remediated: before and after, the actor with source IP, violation codes, the revert and when it was verified', () => {
    const d = eventOf(remediatedState())!.detail;

    expect(d.before).toEqual(OPEN);
    expect(d.after).toEqual(CLOSED);
    expect(d.actors).toEqual([{ arn: ALICE.arn, type: 'IAMUser', eventName: 'UpdateClusterConfig', eventTime: EVENT_TIME, eventId: 'e-1', sourceIP: '203.0.113.24', guardRoleMisuse: false }]);
    expect(d.violations).toEqual([{ code: 'PUBLIC_ACCESS_FORBIDDEN', cidr: null }]);
    expect(d.remediation).toEqual({ status: 'started', updateId: 'revert-update-1', updateStatus: 'Successful', attempt: 1 });
    expect(d.timings.verifiedTime).toBe(new Date(VERIFIED_MS).toISOString());
    expect(d).toMatchObject({ rule: 'prod-private-only', mode: 'enforce', action: 'remediate', escalation: null, recheck: null, exemption: null });
  });

  it('exempt: names the exemption; escalated: the actors the guard undid; a re-check: when', () => {
    expect(eventOf(state({ assessment: assessment(evaluation('exempt', 'none')) }))!.detail.exemption).toEqual({ source: 'policy', name: 'legacy-vpn', reason: 'vendor VPN', expires: '2099-01-01' });
    const escalated = remediatedState({ record: record('escalated', 'critical', { escalation: { reverts: 3, withinMinutes: 60, actors: [ALICE] } }) });
    expect(eventOf(escalated)!.detail.escalation).toEqual({ reverts: 3, withinMinutes: 60, actors: [ALICE.arn] });
    const recheck = { name: 'recheck-1', input: state(), attempt: 2, nextAt: NOW + 600_000, incident: 'inc-1' };
    const failed = remediatedState({ revert: { ...poll, status: 'Failed' }, verification: undefined, record: record('failed', 'critical', { recheck, publish: false }) });
    expect(eventOf(failed)!.detail.recheck).toEqual({ attempt: 2, nextAt: new Date(NOW + 600_000).toISOString(), incident: 'inc-1' });
  });

  it('a repeated failure RecordOutcome will not alert again still gets its event', () => {
    const failed = remediatedState({ revert: { ...poll, status: 'Failed' }, verification: undefined, record: record('failed', 'critical', { publish: false }) });
    expect(eventOf(failed)?.detail.outcome).toBe('failed');
  });

  it.each([
    { name: 'the lease says another execution handled the change', over: { lease: { acquired: false, handled: true, handledBy: 'evt-other', holder: null, waitSeconds: 0, waits: 0, timedOut: false } } },
    { name: 'the lease was lost to another execution', over: { assessment: assessment(evaluation('violation', 'remediate')), remediation: { ...started, status: 'lost-lease' as const, updateId: null } } },
  ])('ALREADY_HANDLED ($name): no event, it duplicates the other execution\'s', ({ over }) => {
    expect(eventOf(state(over))).toBeNull();
  });

  it('without a DescribeCluster ARN, the cluster ARN is built the way EKS builds it (partition from the region)', () => {
    const s = state({ cluster: { name: 'cn-api', account: '111122223333', region: 'cn-north-1' }, failure: { Error: 'TransientAwsError', Cause: 'throttled' } });
    expect(eventOf(s)!.resources).toEqual(['arn:aws-cn:eks:cn-north-1:111122223333:cluster/cn-api']);
  });
});

describe('the 256 KB PutEvents entry limit', () => {
  const huge = 'x'.repeat(300_000);
  const cidrs = Array.from({ length: 5000 }, (_, i) => `10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`);
  const wide = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: cidrs };

  it('a pathological case (thousands of actors, violations and CIDRs, a megabyte cause) stays under the limit, says it was cut and how much', () => {
    const ev = { ...evaluation('violation', 'remediate', wide), violations: cidrs.map((cidr) => ({ code: 'PUBLIC_CIDR_NOT_ALLOWED' as const, message: huge.slice(0, 1000), cidr })) };
    const actors = Array.from({ length: 3000 }, (_, i) => change({ eventId: `e-${i}`, actor: { ...ALICE, arn: `arn:aws:iam::111122223333:user/${huge.slice(0, 2000)}-${i}` } }));
    const s = state({ assessment: assessment(ev, actors), failure: { Error: 'AwsRequestRejectedError', Cause: huge.repeat(4) } });

    const event = eventOf(s)!;

    expect(entryBytes(event)).toBeLessThan(EVENTBRIDGE_ENTRY_MAX_BYTES);
    const d = event.detail;
    expect(d.truncated).toBe(true);
    expect(d.actors.length).toBeLessThanOrEqual(20);
    expect(d.actorsOmitted).toBe(3000 - d.actors.length);
    expect(d.violationsOmitted).toBe(5000 - d.violations.length);
    expect(d.before!.publicAccessCidrs.length).toBeLessThan(5000);
    // What consumers route on is never cut.
    expect(d).toMatchObject({ outcome: 'failed', severity: 'critical', executionName: 'evt-e-1', cluster: { arn: ARN } });
    expect(d.reason).toMatch(/^AwsRequestRejectedError: x+\.\.\.$/);
  });

  it('strings long everywhere (CIDRs, tag keys and values, every actor field): still under the limit, outcome and ARN whole', () => {
    const long = (i: number) => `${i}-${huge.slice(0, 5000)}`;
    const garbage = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: Array.from({ length: 200 }, (_, i) => long(i)) };
    const ev = { ...evaluation('violation', 'remediate', garbage), violations: Array.from({ length: 200 }, (_, i) => ({ code: 'PUBLIC_CIDR_NOT_ALLOWED' as const, message: 'm', cidr: long(i) })) };
    const actor = { arn: long(1), type: long(2), sourceIPAddress: long(3), userAgent: long(4) };
    const actors = Array.from({ length: 200 }, (_, i) => change({ eventId: long(i), eventName: long(i), eventTime: long(i), actor }));
    const set = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [long(i), long(i)]));
    const tagChange = { actor, set, removed: Array.from({ length: 200 }, (_, i) => long(i)), before: null, after: { at: NOW, rule: long(0), mode: 'enforce' as const, publicAccess: 'forbidden' as const, privateAccess: 'required' as const, allowedPublicCidrs: [], maxPublicCidrs: 40, exempt: false, tags: set }, laxer: true };
    const s = state({ assessment: { ...assessment(ev, actors), tagChange }, verification: { compliant: false, evaluation: evaluation('violation', 'remediate', garbage), verifiedAt: VERIFIED_MS } });

    const event = eventOf(s)!;

    expect(entryBytes(event)).toBeLessThan(EVENTBRIDGE_ENTRY_MAX_BYTES);
    expect(event.detail).toMatchObject({ outcome: 'failed', severity: 'critical', cluster: { arn: ARN }, truncated: true });
    expect(event.resources).toEqual([ARN]);
  });

  it('any execution state with long strings stays under the limit (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200_000 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 400 }), (text, nActors, nCidrs) => {
        const many = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: cidrs.slice(0, nCidrs) };
        const actors = Array.from({ length: nActors }, (_, i) => change({ eventId: `e-${i}-${text.slice(0, 500)}`, actor: { ...ALICE, userAgent: text } }));
        const s = state({ assessment: assessment(evaluation('violation', 'alert', many), actors), trigger: { ...state().trigger, eventName: text.slice(0, 5000) } });
        const event = eventOf(s)!;
        expect(entryBytes(event)).toBeLessThan(EVENTBRIDGE_ENTRY_MAX_BYTES);
        expect(event.detail.outcome).toBe('alerted');
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 30) },
    );
  });
});
