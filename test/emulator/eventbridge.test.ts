import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutPermissionCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemovePermissionCommand,
  RemoveTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateClusterCommand, TagResourceCommand, UntagResourceCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { InputError } from '../../src/errors';
import { manualClock, matchesEventPattern, parseEmulatorState, startEmulator, type Credentials, type Emulator, type EmulatorState, type EventBridgeEvent } from '../../src/emulator';
import { INTAKE_RULE_PATTERN } from '../../src/events/rule';
import { eksClient, rejectionOf } from './helpers';

const CENTRAL = '111122223333';
const MEMBER = '222233334444';
const OUTSIDER = '999988887777';
const ORG_ID = 'o-a1b2c3d4e5';
const HOME = 'us-west-2';
const CENTRAL_BUS = `arn:aws:events:${HOME}:${CENTRAL}:event-bus/guard-central`;
const INTAKE_FN = `arn:aws:lambda:${HOME}:${CENTRAL}:function:guard-triageEvent`;
const ORG_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'OrganizationPutEvents', Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: CENTRAL_BUS, Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } } },
  ],
};
const as = (account: string): Credentials => ({ accessKeyId: account, secretAccessKey: 'local' });
const forwarder = (account: string, region = 'us-east-1') => ({
  name: 'guard-forward-eks',
  account,
  region,
  pattern: INTAKE_RULE_PATTERN,
  targets: [{ id: 'central', arn: CENTRAL_BUS, roleArn: `arn:aws:iam::${account}:role/guard-event-forwarder` }],
});

/** The organization, the central bus with its org-only policy and intake rule, and member forwarding rules. */
const STATE: EmulatorState = {
  accounts: [{ id: CENTRAL }, { id: MEMBER }, { id: OUTSIDER }],
  organization: { id: ORG_ID, managementAccount: CENTRAL, accounts: [{ id: MEMBER }] },
  clusters: [
    { name: 'payments', account: MEMBER, region: 'us-east-1' },
    { name: 'shadow', account: OUTSIDER, region: 'us-east-1' },
  ],
  eventBridge: {
    buses: [{ name: 'guard-central', account: CENTRAL, region: HOME, policy: ORG_POLICY }],
    rules: [
      { name: 'guard-intake', account: CENTRAL, region: HOME, bus: 'guard-central', pattern: INTAKE_RULE_PATTERN, targets: [{ id: 'triage', arn: INTAKE_FN }] },
      forwarder(MEMBER),
      forwarder(OUTSIDER),
    ],
  },
};

let emulator: Emulator;
const clients: { destroy(): void }[] = [];
function events(account = CENTRAL, region = HOME): EventBridgeClient {
  const client = new EventBridgeClient({ endpoint: emulator.url, region, credentials: as(account), maxAttempts: 1 });
  clients.push(client);
  return client;
}
function eks(account: string, region = 'us-east-1') {
  const client = eksClient(emulator, { credentials: as(account), region });
  clients.push(client);
  return client;
}
let received: EventBridgeEvent[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state: STATE });
  emulator.onTarget(INTAKE_FN, (event) => {
    received.push(event);
  });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator?.close();
});
beforeEach(() => {
  emulator.loadState(STATE);
  received = [];
});

