import { EKSClient } from '@aws-sdk/client-eks';
import { createClientFactory } from '../../src/aws/clients';
import { createEksPort, eksWiring } from '../../src/aws/eks';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, ClusterBusyError, ClusterNotFoundError, InputError, TransientAwsError } from '../../src/errors';
import { guardrailDenies, type GuardrailRequest } from '../../src/iam/guardrail';
import type { Emulator, EmulatorState } from '../../src/emulator';
import type { EndpointConfig } from '../../src/policy/types';
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
  return createEksPort((account, region) => clients.forAccount(EKSClient, account, region), { pageSize: options.pageSize });
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

/** prod-api as the demo state has it: the observed configuration a remediation is checked against. */
const PROD_API: EndpointConfig = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'] };
/** A cluster with EKS's defaults in the home account: public to the world, no private endpoint. */
const PROD_OPEN: EndpointConfig = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };

/** The demo state plus prod-open, created with EKS's endpoint defaults. */
function withOpenCluster(): EmulatorState {
  const base = demoState();
  return { ...base, clusters: [...(base.clusters ?? []), { name: 'prod-open', account: PROD, region: REGION, vpcId: 'vpc-0a1b2c3d4e5f60001' }] };
}

const remediation = (observed: EndpointConfig, token = 'guard-exec-1-attempt-1') => ({ observed, token });

