/**
 * The intake (src/workflow/intake.ts) with a fake ExecutionPort, an EKS that must never be called and
 * the compare-and-set fake ledger (test/unit/fakes/ledger.ts). Events are the CloudTrail fixtures in
 * test/fixtures/cloudtrail/, each with the triage its `expected/` twin records. The fake ExecutionPort
 * behaves like Step Functions: a name it has seen is refused (ExecutionAlreadyExists), so two executions
 * that must both run must get different names.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { InputError, TransientAwsError } from '../../src/errors';
import { emptyLedger } from '../../src/ledger/rules';
import type { OwnUpdate } from '../../src/ledger/types';
import { parsePolicy, type ClusterRef } from '../../src/policy';
import type { GuardIdentity, IntakeDeps, Log, WorkflowSettings } from '../../src/workflow/deps';
import { executionName, intakeEvent } from '../../src/workflow/intake';
import type { EksPort, ExecutionPort } from '../../src/workflow/ports';
import type { ExecutionInput } from '../../src/workflow/types';
import { FakeLedger } from './fakes/ledger';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const POLICY = parsePolicy(readFileSync(new URL('workflow/policy.yaml', FIXTURES), 'utf8'), 'workflow policy');
const NOW = Date.parse('2026-03-02T09:20:00Z');
const GUARD_ROLE = 'arn:aws:iam::123456789012:role/eks-endpoint-guard-prod-remediate';
const HOME = '123456789012';
const MEMBER_ROLE = 'eks-endpoint-guard-member';
/** The clientRequestToken of update-by-guard-role.json, and the cluster it names. */
const GUARD_TOKEN = 'b9fb897d-74c1-49e6-9d32-863439ce890c';
const PAYMENTS: ClusterRef = { name: 'prod-payments', account: HOME, region: 'eu-west-1' };
const VALID_NAME = /^[A-Za-z0-9_-]{1,80}$/;

type Json = Record<string, unknown>;
const event = (name: string): Json => JSON.parse(readFileSync(new URL(`cloudtrail/${name}.json`, FIXTURES), 'utf8'));
const expectedTriage = (name: string): Json => JSON.parse(readFileSync(new URL(`cloudtrail/expected/${name}.json`, FIXTURES), 'utf8'));

// ---------------------------------------------------------------------------------------------------------
// Fakes

/** Step Functions as far as the intake sees it: a second start with the same name starts nothing. */
function fakeExecutions(options: { refuse?: boolean } = {}): ExecutionPort & { started: { name: string; input: ExecutionInput }[]; names: Set<string> } {
  const started: { name: string; input: ExecutionInput }[] = [];
  const names = new Set<string>();
  return {
    started,
    names,
    async start(name, input) {
      expect(name).toMatch(VALID_NAME);
      if (options.refuse || names.has(name)) return false;
      names.add(name);
      started.push({ name, input: structuredClone(input) });
      return true;
    },
  };
}

/**
 * The intake judges nothing itself (the execution it starts does): any EKS call fails the test. The
 * organization sweep's listing and judging are tested in sweep-unit.test.ts.
 */
function noEks(): EksPort {
  const never = (what: string) => async () => {
    throw new Error(`the intake never calls EKS (it called ${what})`);
  };
  return { listClusters: never('ListClusters'), describeCluster: never('DescribeCluster'), describeUpdate: never('DescribeUpdate'), updateEndpointAccess: never('UpdateClusterConfig') };
}

const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

function deps(over: { executions?: ExecutionPort; eks?: EksPort; settings?: Partial<WorkflowSettings>; identity?: Partial<GuardIdentity>; ledger?: FakeLedger } = {}): IntakeDeps & { ledgerFake: FakeLedger } {
  const ledgerFake = over.ledger ?? new FakeLedger();
  return {
    executions: over.executions ?? fakeExecutions(),
    eks: over.eks ?? noEks(),
    policy: POLICY,
    settings: { shadowMode: false, notifyCompliant: false, maxWaitSeconds: 3600, ...over.settings },
    ledger: ledgerFake,
    identity: { selfRoleArns: [GUARD_ROLE], crossAccountRoleName: MEMBER_ROLE, homeAccount: HOME, ...over.identity },
    now: () => NOW,
    log: silentLog,
    ledgerFake,
  };
}

/** A ledger in which the guard recorded its update with `token` on `cluster`, as RemediateCluster does before the call. */
function ledgerWithToken(cluster: ClusterRef, token: string): FakeLedger {
  const own: OwnUpdate = { token, updateId: null, execution: 'evt-earlier', at: NOW - 120_000, target: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } };
  return new FakeLedger().seed({ ...emptyLedger(cluster), ownUpdates: [own] });
}

