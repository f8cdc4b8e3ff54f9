import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../src/errors';
import { triageEvent, type TriageResult } from '../../src/events/triage';

const FIXTURES = join(process.cwd(), 'test/fixtures/cloudtrail');
const GUARD_ROLE = 'arn:aws:iam::123456789012:role/eks-endpoint-guard-prod-remediate';
const OPTIONS = { selfRoleArns: [GUARD_ROLE] };
const NOT_AN_EVENT = 'event: not an EventBridge "AWS API Call via CloudTrail" envelope nor a CloudTrail record';

type Json = Record<string, any>;
const load = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;
const fixture = (name: string): Json => load(join(FIXTURES, `${name}.json`));
const fixtureNames = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/** A successful UpdateClusterConfig envelope (alice opens the endpoint), to be modified by each test. */
const openEvent = (): Json => fixture('update-endpoint-public-open');

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('triageEvent over the CloudTrail fixtures', () => {
  it('has an expected result for every fixture and a fixture for every expected result', () => {
    const expected = readdirSync(join(FIXTURES, 'expected')).map((f) => f.replace(/\.json$/, '')).sort();
    expect(expected).toEqual(fixtureNames);
    expect(fixtureNames.length).toBeGreaterThanOrEqual(9);
  });

  it.each(fixtureNames)('%s', (name) => {
    const expected = load(join(FIXTURES, 'expected', `${name}.json`));

    const result = triageEvent(fixture(name), OPTIONS);

    expect(result).toEqual(expected);
  });
});

describe('triageEvent decisions', () => {
  it('evaluates the guard role change when the guard role is not among the self roles', () => {
    const result = triageEvent(fixture('update-by-guard-role'), { selfRoleArns: [] });

    expect(result).toMatchObject({ decision: 'evaluate', reason: null, waitFor: 'update' });
  });

  it('reports a failed call before a self remediation', () => {
    const event = fixture('update-by-guard-role');
    event.detail.errorCode = 'ResourceInUseException';
    event.detail.errorMessage = 'Cannot EndpointAccessUpdate because cluster prod-payments currently has update 1 in progress';

    expect(triageEvent(event, OPTIONS).reason).toBe('CALL_FAILED');
  });

  it('reports a self remediation before an update that touches no endpoint field', () => {
    const event = fixture('update-by-guard-role');
    event.detail.requestParameters = { name: 'prod-payments', logging: { clusterLogging: [] } };

    expect(triageEvent(event, OPTIONS).reason).toBe('SELF_REMEDIATION');
  });

  it('reports an unsupported event before a failed call, and still names the EKS cluster', () => {
    const event = openEvent();
    event.detail.eventName = 'DeleteCluster';
    event.detail.errorCode = 'AccessDenied';

    const result = triageEvent(event, OPTIONS);

    expect(result).toMatchObject({ decision: 'ignore', reason: 'UNSUPPORTED_EVENT', waitFor: null, requested: null, updateId: null });
    expect(result.cluster).toEqual({ name: 'prod-payments', account: '123456789012', region: 'eu-west-1' });
  });

  it('ignores supported event names from another service', () => {
    const event = openEvent();
    event.detail.eventSource = 'ecs.amazonaws.com';

    expect(triageEvent(event, OPTIONS)).toMatchObject({ reason: 'UNSUPPORTED_EVENT', cluster: null });
  });

  it('treats a subnet or security group change as no endpoint change', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { subnetIds: ['subnet-0a1b2c3d4e5f60718'], securityGroupIds: ['sg-0123456789abcdef0'] };

    expect(triageEvent(event, OPTIONS)).toMatchObject({ decision: 'ignore', reason: 'NOT_ENDPOINT_CHANGE', requested: null });
  });

  it('treats null endpoint fields as absent', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { endpointPublicAccess: null, publicAccessCidrs: null };

    expect(triageEvent(event, OPTIONS).reason).toBe('NOT_ENDPOINT_CHANGE');
  });

  it('reads only the fields an update asks for', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { publicAccessCidrs: ['203.0.113.0/24'] };

    expect(triageEvent(event, OPTIONS).requested).toEqual({ publicAccessCidrs: ['203.0.113.0/24'] });
  });

  it('reports an empty CIDR list as open to all, never as restricted', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { endpointPublicAccess: true, publicAccessCidrs: [] };

    expect(triageEvent(event, OPTIONS).requested).toEqual({ endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] });
  });

  it('waits for the cluster to be active when an update id was not recorded', () => {
    const event = openEvent();
    delete event.detail.responseElements;

    expect(triageEvent(event, OPTIONS)).toMatchObject({ decision: 'evaluate', updateId: null, waitFor: 'cluster-active' });
  });

  it('does not throw on a malformed failed call, and keeps what it can read', () => {
    const event = fixture('update-access-denied');
    event.detail.requestParameters.resourcesVpcConfig.endpointPublicAccess = 'maybe';
    delete event.detail.awsRegion;
    delete event.region;

    const result = triageEvent(event, OPTIONS);

    expect(result).toMatchObject({ decision: 'ignore', reason: 'CALL_FAILED', requested: null, cluster: null });
    expect(result.actor?.arn).toBe('arn:aws:iam::123456789012:user/bob');
  });
});

