import { EKSClient } from '@aws-sdk/client-eks';
import { createClientFactory } from '../../src/aws/clients';
import { createEksPort } from '../../src/aws/eks';
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, TransientAwsError } from '../../src/errors';
import type { Emulator, EmulatorState } from '../../src/local/emulator';
import type { EksPort } from '../../src/workflow/ports';
import { GUARD_ROLE_ARN, PROD, REGION, SANDBOX, callCounter, cluster, demoState, rejectionOf, useAdapterEmulator } from './helpers';

let emulator: Emulator;
let eks: EksPort;

function portFor(options: { pageSize?: number; instrument?: ReturnType<typeof callCounter>['instrument'] } = {}): EksPort {
  const clients = createClientFactory({
    endpoint: emulator.url,
    credentials: emulator.credentialsFor(GUARD_ROLE_ARN),
    homeAccount: PROD,
    maxAttempts: 1,
    instrument: options.instrument,
  });
  return createEksPort((account, region) => clients.eks(account, region), { pageSize: options.pageSize });
}

/** The request parameters of the last UpdateClusterConfig the emulator recorded in CloudTrail. */
function lastUpdateRequest(): Record<string, unknown> {
  const events = emulator.cloudTrailEvents().filter((e) => e.detail.eventName === 'UpdateClusterConfig');
  return events[events.length - 1]!.detail.requestParameters as Record<string, unknown>;
}

useAdapterEmulator((e) => (emulator = e));
beforeEach(() => {
  eks = portFor();
});

describe('describeCluster', () => {
  it('returns the cluster as plain JSON, dates as epoch seconds', async () => {
    const described = await eks.describeCluster(cluster('prod-api'));

    expect(described).toMatchObject({
      name: 'prod-api',
      arn: `arn:aws:eks:${REGION}:${PROD}:cluster/prod-api`,
      status: 'ACTIVE',
      tags: { team: 'platform', env: 'prod' },
      resourcesVpcConfig: {
        vpcId: 'vpc-0a1b2c3d4e5f60001',
        endpointPublicAccess: true,
        endpointPrivateAccess: true,
        publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
      },
    });
    expect(described.createdAt).toBe(emulator.clock.now() / 1000);
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });

  it('maps an unknown cluster to ClusterNotFoundError naming it', async () => {
    const err = await rejectionOf(eks.describeCluster(cluster('no-such-cluster')));

    expect(err).toBeInstanceOf(ClusterNotFoundError);
    expect(err.message).toContain('DescribeCluster on cluster no-such-cluster (111122223333/us-east-1)');
  });

  it.each([
    ['throttle', 'ThrottlingException'],
    ['server-error', 'ServerException'],
  ] as const)('maps an injected %s fault to TransientAwsError', async (kind, awsName) => {
    emulator.setFault({ kind, operation: 'DescribeCluster', times: 1 });

    const err = await rejectionOf(eks.describeCluster(cluster('prod-api')));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toContain(awsName);
    expect((await eks.describeCluster(cluster('prod-api'))).name).toBe('prod-api');
  });
});