describe('EventBridge across an organization', () => {
  it('forwards a member account’s CloudTrail event from its default bus to the central bus in another account and region', async () => {
    await eks(MEMBER).send(new UpdateClusterConfigCommand({ name: 'payments', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } }));
    await emulator.flushEvents();

    expect(received).toHaveLength(1);
    const [event] = received;
    expect(event).toMatchObject({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.eks',
      account: MEMBER,
      region: 'us-east-1',
      detail: { eventSource: 'eks.amazonaws.com', eventName: 'UpdateClusterConfig', awsRegion: 'us-east-1', requestParameters: { name: 'payments' }, userIdentity: { accountId: MEMBER } },
    });
    expect(event!.detail).not.toHaveProperty('errorCode');
    const { deliveries, rules } = emulator.snapshot().eventBridge;
    expect(deliveries.map((d) => [d.rule, d.targetArn, d.status])).toEqual([
      [`arn:aws:events:us-east-1:${MEMBER}:rule/guard-forward-eks`, CENTRAL_BUS, 'delivered'],
      [`arn:aws:events:${HOME}:${CENTRAL}:rule/guard-central/guard-intake`, INTAKE_FN, 'delivered'],
    ]);
    expect(rules.find((r) => r.name === 'guard-intake')?.metrics).toEqual({ matchedEvents: 1, invocations: 1, failedInvocations: 0 });
  });

  it('drops, as a failed invocation, what an account outside the organization forwards to the org-only bus', async () => {
    await eks(OUTSIDER).send(new UpdateClusterConfigCommand({ name: 'shadow', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } }));
    await emulator.flushEvents();

    expect(received).toEqual([]);
    const { deliveries, rules } = emulator.snapshot().eventBridge;
    expect(deliveries).toEqual([
      expect.objectContaining({ rule: `arn:aws:events:us-east-1:${OUTSIDER}:rule/guard-forward-eks`, status: 'failed', reason: expect.stringContaining(`does not allow events:PutEvents from arn:aws:iam::${OUTSIDER}:role/guard-event-forwarder`) }),
    ]);
    expect(rules.find((r) => r.account === OUTSIDER)?.metrics).toEqual({ matchedEvents: 1, invocations: 1, failedInvocations: 1 });
  });

  it('admits PutEvents to the central bus ARN from a member account and refuses it from an outsider, entry by entry', async () => {
    const entry = { EventBusName: CENTRAL_BUS, Source: 'guard.test', DetailType: 'probe', Detail: '{}' };
    const member = await events(MEMBER).send(new PutEventsCommand({ Entries: [entry] }));
    const outsider = await events(OUTSIDER).send(new PutEventsCommand({ Entries: [entry] }));

    expect(member.FailedEntryCount).toBe(0);
    expect(member.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outsider.FailedEntryCount).toBe(1);
    expect(outsider.Entries?.[0]).toEqual({
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: `User: arn:aws:iam::${OUTSIDER}:user/local-user is not authorized to perform: events:PutEvents on resource: ${CENTRAL_BUS} because no resource-based policy allows the events:PutEvents action`,
    });
  });

  it('needs the receiving bus’s policy even inside the organization: without one the forwarded event is dropped', async () => {
    await events().send(new RemovePermissionCommand({ EventBusName: 'guard-central', StatementId: 'OrganizationPutEvents' }));
    await eks(MEMBER).send(new UpdateClusterConfigCommand({ name: 'payments', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } }));

    expect(received).toEqual([]);
    expect(emulator.snapshot().eventBridge.deliveries[0]).toMatchObject({ status: 'failed', reason: expect.stringContaining('resource policy') });
  });

  it.each([
    ['declares other roles only', 'failed', [{ account: MEMBER, name: 'something-else' }]],
    ['declares the forwarder role', 'delivered', [{ account: MEMBER, name: 'guard-event-forwarder' }]],
  ])('checks the target role where the role model knows the account: when the member %s, the forward is %s', async (_what, status, roles) => {
    emulator.loadState({ ...STATE, roles });
    await eks(MEMBER).send(new UpdateClusterConfigCommand({ name: 'payments', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } }));

    const [forward] = emulator.snapshot().eventBridge.deliveries;
    expect(forward?.status).toBe(status);
    if (status === 'failed') expect(forward?.reason).toBe(`the target role arn:aws:iam::${MEMBER}:role/guard-event-forwarder does not exist`);
    expect(received).toHaveLength(status === 'delivered' ? 1 : 0);
  });

  it('shows rules, buses and deliveries on the control API too', async () => {
    await eks(MEMBER).send(new UpdateClusterConfigCommand({ name: 'payments', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } }));
    const res = await fetch(`${emulator.url}/_emulator/eventbridge`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(emulator.snapshot().eventBridge)));
  });

  it('does not route an event that arrived from another bus on to a third bus (one hop only)', async () => {
    const relay = events();
    await relay.send(new CreateEventBusCommand({ Name: 'third' }));
    await relay.send(new PutRuleCommand({ Name: 'relay', EventBusName: 'guard-central', EventPattern: JSON.stringify({ source: ['aws.eks'] }) }));
    await relay.send(new PutTargetsCommand({ Rule: 'relay', EventBusName: 'guard-central', Targets: [{ Id: 'third', Arn: `arn:aws:events:${HOME}:${CENTRAL}:event-bus/third` }] }));
    await eks(MEMBER).send(new UpdateClusterConfigCommand({ name: 'payments', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } }));

    const relayed = emulator.snapshot().eventBridge.deliveries.find((d) => d.targetId === 'third');
    expect(relayed).toMatchObject({ status: 'failed', reason: expect.stringContaining('third event bus') });
    expect(received).toHaveLength(1);
  });
});