describe('triageEvent defensive parsing', () => {
  it.each([
    ['true', 'false', true, false],
    ['TRUE', 'False', true, false],
    [false, 'true', false, true],
  ])('reads endpoint flags recorded as %p / %p', (pub, priv, expectedPub, expectedPriv) => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { endpointPublicAccess: pub, endpointPrivateAccess: priv };

    expect(triageEvent(event, OPTIONS).requested).toEqual({ endpointPublicAccess: expectedPub, endpointPrivateAccess: expectedPriv });
  });

  it.each([1772442867, 1772442867.512, '2026-03-02T09:14:27.512Z', 'Mar 2, 2026 9:14:27 AM'])('accepts update.createdAt = %p', (createdAt) => {
    const event = openEvent();
    event.detail.responseElements.update.createdAt = createdAt;

    expect(triageEvent(event, OPTIONS)).toEqual(triageEvent(openEvent(), OPTIONS));
  });

  it('accepts clusterName instead of name, and prefers name when both are present', () => {
    const event = openEvent();
    event.detail.requestParameters = { clusterName: 'legacy-billing', resourcesVpcConfig: { endpointPrivateAccess: true } };
    const both = openEvent();
    both.detail.requestParameters.clusterName = 'other';

    expect(triageEvent(event, OPTIONS).cluster?.name).toBe('legacy-billing');
    expect(triageEvent(both, OPTIONS).cluster?.name).toBe('prod-payments');
  });

  it('accepts unknown fields anywhere', () => {
    const event = openEvent();
    event.newEnvelopeField = { a: 1 };
    event.detail.additionalEventData = { SignatureVersion: 'SigV4' };
    event.detail.userIdentity.onBehalfOf = { userId: 'x' };
    event.detail.requestParameters.resourcesVpcConfig.futureField = true;

    expect(triageEvent(event, OPTIONS)).toEqual(triageEvent(openEvent(), OPTIONS));
  });

  it('takes the account from recipientAccountId, then userIdentity.accountId, then the envelope', () => {
    const event = openEvent();
    event.detail.recipientAccountId = '111122223333';
    event.detail.userIdentity.accountId = '444455556666';
    event.account = '777788889999';
    const a = triageEvent(event, OPTIONS).cluster?.account;
    delete event.detail.recipientAccountId;
    const b = triageEvent(event, OPTIONS).cluster?.account;
    delete event.detail.userIdentity.accountId;
    const c = triageEvent(event, OPTIONS).cluster?.account;

    expect([a, b, c]).toEqual(['111122223333', '444455556666', '777788889999']);
  });

  it('takes the region from awsRegion, then the envelope', () => {
    const event = openEvent();
    event.region = 'ap-southeast-2';
    const a = triageEvent(event, OPTIONS).cluster?.region;
    delete event.detail.awsRegion;
    const b = triageEvent(event, OPTIONS).cluster?.region;

    expect([a, b]).toEqual(['eu-west-1', 'ap-southeast-2']);
  });

  it('gives the same result for an envelope and its bare record', () => {
    for (const name of fixtureNames.filter((n) => n !== 'bare-record-update')) {
      const envelope = fixture(name);

      expect(triageEvent(envelope.detail, OPTIONS)).toEqual(triageEvent(envelope, OPTIONS));
    }
  });

  it('reports an actor without an ARN, as for an AWS service', () => {
    const event = openEvent();
    event.detail.userIdentity = { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' };
    event.detail.sourceIPAddress = 'cloudformation.amazonaws.com';
    event.detail.userAgent = 'cloudformation.amazonaws.com';

    expect(triageEvent(event, OPTIONS).actor).toEqual({
      arn: null,
      type: 'AWSService',
      sourceIPAddress: 'cloudformation.amazonaws.com',
      userAgent: 'cloudformation.amazonaws.com',
    });
  });
});

