import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../src/errors';
import { triageEvent, type TriageOptions, type TriageResult } from '../../src/events/triage';

const FIXTURES = join(process.cwd(), 'test/fixtures/cloudtrail');
const GUARD_ROLE = 'arn:aws:iam::123456789012:role/eks-endpoint-guard-prod-remediate';
const OPTIONS = { selfRoleArns: [GUARD_ROLE] };
/** The clientRequestToken of update-by-guard-role.json. */
const GUARD_TOKEN = 'b9fb897d-74c1-49e6-9d32-863439ce890c';
const NOT_AN_EVENT = 'event: not an EventBridge "AWS API Call via CloudTrail" envelope nor a CloudTrail record';

type Json = Record<string, any>;
const load = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;
const fixture = (name: string): Json => load(join(FIXTURES, `${name}.json`));
const jsonNames = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
const fixtureNames = jsonNames(FIXTURES);
/** Triage under options other than OPTIONS: `{description, event, options, expected}`, the event a fixture name. */
type OptionsCase = { description: string; event: string; options: TriageOptions; expected: TriageResult };
const optionCases = jsonNames(join(FIXTURES, 'with-options')).map((name) => [name, load(join(FIXTURES, 'with-options', `${name}.json`)) as OptionsCase] as const);
/** Events that must be refused, with the problem lines expected. */
const invalidNames = jsonNames(join(FIXTURES, 'invalid'));

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
    expect(fixtureNames.length).toBeGreaterThanOrEqual(35);
  });

  it.each(fixtureNames)('%s', (name) => {
    const expected = load(join(FIXTURES, 'expected', `${name}.json`));

    const result = triageEvent(fixture(name), OPTIONS);

    expect(result).toEqual(expected);
  });
});

describe('triageEvent over the CloudTrail fixtures, with other options', () => {
  it('has cases, each about an existing fixture', () => {
    expect(optionCases.length).toBeGreaterThanOrEqual(12);
    for (const [, c] of optionCases) expect(fixtureNames).toContain(c.event);
  });

  it.each(optionCases)('%s', (_, { event, options, expected }) => {
    const result = triageEvent(fixture(event), options);

    expect(result).toEqual(expected);
  });
});

describe('triageEvent over the invalid CloudTrail fixtures', () => {
  it('has the expected problems for every invalid fixture and an invalid fixture for every expectation', () => {
    expect(jsonNames(join(FIXTURES, 'invalid', 'expected'))).toEqual(invalidNames);
    expect(invalidNames.length).toBeGreaterThanOrEqual(10);
  });

  it.each(invalidNames)('refuses %s', (name) => {
    const expected = load(join(FIXTURES, 'invalid', 'expected', `${name}.json`));

    const problems = problemsOf(() => triageEvent(load(join(FIXTURES, 'invalid', `${name}.json`)), OPTIONS));

    expect(problems).toEqual(expected);
  });

  it.each(invalidNames)('does not refuse %s once the call failed', (name) => {
    const event = load(join(FIXTURES, 'invalid', `${name}.json`));
    if (typeof event.detail.errorCode !== 'string') event.detail.errorCode = 'InvalidParameterException';

    expect(triageEvent(event, OPTIONS)).toMatchObject({ decision: 'ignore', reason: 'CALL_FAILED' });
  });
});