describe('the intake rule pattern on the emulator’s own CloudTrail events', () => {
  it('matches CreateCluster, UpdateClusterConfig, TagResource and UntagResource, and no failed call', async () => {
    const client = eks(MEMBER);
    const { cluster } = await client.send(new CreateClusterCommand({ name: 'fresh', roleArn: `arn:aws:iam::${MEMBER}:role/eks`, resourcesVpcConfig: {} }));
    await client.send(new UpdateClusterConfigCommand({ name: 'payments', resourcesVpcConfig: { endpointPrivateAccess: true } }));
    await client.send(new TagResourceCommand({ resourceArn: cluster!.arn!, tags: { team: 'payments' } }));
    await client.send(new UntagResourceCommand({ resourceArn: cluster!.arn!, tagKeys: ['team'] }));
    await rejectionOf(client.send(new UpdateClusterConfigCommand({ name: 'missing', resourcesVpcConfig: { endpointPrivateAccess: true } })));
    await rejectionOf(client.send(new CreateClusterCommand({ name: 'fresh', roleArn: `arn:aws:iam::${MEMBER}:role/eks`, resourcesVpcConfig: {} })));
    await emulator.flushEvents();

    const trail = emulator.cloudTrailEvents();
    expect(trail.map((e) => [e.detail.eventName, e.detail.errorCode ?? 'ok'])).toEqual([
      ['CreateCluster', 'ok'],
      ['UpdateClusterConfig', 'ok'],
      ['TagResource', 'ok'],
      ['UntagResource', 'ok'],
      ['UpdateClusterConfig', 'ResourceNotFoundException'],
      ['CreateCluster', 'ResourceInUseException'],
    ]);
    expect(trail.map((e) => matchesEventPattern(INTAKE_RULE_PATTERN, e))).toEqual([true, true, true, true, false, false]);
    // The same answer from TestEventPattern, and what the deployed rules actually delivered.
    const tested = await Promise.all(trail.map((e) => events().send(new TestEventPatternCommand({ EventPattern: JSON.stringify(INTAKE_RULE_PATTERN), Event: JSON.stringify(e) }))));
    expect(tested.map((t) => t.Result)).toEqual([true, true, true, true, false, false]);
    expect(received.map((e) => (e.detail as { eventName: string }).eventName)).toEqual(['CreateCluster', 'UpdateClusterConfig', 'TagResource', 'UntagResource']);
  });
});