describe('triageEvent CreateCluster defaults', () => {
  const create = (vpc: Json, extra: Json = {}): Json => {
    const event = fixture('create-cluster-defaults');
    event.detail.requestParameters.resourcesVpcConfig = { subnetIds: ['subnet-0a1b2c3d4e5f60718'], ...vpc };
    Object.assign(event.detail.requestParameters, extra);
    return event;
  };

  it.each<[string, Json, Json, TriageResult['requested']]>([
    ['nothing given', {}, {}, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }],
    ['private on only', { endpointPrivateAccess: true }, {}, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] }],
    ['CIDRs given', { publicAccessCidrs: ['203.0.113.0/24'] }, {}, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['203.0.113.0/24'] }],
    ['an empty CIDR list', { publicAccessCidrs: [] }, {}, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }],
    ['public off', { endpointPublicAccess: 'false', endpointPrivateAccess: 'true' }, {}, { endpointPublicAccess: false, endpointPrivateAccess: true }],
    [
      'an IPv6 cluster',
      {},
      { kubernetesNetworkConfig: { ipFamily: 'ipv6' } },
      { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0', '::/0'] },
    ],
    ['no resourcesVpcConfig at all', { subnetIds: undefined }, {}, { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] }],
  ])('%s', (_, vpc, extra, expected) => {
    const result = triageEvent(create(vpc, extra), OPTIONS);

    expect(result.requested).toEqual(expected);
    expect(result.waitFor).toBe('cluster-active');
  });

  it('reads the cluster name of older records from clusterName', () => {
    const event = create({});
    event.detail.requestParameters.clusterName = event.detail.requestParameters.name;
    delete event.detail.requestParameters.name;

    expect(triageEvent(event, OPTIONS).cluster?.name).toBe('dev-sandbox');
  });
});

describe('triageEvent self-remediation matching', () => {
  const byPrincipal = (arn: string | undefined, issuer?: string): Json => {
    const event = fixture('update-by-guard-role');
    const identity = event.detail.userIdentity;
    if (arn === undefined) delete identity.arn;
    else identity.arn = arn;
    if (issuer === undefined) delete identity.sessionContext;
    else identity.sessionContext.sessionIssuer.arn = issuer;
    return event;
  };
  const reason = (event: Json, selfRoleArns: string[]) => triageEvent(event, { selfRoleArns }).reason;

  it.each([
    ['the role without a path', GUARD_ROLE],
    ['the role with a path', 'arn:aws:iam::123456789012:role/guard/prod/eks-endpoint-guard-prod-remediate'],
  ])('matches an assumed-role session of %s', (_, own) => {
    const event = byPrincipal('arn:aws:sts::123456789012:assumed-role/eks-endpoint-guard-prod-remediate/i-0abc');

    expect(reason(event, ['arn:aws:iam::123456789012:role/other', own])).toBe('SELF_REMEDIATION');
  });

  it.each(['aws-cn', 'aws-us-gov'])('matches in the %s partition, and only there', (partition) => {
    const event = byPrincipal(`arn:${partition}:sts::123456789012:assumed-role/eks-endpoint-guard-prod-remediate/s`);

    expect(reason(event, [`arn:${partition}:iam::123456789012:role/eks-endpoint-guard-prod-remediate`])).toBe('SELF_REMEDIATION');
    expect(reason(event, [GUARD_ROLE])).toBeNull();
  });

  it('matches through sessionContext.sessionIssuer.arn alone', () => {
    const event = byPrincipal(undefined, 'arn:aws:iam::123456789012:role/ops/eks-endpoint-guard-prod-remediate');

    expect(reason(event, [GUARD_ROLE])).toBe('SELF_REMEDIATION');
  });

  it('matches an exact ARN equality even for an entry that is not a role ARN', () => {
    const session = 'arn:aws:sts::123456789012:assumed-role/eks-endpoint-guard-prod-remediate/fixed-session';

    expect(reason(byPrincipal(session), [session])).toBe('SELF_REMEDIATION');
  });

  it.each([
    ['another account', 'arn:aws:sts::210987654321:assumed-role/eks-endpoint-guard-prod-remediate/s', undefined],
    ['a longer role name', 'arn:aws:sts::123456789012:assumed-role/eks-endpoint-guard-prod-remediate-old/s', undefined],
    ['a differently cased role name', 'arn:aws:sts::123456789012:assumed-role/EKS-Endpoint-Guard-Prod-Remediate/s', undefined],
    ['an IAM user of the same name', 'arn:aws:iam::123456789012:user/eks-endpoint-guard-prod-remediate', undefined],
    ['a federated user of the same name', 'arn:aws:sts::123456789012:federated-user/eks-endpoint-guard-prod-remediate', undefined],
    ['a session whose issuer is another role', 'arn:aws:sts::123456789012:assumed-role/admin/s', 'arn:aws:iam::123456789012:role/admin'],
  ])('does not match %s', (_, arn, issuer) => {
    expect(reason(byPrincipal(arn, issuer), [GUARD_ROLE])).toBeNull();
  });
});