// ---------------------------------------------------------------------------------------------------------

describe('intakeEvent', () => {
  it.each(['update-endpoint-public-open', 'update-endpoint-restrict', 'create-cluster-defaults', 'create-cluster-private-only', 'bare-record-update'])(
    '%s: one execution named from the CloudTrail eventID, its trigger mirroring the triage',
    async (fixture) => {
      const executions = fakeExecutions();
      const expected = expectedTriage(fixture);

      const result = await intakeEvent(event(fixture), deps({ executions }));

      const name = `evt-${expected.eventId as string}`;
      expect(result).toEqual({ triage: expected, executionName: name, started: true });
      expect(executions.started).toEqual([
        {
          name,
          input: {
            cluster: expected.cluster,
            executionName: name,
            startedAt: NOW,
            trigger: {
              kind: 'event',
              eventId: expected.eventId,
              eventName: expected.eventName,
              eventTime: expected.eventTime,
              updateId: expected.updateId,
              requested: expected.requested,
              actor: expected.actor,
              waitFor: expected.waitFor,
              reason: null,
              tags: null,
            },
          },
        },
      ]);
    },
  );

  it.each<[string, string]>([
    ['not-eks-event', 'UNSUPPORTED_EVENT'],
    ['update-access-denied', 'CALL_FAILED'],
    ['update-logging-only', 'NOT_ENDPOINT_CHANGE'],
  ])('%s is ignored (%s), starts nothing and records nothing', async (fixture, reason) => {
    const executions = fakeExecutions();
    const d = deps({ executions });

    const result = await intakeEvent(event(fixture), d);

    expect(result).toEqual({ triage: expectedTriage(fixture), executionName: null, started: false });
    expect(result.triage.reason).toBe(reason);
    expect(executions.started).toEqual([]);
    expect(d.ledgerFake.writes).toBe(0);
    expect(d.ledgerFake.reads).toEqual([]);
  });

  it('a redelivered event finds its execution there and starts nothing new', async () => {
    const executions = fakeExecutions();
    const d = deps({ executions });

    const first = await intakeEvent(event('update-endpoint-public-open'), d);
    const second = await intakeEvent(event('update-endpoint-public-open'), d);

    expect(first).toMatchObject({ started: true, executionName: 'evt-f4d046b0-7d95-47bf-8349-c98a95a738e9' });
    expect(second).toMatchObject({ started: false, executionName: first.executionName });
    expect(executions.started).toHaveLength(1);
  });

  it('reports started false when the execution port says the execution exists', async () => {
    const result = await intakeEvent(event('update-endpoint-public-open'), deps({ executions: fakeExecutions({ refuse: true }) }));

    expect(result.started).toBe(false);
    expect(result.executionName).toBe('evt-f4d046b0-7d95-47bf-8349-c98a95a738e9');
    expect(result.triage.decision).toBe('evaluate');
  });

  it('an event without an eventTime is dated by the clock', async () => {
    const e = event('update-endpoint-public-open');
    delete (e.detail as Json).eventTime;
    const executions = fakeExecutions();

    await intakeEvent(e, deps({ executions }));

    expect(executions.started[0]!.input.trigger.eventTime).toBe(new Date(NOW).toISOString());
  });

  it('an update whose id was not recorded waits for the cluster to be ACTIVE', async () => {
    const e = event('update-endpoint-public-open');
    delete (e.detail as Json).responseElements;
    const executions = fakeExecutions();

    await intakeEvent(e, deps({ executions }));

    expect(executions.started[0]!.input.trigger).toMatchObject({ updateId: null, waitFor: 'cluster-active' });
  });

  it.each<[string, unknown]>([
    ['not an object', 'hello'],
    ['an object that is no event', { hello: 'world' }],
    ['an envelope whose record has no cluster name', (() => {
      const e = event('update-endpoint-public-open');
      delete ((e.detail as Json).requestParameters as Json).name;
      return e;
    })()],
  ])('a malformed event (%s) throws InputError and starts nothing', async (_what, bad) => {
    const executions = fakeExecutions();

    await expect(intakeEvent(bad, deps({ executions }))).rejects.toBeInstanceOf(InputError);
    expect(executions.started).toEqual([]);
  });

  describe('the guard\'s own changes: made with a guard role AND carrying a token the ledger recorded', () => {
    it('a guard-role update whose token the ledger recorded is the guard\'s own: ignored, nothing started or recorded', async () => {
      const executions = fakeExecutions();
      const ledger = ledgerWithToken(PAYMENTS, GUARD_TOKEN);
      const d = deps({ executions, ledger });

      const result = await intakeEvent(event('update-by-guard-role'), d);

      expect(result).toMatchObject({ executionName: null, started: false, triage: { decision: 'ignore', reason: 'SELF_REMEDIATION', guardRole: true, clientRequestToken: GUARD_TOKEN } });
      expect(ledger.reads).toEqual([PAYMENTS]);
      expect(ledger.get(PAYMENTS).changes).toEqual([]);
      expect(executions.started).toEqual([]);
    });

    it('recognises the guard\'s change in a bare CloudTrail record too (the account is the record\'s recipientAccountId)', async () => {
      const executions = fakeExecutions();
      const ledger = ledgerWithToken(PAYMENTS, GUARD_TOKEN);

      const result = await intakeEvent(event('update-by-guard-role').detail, deps({ executions, ledger }));

      expect(ledger.reads).toEqual([PAYMENTS]);
      expect(result.triage.reason).toBe('SELF_REMEDIATION');
      expect(executions.started).toEqual([]);
    });

    it.each<[string, () => FakeLedger]>([
      ['an empty ledger', () => new FakeLedger()],
      ['a ledger that recorded other tokens', () => ledgerWithToken(PAYMENTS, 'a8d2f6b4-1c9e-4a37-8f5b-7e0c3d9a2b61')],
      ['the token recorded for another cluster', () => ledgerWithToken({ ...PAYMENTS, name: 'prod-orders' }, GUARD_TOKEN)],
    ])('a guard-role update the ledger does not vouch for (%s) is evaluated as GUARD_ROLE_UNVERIFIED', async (_what, ledgerOf) => {
      const executions = fakeExecutions();
      const ledger = ledgerOf();

      const result = await intakeEvent(event('update-by-guard-role'), deps({ executions, ledger }));

      expect(result).toEqual({ triage: expectedTriage('update-by-guard-role'), executionName: 'evt-95f62b94-4637-4f7d-8c88-2d196a4e808f', started: true });
      expect(executions.started).toHaveLength(1);
      expect(executions.started[0]!.input.trigger).toMatchObject({ kind: 'event', reason: 'GUARD_ROLE_UNVERIFIED', waitFor: 'update', updateId: '0670bdc2-08d9-4f90-85ea-a9238ff626ee' });
      // Recorded as misuse, so whichever execution judges the cluster raises it.
      expect(ledger.get(PAYMENTS).changes).toEqual([expect.objectContaining({ eventId: '95f62b94-4637-4f7d-8c88-2d196a4e808f', guardRoleMisuse: true, handledBy: null })]);
    });

    it('a change by a role that is not the guard\'s is a normal change, and the ledger is not consulted', async () => {
      const executions = fakeExecutions();
      const d = deps({ executions, identity: { selfRoleArns: ['arn:aws:iam::123456789012:role/someone-else'] } });

      const result = await intakeEvent(event('update-by-guard-role'), d);

      expect(result.triage).toMatchObject({ decision: 'evaluate', reason: null, guardRole: false });
      expect(executions.started[0]!.input.trigger.reason).toBeNull();
      expect(d.ledgerFake.reads).toEqual([]);
    });

    it('the cross-account role name in the HOME account is a normal actor, even with its token recorded', async () => {
      const executions = fakeExecutions();
      const token = 'a8d2f6b4-1c9e-4a37-8f5b-7e0c3d9a2b61';
      const ledger = ledgerWithToken(PAYMENTS, token);

      const result = await intakeEvent(event('update-by-member-role-name-in-home'), deps({ executions, ledger }));

      expect(result.triage).toEqual(expectedTriage('update-by-member-role-name-in-home'));
      expect(result.triage).toMatchObject({ decision: 'evaluate', reason: null, guardRole: false, clientRequestToken: token });
      expect(executions.started[0]!.input.trigger).toMatchObject({ reason: null, actor: { arn: 'arn:aws:sts::123456789012:assumed-role/eks-endpoint-guard-member/ops-break-glass' } });
      expect(ledger.get(PAYMENTS).changes).toEqual([expect.objectContaining({ eventId: '6a9e3c17-5b8d-4f24-a6c1-9e2d7b4f0a38', guardRoleMisuse: false })]);
    });

    it.each<[string, boolean, string | null]>([
      ['recorded', true, 'SELF_REMEDIATION'],
      ['not recorded', false, 'GUARD_ROLE_UNVERIFIED'],
    ])('the cross-account role in a member account, its token %s: %s', async (_what, recorded, reason) => {
      const member: ClusterRef = { name: 'member-orders', account: '210987654321', region: 'eu-west-1' };
      const ledger = recorded ? ledgerWithToken(member, '3f9b2d71-6a4e-4c85-b0d3-8e1f5a7c9b24') : new FakeLedger();

      const result = await intakeEvent(event('update-by-cross-account-role'), deps({ ledger }));

      expect(result.triage).toMatchObject({ reason, guardRole: true });
      expect(ledger.reads).toEqual([member]);
    });
  });

  describe('the change, recorded in the ledger for whichever execution judges the cluster', () => {
    it.each(['update-endpoint-public-open', 'create-cluster-defaults', 'tag-cluster'])('%s: recorded once, unjudged, seen now', async (fixture) => {
      const d = deps();
      const t = expectedTriage(fixture) as { cluster: ClusterRef; eventId: string; eventName: string; eventTime: string; actor: unknown; requested: unknown; updateId: string | null; tags: unknown };

      await intakeEvent(event(fixture), d);

      expect(d.ledgerFake.get(t.cluster).changes).toEqual([
        { eventId: t.eventId, eventName: t.eventName, eventTime: t.eventTime, actor: t.actor, requested: t.requested, updateId: t.updateId, tags: t.tags, guardRoleMisuse: false, seenAt: NOW, handledBy: null },
      ]);
    });

    it('a tag change\'s trigger carries what it did, and nothing to wait for', async () => {
      const executions = fakeExecutions();

      await intakeEvent(event('tag-cluster'), deps({ executions }));

      expect(executions.started[0]!.input.trigger).toMatchObject({ eventName: 'TagResource', waitFor: 'none', updateId: null, requested: null, tags: { set: { 'endpoint-policy': 'relaxed', team: 'payments' }, removed: [] } });
    });

    it('a redelivered event is recorded once', async () => {
      const d = deps();

      await intakeEvent(event('update-endpoint-public-open'), d);
      await intakeEvent(event('update-endpoint-public-open'), d);

      expect(d.ledgerFake.get(PAYMENTS).changes).toHaveLength(1);
      expect(d.ledgerFake.writes).toBe(1);
    });

    it('keeps what another writer put in the record meanwhile (compare-and-set)', async () => {
      const ledger = new FakeLedger();
      ledger.interleave((current) => ({ ...current, lease: { holder: 'evt-holder', acquiredAt: NOW, expiresAt: NOW + 900_000 } }));

      await intakeEvent(event('update-endpoint-public-open'), deps({ ledger }));

      expect(ledger.conflicts).toBe(1);
      expect(ledger.get(PAYMENTS)).toMatchObject({ lease: { holder: 'evt-holder' }, changes: [expect.objectContaining({ eventId: 'f4d046b0-7d95-47bf-8349-c98a95a738e9' })] });
    });

    it('a ledger that cannot be written fails the invocation before any execution starts (the event is retried)', async () => {
      const executions = fakeExecutions();
      const ledger = new FakeLedger().failWrite(1);

      await expect(intakeEvent(event('update-endpoint-public-open'), deps({ executions, ledger }))).rejects.toBeInstanceOf(TransientAwsError);
      expect(executions.started).toEqual([]);
    });
  });
});