describe('updateEndpointAccess and describeUpdate', () => {
  it('starts an update with the endpoint fields only, and follows it to Successful', async () => {
    const target = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] };

    const { updateId } = await eks.updateEndpointAccess(cluster('prod-api'), target, remediation(PROD_API, 'token-follow'));

    expect(updateId).toEqual(expect.any(String));
    expect(lastUpdateRequest()).toEqual({ name: 'prod-api', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24'] }, clientRequestToken: 'token-follow' });
    expect(await eks.describeUpdate(cluster('prod-api'), updateId!)).toEqual({ id: updateId, status: 'InProgress', type: 'EndpointAccessUpdate', errors: [] });
    emulator.clock.advance(61_000);
    expect((await eks.describeUpdate(cluster('prod-api'), updateId!)).status).toBe('Successful');
    expect((await eks.describeCluster(cluster('prod-api'))).resourcesVpcConfig).toMatchObject(target);
  });

  // Each flag is sent only when it changes, and then only in the narrowing direction the IAM guardrail
  // allows; publicAccessCidrs only while public access stays on. EKS keeps what is left out.
  it.each([
    {
      what: 'narrows the CIDRs only: no flag',
      name: 'prod-api',
      observed: PROD_API,
      target: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] },
      sent: { publicAccessCidrs: ['203.0.113.0/24'] },
    },
    {
      what: 'turns public access off: that flag only, no CIDRs',
      name: 'prod-api',
      observed: PROD_API,
      target: { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] },
      sent: { endpointPublicAccess: false },
    },
    {
      what: 'turns private access on and narrows the CIDRs',
      name: 'prod-open',
      observed: PROD_OPEN,
      target: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['198.51.100.7/32'] },
      sent: { endpointPrivateAccess: true, publicAccessCidrs: ['198.51.100.7/32'] },
    },
    {
      what: 'turns public access off and private access on: both flags',
      name: 'prod-open',
      observed: PROD_OPEN,
      target: { endpointPublicAccess: false, endpointPrivateAccess: true },
      sent: { endpointPublicAccess: false, endpointPrivateAccess: true },
    },
  ])('$what', async ({ name, observed, target, sent }) => {
    emulator.loadState(withOpenCluster());
    const token = `token-${name}-${Object.keys(sent).join('-')}`;

    const { updateId } = await eks.updateEndpointAccess(cluster(name), target, remediation(observed, token));

    const request = lastUpdateRequest();
    expect(request).toEqual({ name, resourcesVpcConfig: sent, clientRequestToken: token });
    expect(guardrailDenies(request.resourcesVpcConfig as GuardrailRequest)).toEqual([]);
    emulator.clock.advance(61_000);
    expect((await eks.describeUpdate(cluster(name), updateId!)).status).toBe('Successful');
    const after = (await eks.describeCluster(cluster(name))).resourcesVpcConfig as EndpointConfig;
    expect({ endpointPublicAccess: after.endpointPublicAccess, endpointPrivateAccess: after.endpointPrivateAccess }).toEqual({
      endpointPublicAccess: target.endpointPublicAccess,
      endpointPrivateAccess: target.endpointPrivateAccess,
    });
    if (target.endpointPublicAccess) expect(after.publicAccessCidrs).toEqual(target.publicAccessCidrs);
  });

  it('answers a repeated call with the same token with the same update (a retried step starts nothing new)', async () => {
    const target = { endpointPublicAccess: false, endpointPrivateAccess: true };

    const first = await eks.updateEndpointAccess(cluster('prod-api'), target, remediation(PROD_API, 'token-retried'));
    const again = await eks.updateEndpointAccess(cluster('prod-api'), target, remediation(PROD_API, 'token-retried'));

    expect(again.updateId).toBe(first.updateId);
    expect(emulator.snapshot().clusters.find((c) => c.name === 'prod-api')!.updates).toHaveLength(1);
  });

  // The guardrail would deny these anyway; the adapter refuses them before any call, whatever EKS would say.
  it.each([
    {
      what: 'turns public access on',
      name: 'prod-payments',
      observed: { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: [] },
      target: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
      flag: 'endpointPublicAccess',
    },
    {
      what: 'turns private access off (both endpoints off)',
      name: 'prod-api',
      observed: PROD_API,
      target: { endpointPublicAccess: false, endpointPrivateAccess: false },
      flag: 'endpointPrivateAccess',
    },
  ])('refuses a target that $what before calling EKS, naming $flag', async ({ name, observed, target, flag }) => {
    const err = await rejectionOf(eks.updateEndpointAccess(cluster(name), target, remediation(observed)));

    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(flag);
    expect(emulator.cloudTrailEvents().filter((e) => e.detail.eventName === 'UpdateClusterConfig')).toHaveLength(0);
  });

  it('reports "already at the desired configuration" as no update', async () => {
    // Judged while prod-payments was still public: by the time of the call it already is what the target says.
    const stale = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] };

    const result = await eks.updateEndpointAccess(cluster('prod-payments'), { endpointPublicAccess: false, endpointPrivateAccess: true }, remediation(stale));

    expect(result).toEqual({ updateId: null });
    expect(lastUpdateRequest().resourcesVpcConfig).toEqual({ endpointPublicAccess: false });
  });

  it('maps a platform update in progress to ClusterBusyError', async () => {
    emulator.startPlatformUpdate({ account: PROD, region: REGION, cluster: 'prod-api', seconds: 600 });

    const err = await rejectionOf(eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true }, remediation(PROD_API)));

    expect(err).toBeInstanceOf(ClusterBusyError);
    expect(err.message).toContain('UpdateClusterConfig on cluster prod-api');
    expect(err.message).toContain('ResourceInUseException');
  });

  it('maps another endpoint update still in progress to ClusterBusyError', async () => {
    await eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true }, remediation(PROD_API, 'token-first'));

    const err = await rejectionOf(
      eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }, remediation(PROD_API, 'token-second')),
    );

    expect(err).toBeInstanceOf(ClusterBusyError);
  });

  it('maps an EKS refusal to AwsRequestRejectedError with the AWS error name', async () => {
    // EKS accepts only public CIDRs in publicAccessCidrs.
    const err = await rejectionOf(
      eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['10.0.0.0/8'] }, remediation(PROD_API)),
    );

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('InvalidParameterException');
    expect(err.message).toContain('UpdateClusterConfig on cluster prod-api');
    expect(err.message).toContain('The following CIDRs are invalid in publicAccessCidrs: [10.0.0.0/8]');
  });

  it('maps a throttled UpdateClusterConfig to TransientAwsError', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'UpdateClusterConfig', times: 1 });

    const err = await rejectionOf(eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true }, remediation(PROD_API)));

    expect(err).toBeInstanceOf(TransientAwsError);
  });

  it('maps an unknown cluster to ClusterNotFoundError', async () => {
    const err = await rejectionOf(eks.updateEndpointAccess(cluster('gone'), { endpointPublicAccess: false, endpointPrivateAccess: true }, remediation(PROD_API)));

    expect(err).toBeInstanceOf(ClusterNotFoundError);
  });

  it('returns the errors of an update that ended Failed', async () => {
    const errors = [{ errorCode: 'AccessDenied', errorMessage: 'the cluster role is missing', resourceIds: ['prod-api'] }];
    emulator.setFault({ kind: 'update-fails', cluster: 'prod-api', errors, times: 1 });
    const { updateId } = await eks.updateEndpointAccess(cluster('prod-api'), { endpointPublicAccess: false, endpointPrivateAccess: true }, remediation(PROD_API));
    emulator.clock.advance(61_000);

    const update = await eks.describeUpdate(cluster('prod-api'), updateId!);

    expect(update).toEqual({ id: updateId, status: 'Failed', type: 'EndpointAccessUpdate', errors: [{ errorCode: 'AccessDenied', errorMessage: 'the cluster role is missing' }] });
  });

  // EKS answers ResourceNotFoundException for both; only a missing cluster means it was deleted.
  it('maps an unknown update id of a live cluster to AwsRequestRejectedError naming the update, not to a deleted cluster', async () => {
    const err = await rejectionOf(eks.describeUpdate(cluster('prod-api'), '00000000-0000-0000-0000-000000000000'));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err).not.toBeInstanceOf(ClusterNotFoundError);
    expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('UpdateNotFound');
    expect(err.message).toContain('update 00000000-0000-0000-0000-000000000000');
  });

  it('maps DescribeUpdate on a deleted cluster to ClusterNotFoundError', async () => {
    const err = await rejectionOf(eks.describeUpdate(cluster('gone'), '00000000-0000-0000-0000-000000000000'));

    expect(err).toBeInstanceOf(ClusterNotFoundError);
    expect(err.message).toContain('cluster gone');
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

describe('eksWiring', () => {
  it('reaches each cluster in its own account with one client per account and region', async () => {
    const built: unknown[] = [];
    const clients = createClientFactory({
      endpoint: emulator.url,
      credentials: emulator.credentialsFor(GUARD_ROLE_ARN),
      homeAccount: PROD,
      crossAccountRoleName: 'eks-endpoint-guard-member',
      maxAttempts: 1,
      now: () => emulator.clock.now(),
      instrument: (c) => built.push(c),
    });
    const wired = eksWiring({ clients, config: loadConfig({}), now: () => emulator.clock.now() });

    expect((await wired.describeCluster(cluster('prod-api'))).name).toBe('prod-api');
    expect(await wired.listClusters(SANDBOX, REGION)).toEqual(['sandbox-dev']);
    await wired.describeCluster(cluster('prod-payments'));

    const eksClients = built.filter((c) => c instanceof EKSClient);
    expect(eksClients).toHaveLength(2);
    expect(eksClients[0]).toBe(clients.forAccount(EKSClient, PROD, REGION));
    expect(eksClients[1]).toBe(clients.forAccount(EKSClient, SANDBOX, REGION));
  });
});