describe('triageEvent input errors', () => {
  it.each([
    ['null', null, 'the document is null, not a JSON object'],
    ['an array', [openEvent()], 'the document is an array, not a JSON object'],
    ['a string', 'UpdateClusterConfig', 'the document is a string, not a JSON object'],
    ['an unrelated object', { cluster: { name: 'x' } }, 'it has neither "detail" nor "eventName"'],
  ])('rejects %s', (_, input, why) => {
    expect(problemsOf(() => triageEvent(input, OPTIONS))).toEqual([`${NOT_AN_EVENT}: ${why}`]);
  });

  it('names every missing identifying field of an envelope', () => {
    const event = openEvent();
    delete event.detail.eventName;
    delete event.detail.eventID;

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([
      `${NOT_AN_EVENT}: missing detail.eventName`,
      `${NOT_AN_EVENT}: missing detail.eventID`,
    ]);
  });

  it('names a missing field of a bare record without the detail prefix', () => {
    const record = openEvent().detail;
    delete record.eventSource;

    expect(problemsOf(() => triageEvent(record, OPTIONS))).toEqual([`${NOT_AN_EVENT}: missing eventSource`]);
  });

  it('rejects an EventBridge event of another detail-type', () => {
    const event = { ...openEvent(), 'detail-type': 'EKS Add-on Status Change' };

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([
      `${NOT_AN_EVENT}: detail-type: expected "AWS API Call via CloudTrail", got "EKS Add-on Status Change"`,
    ]);
  });

  it('lists a missing cluster name of a successful supported call', () => {
    const event = openEvent();
    delete event.detail.requestParameters.name;

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([
      'event: missing detail.requestParameters.name (or detail.requestParameters.clusterName)',
    ]);
  });

  it('lists every problem of a successful supported call at once', () => {
    const record = openEvent().detail;
    record.requestParameters = { name: 42, resourcesVpcConfig: { endpointPublicAccess: 'yes', publicAccessCidrs: ['203.0.113.0/24', 7] } };
    delete record.awsRegion;
    delete record.recipientAccountId;
    delete record.userIdentity.accountId;

    expect(problemsOf(() => triageEvent(record, OPTIONS))).toEqual([
      'event: requestParameters.name: expected string, got 42',
      'event: missing recipientAccountId (or userIdentity.accountId)',
      'event: missing awsRegion',
      'event: requestParameters.resourcesVpcConfig.endpointPublicAccess: expected true or false, got "yes"',
      'event: requestParameters.resourcesVpcConfig.publicAccessCidrs[1]: expected string, got 7',
    ]);
  });

  it('rejects a field of the wrong type in the record itself', () => {
    const event = openEvent();
    event.detail.userIdentity.arn = 12;

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual(['event: detail.userIdentity.arn: expected string, got 12']);
  });
});

