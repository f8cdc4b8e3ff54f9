import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { createClientFactory, partitionOf, type ClientFactory, type Instrumentable } from '../../src/aws/clients';
import { ec2Wiring } from '../../src/aws/ec2';
import { eksWiring } from '../../src/aws/eks';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, InputError } from '../../src/errors';
import type { Emulator } from '../../src/emulator';
import { GUARD_ROLE_ARN, PROD, REGION, SANDBOX, callCounter, cluster, rejectionOf, useAdapterEmulator } from './helpers';

const MEMBER_ROLE = 'eks-endpoint-guard-member';

let emulator: Emulator;

useAdapterEmulator((e) => (emulator = e));

/** Records the RoleArn of every AssumeRole sent through the clients it instruments. */
function assumedRoles(): { assumed: string[]; instrument: (client: Instrumentable) => void } {
  const assumed: string[] = [];
  const instrument = (client: Instrumentable) => {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if ((context as { commandName?: string }).commandName === 'AssumeRoleCommand') assumed.push(String((args.input as { RoleArn?: string }).RoleArn));
        return next(args);
      },
      { step: 'initialize', name: 'recordAssumedRoles' },
    );
  };
  return { assumed, instrument };
}

function factory(overrides: Parameters<typeof createClientFactory>[0] = {}) {
  const counter = callCounter();
  const roles = assumedRoles();
  const clients: ClientFactory = createClientFactory({
    endpoint: emulator.url,
    credentials: emulator.credentialsFor(GUARD_ROLE_ARN),
    homeAccount: PROD,
    crossAccountRoleName: MEMBER_ROLE,
    maxAttempts: 1,
    now: () => emulator.clock.now(),
    instrument: (client) => {
      counter.instrument(client);
      roles.instrument(client);
    },
    ...overrides,
  });
  const context = { clients, config: loadConfig({}), now: () => emulator.clock.now() };
  // The adapters as the handlers wire them: EKS and EC2 reach each cluster's own account.
  return { clients, eks: eksWiring(context), ec2: ec2Wiring(context), counts: counter.counts, assumed: roles.assumed };
}

/** sandbox-dev as the demo state creates it: EKS's defaults (public to the world, no private endpoint). */
const SANDBOX_DEFAULTS = { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };

describe('cross-account access', () => {
  it('acts in the home account with the own credentials, without AssumeRole', async () => {
    const { eks, counts } = factory();

    expect((await eks.listClusters(PROD, REGION)).sort()).toEqual(['prod-api', 'prod-payments']);
    expect(counts.AssumeRole).toBeUndefined();
  });

  it('acts in another account as the cross-account role, as that account\'s CloudTrail shows', async () => {
    const { eks, counts } = factory();

    expect(await eks.listClusters(SANDBOX, REGION)).toEqual(['sandbox-dev']);
    await eks.updateEndpointAccess(
      cluster('sandbox-dev', SANDBOX),
      { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] },
      { observed: SANDBOX_DEFAULTS, token: 'guard-token-sandbox-1' },
    );

    expect(counts.AssumeRole).toBe(1);
    const event = emulator.cloudTrailEvents().find((e) => e.detail.eventName === 'UpdateClusterConfig')!;
    expect(event.account).toBe(SANDBOX);
    expect(event.detail.userIdentity.arn).toBe(`arn:aws:sts::${SANDBOX}:assumed-role/${MEMBER_ROLE}/eks-endpoint-guard`);
    expect(event.detail.userIdentity.sessionContext?.sessionIssuer.arn).toBe(`arn:aws:iam::${SANDBOX}:role/${MEMBER_ROLE}`);
  });

  it('shares one set of assumed credentials between the EKS and EC2 clients of an account, and across concurrent calls', async () => {
    const { eks, ec2, counts } = factory();

    await Promise.all([
      eks.describeCluster(cluster('sandbox-dev', SANDBOX)),
      eks.listClusters(SANDBOX, REGION),
      ec2.vpcDnsFacts(cluster('sandbox-dev', SANDBOX), 'vpc-0b1b2c3d4e5f60001'),
    ]);
    await eks.describeCluster(cluster('sandbox-dev', SANDBOX));

    expect(counts.AssumeRole).toBe(1);
  });

  it('assumes the role again when the credentials are about to expire', async () => {
    const { eks, counts } = factory();
    await eks.listClusters(SANDBOX, REGION);

    emulator.clock.advance(50 * 60_000);
    await eks.listClusters(SANDBOX, REGION);
    expect(counts.AssumeRole).toBe(1);

    emulator.clock.advance(6 * 60_000);
    await eks.listClusters(SANDBOX, REGION);
    expect(counts.AssumeRole).toBe(2);
  });

  it('refuses to act in another account when no cross-account role is configured', async () => {
    const { eks } = factory({ crossAccountRoleName: undefined });

    const err = await rejectionOf(eks.describeCluster(cluster('sandbox-dev', SANDBOX)));

    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(`cluster account ${SANDBOX} is not the home account ${PROD}, and MEMBER_READ_ROLE_NAME is not set`);
  });

  it('maps a refused AssumeRole to a GuardError naming the role', async () => {
    const { eks } = factory({ crossAccountRoleName: 'not a valid role name' });

    const err = await rejectionOf(eks.describeCluster(cluster('sandbox-dev', SANDBOX)));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err.message).toContain(`AssumeRole on arn:aws:iam::${SANDBOX}:role/not a valid role name failed`);
  });
});

