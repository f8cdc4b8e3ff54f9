import * as z from 'zod';
import { EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InputError } from '../../src/errors';
import { emulatorStateSchema, manualClock, parseEmulatorState, startEmulator, type Emulator } from '../../src/emulator';
import { demoState, rejectionOf } from './helpers';

function problemsOf(doc: unknown): string[] {
  try {
    parseEmulatorState(doc, 'state.yaml');
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected the state to be refused');
}

const account = (id: string) => ({ id });
const cluster = { name: 'c1', account: '111122223333', region: 'us-east-1' };

describe('state file', () => {
  it('parses the demo fixture and fills in defaults', () => {
    const state = demoState();
    expect(state.accounts.map((a) => a.name)).toEqual(['prod', 'sandbox']);
    const sandboxDev = state.clusters.find((c) => c.name === 'sandbox-dev')!;
    expect(sandboxDev).toMatchObject({ endpointPublicAccess: true, endpointPrivateAccess: false, status: 'ACTIVE', version: '1.33', ipFamily: 'ipv4' });
    expect(sandboxDev.publicAccessCidrs).toBeUndefined();
    const euVpc = state.vpcs.find((v) => v.region === 'eu-west-1')!;
    expect(euVpc).toMatchObject({ enableDnsSupport: true, enableDnsHostnames: false, dhcpOptions: { domainNameServers: ['AmazonProvidedDNS'] } });
  });

  it('treats an empty document as an empty state', () => {
    expect(parseEmulatorState(null, 'empty.yaml')).toEqual({ accounts: [], vpcs: [], clusters: [], topics: [], dynamodb: { tables: [] }, roles: [], faults: [] });
  });

  it.each([
    ['an unknown top-level key', { clusterz: [] }, 'state.yaml: unknown key "clusterz"'],
    ['an unknown nested key', { accounts: [account('111122223333')], clusters: [{ ...cluster, endpoint: true }] }, 'state.yaml: clusters[0]: unknown key "endpoint"'],
    ['a malformed account id', { accounts: [account('1234')] }, 'state.yaml: accounts[0].id: must be a 12-digit AWS account id'],
    ['a malformed region', { accounts: [account('111122223333')], clusters: [{ ...cluster, region: 'useast1' }] }, 'state.yaml: clusters[0].region: must be an AWS region name'],
    ['a CIDR with host bits', { accounts: [account('111122223333')], clusters: [{ ...cluster, publicAccessCidrs: ['203.0.113.5/24'] }] }, 'state.yaml: clusters[0].publicAccessCidrs[0]: must be a CIDR block'],
    ['a wrong type', { accounts: [account('111122223333')], clusters: [{ ...cluster, endpointPublicAccess: 'yes' }] }, 'state.yaml: clusters[0].endpointPublicAccess: Invalid input: expected boolean'],
    ['an undeclared account', { clusters: [cluster] }, 'state.yaml: clusters[0].account: account 111122223333 is not declared in accounts'],
    ['a missing VPC', { accounts: [account('111122223333')], clusters: [{ ...cluster, vpcId: 'vpc-0a1b2c3d' }] }, 'state.yaml: clusters[0].vpcId: VPC vpc-0a1b2c3d is not declared in vpcs'],
    ['both endpoints off', { accounts: [account('111122223333')], clusters: [{ ...cluster, endpointPublicAccess: false }] }, 'state.yaml: clusters[0]: endpointPublicAccess and endpointPrivateAccess cannot both be false'],
    ['a duplicate cluster', { accounts: [account('111122223333')], clusters: [cluster, cluster] }, 'state.yaml: clusters[1].name: cluster c1 is declared twice'],
    ['a duplicate access key', { accounts: [{ id: '111122223333', accessKeys: [{ accessKeyId: 'K1' }] }, { id: '444455556666', accessKeys: [{ accessKeyId: 'K1' }] }] }, 'state.yaml: accounts[1].accessKeys[0].accessKeyId: K1 is declared twice'],
    ['a principal in another account', { accounts: [{ id: '111122223333', accessKeys: [{ accessKeyId: 'K1', principalArn: 'arn:aws:iam::444455556666:user/x' }] }] }, 'is not in account 111122223333'],
    ['an undeclared default account', { defaultAccount: '999999999999' }, 'state.yaml: defaultAccount: account 999999999999 is not declared in accounts'],
    ['a UPDATING status', { accounts: [account('111122223333')], clusters: [{ ...cluster, status: 'UPDATING' }] }, 'state.yaml: clusters[0].status:'],
  ])('refuses %s, naming the path', (_what, doc, expected) => {
    expect(problemsOf(doc).join('\n')).toContain(expected);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ accounts: [account('1')], clusters: [{ name: '-bad', account: 'x', region: 'y' }], extra: 1 });
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });

  it('is an extendable zod object, as simulation scenarios need', () => {
    const scenario = emulatorStateSchema.extend({ steps: z.array(z.string()) });
    expect(scenario.parse({ steps: ['a'] })).toEqual({ accounts: [], vpcs: [], clusters: [], topics: [], dynamodb: { tables: [] }, roles: [], faults: [], steps: ['a'] });
  });

  it('makes startEmulator refuse an invalid state', async () => {
    await expect(startEmulator({ state: { clusters: [cluster] } })).rejects.toBeInstanceOf(InputError);
  });
});

describe('seeding the emulator', () => {
  const world = {
    accounts: [{ id: '111122223333' }],
    defaultAccount: '111122223333',
    updateSeconds: 5,
    clusters: [
      { ...cluster, name: 'booting', status: 'CREATING' as const },
      { ...cluster, name: 'broken', status: 'FAILED' as const },
    ],
  };

  it('lets the option win over the state file for updateSeconds, and seeded CREATING clusters finish creating', async () => {
    const fromState = await startEmulator({ clock: manualClock(), state: world });
    const fromOption = await startEmulator({ clock: manualClock(), state: world, updateSeconds: 2 });
    try {
      expect(fromState.snapshot().updateSeconds).toBe(5);
      expect(fromOption.snapshot().updateSeconds).toBe(2);
      const status = (e: Emulator) => e.snapshot().clusters.find((c) => c.name === 'booting')?.status;
      expect(status(fromOption)).toBe('CREATING');
      fromOption.clock.advance(2000);
      expect(status(fromOption)).toBe('ACTIVE');
    } finally {
      await fromState.close();
      await fromOption.close();
    }
  });

  it('refuses updates of a FAILED cluster', async () => {
    const emulator = await startEmulator({ clock: manualClock(), state: world });
    const eks = new EKSClient({ endpoint: emulator.url, region: 'us-east-1', maxAttempts: 1 });
    try {
      const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'broken', resourcesVpcConfig: { endpointPrivateAccess: true } })));
      expect(err).toMatchObject({ name: 'InvalidRequestException', message: 'Cannot EndpointAccessUpdate because cluster broken is in FAILED status' });
    } finally {
      eks.destroy();
      await emulator.close();
    }
  });

  it('keeps keys issued by credentialsFor across loadState and reset', async () => {
    const emulator = await startEmulator({ clock: manualClock(), state: world });
    const credentials = emulator.credentialsFor('arn:aws:iam::444455556666:user/carol');
    const sts = new STSClient({ endpoint: emulator.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      emulator.loadState({});
      emulator.reset();
      expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe('arn:aws:iam::444455556666:user/carol');
      expect(emulator.snapshot().clusters).toEqual([]);
    } finally {
      sts.destroy();
      await emulator.close();
    }
  });
});