describe('triageEvent decisions', () => {
  const RECORDED = { selfRoleArns: [GUARD_ROLE], ownTokens: [GUARD_TOKEN] };

  it('evaluates the guard role change as a normal one when the guard role is not among the self roles', () => {
    const result = triageEvent(fixture('update-by-guard-role'), { selfRoleArns: [], ownTokens: [GUARD_TOKEN] });

    expect(result).toMatchObject({ decision: 'evaluate', reason: null, waitFor: 'update', guardRole: false });
  });

  it('ignores a guard role change only with its token recorded', () => {
    const event = fixture('update-by-guard-role');

    expect(triageEvent(event, RECORDED)).toMatchObject({ decision: 'ignore', reason: 'SELF_REMEDIATION', guardRole: true, waitFor: null });
    expect(triageEvent(event, OPTIONS)).toMatchObject({ decision: 'evaluate', reason: 'GUARD_ROLE_UNVERIFIED', guardRole: true, waitFor: 'update' });
  });

  it.each([
    ['absent', undefined],
    ['null', null],
    ['empty', ''],
  ])('evaluates a guard role change whose token is %s, even with an empty token recorded', (_, token) => {
    const event = fixture('update-by-guard-role');
    if (token === undefined) delete event.detail.requestParameters.clientRequestToken;
    else event.detail.requestParameters.clientRequestToken = token;

    const result = triageEvent(event, { selfRoleArns: [GUARD_ROLE], ownTokens: ['', GUARD_TOKEN] });

    expect(result).toMatchObject({ decision: 'evaluate', reason: 'GUARD_ROLE_UNVERIFIED', clientRequestToken: null });
  });

  it('compares tokens exactly', () => {
    const event = fixture('update-by-guard-role');

    expect(triageEvent(event, { ...RECORDED, ownTokens: [GUARD_TOKEN.toUpperCase(), ` ${GUARD_TOKEN}`] }).reason).toBe('GUARD_ROLE_UNVERIFIED');
  });

  it('reports a failed call before a self remediation or an unverified guard role', () => {
    const event = fixture('update-by-guard-role');
    event.detail.errorCode = 'ResourceInUseException';
    event.detail.errorMessage = 'Cannot EndpointAccessUpdate because cluster prod-payments currently has update 1 in progress';

    expect(triageEvent(event, RECORDED).reason).toBe('CALL_FAILED');
    expect(triageEvent(event, OPTIONS)).toMatchObject({ reason: 'CALL_FAILED', guardRole: true });
  });

  it('reports a self remediation before an update that touches no endpoint field', () => {
    const event = fixture('update-by-guard-role');
    event.detail.requestParameters = { name: 'prod-payments', logging: { clusterLogging: [] }, clientRequestToken: GUARD_TOKEN };

    expect(triageEvent(event, RECORDED).reason).toBe('SELF_REMEDIATION');
  });

  it('reports an unrecorded guard role change that touches no endpoint field as such, still flagged as made with a guard role', () => {
    const event = fixture('update-by-guard-role');
    event.detail.requestParameters = { name: 'prod-payments', logging: { clusterLogging: [] } };

    expect(triageEvent(event, OPTIONS)).toMatchObject({ decision: 'ignore', reason: 'NOT_ENDPOINT_CHANGE', guardRole: true });
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

describe('triageEvent tag changes', () => {
  const cases: Array<[string, string, string | null]> = [
    ['a cluster', 'arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments', 'prod-payments'],
    ['a cluster in aws-cn', 'arn:aws-cn:eks:cn-north-1:123456789012:cluster/prod_1', 'prod_1'],
    ['a cluster, URL-encoded', 'arn%3Aaws%3Aeks%3Aeu-west-1%3A123456789012%3Acluster%2Fprod-payments', 'prod-payments'],
    ['a cluster, URL-encoded in lower case', 'arn%3aaws%3aeks%3aeu-west-1%3a123456789012%3acluster%2fprod-payments', 'prod-payments'],
    ['a node group', 'arn:aws:eks:eu-west-1:123456789012:nodegroup/prod-payments/workers/4ec8b3a1-2f5d-9e7c-6b0a-1d3f5e7a9c2b', null],
    ['a Fargate profile', 'arn:aws:eks:eu-west-1:123456789012:fargateprofile/prod-payments/default/9ec8b3a1-2f5d-9e7c-6b0a-1d3f5e7a9c2b', null],
    ['an identity provider config', 'arn:aws:eks:eu-west-1:123456789012:identityproviderconfig/prod-payments/oidc/okta/1ec8b3a1', null],
    ['an access entry, URL-encoded', 'arn%3Aaws%3Aeks%3Aeu-west-1%3A123456789012%3Aaccess-entry%2Fprod-payments%2Frole%2F123456789012%2Fadmin%2F1ec8', null],
  ];

  it.each(cases)('TagResource on %s', (_, arn, name) => {
    const event = fixture('tag-cluster');
    event.detail.requestParameters.resourceArn = arn;

    const result = triageEvent(event, OPTIONS);

    if (name === null) expect(result).toMatchObject({ decision: 'ignore', reason: 'NOT_CLUSTER_RESOURCE', cluster: null, waitFor: null });
    else expect(result).toMatchObject({ decision: 'evaluate', reason: null, cluster: { name }, waitFor: 'none', requested: null, updateId: null });
    expect(result.tags).toEqual({ set: { 'endpoint-policy': 'relaxed', team: 'payments' }, removed: [] });
  });

  it('takes the cluster from the ARN, not from the record', () => {
    const event = fixture('tag-cluster');
    event.detail.requestParameters.resourceArn = 'arn:aws:eks:ap-southeast-2:111122223333:cluster/elsewhere';

    expect(triageEvent(event, OPTIONS).cluster).toEqual({ name: 'elsewhere', account: '111122223333', region: 'ap-southeast-2' });
  });

  it.each([
    ['a list', ['team', 'owner'], ['team', 'owner']],
    ['a single key as a string', 'team', ['team']],
    ['an empty list', [], []],
  ])('UntagResource reads tagKeys as %s', (_, tagKeys, removed) => {
    const event = fixture('untag-cluster-encoded-arn');
    event.detail.requestParameters.tagKeys = tagKeys;

    expect(triageEvent(event, OPTIONS).tags).toEqual({ set: {}, removed });
  });

  it('ignores a tag change from another service, and reads no tags', () => {
    const event = fixture('tag-cluster');
    event.detail.eventSource = 'ecr.amazonaws.com';

    expect(triageEvent(event, OPTIONS)).toMatchObject({ reason: 'UNSUPPORTED_EVENT', tags: null, cluster: null });
  });

  it('never treats a tag change as the guard own, whatever tokens are recorded', () => {
    const event = fixture('tag-cluster-by-guard-role');
    event.detail.requestParameters.clientRequestToken = GUARD_TOKEN;

    expect(triageEvent(event, { selfRoleArns: [GUARD_ROLE], ownTokens: [GUARD_TOKEN] })).toMatchObject({
      decision: 'evaluate',
      reason: 'GUARD_ROLE_UNVERIFIED',
      guardRole: true,
    });
  });

  it.each([
    ['no tags', 'tag-cluster', (p: Json) => delete p.tags, 'event: missing detail.requestParameters.tags'],
    ['tags as a list', 'tag-cluster', (p: Json) => (p.tags = [{ key: 'team', value: 'x' }]), 'event: detail.requestParameters.tags: expected object, got [{"key":"team","value":"x"}]'],
    ['no tagKeys', 'untag-cluster-encoded-arn', (p: Json) => delete p.tagKeys, 'event: missing detail.requestParameters.tagKeys'],
    ['a resourceArn that is not an ARN', 'tag-cluster', (p: Json) => (p.resourceArn = 'prod-payments'), 'event: detail.requestParameters.resourceArn: not an EKS resource ARN (expected arn:PARTITION:eks:REGION:ACCOUNT:TYPE/ID), got "prod-payments"'],
    ['a resourceArn with a broken escape', 'tag-cluster', (p: Json) => (p.resourceArn = 'arn%3Aaws%3Aeks%ZZ'), 'event: detail.requestParameters.resourceArn: not an EKS resource ARN (expected arn:PARTITION:eks:REGION:ACCOUNT:TYPE/ID), got "arn%3Aaws%3Aeks%ZZ"'],
    ['a cluster ARN with more parts', 'tag-cluster', (p: Json) => (p.resourceArn = 'arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments/x'), 'event: detail.requestParameters.resourceArn: not a cluster ARN (expected arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME), got "arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments/x"'],
    ['an EKS ARN without a region', 'tag-cluster', (p: Json) => (p.resourceArn = 'arn:aws:eks::123456789012:cluster/prod-payments'), 'event: detail.requestParameters.resourceArn: not an EKS resource ARN (expected arn:PARTITION:eks:REGION:ACCOUNT:TYPE/ID), got "arn:aws:eks::123456789012:cluster/prod-payments"'],
  ])('refuses a successful tag change with %s', (_, name, mutate, problem) => {
    const event = fixture(name);
    mutate(event.detail.requestParameters);

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([problem]);
  });
});

describe('triageEvent endpoint keys of another letter case', () => {
  it.each([
    ['EndpointPublicAccess', 'endpointPublicAccess', false],
    ['ENDPOINTPRIVATEACCESS', 'endpointPrivateAccess', 'true'],
    ['PublicAccessCidrs', 'publicAccessCidrs', ['203.0.113.0/24']],
    ['publicaccesscidrs', 'publicAccessCidrs', ['203.0.113.0/24']],
  ])('reads %s as %s', (spelling, field, value) => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { [spelling]: value };
    const canonical = openEvent();
    canonical.detail.requestParameters.resourcesVpcConfig = { [field]: value };

    const result = triageEvent(event, OPTIONS);

    expect(result.requested).toEqual(triageEvent(canonical, OPTIONS).requested);
    expect(result.requested).not.toBeNull();
  });

  it('accepts two spellings that agree once read, and ignores a null spelling', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { endpointPublicAccess: 'TRUE', EndpointPublicAccess: true, endpointprivateaccess: null, endpointPrivateAccess: false };

    expect(triageEvent(event, OPTIONS).requested).toEqual({ endpointPublicAccess: true, endpointPrivateAccess: false });
  });

  it('refuses spellings that disagree, naming both, the documented one first', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { PublicAccessCidrs: ['0.0.0.0/0'], publicAccessCidrs: ['203.0.113.0/24'] };

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([
      'event: detail.requestParameters.resourcesVpcConfig.publicAccessCidrs (["203.0.113.0/24"]) and detail.requestParameters.resourcesVpcConfig.PublicAccessCidrs (["0.0.0.0/0"]) disagree',
    ]);
  });

  it('refuses a malformed value under any spelling, naming that spelling', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = { endpointPublicAccess: true, ENDPOINTPUBLICACCESS: 'yes' };

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([
      'event: detail.requestParameters.resourcesVpcConfig.ENDPOINTPUBLICACCESS: expected true or false, got "yes"',
    ]);
  });

  it('reads resourcesVpcConfig itself under another spelling', () => {
    const event = openEvent();
    event.detail.requestParameters.RESOURCESVPCCONFIG = event.detail.requestParameters.resourcesVpcConfig;
    delete event.detail.requestParameters.resourcesVpcConfig;

    expect(triageEvent(event, OPTIONS).requested).toEqual({ endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] });
  });

  it('refuses a resourcesVpcConfig that is not an object', () => {
    const event = openEvent();
    event.detail.requestParameters.resourcesVpcConfig = ['endpointPublicAccess'];

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([
      'event: detail.requestParameters.resourcesVpcConfig: expected object, got ["endpointPublicAccess"]',
    ]);
  });
});

