import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListUpdatesCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateClusterConfigCommand,
  type EKSClient,
  type UpdateClusterConfigRequest,
} from '@aws-sdk/client-eks';
import type { Emulator } from '../../src/emulator';
import { BOB, PROD, SANDBOX, clusterIn, eksClient, rejectionOf, useDemoEmulator } from './helpers';

let emulator: Emulator;
let eks: EKSClient;

useDemoEmulator((e) => (emulator = e));
beforeAll(() => {
  eks = eksClient(emulator);
});
afterAll(() => {
  eks.destroy();
});

const UPDATE_MS = 10_000;

describe('DescribeCluster and ListClusters', () => {
  it('describes a seeded cluster with its endpoint settings, tags and VPC', async () => {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
    expect(cluster).toMatchObject({
      name: 'prod-api',
      arn: `arn:aws:eks:us-east-1:${PROD}:cluster/prod-api`,
      status: 'ACTIVE',
      version: '1.33',
      platformVersion: 'eks.1',
      tags: { team: 'platform', env: 'prod' },
      resourcesVpcConfig: {
        vpcId: 'vpc-0a1b2c3d4e5f60001',
        subnetIds: ['subnet-0a1b2c3d4e5f60011', 'subnet-0a1b2c3d4e5f60012'],
        endpointPublicAccess: true,
        endpointPrivateAccess: true,
        publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
      },
    });
    expect(cluster?.createdAt).toEqual(new Date(emulator.clock.now()));
    expect(cluster?.endpoint).toMatch(/^https:\/\/[0-9A-F]{32}\.gr7\.us-east-1\.eks\.amazonaws\.com$/);
  });

  it.each([
    ['prod us-east-1', {}, ['prod-api', 'prod-payments']],
    ['prod eu-west-1', { region: 'eu-west-1' }, ['legacy-billing']],
    ['sandbox us-east-1', { credentials: BOB }, ['sandbox-dev']],
    ['sandbox eu-west-1', { credentials: BOB, region: 'eu-west-1' }, []],
  ])('keeps accounts and regions apart: %s', async (_where, options, expected) => {
    const client = eksClient(emulator, options);
    try {
      expect((await client.send(new ListClustersCommand({}))).clusters).toEqual(expected);
    } finally {
      client.destroy();
    }
  });

  it('does not find a cluster of another account or region', async () => {
    const err = await rejectionOf(eks.send(new DescribeClusterCommand({ name: 'sandbox-dev' })));
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', message: 'No cluster found for name: sandbox-dev.', clusterName: 'sandbox-dev' });
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });

  it('paginates with maxResults and nextToken', async () => {
    for (const name of ['c-a', 'c-b', 'c-c']) {
      await eks.send(new CreateClusterCommand({ name, roleArn: `arn:aws:iam::${PROD}:role/eks`, resourcesVpcConfig: {} }));
    }
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await eks.send(new ListClustersCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }));
      pages.push(page.clusters ?? []);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages).toEqual([['c-a', 'c-b'], ['c-c', 'prod-api'], ['prod-payments']]);
  });

  it.each([
    [{ maxResults: 0 }, 'maxResults must be an integer between 1 and 100.'],
    [{ maxResults: 101 }, 'maxResults must be an integer between 1 and 100.'],
    [{ nextToken: 'garbage' }, 'The nextToken is invalid.'],
  ])('refuses bad paging parameters %p', async (input, message) => {
    const err = await rejectionOf(eks.send(new ListClustersCommand(input)));
    expect(err).toMatchObject({ name: 'InvalidParameterException', message });
  });
});

