/**
 * decideOutcome and buildAlertCase (src/workflow/outcome.ts): every path through the state machine, given
 * as the execution state NotifyOutcome would see, maps to one outcome, one severity and, for a failure, an
 * error and a cause a person can act on. States are built by hand from what each step stores (types.ts);
 * expected values come from issue 4, item 2, not from the implementation.
 */
import type { ChangeRecord } from '../../src/ledger/types';
import type { EndpointTarget, Evaluation } from '../../src/policy/types';
import { buildAlertCase, decideOutcome, failureReason, ignoredReasonOf, isPermanentFailure } from '../../src/workflow/outcome';
import type { ExecutionState, IgnoredReason, LeaseResult, Outcome, PollResult, PreflightResult, RecordResult, RemediateResult, Severity, VerifyResult } from '../../src/workflow/types';

const EVENT_TIME = '2026-03-02T09:14:27Z';
const ME = 'evt-f4d046b0-7d95-47bf-8349-c98a95a738e9';
const ALICE = { arn: 'arn:aws:iam::111122223333:user/alice', type: 'IAMUser', sourceIPAddress: '203.0.113.24', userAgent: 'aws-cli/2' };
const EVENT_MS = Date.parse(EVENT_TIME);
const NOW = EVENT_MS + 3_600_000;

