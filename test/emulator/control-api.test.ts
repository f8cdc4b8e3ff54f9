import { DescribeClusterCommand, DescribeUpdateCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { EmulatorSnapshot, Emulator } from '../../src/emulator';
import { PROD, demoState, eksClient, rejectionOf, snsClient, startDemo, stsClient } from './helpers';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startDemo();
});
afterAll(async () => {
  await emulator.close();
});
// Some tests replace the state itself, so reset is not enough to isolate them.
beforeEach(() => emulator.loadState(demoState()));

async function control<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: T }> {
  const res = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe('control API', () => {
  it('reports health and the emulator time', async () => {
    expect(await control('GET', 'health')).toEqual({ status: 200, body: { status: 'ok', now: new Date(emulator.clock.now()).toISOString() } });
  });

  it('returns the state snapshot', async () => {
    const { body } = await control<EmulatorSnapshot>('GET', 'state');
    expect(body.accounts).toEqual([
      { id: '111122223333', name: 'prod' },
      { id: '444455556666', name: 'sandbox' },
    ]);
    expect(body.clusters.map((c) => `${c.account}/${c.region}/${c.name}`).sort()).toEqual([
      '111122223333/eu-west-1/legacy-billing',
      '111122223333/us-east-1/prod-api',
      '111122223333/us-east-1/prod-payments',
      '444455556666/us-east-1/sandbox-dev',
    ]);
    expect(body.vpcs.find((v) => v.id === 'vpc-0b1b2c3d4e5f60001')).toMatchObject({ domainNameServers: ['10.30.0.2', '10.30.0.3'], natGatewayIps: ['192.0.2.30'] });
    expect(body.topics).toHaveLength(2);
  });

  it('loads a state posted as YAML, and reset returns to it', async () => {
    const yaml = `defaultAccount: "${PROD}"\naccounts: [{ id: "${PROD}" }]\nclusters:\n  - { name: only-one, account: "${PROD}", region: us-east-1 }\n`;
    const loaded = await control<EmulatorSnapshot>('POST', 'state', yaml, 'application/yaml');
    expect(loaded.body.clusters.map((c) => c.name)).toEqual(['only-one']);
    const eks = eksClient(emulator);
    await eks.send(new UpdateClusterConfigCommand({ name: 'only-one', resourcesVpcConfig: { endpointPrivateAccess: true } }));
    await control('POST', 'reset');
    expect((await control<EmulatorSnapshot>('GET', 'state')).body.clusters).toMatchObject([{ name: 'only-one', updates: [] }]);
    eks.destroy();
  });

  it('refuses an invalid state with every problem and its path, keeping the current state', async () => {
    const res = await control<{ error: string; problems: string[] }>('POST', 'state', { clusters: [{ name: 'x', account: '1', region: 'us-east-1', colour: 'red' }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('InvalidState');
    expect(res.body.problems).toEqual(expect.arrayContaining(['state: clusters[0].account: must be a 12-digit AWS account id', 'state: clusters[0]: unknown key "colour"']));
    expect((await control<EmulatorSnapshot>('GET', 'state')).body.clusters).toHaveLength(4);
  });

  it('advances the clock so that updates finish', async () => {
    const eks = eksClient(emulator);
    const { update } = await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }));
    const advanced = await control<{ now: string }>('POST', 'clock/advance', { seconds: 10 });
    expect(advanced.body.now).toBe(new Date(emulator.clock.now()).toISOString());
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod-api', updateId: update!.id! }))).update?.status).toBe('Successful');
    expect((await control('POST', 'clock/advance', { seconds: -1 })).status).toBe(400);
    eks.destroy();
  });

  it('sets and clears faults', async () => {
    const set = await control<{ faults: unknown[] }>('POST', 'faults', [{ kind: 'throttle', operation: 'DescribeCluster' }, { kind: 'latency', latencyMs: 1 }]);
    expect(set.body.faults).toHaveLength(2);
    const eks = eksClient(emulator);
    expect((await rejectionOf(eks.send(new DescribeClusterCommand({ name: 'prod-api' })))).name).toBe('ThrottlingException');
    await control('DELETE', 'faults');
    await expect(eks.send(new DescribeClusterCommand({ name: 'prod-api' }))).resolves.toBeDefined();
    eks.destroy();
    const bad = await control<{ problems: string[] }>('POST', 'faults', { kind: 'earthquake' });
    expect(bad.status).toBe(400);
  });

  it('starts a platform update', async () => {
    const res = await control<{ update: { id: string; type: string } }>('POST', 'platform-update', { account: PROD, region: 'us-east-1', cluster: 'prod-api', seconds: 60 });
    expect(res.body.update.type).toBe('VersionUpdate');
    const eks = eksClient(emulator);
    const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } })));
    expect(err.message).toContain(res.body.update.id);
    eks.destroy();
    expect((await control('POST', 'platform-update', { account: PROD, region: 'us-east-1', cluster: 'ghost' })).status).toBe(400);
  });

  it('issues credentials for a principal', async () => {
    const res = await control<{ credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }>('POST', 'principals', {
      arn: `arn:aws:iam::${PROD}:role/ci`,
      sourceIp: '192.0.2.1',
    });
    expect(res.body.credentials.sessionToken).toBeDefined();
    const sts = stsClient(emulator, { credentials: res.body.credentials });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${PROD}:assumed-role/ci/local-session`);
    sts.destroy();
    expect((await control('POST', 'principals', { arn: 'nobody' })).status).toBe(400);
  });

  it('lists published SNS messages and CloudTrail events', async () => {
    const sns = snsClient(emulator);
    await sns.send(new PublishCommand({ TopicArn: `arn:aws:sns:us-east-1:${PROD}:eks-endpoint-guard-alerts`, Message: 'hello' }));
    sns.destroy();
    const eks = eksClient(emulator);
    await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } }));
    eks.destroy();
    expect((await control<{ messages: { message: string }[] }>('GET', 'sns/messages')).body.messages.map((m) => m.message)).toEqual(['hello']);
    expect((await control<{ events: unknown[] }>('GET', 'cloudtrail/events')).body.events).toEqual(emulator.cloudTrailEvents());
  });

  it('answers unknown control paths with 404', async () => {
    expect((await control('GET', 'nothing-here')).status).toBe(404);
  });
});