describe('CreateCluster', () => {
  const request = { name: 'new-cluster', roleArn: `arn:aws:iam::${PROD}:role/eks-cluster`, resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d4e5f60011'] } };

  it('creates a cluster that is CREATING, then ACTIVE, with EKS endpoint defaults', async () => {
    const { cluster } = await eks.send(new CreateClusterCommand(request));
    expect(cluster).toMatchObject({
      name: 'new-cluster',
      arn: `arn:aws:eks:us-east-1:${PROD}:cluster/new-cluster`,
      status: 'CREATING',
      roleArn: request.roleArn,
      resourcesVpcConfig: { vpcId: 'vpc-0a1b2c3d4e5f60001', endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] },
    });
    expect(cluster?.endpoint).toBeUndefined();

    emulator.clock.advance(UPDATE_MS - 1);
    expect((await eks.send(new DescribeClusterCommand({ name: 'new-cluster' }))).cluster?.status).toBe('CREATING');
    emulator.clock.advance(1);
    const active = (await eks.send(new DescribeClusterCommand({ name: 'new-cluster' }))).cluster;
    expect(active?.status).toBe('ACTIVE');
    expect(active?.endpoint).toBeDefined();
    expect(clusterIn(emulator, PROD, 'us-east-1', 'new-cluster').status).toBe('ACTIVE');
  });

  it('keeps given endpoint settings, tags, version and IPv6 defaults', async () => {
    const { cluster } = await eks.send(
      new CreateClusterCommand({
        ...request,
        name: 'v6',
        version: '1.32',
        kubernetesNetworkConfig: { ipFamily: 'ipv6' },
        resourcesVpcConfig: { endpointPrivateAccess: true },
        tags: { team: 'x' },
      }),
    );
    expect(cluster).toMatchObject({
      version: '1.32',
      tags: { team: 'x' },
      kubernetesNetworkConfig: { ipFamily: 'ipv6' },
      resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0', '::/0'] },
    });
  });

  it.each([
    ['an existing name', { ...request, name: 'prod-api' }, 'ResourceInUseException', 409, 'Cluster already exists with name: prod-api'],
    ['both endpoints off', { ...request, resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: false } }, 'InvalidParameterException', 400, 'Both private and public endpoint access cannot be false'],
    ['an invalid CIDR', { ...request, resourcesVpcConfig: { publicAccessCidrs: ['192.168.0.0/16'] } }, 'InvalidParameterException', 400, 'The following CIDRs are invalid in publicAccessCidrs: [192.168.0.0/16]'],
    ['a bad name', { ...request, name: '-bad' }, 'InvalidParameterException', 400, 'Cluster name -bad is invalid'],
    ['no roleArn', { name: 'x', resourcesVpcConfig: {} }, 'InvalidParameterException', 400, 'roleArn: Invalid input: expected string, received undefined'],
  ])('refuses %s', async (_what, input, name, status, message) => {
    const err = await rejectionOf(eks.send(new CreateClusterCommand(input as typeof request)));
    expect(err.name).toBe(name);
    expect(err.message).toContain(message);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(emulator.snapshot().clusters).toHaveLength(4);
  });
});

