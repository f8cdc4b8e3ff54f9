import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, DescribeClusterCommand, ListClustersCommand, TagResourceCommand, UntagResourceCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import type { CloudTrailEvent, Emulator } from '../../src/emulator';
import { ALICE, GUARD, PROD, SANDBOX, eksClient, rejectionOf, startDemo } from './helpers';

let emulator: Emulator;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emulator-cloudtrail-'));
  file = join(dir, 'events.jsonl');
  emulator = await startDemo({ cloudTrailFile: file });
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => emulator.reset());

const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

describe('CloudTrail events', () => {
  it('records an accepted UpdateClusterConfig as the EventBridge envelope of an IAM user call', async () => {
    emulator.clock.advance(1234);
    const eks = eksClient(emulator);
    const { update, $metadata } = await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }));
    eks.destroy();
    const time = new Date(Math.floor(emulator.clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    expect(emulator.cloudTrailEvents()).toEqual([
      {
        version: '0',
        id: UUID,
        'detail-type': 'AWS API Call via CloudTrail',
        source: 'aws.eks',
        account: PROD,
        time,
        region: 'us-east-1',
        resources: [],
        detail: {
          eventVersion: '1.09',
          userIdentity: {
            type: 'IAMUser',
            principalId: expect.stringMatching(/^AIDA/),
            arn: `arn:aws:iam::${PROD}:user/alice`,
            accountId: PROD,
            accessKeyId: ALICE.accessKeyId,
            userName: 'alice',
          },
          eventTime: time,
          eventSource: 'eks.amazonaws.com',
          eventName: 'UpdateClusterConfig',
          awsRegion: 'us-east-1',
          sourceIPAddress: '127.0.0.1',
          userAgent: expect.stringContaining('aws-sdk-js/'),
          requestParameters: { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false }, clientRequestToken: UUID },
          responseElements: {
            update: { id: update!.id, status: 'InProgress', type: 'EndpointAccessUpdate', params: [{ type: 'EndpointPublicAccess', value: 'false' }], createdAt: emulator.clock.now() / 1000, errors: [] },
          },
          requestID: $metadata.requestId,
          eventID: UUID,
          readOnly: false,
          eventType: 'AwsApiCall',
          managementEvent: true,
          recipientAccountId: PROD,
          eventCategory: 'Management',
        },
      },
    ]);
  });

  it('records an assumed-role session with its session context', async () => {
    const eks = eksClient(emulator, { credentials: GUARD });
    await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }));
    eks.destroy();
    const identity = emulator.cloudTrailEvents()[0]?.detail.userIdentity;
    expect(identity).toEqual({
      type: 'AssumedRole',
      principalId: expect.stringMatching(/^AROA[0-9A-F]{17}:remediation$/),
      arn: `arn:aws:sts::${PROD}:assumed-role/eks-endpoint-guard/remediation`,
      accountId: PROD,
      accessKeyId: GUARD.accessKeyId,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: identity?.principalId.split(':')[0],
          arn: `arn:aws:iam::${PROD}:role/eks-endpoint-guard`,
          accountId: PROD,
          userName: 'eks-endpoint-guard',
        },
        attributes: { creationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), mfaAuthenticated: 'false' },
      },
    });
  });

  it('uses the source IP and user agent given to credentialsFor', async () => {
    const credentials = emulator.credentialsFor(`arn:aws:iam::${SANDBOX}:user/mallory`, { sourceIp: '198.51.100.66', userAgent: 'console.amazonaws.com' });
    const eks = eksClient(emulator, { credentials });
    await eks.send(new UpdateClusterConfigCommand({ name: 'sandbox-dev', resourcesVpcConfig: { publicAccessCidrs: ['198.51.100.0/24'] } }));
    eks.destroy();
    expect(emulator.cloudTrailEvents()[0]).toMatchObject({
      account: SANDBOX,
      detail: { sourceIPAddress: '198.51.100.66', userAgent: 'console.amazonaws.com', userIdentity: { arn: `arn:aws:iam::${SANDBOX}:user/mallory` }, recipientAccountId: SANDBOX },
    });
  });

  it('records CreateCluster with the cluster in CREATING, and refusals with errorCode and no responseElements', async () => {
    const eks = eksClient(emulator);
    const request = { name: 'new', roleArn: `arn:aws:iam::${PROD}:role/eks`, resourcesVpcConfig: { endpointPrivateAccess: true } };
    const { cluster } = await eks.send(new CreateClusterCommand(request));
    await rejectionOf(eks.send(new CreateClusterCommand(request)));
    eks.destroy();
    const [created, refused] = emulator.cloudTrailEvents();
    expect(created?.detail).toMatchObject({
      eventName: 'CreateCluster',
      requestParameters: request,
      responseElements: { cluster: { name: 'new', status: 'CREATING', arn: cluster?.arn, createdAt: emulator.clock.now() / 1000 } },
    });
    expect(created?.detail.errorCode).toBeUndefined();
    expect(refused?.detail).toMatchObject({ eventName: 'CreateCluster', errorCode: 'ResourceInUseException', errorMessage: 'Cluster already exists with name: new', responseElements: null });
  });

  it('keeps the clientRequestToken the caller sent, on the first call and on its replay', async () => {
    const eks = eksClient(emulator);
    const request = { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false }, clientRequestToken: 'remediate-prod-api-1' };
    const first = await eks.send(new UpdateClusterConfigCommand(request));
    const replay = await eks.send(new UpdateClusterConfigCommand(request));
    eks.destroy();
    expect(replay.update?.id).toBe(first.update?.id);
    expect(emulator.cloudTrailEvents().map((e) => e.detail.requestParameters)).toEqual([request, request]);
    expect(emulator.cloudTrailEvents().map((e) => (e.detail.responseElements as { update: { id: string } }).update.id)).toEqual([first.update?.id, first.update?.id]);
  });

  it('records TagResource as {resourceArn, tags} and UntagResource as {resourceArn, tagKeys}, refused or not', async () => {
    const arn = `arn:aws:eks:us-east-1:${PROD}:cluster/prod-api`;
    const ghost = `arn:aws:eks:us-east-1:${PROD}:cluster/ghost`;
    const eks = eksClient(emulator);
    await eks.send(new TagResourceCommand({ resourceArn: arn, tags: { 'eks-endpoint-guard/exempt': 'true' } }));
    await eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['eks-endpoint-guard/exempt'] }));
    await rejectionOf(eks.send(new TagResourceCommand({ resourceArn: arn, tags: { 'aws:reserved': 'x' } })));
    await rejectionOf(eks.send(new UntagResourceCommand({ resourceArn: ghost, tagKeys: ['a', 'b'] })));
    eks.destroy();
    expect(emulator.cloudTrailEvents().map((e) => [e.detail.eventName, e.detail.requestParameters, e.detail.errorCode ?? null])).toEqual([
      ['TagResource', { resourceArn: arn, tags: { 'eks-endpoint-guard/exempt': 'true' } }, null],
      ['UntagResource', { resourceArn: arn, tagKeys: ['eks-endpoint-guard/exempt'] }, null],
      ['TagResource', { resourceArn: arn, tags: { 'aws:reserved': 'x' } }, 'BadRequestException'],
      ['UntagResource', { resourceArn: ghost, tagKeys: ['a', 'b'] }, 'NotFoundException'],
    ]);
  });

  it('does not record read-only calls', async () => {
    const eks = eksClient(emulator);
    await eks.send(new ListClustersCommand({}));
    await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
    eks.destroy();
    expect(emulator.cloudTrailEvents()).toEqual([]);
  });

  it('calls listeners synchronously, before the HTTP response reaches the caller, until unsubscribed', async () => {
    const order: string[] = [];
    const seen: CloudTrailEvent[] = [];
    const unsubscribe = emulator.onCloudTrail((event) => {
      order.push('event');
      seen.push(event);
    });
    const eks = eksClient(emulator);
    await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } })).then(() => order.push('response'));
    unsubscribe();
    await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } })));
    eks.destroy();
    expect(order).toEqual(['event', 'response']);
    expect(seen).toEqual(emulator.cloudTrailEvents().slice(0, 1));
    expect(emulator.cloudTrailEvents()).toHaveLength(2);
  });

  it('keeps serving, and keeps notifying other listeners, when a listener throws', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const offBroken = emulator.onCloudTrail(() => {
      throw new Error('listener bug');
    });
    const received: string[] = [];
    const offHealthy = emulator.onCloudTrail((e) => received.push(e.detail.eventName));
    const eks = eksClient(emulator);
    try {
      await expect(eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }))).resolves.toBeDefined();
    } finally {
      eks.destroy();
      offBroken();
      offHealthy();
      warn.mockRestore();
    }
    expect(received).toEqual(['UpdateClusterConfig']);
  });

  it('appends every event to the JSON Lines file', async () => {
    const before = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    const eks = eksClient(emulator);
    await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }));
    await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'ghost', resourcesVpcConfig: { endpointPublicAccess: false } })));
    eks.destroy();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.slice(before).map((l) => JSON.parse(l) as CloudTrailEvent)).toEqual(emulator.cloudTrailEvents());
  });
});