describe('member read and write roles', () => {
  const READ_ROLE = 'eks-endpoint-guard-member-read';
  const WRITE_ROLE = 'eks-endpoint-guard-member-write';
  const READ_ARN = `arn:aws:iam::${SANDBOX}:role/${READ_ROLE}`;
  const WRITE_ARN = `arn:aws:iam::${SANDBOX}:role/${WRITE_ROLE}`;
  const split = { crossAccountRoleName: undefined, memberReadRoleName: READ_ROLE, memberWriteRoleName: WRITE_ROLE };
  const NARROWED = { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] };

  type Adapters = ReturnType<typeof factory>;
  // Every AWS call the functions make in a member account, and the role it must go through.
  const calls: [string, (a: Adapters) => Promise<unknown>, string][] = [
    ['ListClusters', (a) => a.eks.listClusters(SANDBOX, REGION), READ_ARN],
    ['DescribeCluster', (a) => a.eks.describeCluster(cluster('sandbox-dev', SANDBOX)), READ_ARN],
    ['the EC2 describes of the preflight check', (a) => a.ec2.vpcDnsFacts(cluster('sandbox-dev', SANDBOX), 'vpc-0b1b2c3d4e5f60001'), READ_ARN],
    ['UpdateClusterConfig', (a) => a.eks.updateEndpointAccess(cluster('sandbox-dev', SANDBOX), NARROWED, { observed: SANDBOX_DEFAULTS, token: 'guard-token-split-1' }), WRITE_ARN],
  ];

  it.each(calls)('%s goes through its own member role only', async (_name, act, role) => {
    const adapters = factory(split);

    await act(adapters);

    expect(adapters.assumed).toEqual([role]);
  });

  it('polls the guard\'s own update (DescribeUpdate) through the read role', async () => {
    const adapters = factory(split);
    const { updateId } = await adapters.eks.updateEndpointAccess(cluster('sandbox-dev', SANDBOX), NARROWED, { observed: SANDBOX_DEFAULTS, token: 'guard-token-split-2' });

    await adapters.eks.describeUpdate(cluster('sandbox-dev', SANDBOX), updateId!);

    expect(adapters.assumed).toEqual([WRITE_ARN, READ_ARN]);
  });

  it('changes a member cluster as the write role session, which is what triage recognizes as the guard', async () => {
    const adapters = factory(split);

    await adapters.eks.updateEndpointAccess(cluster('sandbox-dev', SANDBOX), NARROWED, { observed: SANDBOX_DEFAULTS, token: 'guard-token-split-3' });

    const event = emulator.cloudTrailEvents().find((e) => e.detail.eventName === 'UpdateClusterConfig')!;
    expect(event.detail.userIdentity.sessionContext?.sessionIssuer.arn).toBe(WRITE_ARN);
  });

  it('uses the function\'s own credentials for both in the home account: one client, no AssumeRole', async () => {
    const { clients, counts } = factory(split);

    const read = clients.forAccount(EKSClient, PROD, REGION, 'read');

    expect(clients.forAccount(EKSClient, PROD, REGION, 'write')).toBe(read);
    expect(clients.forAccount(EKSClient, PROD, REGION)).toBe(read);
    expect(clients.forAccount(EKSClient, SANDBOX, REGION, 'write')).not.toBe(clients.forAccount(EKSClient, SANDBOX, REGION, 'read'));
    expect(counts.AssumeRole).toBeUndefined();
  });

  it('refuses to write where no write role is configured, naming the setting, and still reads', async () => {
    const adapters = factory({ ...split, memberWriteRoleName: undefined });

    expect(await adapters.eks.listClusters(SANDBOX, REGION)).toEqual(['sandbox-dev']);
    const err = await rejectionOf(adapters.eks.updateEndpointAccess(cluster('sandbox-dev', SANDBOX), NARROWED, { observed: SANDBOX_DEFAULTS, token: 'guard-token-split-4' }));

    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('MEMBER_WRITE_ROLE_NAME is not set: the guard cannot write there');
  });

  it.each<[string, Parameters<typeof createClientFactory>[0], string[]]>([
    ['the single cross-account role stands in for both', { crossAccountRoleName: MEMBER_ROLE }, [`arn:aws:iam::${SANDBOX}:role/${MEMBER_ROLE}`, `arn:aws:iam::${SANDBOX}:role/${MEMBER_ROLE}`]],
    ['the member role names win over it', { ...split, crossAccountRoleName: MEMBER_ROLE }, [READ_ARN, WRITE_ARN]],
    ['it stands in only for the unset one', { crossAccountRoleName: MEMBER_ROLE, memberReadRoleName: READ_ROLE }, [READ_ARN, `arn:aws:iam::${SANDBOX}:role/${MEMBER_ROLE}`]],
  ])('role names: %s', async (_name, names, expected) => {
    const { clients, assumed } = factory({ crossAccountRoleName: undefined, ...names });

    const credentials = [await clients.forAccount(EKSClient, SANDBOX, REGION, 'read').config.credentials(), await clients.forAccount(EKSClient, SANDBOX, REGION, 'write').config.credentials()];

    // One AssumeRole per distinct role: the single role's credentials serve both kinds of call.
    expect(assumed).toEqual([...new Set(expected)]);
    expect(credentials[0]!.accessKeyId === credentials[1]!.accessKeyId).toBe(expected[0] === expected[1]);
  });

  it('acts as a named role (the Organizations reader) through asRole, and as itself without one', async () => {
    const ORG_READER = `arn:aws:iam::${SANDBOX}:role/eks-endpoint-guard-organizations-reader`;
    const { clients, assumed } = factory(split);

    const own = clients.asRole(EKSClient, undefined, REGION);
    expect(clients.asRole(EKSClient, '', REGION)).toBe(own);
    await own.config.credentials();
    expect(assumed).toEqual([]);

    const reader = clients.asRole(EKSClient, ORG_READER, REGION);
    await reader.config.credentials();
    await clients.asRole(EKSClient, ORG_READER, 'eu-west-1').config.credentials();
    expect(clients.asRole(EKSClient, ORG_READER, REGION)).toBe(reader);
    expect(assumed).toEqual([ORG_READER]);
  });
});