describe('triageEvent hardened input', () => {
  // Fields the decision does not need: whatever their type, the result is the one of the untouched event
  // but for what they fill in themselves.
  it.each<[string, (d: Json) => void, (r: Json) => void]>([
    ['update.createdAt as an object', (d) => (d.responseElements.update.createdAt = { epoch: 1 }), () => {}],
    ['update.status as a number', (d) => (d.responseElements.update.status = 2), () => {}],
    ['update.type as a number', (d) => (d.responseElements.update.type = 3), () => {}],
    ['update.params as a string', (d) => (d.responseElements.update.params = 'EndpointPublicAccess'), () => {}],
    ['update.errors as an object', (d) => (d.responseElements.update.errors = { a: 1 }), () => {}],
    ['userAgent as a list', (d) => (d.userAgent = ['aws-cli']), (r) => (r.actor.userAgent = null)],
    ['sourceIPAddress as a number', (d) => (d.sourceIPAddress = 1), (r) => (r.actor.sourceIPAddress = null)],
    ['eventTime as an object', (d) => (d.eventTime = { t: 1 }), (r) => (r.eventTime = null)],
    ['errorMessage as an object', (d) => (d.errorMessage = { m: 1 }), () => {}],
    ['userIdentity.arn as a number', (d) => (d.userIdentity.arn = 12), (r) => (r.actor.arn = null)],
    ['userIdentity.type as an object', (d) => (d.userIdentity.type = {}), (r) => (r.actor.type = null)],
    ['userIdentity as a list', (d) => (d.userIdentity = [d.userIdentity]), (r) => (r.actor = { ...r.actor, arn: null, type: null })],
    ['userIdentity.sessionContext as a number', (d) => (d.userIdentity.sessionContext = 0), () => {}],
    ['sessionContext.sessionIssuer as a string', (d) => (d.userIdentity.sessionContext = { sessionIssuer: 'x' }), () => {}],
    ['sessionIssuer.arn as a list', (d) => (d.userIdentity.sessionContext = { sessionIssuer: { arn: [GUARD_ROLE] } }), () => {}],
    ['requestParameters.logging as a string', (d) => (d.requestParameters.logging = 'on'), () => {}],
    ['requestParameters.kubernetesNetworkConfig as a string on an update', (d) => (d.requestParameters.kubernetesNetworkConfig = 'ipv6'), () => {}],
    ['resourcesVpcConfig.subnetIds as a number', (d) => (d.requestParameters.resourcesVpcConfig.subnetIds = 5), () => {}],
  ])('accepts %s', (_, mutate, adjust) => {
    const event = openEvent();
    mutate(event.detail);
    const expected = triageEvent(openEvent(), OPTIONS) as Json;
    adjust(expected);

    expect(triageEvent(event, OPTIONS)).toEqual(expected);
  });

  it.each<[string, (r: Json) => void]>([
    ['a string', (r) => (r.cluster = 'CREATING')],
    ['an array', (r) => (r.cluster = [])],
    ['null', (r) => (r.cluster = null)],
    ['a cluster with odd fields', (r) => (r.cluster = { status: 1, createdAt: {}, resourcesVpcConfig: 'x', arn: 7 })],
  ])('accepts responseElements.cluster of CreateCluster as %s', (_, mutate) => {
    const event = fixture('create-cluster-defaults');
    mutate(event.detail.responseElements);

    expect(triageEvent(event, OPTIONS)).toEqual(triageEvent(fixture('create-cluster-defaults'), OPTIONS));
  });

  it('accepts any responseElements of CreateCluster, which it does not read', () => {
    const event = fixture('create-cluster-defaults');
    event.detail.responseElements = 'CREATING';

    expect(triageEvent(event, OPTIONS)).toEqual(triageEvent(fixture('create-cluster-defaults'), OPTIONS));
  });

  it('still knows a guard role session whose sessionContext is unreadable, by its session ARN', () => {
    const event = fixture('update-by-guard-role');
    event.detail.userIdentity.sessionContext = 'odd';

    expect(triageEvent(event, { selfRoleArns: [GUARD_ROLE], ownTokens: [GUARD_TOKEN] }).reason).toBe('SELF_REMEDIATION');
  });

  it.each<[string, (d: Json) => void, string]>([
    ['the update id', (d) => (d.responseElements.update.id = 5), 'event: detail.responseElements.update.id: expected string, got 5'],
    ['responseElements.update', (d) => (d.responseElements.update = ['x']), 'event: detail.responseElements.update: expected object, got ["x"]'],
    ['responseElements', (d) => (d.responseElements = 'InProgress'), 'event: detail.responseElements: expected object, got "InProgress"'],
    ['the token', (d) => (d.requestParameters.clientRequestToken = { t: 1 }), 'event: detail.requestParameters.clientRequestToken: expected string, got {"t":1}'],
    ['requestParameters', (d) => (d.requestParameters = 'prod-payments'), 'event: detail.requestParameters: expected object, got "prod-payments"'],
    ['errorCode', (d) => (d.errorCode = 403), 'event: detail.errorCode: expected string, got 403'],
    ['recipientAccountId', (d) => (d.recipientAccountId = 123456789012), 'event: detail.recipientAccountId: expected string, got 123456789012'],
    ['awsRegion', (d) => (d.awsRegion = ['eu-west-1']), 'event: detail.awsRegion: expected string, got ["eu-west-1"]'],
  ])('refuses a successful update when %s has the wrong type', (_, mutate, problem) => {
    const event = openEvent();
    mutate(event.detail);

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([problem]);
  });

  it('does not fall back to the caller account when recipientAccountId has the wrong type', () => {
    const event = openEvent();
    event.detail.recipientAccountId = { id: '111122223333' };

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual(['event: detail.recipientAccountId: expected string, got {"id":"111122223333"}']);
  });

  it('accepts an envelope account of the wrong type when the record names the account', () => {
    const event = openEvent();
    event.account = 42;
    event.region = {};

    expect(triageEvent(event, OPTIONS)).toEqual(triageEvent(openEvent(), OPTIONS));
  });

  it('reads nothing of an unsupported event strictly', () => {
    const event = fixture('not-eks-event');
    Object.assign(event.detail, { requestParameters: 'x', responseElements: 7, errorCode: {}, userIdentity: 'x', awsRegion: 1 });

    expect(triageEvent(event, OPTIONS)).toMatchObject({ decision: 'ignore', reason: 'UNSUPPORTED_EVENT' });
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

describe('triageEvent guard role matching', () => {
  const byPrincipal = (arn: string | undefined, issuer?: string): Json => {
    const event = fixture('update-by-guard-role');
    const identity = event.detail.userIdentity;
    if (arn === undefined) delete identity.arn;
    else identity.arn = arn;
    if (issuer === undefined) delete identity.sessionContext;
    else identity.sessionContext.sessionIssuer.arn = issuer;
    return event;
  };
  // With the event's token recorded, a guard role makes SELF_REMEDIATION and any other role a normal change.
  const reason = (event: Json, selfRoleArns: string[]) => triageEvent(event, { selfRoleArns, ownTokens: [GUARD_TOKEN] }).reason;

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
    const event = byPrincipal(arn, issuer);

    expect(triageEvent(event, { selfRoleArns: [GUARD_ROLE], ownTokens: [GUARD_TOKEN] })).toMatchObject({ reason: null, guardRole: false });
  });

  describe('the cross-account role', () => {
    const HOME = '123456789012';
    const MEMBER = '210987654321';
    const NAME = 'eks-endpoint-guard-member';
    const session = (account: string, role = NAME, partition = 'aws') => `arn:${partition}:sts::${account}:assumed-role/${role}/eks-endpoint-guard-prod-remediateCluster`;
    const guardRoleOf = (arn: string | undefined, options: Partial<TriageOptions>, issuer?: string) =>
      triageEvent(byPrincipal(arn, issuer), { selfRoleArns: [GUARD_ROLE], crossAccountRoleName: NAME, ...options }).guardRole;

    // Every row has all five columns: jest hands a shorter row's test a `done` callback and waits for it.
    it.each<[string, string | undefined, Partial<TriageOptions>, boolean, string | undefined]>([
      ['in a member account', session(MEMBER), { homeAccount: HOME }, true, undefined],
      ['in a member account, through the session issuer alone', undefined, { homeAccount: HOME }, true, `arn:aws:iam::${MEMBER}:role/guard/${NAME}`],
      ['in the home account', session(HOME), { homeAccount: HOME }, false, undefined],
      ['in the home account, through the session issuer alone', undefined, { homeAccount: HOME }, false, `arn:aws:iam::${HOME}:role/${NAME}`],
      ['in the account of the self roles, when the home account is unknown', session(HOME), { homeAccount: null }, false, undefined],
      ['in another account, when the home account is unknown', session(MEMBER), { homeAccount: null }, true, undefined],
      ['in any account, when neither home account nor self roles are known', session(HOME), { homeAccount: null, selfRoleArns: [] }, true, undefined],
      ['in another partition than the self roles', session(MEMBER, NAME, 'aws-cn'), { homeAccount: HOME }, false, undefined],
      ['with a longer name', session(MEMBER, `${NAME}-old`), { homeAccount: HOME }, false, undefined],
      ['with a differently cased name', session(MEMBER, NAME.toUpperCase()), { homeAccount: HOME }, false, undefined],
      ['when no cross-account role name is configured', session(MEMBER), { homeAccount: HOME, crossAccountRoleName: null }, false, undefined],
      ['when the cross-account role name is empty', session(MEMBER), { homeAccount: HOME, crossAccountRoleName: '' }, false, undefined],
      ['for an IAM user of that name in a member account', `arn:aws:iam::${MEMBER}:user/${NAME}`, { homeAccount: HOME }, false, undefined],
    ])('%s', (_, arn, options, expected, issuer) => {
      expect(guardRoleOf(arn, options, issuer)).toBe(expected);
    });

    it('is the guard own change only with the token recorded', () => {
      const event = byPrincipal(session(MEMBER));
      const options = { selfRoleArns: [GUARD_ROLE], crossAccountRoleName: NAME, homeAccount: HOME };

      expect(triageEvent(event, { ...options, ownTokens: [GUARD_TOKEN] }).reason).toBe('SELF_REMEDIATION');
      expect(triageEvent(event, options).reason).toBe('GUARD_ROLE_UNVERIFIED');
    });

    it('never makes a home-account exact self role anything but the guard', () => {
      const event = byPrincipal(session(HOME, 'eks-endpoint-guard-prod-remediate'));

      expect(triageEvent(event, { selfRoleArns: [GUARD_ROLE], crossAccountRoleName: 'eks-endpoint-guard-prod-remediate', homeAccount: HOME }).guardRole).toBe(true);
    });
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

  it('rejects identifying fields of the wrong type, whatever the event', () => {
    const event = fixture('not-eks-event');
    event.detail.eventID = 12;

    expect(problemsOf(() => triageEvent(event, OPTIONS))).toEqual([`${NOT_AN_EVENT}: detail.eventID: expected string, got 12`]);
  });
});

describe('triageEvent properties', () => {
  const RUNS = { numRuns: 1000 };
  const ACCOUNT = '123456789012';
  const MEMBER = '210987654321';
  const MEMBER_ROLE = 'eks-endpoint-guard-member';
  const TOKENS = ['0f2a6c1e-5b9d-4e73-8a40-7c3d1b9e6f25', '9d4b7e21-3c6a-4f58-b1e0-2a8f5c7d3e96'];
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
  const roleName = fc.constantFrom('eks-endpoint-guard-prod-remediate', MEMBER_ROLE, 'admin', 'ci-deployer');
  const identity = fc.oneof(
    fc.constantFrom('alice', 'bob').map((u) => ({ type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/${u}`, accountId: ACCOUNT })),
    fc.tuple(roleName, fc.constantFrom(ACCOUNT, MEMBER), fc.boolean()).map(([role, account, withIssuer]) => ({
      type: 'AssumedRole',
      arn: `arn:aws:sts::${account}:assumed-role/${role}/session-1`,
      accountId: account,
      ...(withIssuer ? { sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${account}:role/${role}` } } } : {}),
    })),
  );
  const token = fc.constantFrom(...TOKENS, 'c1a5e9d3-7b2f-4c86-a0e4-6d8b2f1c5a37');
  const endpointCall = fc.record(
    {
      eventName: fc.constantFrom('UpdateClusterConfig', 'CreateCluster', 'DeleteCluster'),
      requestParameters: fc.record(
        {
          name: fc.constantFrom('prod-payments', 'dev-sandbox'),
          resourcesVpcConfig: vpcConfig,
          logging: fc.constant({ clusterLogging: [{ types: ['api'], enabled: true }] }),
          clientRequestToken: token,
        },
        { requiredKeys: ['name'] },
      ),
    },
    { requiredKeys: ['eventName', 'requestParameters'] },
  );
  const resourceArn = fc
    .tuple(fc.constantFrom(`cluster/prod-payments`, 'nodegroup/prod-payments/workers/4ec8', 'addon/prod-payments/vpc-cni/5ac8'), fc.boolean())
    .map(([resource, encoded]) => {
      const arn = `arn:aws:eks:eu-west-1:${ACCOUNT}:${resource}`;
      return encoded ? encodeURIComponent(arn) : arn;
    });
  const tagCall = fc.oneof(
    fc.record({
      eventName: fc.constant('TagResource'),
      requestParameters: fc.record({ resourceArn, tags: fc.dictionary(fc.constantFrom('team', 'env', 'eks-endpoint-guard/exempt'), fc.string()) }),
    }),
    fc.record({
      eventName: fc.constant('UntagResource'),
      requestParameters: fc.record({ resourceArn, tagKeys: fc.array(fc.constantFrom('team', 'env', 'eks-endpoint-guard/exempt'), { maxLength: 3 }) }),
    }),
  );
  const common = fc.record(
    {
      eventSource: fc.constantFrom('eks.amazonaws.com', 'eks.amazonaws.com', 'ec2.amazonaws.com'),
      eventID: fc.uuid(),
      eventTime: fc.constant('2026-03-02T09:14:27Z'),
      awsRegion: fc.constantFrom('eu-west-1', 'us-east-1', 'cn-north-1'),
      recipientAccountId: fc.constantFrom(ACCOUNT, MEMBER),
      sourceIPAddress: fc.constantFrom('203.0.113.24', '198.51.100.9'),
      userAgent: fc.constant('aws-cli/2.17.20'),
      userIdentity: identity,
      responseElements: fc.option(
        fc.record({ update: fc.record({ id: fc.uuid(), status: fc.constant('InProgress'), createdAt: fc.oneof(fc.integer(), fc.string()) }) }),
        { nil: null },
      ),
      errorCode: fc.constantFrom('AccessDenied', 'InvalidParameterException', 'ResourceInUseException'),
    },
    { requiredKeys: ['eventSource', 'eventID', 'awsRegion', 'recipientAccountId', 'userIdentity'] },
  );
  const record = fc.tuple(common, fc.oneof(endpointCall, tagCall)).map(([c, call]) => ({ ...c, ...call }) as Json);
  const successful = record.map(({ errorCode: _, ...rest }) => rest as Json);
  const event = fc.tuple(record, fc.boolean()).map(([detail, wrapped]) =>
    wrapped ? { version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.eks', account: ACCOUNT, region: detail.awsRegion, detail } : detail,
  );
  const options: fc.Arbitrary<TriageOptions> = fc.record({
    selfRoleArns: fc.subarray([GUARD_ROLE, `arn:aws:iam::${ACCOUNT}:role/team/admin`]),
    crossAccountRoleName: fc.constantFrom(MEMBER_ROLE, 'ci-deployer', null),
    homeAccount: fc.constantFrom(ACCOUNT, MEMBER, null),
    ownTokens: fc.subarray(TOKENS),
  });
  const detailOf = (input: Json): Json => ('detail' in input ? input.detail : input) as Json;

  it('ignores every supported EKS call that carries an errorCode as CALL_FAILED', () => {
    fc.assert(
      fc.property(record, fc.string({ minLength: 1 }), options, (detail, errorCode, opts) => {
        fc.pre(detail.eventName !== 'DeleteCluster');
        const failed = { ...detail, eventSource: 'eks.amazonaws.com', errorCode };

        const result = triageEvent(failed, opts);

        expect(result).toMatchObject({ decision: 'ignore', reason: 'CALL_FAILED', waitFor: null });
      }),
      RUNS,
    );
  });

  it('evaluates exactly when there is something to wait for, with a reason only for an unverified guard role', () => {
    fc.assert(
      fc.property(event, options, (input, opts) => {
        const result = triageEvent(input, opts);

        expect(result.decision === 'evaluate').toBe(result.reason === null || result.reason === 'GUARD_ROLE_UNVERIFIED');
        expect(result.decision === 'evaluate').toBe(result.waitFor !== null);
        if (result.decision === 'evaluate') {
          expect(result.reason === 'GUARD_ROLE_UNVERIFIED').toBe(result.guardRole);
          expect(result.cluster).not.toBeNull();
          const isTag = ['TagResource', 'UntagResource'].includes(result.eventName);
          expect(result.requested === null).toBe(isTag);
          expect(result.tags === null).toBe(!isTag);
          expect(result.waitFor === 'none').toBe(isTag);
        }
        if (result.waitFor === 'update') expect(result.updateId).not.toBeNull();
      }),
      RUNS,
    );
  });

  it('ignores as its own exactly the successful updates made with a guard role whose token is recorded', () => {
    fc.assert(
      fc.property(successful, options, (detail, opts) => {
        const result = triageEvent(detail, opts);

        const recorded = (opts.ownTokens ?? []).includes(detail.requestParameters.clientRequestToken);
        const own = detail.eventSource === 'eks.amazonaws.com' && detail.eventName === 'UpdateClusterConfig' && result.guardRole && recorded;
        expect(result.reason === 'SELF_REMEDIATION').toBe(own);
      }),
      RUNS,
    );
  });

  it('changes nothing with recorded tokens but turning a guard role change into the guard own', () => {
    fc.assert(
      fc.property(event, options, (input, opts) => {
        const without = triageEvent(input, { ...opts, ownTokens: [] });
        const withTokens = triageEvent(input, { ...opts, ownTokens: TOKENS });

        if (withTokens.reason !== 'SELF_REMEDIATION') expect(withTokens).toEqual(without);
        else expect(without.guardRole).toBe(true);
      }),
      RUNS,
    );
  });

  it('never lets the cross-account role name make a home-account principal the guard', () => {
    fc.assert(
      fc.property(event, options, (input, opts) => {
        const identity = detailOf(input).userIdentity as Json;
        fc.pre(identity.accountId === ACCOUNT);
        const home = { ...opts, homeAccount: ACCOUNT };

        expect(triageEvent(input, home).guardRole).toBe(triageEvent(input, { ...home, crossAccountRoleName: null }).guardRole);
      }),
      RUNS,
    );
  });

  it('gives the same result whatever the letter case of the endpoint keys', () => {
    const recase = (key: string, upper: boolean[]) => [...key].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');
    fc.assert(
      fc.property(successful, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), options, (detail, upper, opts) => {
        const vpc = detail.requestParameters?.resourcesVpcConfig as Json | undefined;
        fc.pre(vpc !== undefined);
        const renamed = structuredClone(detail);
        renamed.requestParameters.resourcesVpcConfig = Object.fromEntries(Object.entries(vpc).map(([k, v]) => [k.startsWith('subnet') ? k : recase(k, upper), v]));

        expect(triageEvent(renamed, opts)).toEqual(triageEvent(detail, opts));
      }),
      RUNS,
    );
  });

  it('is unmoved by any value of a field that does not decide', () => {
    const informational: Array<(d: Json, v: unknown) => void> = [
      (d, v) => (d.userAgent = v),
      (d, v) => (d.sourceIPAddress = v),
      (d, v) => (d.eventTime = v),
      (d, v) => (d.errorMessage = v),
      (d, v) => (d.userIdentity.type = v),
      (d, v) => (d.userIdentity.sessionContext = v),
      (d, v) => d.responseElements?.update && (d.responseElements.update.createdAt = v),
      (d, v) => d.responseElements?.update && (d.responseElements.update.status = v),
      (d, v) => d.responseElements?.update && (d.responseElements.update.type = v),
      (d, v) => d.responseElements && (d.responseElements.cluster = v),
    ];
    const decided = (r: TriageResult) => [r.decision, r.reason, r.cluster, r.requested, r.updateId, r.waitFor, r.clientRequestToken, r.tags];
    fc.assert(
      fc.property(event, fc.integer({ min: 0, max: informational.length - 1 }), fc.jsonValue(), options, (input, field, value, opts) => {
        const before = triageEvent(input, opts);
        const changed = structuredClone(input) as Json;
        informational[field]!(detailOf(changed), value);

        const after = triageEvent(changed, opts);

        expect(decided(after)).toEqual(decided(before));
      }),
      RUNS,
    );
  });

  it('either triages or throws an InputError for any JSON value, never anything else', () => {
    const mutated = fc.tuple(event, fc.string(), fc.jsonValue()).map(([input, key, value]) => ({ ...input, [key]: value }));
    const deep = fc.tuple(event, fc.constantFrom('requestParameters', 'responseElements', 'userIdentity'), fc.string(), fc.jsonValue()).map(([input, part, key, value]) => {
      const copy = structuredClone(input) as Json;
      const detail = detailOf(copy);
      detail[part] = { ...(typeof detail[part] === 'object' ? detail[part] : {}), [key]: value };
      return copy;
    });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated, deep), options, (input, opts) => {
        try {
          const result = triageEvent(input, opts);
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