describe('updateEndpointAccess and describeUpdate', () => {
  it('starts an update with the endpoint fields only, and follows it to Successful', async () => {
    const target = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] };

    const { updateId } = await eks.updateEndpointAccess(cluster('prod-api'), target);

    expect(updateId).toEqual(expect.any(String));
    expect(lastUpdateRequest()).toEqual({ name: 'prod-api', resourcesVpcConfig: target, clientRequestToken: expect.any(String) });
    expect(await eks.describeUpdate(cluster('prod-api'), updateId!)).toEqual({ id: updateId, status: 'InProgress', type: 'EndpointAccessUpdate', errors: [] });
    emulator.clock.advance(61_000);
    expect((await eks.describeUpdate(cluster('prod-api'), updateId!)).status).toBe('Successful');
    expect((await eks.describeCluster(cluster('prod-api'))).resourcesVpcConfig).toMatchObject({ publicAccessCidrs: ['203.0.113.0/24'] });
  });

  it('leaves publicAccessCidrs out when the target turns public access off', async () => {
    await eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] });

    expect(lastUpdateRequest().resourcesVpcConfig).toEqual({ endpointPublicAccess: false, endpointPrivateAccess: true });
  });

  it('reports "already at the desired configuration" as no update', async () => {
    const result = await eks.updateEndpointAccess(cluster('prod-payments'), { endpointPublicAccess: false, endpointPrivateAccess: true });

    expect(result).toEqual({ updateId: null });
  });

  it('maps a platform update in progress to ClusterBusyError', async () => {
    emulator.startPlatformUpdate({ account: PROD, region: REGION, cluster: 'prod-api', seconds: 600 });

    const err = await rejectionOf(eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true }));

    expect(err).toBeInstanceOf(ClusterBusyError);
    expect(err.message).toContain('UpdateClusterConfig on cluster prod-api');
    expect(err.message).toContain('ResourceInUseException');
  });

  it('maps another endpoint update still in progress to ClusterBusyError', async () => {
    await eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true });

    const err = await rejectionOf(eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }));

    expect(err).toBeInstanceOf(ClusterBusyError);
  });

  it('maps both endpoints off to AwsRequestRejectedError with the AWS error name', async () => {
    const err = await rejectionOf(eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: false }));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('InvalidParameterException');
    expect(err.message).toContain('Both private and public endpoint access cannot be false');
  });

  it('maps a throttled UpdateClusterConfig to TransientAwsError', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'UpdateClusterConfig', times: 1 });

    const err = await rejectionOf(eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true }));

    expect(err).toBeInstanceOf(TransientAwsError);
  });

  it('maps an unknown cluster to ClusterNotFoundError', async () => {
    const err = await rejectionOf(eks.updateEndpointAccess(cluster('gone'), { endpointPublicAccess: false, endpointPrivateAccess: true }));

    expect(err).toBeInstanceOf(ClusterNotFoundError);
  });

  it('returns the errors of an update that ended Failed', async () => {
    const errors = [{ errorCode: 'AccessDenied', errorMessage: 'the cluster role is missing', resourceIds: ['prod-api'] }];
    emulator.setFault({ kind: 'update-fails', cluster: 'prod-api', errors, times: 1 });
    const { updateId } = await eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true });
    emulator.clock.advance(61_000);

    const update = await eks.describeUpdate(cluster('prod-api'), updateId!);

    expect(update).toEqual({ id: updateId, status: 'Failed', type: 'EndpointAccessUpdate', errors: [{ errorCode: 'AccessDenied', errorMessage: 'the cluster role is missing' }] });
  });

  it('maps an unknown update id to ClusterNotFoundError naming the update', async () => {
    const err = await rejectionOf(eks.describeUpdate(cluster('prod-api'), '00000000-0000-0000-0000-000000000000'));

    expect(err).toBeInstanceOf(ClusterNotFoundError);
    expect(err.message).toContain('update 00000000-0000-0000-0000-000000000000');
  });
});

describe('listClusters', () => {
  it('lists the clusters of one account and region', async () => {
    expect((await eks.listClusters(PROD, REGION)).sort()).toEqual(['prod-api', 'prod-payments']);
    expect(await eks.listClusters(PROD, 'eu-west-1')).toEqual(['legacy-billing']);
  });

  it('follows nextToken across pages', async () => {
    const { counts, instrument } = callCounter();
    const paged = portFor({ pageSize: 1, instrument });

    expect((await paged.listClusters(PROD, REGION)).sort()).toEqual(['prod-api', 'prod-payments']);
    expect(counts.ListClusters).toBe(2);
  });

  it('returns every one of more than 100 clusters (EKS pages at 100)', async () => {
    const base = demoState();
    const many: EmulatorState = {
      ...base,
      clusters: [...(base.clusters ?? []), ...Array.from({ length: 130 }, (_, i) => ({ name: `fleet-${String(i).padStart(3, '0')}`, account: PROD, region: REGION }))],
    };
    emulator.loadState(many);
    const { counts, instrument } = callCounter();

    const names = await portFor({ instrument }).listClusters(PROD, REGION);

    expect(names).toHaveLength(132);
    expect(new Set(names).size).toBe(132);
    expect(counts.ListClusters).toBe(2);
  });

  it('maps a throttled ListClusters to TransientAwsError naming the account and region', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'ListClusters', times: 1 });

    const err = await rejectionOf(eks.listClusters(PROD, REGION));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toContain(`ListClusters on ${PROD}/${REGION}`);
  });
});

describe('clients', () => {
  it('uses one client per account and region', () => {
    const clients = createClientFactory({ endpoint: emulator.url, homeAccount: PROD, crossAccountRoleName: 'guard' });

    expect(clients.eks(PROD, REGION)).toBe(clients.eks(PROD, REGION));
    expect(clients.eks(PROD, REGION)).not.toBe(clients.eks(PROD, 'eu-west-1'));
    expect(clients.eks(SANDBOX, REGION)).not.toBe(clients.eks(PROD, REGION));
    expect(clients.eks(PROD, REGION)).toBeInstanceOf(EKSClient);
  });
});