describe('executionName', () => {
  it('is the prefix and the id joined by a dash when both are valid and short', () => {
    expect(executionName('evt', 'f4d046b0-7d95-47bf-8349-c98a95a738e9')).toBe('evt-f4d046b0-7d95-47bf-8349-c98a95a738e9');
  });

  it('replaces characters Step Functions refuses', () => {
    expect(executionName('evt', 'a b/c:d.é')).toBe('evt-a_b_c_d__');
  });

  it('property: always 1-80 characters of letters, digits, - and _', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 300 }), (prefix, id) => {
        expect(executionName(prefix, id)).toMatch(VALID_NAME);
      }),
      { numRuns: 300 },
    );
  });

  it('property: the same input always gives the same name (what makes redeliveries idempotent)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 200 }), (prefix, id) => {
        expect(executionName(prefix, id)).toBe(executionName(prefix, id));
      }),
    );
  });

  it('property: two different valid ids never share a name, however long (EKS cluster names run to 100 characters)', () => {
    const idChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.split(''));
    const part = (minLength: number, maxLength: number) => fc.string({ unit: idChars, minLength, maxLength, size: 'max' });
    // Random ids rarely share a long beginning, and that is where truncation to 80 characters bites: build such pairs.
    const pair = fc.tuple(part(0, 90), part(1, 10), part(1, 10)).map(([shared, a, b]) => [shared + a, shared + b] as const);
    fc.assert(
      fc.property(fc.constantFrom('evt', 'sweep-202603020900-123456789012'), pair, (prefix, [a, b]) => {
        fc.pre(a !== b);
        expect(executionName(prefix, a)).not.toBe(executionName(prefix, b));
      }),
      { numRuns: 1000 },
    );
  });
});