describe('rules and targets over the wire', () => {
  it('creates, describes, lists, disables and deletes a rule, keeping its EventPattern text', async () => {
    const client = events(MEMBER, 'eu-west-1');
    const pattern = JSON.stringify({ source: ['my.app'], detail: { level: [{ numeric: ['>=', 3] }] } });
    const { RuleArn } = await client.send(new PutRuleCommand({ Name: 'alerts', EventPattern: pattern, Description: 'loud events' }));
    expect(RuleArn).toBe(`arn:aws:events:eu-west-1:${MEMBER}:rule/alerts`);
    expect(await client.send(new DescribeRuleCommand({ Name: 'alerts' }))).toMatchObject({ Name: 'alerts', Arn: RuleArn, EventPattern: pattern, State: 'ENABLED', EventBusName: 'default', CreatedBy: MEMBER, Description: 'loud events' });
    await client.send(new DisableRuleCommand({ Name: 'alerts' }));
    expect((await client.send(new ListRulesCommand({ NamePrefix: 'al' }))).Rules?.map((r) => [r.Name, r.State])).toEqual([['alerts', 'DISABLED']]);
    await client.send(new EnableRuleCommand({ Name: 'alerts' }));
    await client.send(new PutTargetsCommand({ Rule: 'alerts', Targets: [{ Id: 'fn', Arn: `arn:aws:lambda:eu-west-1:${MEMBER}:function:pager` }] }));
    expect((await client.send(new ListTargetsByRuleCommand({ Rule: 'alerts' }))).Targets).toEqual([{ Id: 'fn', Arn: `arn:aws:lambda:eu-west-1:${MEMBER}:function:pager` }]);

    const busy = await rejectionOf(client.send(new DeleteRuleCommand({ Name: 'alerts' })));
    expect([busy.name, busy.message]).toEqual(['ValidationException', "Rule can't be deleted since it has targets."]);
    await client.send(new RemoveTargetsCommand({ Rule: 'alerts', Ids: ['fn'] }));
    await client.send(new DeleteRuleCommand({ Name: 'alerts' }));
    const gone = await rejectionOf(client.send(new DescribeRuleCommand({ Name: 'alerts' })));
    expect([gone.name, gone.message]).toEqual(['ResourceNotFoundException', 'Rule alerts does not exist on EventBus default.']);
  });

  it.each([
    ['not JSON', '{source', /^Event pattern is not valid\. Reason: Filter is not valid JSON/],
    ['a bare string value', JSON.stringify({ source: 'aws.eks' }), /^Event pattern is not valid\. Reason: source: "source" must be an object or an array/],
    ['an unknown operator', JSON.stringify({ source: [{ contains: 'eks' }] }), /Unrecognized match type contains/],
  ])('refuses a rule whose pattern is %s with InvalidEventPatternException', async (_what, pattern, message) => {
    const failure = await rejectionOf(events().send(new PutRuleCommand({ Name: 'bad', EventPattern: pattern })));
    expect(failure.name).toBe('InvalidEventPatternException');
    expect(failure.message).toMatch(message);
    expect(failure.$metadata?.httpStatusCode).toBe(400);
  });

  it('requires a RoleArn of the rule’s account for an event bus target in another account or region', async () => {
    const client = events(MEMBER, 'us-east-1');
    const missing = await rejectionOf(client.send(new PutTargetsCommand({ Rule: 'guard-forward-eks', Targets: [{ Id: 'x', Arn: CENTRAL_BUS }] })));
    expect([missing.name, missing.message]).toEqual(['ValidationException', expect.stringContaining(`RoleArn is required for target ${CENTRAL_BUS}`)]);
    const foreign = await rejectionOf(client.send(new PutTargetsCommand({ Rule: 'guard-forward-eks', Targets: [{ Id: 'x', Arn: CENTRAL_BUS, RoleArn: `arn:aws:iam::${CENTRAL}:role/r` }] })));
    expect(foreign.message).toContain(`must be a role of the rule's account ${MEMBER}`);
  });

  it('refuses a sixth target with LimitExceededException', async () => {
    const client = events(MEMBER, 'us-east-1');
    const targets = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ Id: id, Arn: `arn:aws:lambda:us-east-1:${MEMBER}:function:${id}` }));
    const failure = await rejectionOf(client.send(new PutTargetsCommand({ Rule: 'guard-forward-eks', Targets: targets })));
    expect(failure.name).toBe('LimitExceededException');
  });

  it('answers TestEventPattern, and refuses an event without the mandatory envelope fields', async () => {
    const client = events();
    const event = { id: '1', account: CENTRAL, source: 'my.app', time: '2026-01-01T00:00:00Z', region: HOME, 'detail-type': 'x', resources: [], detail: { ip: '10.0.0.7' } };
    const pattern = JSON.stringify({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } });
    expect((await client.send(new TestEventPatternCommand({ EventPattern: pattern, Event: JSON.stringify(event) }))).Result).toBe(true);
    const { id: _id, resources: _resources, ...partial } = event;
    const failure = await rejectionOf(client.send(new TestEventPatternCommand({ EventPattern: pattern, Event: JSON.stringify(partial) })));
    expect([failure.name, failure.message]).toEqual(['ValidationException', 'Parameter Event is not valid. Reason: missing "id", "resources".']);
  });
});