const OPEN = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };
const CLOSED = { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
const TARGET: EndpointTarget = { endpointPublicAccess: false, endpointPrivateAccess: true };

function evaluation(verdict: Evaluation['verdict'], action: Evaluation['action'], config = OPEN): Evaluation {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1', arn: null },
    settings: { rule: 'prod-private-only', mode: action === 'alert' ? 'alert' : 'enforce', publicAccess: 'forbidden', privateAccess: 'required', allowedPublicCidrs: [], maxPublicCidrs: 40, maxTagExemptionDays: 30, escalation: { reverts: 3, withinMinutes: 60 } },
    observed: { ...config, status: 'ACTIVE', vpcId: 'vpc-0a1b2c3d4e5f60001', tags: {} },
    verdict,
    action,
    violations: verdict === 'compliant' ? [] : [{ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public access is forbidden' }],
    warnings: [],
    target: action === 'none' ? null : TARGET,
    exemption: verdict === 'exempt' ? { source: 'tag', name: 'eks-endpoint-guard/exempt-until', reason: 'tag', expires: '2099-01-01' } : null,
  };
}

const poll = (over: Partial<PollResult> = {}): PollResult => ({ done: true, status: 'Successful', errors: [], polls: 2, waitSeconds: 60, timedOut: false, ...over });
const assessment = (ev: Evaluation | null, over: Partial<ExecutionState['assessment'] & object> = {}) => ({ settled: true, leaseLost: false, waitSeconds: 0, timedOut: false, evaluation: ev, observedAt: NOW - 1000, ...over });
const preflight = (safe: boolean): PreflightResult => ({
  safe,
  checked: true,
  vpcId: 'vpc-0a1b2c3d4e5f60001',
  problems: safe ? [] : [{ check: 'enableDnsHostnames', message: 'VPC vpc-0a1b2c3d4e5f60001 has enableDnsHostnames off', fix: 'aws ec2 modify-vpc-attribute ...' }],
});
const remediation = (status: RemediateResult['status'], over: Partial<RemediateResult> = {}): RemediateResult => ({
  status,
  updateId: status === 'started' ? 'revert-update-1' : null,
  target: TARGET,
  busyAttempts: 0,
  waitSeconds: 0,
  error: null,
  ...over,
});
const verification = (compliant: boolean, verifiedAt = EVENT_MS + 900_000): VerifyResult => ({
  compliant,
  evaluation: compliant ? evaluation('compliant', 'none', CLOSED) : evaluation('violation', 'remediate'),
  verifiedAt,
});

function state(over: Partial<ExecutionState> = {}): ExecutionState {
  return {
    cluster: { name: 'prod-api', account: '111122223333', region: 'us-east-1' },
    trigger: {
      kind: 'event',
      eventId: 'f4d046b0-7d95-47bf-8349-c98a95a738e9',
      eventName: 'UpdateClusterConfig',
      eventTime: EVENT_TIME,
      updateId: 'user-update-1',
      requested: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
      actor: ALICE,
      waitFor: 'update',
    },
    executionName: ME,
    startedAt: EVENT_MS + 5000,
    ...over,
  };
}

/** The path that ends remediated: change done, violation to remediate, preflight safe, revert started and done, verified. */
const remediatedPath = (): Partial<ExecutionState> => ({
  change: poll(),
  assessment: assessment(evaluation('violation', 'remediate')),
  preflight: preflight(true),
  remediation: remediation('started'),
  revert: poll({ polls: 3 }),
  verification: verification(true),
});

type Row = [what: string, over: Partial<ExecutionState>, outcome: Outcome, severity: Severity, failure: { error: string; cause: RegExp } | null];

const lease = (over: Partial<LeaseResult>): LeaseResult => ({ acquired: true, handled: false, handledBy: null, holder: ME, waitSeconds: 0, waits: 0, timedOut: false, ...over });

const ROWS: Row[] = [
  [
    // Was a ClusterNotFoundError before the ledger: that one now means "deleted" (ignored, below).
    'a Catch stored a failure (even after an otherwise compliant assessment)',
    { change: poll(), assessment: assessment(evaluation('compliant', 'none')), failure: { Error: 'TransientAwsError', Cause: 'DescribeCluster failed' } },
    'failed',
    'critical',
    { error: 'TransientAwsError', cause: /^DescribeCluster failed$/ },
  ],
  [
    'the cluster was deleted under the workflow (ClusterNotFoundError, even after a violation)',
    { change: poll(), assessment: assessment(evaluation('violation', 'remediate')), failure: { Error: 'ClusterNotFoundError', Cause: 'DescribeCluster failed: ResourceNotFoundException' } },
    'ignored',
    'info',
    null,
  ],
  ['another execution\'s judgement covered the change (AcquireLease: handled)', { change: poll(), lease: lease({ acquired: false, handled: true, handledBy: 'evt-other', holder: null }) }, 'ignored', 'info', null],
  [
    'another execution took the lease over before the revert (lost-lease)',
    { change: poll(), lease: lease({}), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(true), remediation: remediation('lost-lease') },
    'ignored',
    'info',
    null,
  ],
  ['the change outlasted the wait budget', { change: poll({ done: false, status: 'InProgress', timedOut: true }) }, 'failed', 'critical', { error: 'WaitTimedOut', cause: /the change/ }],
  [
    'the cluster stayed busy past the wait budget',
    { change: poll(), assessment: assessment(evaluation('violation', 'remediate'), { settled: false, timedOut: true, waitSeconds: 60 }) },
    'failed',
    'critical',
    { error: 'WaitTimedOut', cause: /busy cluster/ },
  ],
  [
    'the revert outlasted the wait budget',
    { ...remediatedPath(), revert: poll({ done: false, status: 'InProgress', timedOut: true }), verification: undefined },
    'failed',
    'critical',
    { error: 'WaitTimedOut', cause: /the revert/ },
  ],
  ['exempt', { change: poll(), assessment: assessment(evaluation('exempt', 'none')) }, 'exempt', 'info', null],
  ['compliant', { change: poll(), assessment: assessment(evaluation('compliant', 'none')) }, 'compliant', 'info', null],
  ['a violation in alert mode', { change: poll(), assessment: assessment(evaluation('violation', 'alert')) }, 'alerted', 'warning', null],
  [
    'a violation whose preflight found the VPC unsafe',
    { change: poll(), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(false) },
    'manual-action-required',
    'critical',
    null,
  ],
  [
    'the remediation gave up on a busy cluster',
    { change: poll(), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(true), remediation: remediation('gave-up', { busyAttempts: 8, error: { name: 'ClusterBusyError', message: 'in use' } }) },
    'failed',
    'critical',
    { error: 'ClusterBusy', cause: /8 attempts/ },
  ],
  [
    'the remediation was rejected by EKS',
    {
      change: poll(),
      assessment: assessment(evaluation('violation', 'remediate')),
      preflight: preflight(true),
      remediation: remediation('rejected', { error: { name: 'InvalidParameterException', message: 'The following CIDRs are invalid in publicAccessCidrs' } }),
    },
    'failed',
    'critical',
    { error: 'InvalidParameterException', cause: /^The following CIDRs are invalid in publicAccessCidrs$/ },
  ],
  ['the revert was verified compliant', remediatedPath(), 'remediated', 'warning', null],
  [
    'EKS said "already at the desired configuration" and the verification is compliant',
    { ...remediatedPath(), remediation: remediation('already-compliant'), revert: undefined },
    'remediated',
    'warning',
    null,
  ],
  [
    'the revert finished but the cluster still violates the policy',
    { ...remediatedPath(), verification: verification(false) },
    'failed',
    'critical',
    { error: 'StillNotCompliant', cause: /still violates/ },
  ],
  [
    'the revert update ended Failed',
    {
      ...remediatedPath(),
      revert: poll({ status: 'Failed', errors: [{ errorCode: 'EniLimitReached', errorMessage: 'ENI limit reached' }, { errorCode: 'InsufficientFreeAddresses', errorMessage: 'no free IPs' }] }),
      verification: verification(false),
    },
    'failed',
    'critical',
    { error: 'RevertUpdateFailed', cause: /revert-update-1.*EniLimitReached: ENI limit reached.*InsufficientFreeAddresses: no free IPs/ },
  ],
  [
    'a remediate decision that never reached RemediateCluster (no remediation stored)',
    { change: poll(), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(true) },
    'failed',
    'critical',
    null,
  ],
  ['no assessment at all', { change: poll() }, 'failed', 'critical', null],
  [
    'a busy cluster, judged again, turned out compliant (someone else fixed it)',
    { change: poll(), assessment: assessment(evaluation('compliant', 'none', CLOSED)), remediation: remediation('busy', { busyAttempts: 1, waitSeconds: 30 }) },
    'compliant',
    'info',
    null,
  ],
];

describe('decideOutcome and buildAlertCase: one outcome per path', () => {
  it.each(ROWS.map(([what, ...rest]): Row => [`${what} → ${rest[1]}`, ...rest]))('%s', (_what, over, outcome, severity, failure) => {
    const s = state(over);

    const decided = decideOutcome(s);
    const alertCase = buildAlertCase(s, NOW);

    expect(decided).toBe(outcome);
    expect(alertCase.outcome).toBe(outcome);
    expect(alertCase.severity).toBe(severity);
    if (failure) {
      expect(alertCase.failure).toEqual({ error: failure.error, cause: expect.stringMatching(failure.cause) });
    } else if (outcome !== 'failed') {
      expect(alertCase.failure).toBeNull();
    }
  });

  it('never reports a failure for an outcome other than failed, even when the state holds one from an earlier step', () => {
    // A busy remediation's error is kept in the state while the cluster is judged again; the new judgement decides.
    const s = state({ change: poll(), assessment: assessment(evaluation('violation', 'alert')), remediation: remediation('busy', { error: { name: 'ClusterBusyError', message: 'in use' } }) });

    const alertCase = buildAlertCase(s, NOW);

    expect(alertCase.outcome).toBe('alerted');
    expect(alertCase.failure).toBeNull();
  });
});

describe('buildAlertCase: what the alert is written from', () => {
  it('a remediated case carries before, after, the update, the time from the change to the verified fix and the alert time', () => {
    const s = state(remediatedPath());

    const alertCase = buildAlertCase(s, NOW);

    expect(alertCase).toMatchObject({
      cluster: s.cluster,
      trigger: s.trigger,
      before: OPEN,
      after: CLOSED,
      preflight: s.preflight,
      remediation: s.remediation,
      revertUpdate: s.revert,
      evaluation: s.assessment!.evaluation,
      timeToFixSeconds: 900,
      at: NOW,
    });
    // before/after are the three endpoint settings only, not the observed status, VPC or tags.
    expect(Object.keys(alertCase.before!).sort()).toEqual(['endpointPrivateAccess', 'endpointPublicAccess', 'publicAccessCidrs']);
    expect(Object.keys(alertCase.after!).sort()).toEqual(['endpointPrivateAccess', 'endpointPublicAccess', 'publicAccessCidrs']);
  });

  it.each<[string, Partial<ExecutionState>]>([
    ['failed after a verification', { ...remediatedPath(), verification: verification(false) }],
    ['alerted', { change: poll(), assessment: assessment(evaluation('violation', 'alert')) }],
    ['compliant', { change: poll(), assessment: assessment(evaluation('compliant', 'none')) }],
  ])('timeToFixSeconds is null when the outcome is %s', (_what, over) => {
    expect(buildAlertCase(state(over), NOW).timeToFixSeconds).toBeNull();
  });

  it('timeToFixSeconds rounds to whole seconds and is never negative', () => {
    const rounded = state({ ...remediatedPath(), verification: verification(true, EVENT_MS + 61_600) });
    const clockSkew = state({ ...remediatedPath(), verification: verification(true, EVENT_MS - 5_000) });

    expect(buildAlertCase(rounded, NOW).timeToFixSeconds).toBe(62);
    expect(buildAlertCase(clockSkew, NOW).timeToFixSeconds).toBe(0);
  });

  it('timeToFixSeconds is null when the event time cannot be read', () => {
    const s = state(remediatedPath());
    s.trigger = { ...s.trigger, eventTime: 'not a time' };

    expect(buildAlertCase(s, NOW).timeToFixSeconds).toBeNull();
  });

  it('before and after are null when nothing was judged', () => {
    const alertCase = buildAlertCase(state({ change: poll({ done: false, timedOut: true }) }), NOW);

    expect(alertCase.before).toBeNull();
    expect(alertCase.after).toBeNull();
    expect(alertCase.evaluation).toBeNull();
    expect(alertCase.preflight).toBeNull();
    expect(alertCase.remediation).toBeNull();
    expect(alertCase.revertUpdate).toBeNull();
  });
});

describe('buildAlertCase: the error a Catch stored', () => {
  it.each<[string, string, string]>([
    [
      'a Lambda error is unwrapped to its errorMessage',
      JSON.stringify({ errorType: 'ClusterNotFoundError', errorMessage: 'DescribeCluster on cluster prod-api (111122223333/us-east-1) failed: ResourceNotFoundException: No cluster found', trace: ['at x'] }),
      'DescribeCluster on cluster prod-api (111122223333/us-east-1) failed: ResourceNotFoundException: No cluster found',
    ],
    ['a plain string cause is kept', 'Task timed out after 30.00 seconds', 'Task timed out after 30.00 seconds'],
    ['JSON without errorMessage is kept as it is', '{"errorType":"Runtime.ExitError"}', '{"errorType":"Runtime.ExitError"}'],
    ['JSON null is kept as it is', 'null', 'null'],
    ['a JSON number is kept as it is', '42', '42'],
  ])('%s', (_what, cause, expected) => {
    const alertCase = buildAlertCase(state({ failure: { Error: 'States.TaskFailed', Cause: cause } }), NOW);

    expect(alertCase.outcome).toBe('failed');
    expect(alertCase.failure).toEqual({ error: 'States.TaskFailed', cause: expected });
  });
});

describe('ignoredReasonOf', () => {
  it.each<[string, Partial<ExecutionState>, IgnoredReason | null]>([
    ['a ClusterNotFoundError caught', { failure: { Error: 'ClusterNotFoundError', Cause: 'gone' } }, 'CLUSTER_DELETED'],
    ['a change another execution covered', { lease: lease({ acquired: false, handled: true, handledBy: 'evt-other', holder: null }) }, 'ALREADY_HANDLED'],
    ['a lease lost before the revert', { lease: lease({}), remediation: remediation('lost-lease') }, 'ALREADY_HANDLED'],
    ['the cluster deleted while the change was covered elsewhere: deleted wins', { failure: { Error: 'ClusterNotFoundError', Cause: 'gone' }, lease: lease({ handled: true }) }, 'CLUSTER_DELETED'],
    ['another error caught', { failure: { Error: 'TransientAwsError', Cause: 'throttled' } }, null],
    ['a lease waited for, then acquired', { lease: lease({}) }, null],
    ['nothing special', remediatedPath(), null],
  ])('%s: %p', (_what, over, reason) => {
    expect(ignoredReasonOf(state(over))).toBe(reason);
  });

  it('an ignored case carries its reason; any other outcome carries none', () => {
    expect(buildAlertCase(state({ failure: { Error: 'ClusterNotFoundError', Cause: 'gone' } }), NOW)).toMatchObject({ outcome: 'ignored', ignoredReason: 'CLUSTER_DELETED', failure: null });
    expect(buildAlertCase(state(remediatedPath()), NOW).ignoredReason).toBeNull();
  });
});

describe('isPermanentFailure and failureReason', () => {
  const rejected = (permanent: boolean | undefined) =>
    state({ change: poll(), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(true), remediation: remediation('rejected', { permanent, error: { name: 'InvalidParameterException', message: 'bad CIDR' } }) });

  it.each<[string, ExecutionState, boolean]>([
    ['a rejection EKS will repeat', rejected(true), true],
    ['a rejection that may pass (access denied, say)', rejected(false), false],
    ['a rejection stored before `permanent` existed', rejected(undefined), false],
    ['a busy cluster given up on', state({ change: poll(), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(true), remediation: remediation('gave-up') }), false],
    ['a remediated cluster', state(remediatedPath()), false],
  ])('%s: permanent %p', (_what, s, permanent) => {
    expect(isPermanentFailure(s)).toBe(permanent);
  });

  it('failureReason is the failed outcome\'s error and cause, and null for any other outcome', () => {
    expect(failureReason(rejected(true))).toEqual({ error: 'InvalidParameterException', cause: 'bad CIDR' });
    expect(failureReason(state({ ...remediatedPath(), verification: verification(false) }))).toEqual(buildAlertCase(state({ ...remediatedPath(), verification: verification(false) }), NOW).failure);
    expect(failureReason(state(remediatedPath()))).toBeNull();
    expect(failureReason(state({ change: poll(), assessment: assessment(evaluation('violation', 'remediate')), preflight: preflight(false) }))).toBeNull();
    expect(failureReason(state({ failure: { Error: 'ClusterNotFoundError', Cause: 'gone' } }))).toBeNull();
  });
});

describe('buildAlertCase: actors and RecordOutcome\'s decision', () => {
  const claimed = (eventId: string, over: Partial<ChangeRecord> = {}): ChangeRecord => ({
    eventId,
    eventName: 'UpdateClusterConfig',
    eventTime: EVENT_TIME,
    actor: ALICE,
    requested: { endpointPublicAccess: true },
    updateId: null,
    tags: null,
    guardRoleMisuse: false,
    seenAt: EVENT_MS,
    handledBy: ME,
    ...over,
  });

  it('names the changes the judgement claimed', () => {
    const actors = [claimed('e-1'), claimed('e-2', { actor: { ...ALICE, arn: 'arn:aws:iam::111122223333:user/bob' } })];
    const s = state({ ...remediatedPath(), assessment: { ...assessment(evaluation('violation', 'remediate')), actors } });

    expect(buildAlertCase(s, NOW).actors).toEqual(actors);
  });

  it('falls back to the trigger\'s own change when the judgement claimed none (or none was made)', () => {
    const s = state({ change: poll({ done: false, timedOut: true }) });

    expect(buildAlertCase(s, NOW).actors).toEqual([
      { eventId: s.trigger.eventId, eventName: 'UpdateClusterConfig', eventTime: EVENT_TIME, actor: ALICE, requested: s.trigger.requested, updateId: 'user-update-1', tags: null, guardRoleMisuse: false, seenAt: s.startedAt, handledBy: ME },
    ]);
  });

  it('a sweep has no actor', () => {
    const s = state({ ...remediatedPath(), trigger: { ...state().trigger, kind: 'sweep', eventName: 'ScheduledSweep', actor: null, updateId: null, requested: null, waitFor: 'none' } });

    expect(buildAlertCase(s, NOW).actors).toEqual([]);
  });

  it.each<[string, Partial<ExecutionState>]>([
    ['a claimed change', { assessment: { ...assessment(evaluation('compliant', 'none')), actors: [claimed('e-1', { guardRoleMisuse: true, actor: { ...ALICE, arn: 'arn:aws:sts::111122223333:assumed-role/guard/x' } })] } }],
    ['the trigger', { trigger: { ...state().trigger, reason: 'GUARD_ROLE_UNVERIFIED', actor: { ...ALICE, arn: 'arn:aws:sts::111122223333:assumed-role/guard/x' } }, assessment: assessment(evaluation('compliant', 'none')) }],
  ])('a guard role used outside the guard (%s) names the session', (_what, over) => {
    expect(buildAlertCase(state({ change: poll(), ...over }), NOW).guardRoleMisuse).toEqual({ session: 'arn:aws:sts::111122223333:assumed-role/guard/x' });
  });

  it('no misuse, no guardRoleMisuse', () => {
    expect(buildAlertCase(state(remediatedPath()), NOW).guardRoleMisuse).toBeNull();
  });

  it('RecordOutcome\'s decision overrides the outcome read off the state: escalated, its severity, its actors, time to fix', () => {
    const record: RecordResult = { outcome: 'escalated', severity: 'critical', publish: true, ignoredReason: null, escalation: { reverts: 3, withinMinutes: 60, actors: [ALICE] }, recheck: null };

    const alertCase = buildAlertCase(state({ ...remediatedPath(), record }), NOW);

    expect(alertCase).toMatchObject({ outcome: 'escalated', severity: 'critical', escalation: record.escalation, recheck: null, timeToFixSeconds: 900 });
  });

  it('a re-check RecordOutcome scheduled is in the case: attempt, when, which incident', () => {
    const recheck = { name: 'recheck-x-1', input: { ...state(), executionName: 'recheck-x-1' }, attempt: 1, nextAt: NOW + 600_000, incident: ME };
    const record: RecordResult = { outcome: 'failed', severity: 'critical', publish: true, ignoredReason: null, escalation: null, recheck };

    expect(buildAlertCase(state({ change: poll({ done: false, timedOut: true }), record }), NOW).recheck).toEqual({ attempt: 1, nextAt: NOW + 600_000, incident: ME });
  });
});