describe('client settings', () => {
  it('honours maxAttempts: the SDK retries a throttled call within the budget', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'ListClusters', times: 1 });
    const { eks } = factory({ maxAttempts: 3 });

    expect((await eks.listClusters(PROD, REGION)).sort()).toEqual(['prod-api', 'prod-payments']);
  });

  it('reports every client it builds to instrument, once', () => {
    const built: unknown[] = [];
    const clients = createClientFactory({ endpoint: emulator.url, instrument: (c) => built.push(c) });

    const all = [
      clients.forAccount(EKSClient, PROD, REGION),
      clients.forAccount(EKSClient, PROD, REGION),
      clients.forAccount(EC2Client, PROD, REGION),
      clients.home(SNSClient, REGION),
      clients.home(SFNClient, REGION),
      clients.home(SFNClient, REGION),
      clients.home(DynamoDBClient, REGION),
    ];

    expect(built).toHaveLength(5);
    expect(new Set(all).size).toBe(5);
  });

  it('builds one client per class, account and region, of the class it is given', () => {
    const clients = createClientFactory({ endpoint: emulator.url, homeAccount: PROD, crossAccountRoleName: MEMBER_ROLE });

    const eks = clients.forAccount(EKSClient, PROD, REGION);

    expect(eks).toBeInstanceOf(EKSClient);
    expect(clients.forAccount(EC2Client, PROD, REGION)).toBeInstanceOf(EC2Client);
    expect(clients.home(SNSClient, REGION)).toBeInstanceOf(SNSClient);
    expect(clients.forAccount(EKSClient, PROD, REGION)).toBe(eks);
    expect(clients.forAccount(EKSClient, PROD, 'eu-west-1')).not.toBe(eks);
    expect(clients.forAccount(EKSClient, SANDBOX, REGION)).not.toBe(eks);
    expect(clients.home(SNSClient, REGION)).not.toBe(clients.home(SNSClient, 'eu-west-1'));
  });

  it('applies home overrides to the client it builds (the ledger gets more SDK attempts)', async () => {
    const clients = createClientFactory({ endpoint: emulator.url, maxAttempts: 2 });

    const ledger = clients.home(DynamoDBClient, REGION, { maxAttempts: 5 });
    const topic = clients.home(SNSClient, REGION);

    expect(await ledger.config.maxAttempts()).toBe(5);
    expect(await topic.config.maxAttempts()).toBe(2);
  });

  it('calls STS only once another account is reached, and once per member role for all its regions', async () => {
    const { eks, counts, assumed } = factory();

    await eks.listClusters(PROD, REGION);
    expect(counts.AssumeRole).toBeUndefined();

    await eks.listClusters(SANDBOX, REGION);
    await eks.listClusters(SANDBOX, 'eu-west-1');
    // One role ARN per account and partition: the second region reuses its credentials.
    expect(assumed).toEqual([`arn:aws:iam::${SANDBOX}:role/${MEMBER_ROLE}`]);
  });

  it.each([
    ['us-east-1', 'aws'],
    ['eu-west-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
  ])('puts %s in partition %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });
});