describe('event buses and their policies over the wire', () => {
  it('has a default bus in every account and region, lists it with the custom ones, and deletes a custom one with its rules', async () => {
    const client = events(MEMBER, 'ap-southeast-2');
    expect(await client.send(new DescribeEventBusCommand({}))).toMatchObject({ Name: 'default', Arn: `arn:aws:events:ap-southeast-2:${MEMBER}:event-bus/default` });
    const { EventBusArn } = await client.send(new CreateEventBusCommand({ Name: 'apps' }));
    expect(EventBusArn).toBe(`arn:aws:events:ap-southeast-2:${MEMBER}:event-bus/apps`);
    const again = await rejectionOf(client.send(new CreateEventBusCommand({ Name: 'apps' })));
    expect([again.name, again.message]).toEqual(['ResourceAlreadyExistsException', 'Event bus apps already exists.']);
    expect((await client.send(new ListEventBusesCommand({}))).EventBuses?.map((b) => b.Name)).toEqual(['apps', 'default']);
    await client.send(new PutRuleCommand({ Name: 'r', EventBusName: 'apps', EventPattern: '{"source":["x"]}' }));
    await client.send(new DeleteEventBusCommand({ Name: 'apps' }));
    const gone = await rejectionOf(client.send(new ListRulesCommand({ EventBusName: 'apps' })));
    expect([gone.name, gone.message]).toEqual(['ResourceNotFoundException', 'Event bus apps does not exist.']);
    const protectedDefault = await rejectionOf(client.send(new DeleteEventBusCommand({ Name: 'default' })));
    expect(protectedDefault.name).toBe('ValidationException');
  });

  it('writes PutPermission statements (account or organization) into the bus Policy, and removes them', async () => {
    const client = events();
    await client.send(new PutPermissionCommand({ EventBusName: 'guard-central', StatementId: 'member', Action: 'events:PutEvents', Principal: MEMBER }));
    await client.send(
      new PutPermissionCommand({ StatementId: 'org', Action: 'events:PutEvents', Principal: '*', Condition: { Type: 'StringEquals', Key: 'aws:PrincipalOrgID', Value: ORG_ID } }),
    );
    const central = JSON.parse((await client.send(new DescribeEventBusCommand({ Name: 'guard-central' }))).Policy!);
    expect(central.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['OrganizationPutEvents', 'member']);
    expect(central.Statement[1]).toEqual({ Sid: 'member', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MEMBER}:root` }, Action: 'events:PutEvents', Resource: CENTRAL_BUS });
    const byDefault = JSON.parse((await client.send(new DescribeEventBusCommand({}))).Policy!);
    expect(byDefault.Statement).toEqual([
      { Sid: 'org', Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: `arn:aws:events:${HOME}:${CENTRAL}:event-bus/default`, Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } } },
    ]);
    await client.send(new RemovePermissionCommand({ StatementId: 'org' }));
    expect((await client.send(new DescribeEventBusCommand({}))).Policy).toBeUndefined();
    const unknown = await rejectionOf(client.send(new RemovePermissionCommand({ StatementId: 'org' })));
    expect(unknown.name).toBe('ResourceNotFoundException');
    expect(emulator.snapshot().eventBridge.buses.map((b) => b.arn)).toEqual([`arn:aws:events:${HOME}:${CENTRAL}:event-bus/default`, CENTRAL_BUS]);
  });

  it('lets an account-granted principal outside the organization through, but not a Deny-ed one', async () => {
    const client = events();
    await client.send(new PutPermissionCommand({ EventBusName: 'guard-central', StatementId: 'partner', Action: 'events:PutEvents', Principal: OUTSIDER }));
    const entry = { EventBusName: CENTRAL_BUS, Source: 'guard.test', DetailType: 'probe', Detail: '{}' };
    expect((await events(OUTSIDER).send(new PutEventsCommand({ Entries: [entry] }))).FailedEntryCount).toBe(0);
    const deny = { Sid: 'no-outsider', Effect: 'Deny', Principal: { AWS: OUTSIDER }, Action: 'events:*', Resource: CENTRAL_BUS };
    const policy = JSON.parse((await client.send(new DescribeEventBusCommand({ Name: 'guard-central' }))).Policy!);
    await client.send(new PutPermissionCommand({ EventBusName: 'guard-central', Policy: JSON.stringify({ ...policy, Statement: [...policy.Statement, deny] }) }));
    expect((await events(OUTSIDER).send(new PutEventsCommand({ Entries: [entry] }))).Entries?.[0]?.ErrorCode).toBe('AccessDeniedException');
  });
});

describe('PutEvents', () => {
  it('delivers an event to a Lambda target’s listener with the EventBridge envelope', async () => {
    const client = events();
    await client.send(new PutRuleCommand({ Name: 'apps', EventBusName: 'guard-central', EventPattern: JSON.stringify({ source: ['my.app'], 'detail-type': [{ prefix: 'order' }] }) }));
    await client.send(new PutTargetsCommand({ Rule: 'apps', EventBusName: 'guard-central', Targets: [{ Id: 'fn', Arn: INTAKE_FN }] }));
    const time = new Date('2026-03-01T12:00:00Z');
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'guard-central', Source: 'my.app', DetailType: 'order placed', Detail: '{"id":7}', Resources: ['arn:aws:s3:::b'], Time: time },
          { EventBusName: 'guard-central', Source: 'my.app', DetailType: 'refund', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(received).toEqual([
      { version: '0', id: out.Entries![0]!.EventId, 'detail-type': 'order placed', source: 'my.app', account: CENTRAL, time: '2026-03-01T12:00:00Z', region: HOME, resources: ['arn:aws:s3:::b'], detail: { id: 7 } },
    ]);
  });

  it('reports each bad entry with its own error code and accepts the others', async () => {
    const out = await events().send(
      new PutEventsCommand({
        Entries: [
          { Source: 'my.app', DetailType: 'x', Detail: '[1,2]' },
          { Source: 'aws.eks', DetailType: 'AWS API Call via CloudTrail', Detail: '{}' },
          { Source: 'my.app', DetailType: 'x', Detail: '{}', EventBusName: 'nope' },
          { Source: 'my.app', DetailType: 'x' },
          { Source: 'my.app', DetailType: 'x', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'NotAuthorizedForSourceException', 'ResourceNotFoundException', 'InvalidArgument', 'ok']);
  });

  it('refuses more than 10 entries, and entries above 256 KB in total, as a whole', async () => {
    const entry = { Source: 'my.app', DetailType: 'x', Detail: '{}' };
    const many = await rejectionOf(events().send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry) })));
    expect([many.name, many.message]).toEqual(['ValidationException', expect.stringContaining('Member must have length less than or equal to 10')]);
    const big = { ...entry, Detail: JSON.stringify({ blob: 'x'.repeat(130 * 1024) }) };
    const large = await rejectionOf(events().send(new PutEventsCommand({ Entries: [big, big] })));
    expect([large.name, large.message]).toEqual(['ValidationException', 'Total size of the entries in the request is over the limit.']);
    expect((await events().send(new PutEventsCommand({ Entries: [big] }))).FailedEntryCount).toBe(0);
    const none = await rejectionOf(events().send(new PutEventsCommand({ Entries: [{ Source: 'my.app' }, { DetailType: 'x' }] })));
    expect([none.name, none.message]).toEqual(['ValidationException', 'No entry of the request has all of Source, DetailType and Detail.']);
  });

  it('is throttled by an injected fault like any emulated service, with EventBridge’s ThrottlingException', async () => {
    emulator.setFault({ kind: 'throttle', service: 'events', operation: 'PutEvents', times: 1 });
    const entry = { Source: 'my.app', DetailType: 'x', Detail: '{}' };
    const throttled = await rejectionOf(events().send(new PutEventsCommand({ Entries: [entry] })));
    expect([throttled.name, throttled.message, throttled.$metadata?.httpStatusCode]).toEqual(['ThrottlingException', 'Rate exceeded', 400]);
    expect((await events().send(new PutEventsCommand({ Entries: [entry] }))).FailedEntryCount).toBe(0);
  });

  it('records a listener that throws, or rejects, as a failed delivery, and one without a listener too', async () => {
    const client = events();
    const thrower = `arn:aws:lambda:${HOME}:${CENTRAL}:function:thrower`;
    const rejecter = `arn:aws:states:${HOME}:${CENTRAL}:stateMachine:rejecter`;
    const nobody = `arn:aws:lambda:${HOME}:${CENTRAL}:function:nobody`;
    const off = [
      emulator.onTarget(thrower, () => {
        throw new Error('boom');
      }),
      emulator.onTarget(rejecter, async () => {
        throw new Error('later');
      }),
    ];
    try {
      await client.send(new PutRuleCommand({ Name: 'all', EventPattern: JSON.stringify({ source: ['my.app'] }) }));
      await client.send(new PutTargetsCommand({ Rule: 'all', Targets: [thrower, rejecter, nobody].map((Arn, i) => ({ Id: `t${i}`, Arn })) }));
      await client.send(new PutEventsCommand({ Entries: [{ Source: 'my.app', DetailType: 'x', Detail: '{}' }] }));
      await emulator.flushEvents();
    } finally {
      for (const f of off) f();
    }
    const { deliveries, rules } = emulator.snapshot().eventBridge;
    expect(deliveries.map((d) => [d.targetId, d.status, d.reason])).toEqual([
      ['t0', 'failed', 'the listener threw: boom'],
      ['t1', 'failed', 'the listener failed: later'],
      ['t2', 'failed', `no in-process listener is registered for ${nobody} (emulator.onTarget)`],
    ]);
    expect(rules.find((r) => r.name === 'all')?.metrics).toEqual({ matchedEvents: 1, invocations: 3, failedInvocations: 3 });
  });
});

describe('the eventBridge section of the state file', () => {
  it('shows buses and rules in snapshot() as the state declared them, sorted by ARN', () => {
    const { buses, rules } = emulator.snapshot().eventBridge;
    expect(buses).toEqual([{ name: 'guard-central', account: CENTRAL, region: HOME, arn: CENTRAL_BUS, policy: ORG_POLICY }]);
    expect(rules.map((r) => [r.account, r.region, r.bus, r.name, r.state, r.targets.map((t) => t.arn)])).toEqual([
      [MEMBER, 'us-east-1', 'default', 'guard-forward-eks', 'ENABLED', [CENTRAL_BUS]],
      [OUTSIDER, 'us-east-1', 'default', 'guard-forward-eks', 'ENABLED', [CENTRAL_BUS]],
      [CENTRAL, HOME, 'guard-central', 'guard-intake', 'ENABLED', [INTAKE_FN]],
    ]);
  });

  it('accepts a pattern as JSON text, and names every problem with its path', () => {
    const ok = parseEmulatorState({ accounts: [{ id: CENTRAL }], eventBridge: { rules: [{ name: 'r', account: CENTRAL, region: HOME, pattern: '{"source":["x"]}' }] } }, 'state.yaml');
    expect(ok.eventBridge?.rules[0]).toMatchObject({ bus: 'default', pattern: { source: ['x'] }, state: 'ENABLED', targets: [] });

    const bad = {
      accounts: [{ id: CENTRAL }],
      eventBridge: {
        buses: [{ name: 'b', account: CENTRAL, region: HOME }, { name: 'b', account: CENTRAL, region: HOME }],
        rules: [
          { name: 'r', account: CENTRAL, region: HOME, bus: 'missing', pattern: { source: ['x'] } },
          { name: 's', account: MEMBER, region: HOME, pattern: { source: ['x'] }, targets: [{ id: 't', arn: CENTRAL_BUS, roleArn: `arn:aws:iam::${CENTRAL}:role/x` }] },
          { name: 'u', account: CENTRAL, region: 'eu-west-1', pattern: { source: ['x'] }, targets: [{ id: 't', arn: CENTRAL_BUS }] },
        ],
      },
    };
    expect(() => parseEmulatorState(bad, 'state.yaml')).toThrow(InputError);
    try {
      parseEmulatorState(bad, 'state.yaml');
    } catch (err) {
      expect((err as InputError).problems).toEqual([
        `state.yaml: eventBridge.rules[1].account: account ${MEMBER} is not declared in accounts`,
        `state.yaml: eventBridge.buses[1].name: event bus b is declared twice in ${CENTRAL} ${HOME}`,
        `state.yaml: eventBridge.rules[0].bus: event bus missing is not declared in eventBridge.buses for ${CENTRAL} ${HOME}`,
        `state.yaml: eventBridge.rules[1].targets[0].roleArn: arn:aws:iam::${CENTRAL}:role/x is not a role of the rule's account ${MEMBER}`,
        `state.yaml: eventBridge.rules[2].targets[0].roleArn: required for ${CENTRAL_BUS}, an event bus in another account or region`,
      ]);
    }
    const badPattern = { eventBridge: { rules: [{ name: 'r', account: CENTRAL, region: HOME, pattern: { source: 'x' } }] } };
    expect(() => parseEmulatorState(badPattern, 's')).toThrow(/eventBridge\.rules\[0\]\.pattern: invalid event pattern: source: "source" must be an object or an array/);
    const badPolicy = { eventBridge: { buses: [{ name: 'b', account: CENTRAL, region: HOME, policy: { Statement: [{ Effect: 'Allow', Action: 'events:PutEvents' }] } }] } };
    expect(() => parseEmulatorState(badPolicy, 's')).toThrow(/eventBridge\.buses\[0\]\.policy: invalid resource policy: each Statement needs a Principal/);
  });
});