describe('UpdateClusterConfig and updates', () => {
  const request = { name: 'sandbox-dev', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.5/32'] } };
  let sandbox: EKSClient;
  beforeAll(() => {
    sandbox = eksClient(emulator, { credentials: BOB });
  });
  afterAll(() => sandbox.destroy());

  it('returns an InProgress EndpointAccessUpdate with AWS-shaped params', async () => {
    const { update } = await sandbox.send(new UpdateClusterConfigCommand(request));
    expect(update).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'InProgress',
      type: 'EndpointAccessUpdate',
      params: [
        { type: 'EndpointPublicAccess', value: 'true' },
        { type: 'EndpointPrivateAccess', value: 'true' },
        { type: 'PublicAccessCidrs', value: '["203.0.113.5/32"]' },
      ],
      createdAt: new Date(emulator.clock.now()),
      errors: [],
    });
  });

  it('lists only the fields given as params', async () => {
    const { update } = await sandbox.send(new UpdateClusterConfigCommand({ name: 'sandbox-dev', resourcesVpcConfig: { endpointPrivateAccess: true } }));
    expect(update?.params).toEqual([{ type: 'EndpointPrivateAccess', value: 'true' }]);
  });

  it('shows UPDATING with the old values until the update succeeds', async () => {
    const { update } = await sandbox.send(new UpdateClusterConfigCommand(request));
    const during = (await sandbox.send(new DescribeClusterCommand({ name: 'sandbox-dev' }))).cluster;
    expect(during?.status).toBe('UPDATING');
    expect(during?.resourcesVpcConfig).toMatchObject({ endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] });

    emulator.clock.advance(UPDATE_MS - 1);
    expect((await sandbox.send(new DescribeUpdateCommand({ name: 'sandbox-dev', updateId: update!.id! }))).update?.status).toBe('InProgress');
    emulator.clock.advance(1);
    expect((await sandbox.send(new DescribeUpdateCommand({ name: 'sandbox-dev', updateId: update!.id! }))).update?.status).toBe('Successful');

    const after = (await sandbox.send(new DescribeClusterCommand({ name: 'sandbox-dev' }))).cluster;
    expect(after?.status).toBe('ACTIVE');
    expect(after?.resourcesVpcConfig).toMatchObject({ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.5/32'] });
    expect(clusterIn(emulator, SANDBOX, 'us-east-1', 'sandbox-dev')).toMatchObject({
      status: 'ACTIVE',
      config: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.5/32'] },
      updates: [{ id: update!.id, status: 'Successful', type: 'EndpointAccessUpdate' }],
    });
    expect((await sandbox.send(new ListUpdatesCommand({ name: 'sandbox-dev' }))).updateIds).toEqual([update!.id]);
  });

  it('refuses a second update while one is in progress, naming the running update', async () => {
    const { update } = await sandbox.send(new UpdateClusterConfigCommand(request));
    const err = await rejectionOf(sandbox.send(new UpdateClusterConfigCommand({ name: 'sandbox-dev', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } })));
    expect(err).toMatchObject({
      name: 'ResourceInUseException',
      message: `Cannot EndpointAccessUpdate because cluster sandbox-dev currently has update ${update!.id} in progress`,
      clusterName: 'sandbox-dev',
    });
    expect(err.$metadata?.httpStatusCode).toBe(409);
  });

  it('replays the same update when the SDK retries with the same clientRequestToken', async () => {
    const first = await sandbox.send(new UpdateClusterConfigCommand({ ...request, clientRequestToken: 'token-1' }));
    const again = await sandbox.send(new UpdateClusterConfigCommand({ ...request, clientRequestToken: 'token-1' }));
    expect(again.update?.id).toBe(first.update?.id);
    expect(clusterIn(emulator, SANDBOX, 'us-east-1', 'sandbox-dev').updates).toHaveLength(1);
  });

  const fortyOne = Array.from({ length: 41 }, (_, i) => `203.0.113.${i}/32`);
  it.each<[string, UpdateClusterConfigRequest, string, number, string]>([
    ['both endpoints off', { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: false } }, 'InvalidParameterException', 400, 'Both private and public endpoint access cannot be false'],
    ['private off on a private-only cluster', { name: 'prod-payments', resourcesVpcConfig: { endpointPrivateAccess: false } }, 'InvalidParameterException', 400, 'Both private and public endpoint access cannot be false'],
    [
      'invalid CIDRs (syntax, host bits, reserved ranges)',
      { name: 'prod-api', resourcesVpcConfig: { publicAccessCidrs: ['10.0.0.0/8', '203.0.113.5/24', 'not-a-cidr', '127.0.0.1/32', '198.51.100.0/24'] } },
      'InvalidParameterException',
      400,
      'The following CIDRs are invalid in publicAccessCidrs: [10.0.0.0/8,203.0.113.5/24,not-a-cidr,127.0.0.1/32]',
    ],
    ['an IPv6 block on an IPv4 cluster', { name: 'prod-api', resourcesVpcConfig: { publicAccessCidrs: ['2001:db8::/32'] } }, 'InvalidParameterException', 400, 'The following CIDRs are invalid in publicAccessCidrs: [2001:db8::/32]'],
    ['more than 40 CIDRs', { name: 'prod-api', resourcesVpcConfig: { publicAccessCidrs: fortyOne } }, 'InvalidParameterException', 400, 'publicAccessCidrs can contain at most 40 CIDR blocks; 41 were given'],
    [
      'a change that changes nothing',
      { name: 'prod-payments', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true } },
      'InvalidParameterException',
      400,
      'Cluster is already at the desired configuration with endpointPrivateAccess: true , endpointPublicAccess: false, and Public Endpoint Restrictions: [0.0.0.0/0]',
    ],
    [
      'the same CIDRs in another order',
      { name: 'prod-api', resourcesVpcConfig: { publicAccessCidrs: ['198.51.100.7/32', '203.0.113.0/24'] } },
      'InvalidParameterException',
      400,
      'Cluster is already at the desired configuration with endpointPrivateAccess: true , endpointPublicAccess: true, and Public Endpoint Restrictions: [203.0.113.0/24, 198.51.100.7/32]',
    ],
    [
      'endpoint and logging in one call',
      { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false }, logging: { clusterLogging: [{ types: ['api'], enabled: true }] } },
      'InvalidParameterException',
      400,
      'Only one type of update can be allowed.',
    ],
    ['an unknown cluster', { name: 'ghost', resourcesVpcConfig: { endpointPrivateAccess: true } }, 'ResourceNotFoundException', 404, 'No cluster found for name: ghost.'],
    ['no update at all', { name: 'prod-api' }, 'InvalidParameterException', 400, 'No update was specified'],
    ['an update type the emulator does not implement', { name: 'prod-api', accessConfig: { authenticationMode: 'API' } }, 'InvalidRequestException', 400, 'endpoint access and logging updates only'],
  ])('refuses %s and records the refusal in CloudTrail', async (_what, input, name, status, message) => {
    const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand(input)));
    expect(err.name).toBe(name);
    expect(err.message).toContain(message);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(emulator.snapshot().clusters.flatMap((c) => c.updates)).toEqual([]);
    const [event] = emulator.cloudTrailEvents();
    expect(event?.detail).toMatchObject({ eventName: 'UpdateClusterConfig', errorCode: name, errorMessage: err.message, responseElements: null, requestParameters: { name: input.name } });
  });

  it('refuses an update of a cluster that is still CREATING', async () => {
    await eks.send(new CreateClusterCommand({ name: 'fresh', roleArn: `arn:aws:iam::${PROD}:role/eks`, resourcesVpcConfig: {} }));
    const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'fresh', resourcesVpcConfig: { endpointPrivateAccess: true } })));
    expect(err).toMatchObject({ name: 'ResourceInUseException', message: 'Cannot EndpointAccessUpdate because cluster fresh is currently CREATING' });
  });

  it('runs a logging update and refuses one that changes nothing', async () => {
    const logging = { clusterLogging: [{ types: ['api' as const, 'audit' as const], enabled: true }] };
    const { update } = await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', logging }));
    expect(update).toMatchObject({ type: 'LoggingUpdate', status: 'InProgress', params: [{ type: 'ClusterLogging', value: JSON.stringify(logging) }] });
    emulator.clock.advance(UPDATE_MS);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
    expect(cluster?.logging?.clusterLogging).toEqual([
      { types: ['api', 'audit'], enabled: true },
      { types: ['authenticator', 'controllerManager', 'scheduler'], enabled: false },
    ]);
    const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', logging })));
    expect(err).toMatchObject({ name: 'InvalidParameterException', message: 'No changes needed for the logging config provided' });
  });

  it('does not find an unknown update id', async () => {
    const err = await rejectionOf(eks.send(new DescribeUpdateCommand({ name: 'prod-api', updateId: '00000000-0000-0000-0000-000000000000' })));
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', message: 'No update found for ID: 00000000-0000-0000-0000-000000000000' });
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });

  it('paginates ListUpdates', async () => {
    const ids: string[] = [];
    for (const enabled of [true, false, true]) {
      const { update } = await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', logging: { clusterLogging: [{ types: ['api'], enabled }] } }));
      ids.push(update!.id!);
      emulator.clock.advance(UPDATE_MS);
    }
    const first = await eks.send(new ListUpdatesCommand({ name: 'prod-api', maxResults: 2 }));
    const second = await eks.send(new ListUpdatesCommand({ name: 'prod-api', maxResults: 2, nextToken: first.nextToken! }));
    expect([...first.updateIds!, ...second.updateIds!]).toEqual(ids);
    expect(second.nextToken).toBeUndefined();
  });
});