describe('triageEvent properties', () => {
  const RUNS = { numRuns: 1000 };
  const ACCOUNT = '123456789012';
  const flag = fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 'TRUE', 'False'));
  const cidr = fc.constantFrom('0.0.0.0/0', '203.0.113.0/24', '198.51.100.17/32', '192.0.2.0/28', '2001:db8::/32');
  const vpcConfig = fc.record(
    {
      endpointPublicAccess: fc.option(flag, { nil: null }),
      endpointPrivateAccess: flag,
      publicAccessCidrs: fc.array(cidr, { maxLength: 4 }),
      subnetIds: fc.constant(['subnet-0a1b2c3d4e5f60718']),
    },
    { requiredKeys: [] },
  );
  const roleName = fc.constantFrom('eks-endpoint-guard-prod-remediate', 'admin', 'ci-deployer');
  const identity = fc.oneof(
    fc.constantFrom('alice', 'bob').map((u) => ({ type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/${u}`, accountId: ACCOUNT })),
    fc.tuple(roleName, fc.boolean()).map(([role, withIssuer]) => ({
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/session-1`,
      accountId: ACCOUNT,
      ...(withIssuer ? { sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${role}` } } } : {}),
    })),
  );
  const record = fc.record(
    {
      eventSource: fc.constantFrom('eks.amazonaws.com', 'eks.amazonaws.com', 'ec2.amazonaws.com'),
      eventName: fc.constantFrom('UpdateClusterConfig', 'CreateCluster', 'DeleteCluster', 'TagResource'),
      eventID: fc.uuid(),
      eventTime: fc.constant('2026-03-02T09:14:27Z'),
      awsRegion: fc.constantFrom('eu-west-1', 'us-east-1', 'cn-north-1'),
      recipientAccountId: fc.constant(ACCOUNT),
      sourceIPAddress: fc.constantFrom('203.0.113.24', '198.51.100.9'),
      userAgent: fc.constant('aws-cli/2.17.20'),
      userIdentity: identity,
      requestParameters: fc.record(
        {
          name: fc.constantFrom('prod-payments', 'dev-sandbox'),
          resourcesVpcConfig: vpcConfig,
          logging: fc.constant({ clusterLogging: [{ types: ['api'], enabled: true }] }),
        },
        { requiredKeys: ['name'] },
      ),
      responseElements: fc.option(
        fc.record({ update: fc.record({ id: fc.uuid(), status: fc.constant('InProgress'), createdAt: fc.oneof(fc.integer(), fc.string()) }) }),
        { nil: null },
      ),
      errorCode: fc.constantFrom('AccessDenied', 'InvalidParameterException', 'ResourceInUseException'),
    },
    { requiredKeys: ['eventSource', 'eventName', 'eventID', 'awsRegion', 'recipientAccountId', 'userIdentity', 'requestParameters'] },
  );
  const event = fc.tuple(record, fc.boolean()).map(([detail, wrapped]) =>
    wrapped ? { version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.eks', account: ACCOUNT, region: detail.awsRegion, detail } : detail,
  );
  const selfRoleArns = fc.subarray([GUARD_ROLE, `arn:aws:iam::${ACCOUNT}:role/team/admin`]);

  it('ignores every supported EKS call that carries an errorCode as CALL_FAILED', () => {
    fc.assert(
      fc.property(record, fc.string({ minLength: 1 }), selfRoleArns, (detail, errorCode, own) => {
        const failed = { ...detail, eventSource: 'eks.amazonaws.com', eventName: 'UpdateClusterConfig', errorCode };

        const result = triageEvent(failed, { selfRoleArns: own });

        expect(result).toMatchObject({ decision: 'ignore', reason: 'CALL_FAILED', waitFor: null });
      }),
      RUNS,
    );
  });

  it('evaluates exactly when the reason is null and there is something to wait for', () => {
    fc.assert(
      fc.property(event, selfRoleArns, (input, own) => {
        const result = triageEvent(input, { selfRoleArns: own });

        expect(result.decision === 'evaluate').toBe(result.reason === null);
        expect(result.decision === 'evaluate').toBe(result.waitFor !== null);
        if (result.decision === 'evaluate') {
          expect(result.cluster).not.toBeNull();
          expect(result.requested).not.toBeNull();
        }
        if (result.waitFor === 'update') expect(result.updateId).not.toBeNull();
      }),
      RUNS,
    );
  });

  it('never evaluates a change made through one of the own roles', () => {
    fc.assert(
      fc.property(event, (input) => {
        const detail = ('detail' in input ? input.detail : input) as Json;
        const result = triageEvent(input, { selfRoleArns: [GUARD_ROLE] });

        if (detail.userIdentity.arn.includes('/eks-endpoint-guard-prod-remediate/')) expect(result.decision).toBe('ignore');
      }),
      RUNS,
    );
  });

  it('either triages or throws an InputError for any JSON value, never anything else', () => {
    const mutated = fc.tuple(event, fc.string(), fc.jsonValue()).map(([input, key, value]) => ({ ...input, [key]: value }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated), (input) => {
        try {
          const result = triageEvent(input, OPTIONS);
          expect(['evaluate', 'ignore']).toContain(result.decision);
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
          expect((err as InputError).problems.length).toBeGreaterThan(0);
        }
      }),
      RUNS,
    );
  });
});