describe('tags', () => {
  const arn = `arn:aws:eks:us-east-1:${PROD}:cluster/prod-api`;

  it('tags, lists and untags a cluster, and records the mutations in CloudTrail', async () => {
    await eks.send(new TagResourceCommand({ resourceArn: arn, tags: { owner: 'alice', env: 'production' } }));
    expect((await eks.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'platform', env: 'production', owner: 'alice' });
    await eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['owner', 'team'] }));
    expect((await eks.send(new DescribeClusterCommand({ name: 'prod-api' }))).cluster?.tags).toEqual({ env: 'production' });
    expect(clusterIn(emulator, PROD, 'us-east-1', 'prod-api').tags).toEqual({ env: 'production' });
    expect(emulator.cloudTrailEvents().map((e) => [e.detail.eventName, e.detail.requestParameters])).toEqual([
      ['TagResource', { resourceArn: arn, tags: { owner: 'alice', env: 'production' } }],
      ['UntagResource', { resourceArn: arn, tagKeys: ['owner', 'team'] }],
    ]);
  });

  it.each([
    ['an unknown cluster', () => new ListTagsForResourceCommand({ resourceArn: `arn:aws:eks:us-east-1:${PROD}:cluster/ghost` }), 'NotFoundException', 404],
    ['a cluster of another account', () => new ListTagsForResourceCommand({ resourceArn: `arn:aws:eks:us-east-1:${SANDBOX}:cluster/sandbox-dev` }), 'NotFoundException', 404],
    ['a malformed ARN', () => new ListTagsForResourceCommand({ resourceArn: 'prod-api' }), 'BadRequestException', 400],
    ['a reserved tag key', () => new TagResourceCommand({ resourceArn: arn, tags: { 'aws:owner': 'x' } }), 'BadRequestException', 400],
    ['no tag keys', () => new UntagResourceCommand({ resourceArn: arn, tagKeys: [] }), 'BadRequestException', 400],
  ])('refuses %s', async (_what, command, name, status) => {
    const err = await rejectionOf(eks.send(command() as never));
    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(clusterIn(emulator, PROD, 'us-east-1', 'prod-api').tags).toEqual({ team: 'platform', env: 'prod' });
  });
});

describe('DeleteCluster', () => {
  it('answers DELETING, records CloudTrail, and the cluster is gone for every later call', async () => {
    const { cluster } = await eks.send(new DeleteClusterCommand({ name: 'prod-payments' }));
    expect(cluster).toMatchObject({ name: 'prod-payments', status: 'DELETING' });
    expect((await rejectionOf(eks.send(new DescribeClusterCommand({ name: 'prod-payments' })))).name).toBe('ResourceNotFoundException');
    expect((await eks.send(new ListClustersCommand({}))).clusters).not.toContain('prod-payments');
    const event = emulator.cloudTrailEvents().at(-1)!;
    expect(event.detail).toMatchObject({ eventName: 'DeleteCluster', requestParameters: { name: 'prod-payments' } });
  });

  it('refuses while an update is in progress, and refuses an unknown cluster', async () => {
    await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }));
    expect((await rejectionOf(eks.send(new DeleteClusterCommand({ name: 'prod-api' })))).name).toBe('ResourceInUseException');
    expect((await rejectionOf(eks.send(new DeleteClusterCommand({ name: 'no-such-cluster' })))).name).toBe('ResourceNotFoundException');
  });
});
