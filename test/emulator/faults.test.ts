import { DescribeClusterCommand, DescribeUpdateCommand, UpdateClusterConfigCommand, type EKSClient } from '@aws-sdk/client-eks';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, PublishCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Emulator } from '../../src/emulator';
import { PROD, clusterIn, ec2Client, eksClient, rejectionOf, snsClient, useDemoEmulator, stsClient } from './helpers';

let emulator: Emulator;
let eks: EKSClient;

useDemoEmulator((e) => (emulator = e));
beforeAll(() => {
  eks = eksClient(emulator);
});
afterAll(() => {
  eks.destroy();
});

const toPrivate = { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: false } };

describe('refusal faults', () => {
  it('throttles only the targeted operation and cluster, for the given number of calls', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'DescribeCluster', cluster: 'prod-api', times: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await rejectionOf(eks.send(new DescribeClusterCommand({ name: 'prod-api' })));
      expect(err).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
      expect(err.$metadata?.httpStatusCode).toBe(429);
    }
    await expect(eks.send(new DescribeClusterCommand({ name: 'prod-payments' }))).resolves.toBeDefined();
    await expect(eks.send(new DescribeClusterCommand({ name: 'prod-api' }))).resolves.toBeDefined();
    expect(emulator.snapshot().faults).toEqual([]);
  });

  it('lets the SDK retry through transient server errors', async () => {
    emulator.setFault({ kind: 'server-error', operation: 'DescribeCluster', times: 2 });
    const patient = eksClient(emulator, { maxAttempts: 3 });
    try {
      const result = await patient.send(new DescribeClusterCommand({ name: 'prod-api' }));
      expect(result.$metadata.attempts).toBe(3);
    } finally {
      patient.destroy();
    }
  });

  it('answers ServerException and records the refused mutation in CloudTrail', async () => {
    emulator.setFault({ kind: 'server-error', operation: 'UpdateClusterConfig', account: PROD });
    const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand(toPrivate)));
    expect(err.name).toBe('ServerException');
    expect(err.$metadata?.httpStatusCode).toBe(500);
    expect(clusterIn(emulator, PROD, 'us-east-1', 'prod-api').updates).toEqual([]);
    expect(emulator.cloudTrailEvents().map((e) => e.detail.errorCode)).toEqual(['ServerException']);
  });

  it.each([
    ['EC2', 'DescribeVpcs', async (e: Emulator) => ec2Client(e).send(new DescribeVpcsCommand({})), 'RequestLimitExceeded'],
    ['SNS', 'Publish', async (e: Emulator) => snsClient(e).send(new PublishCommand({ TopicArn: `arn:aws:sns:us-east-1:${PROD}:eks-endpoint-guard-alerts`, Message: 'm' })), 'Throttling'],
    ['STS', 'GetCallerIdentity', async (e: Emulator) => stsClient(e).send(new GetCallerIdentityCommand({})), 'Throttling'],
  ] as const)('throttles %s in its own protocol', async (_service, operation, call, code) => {
    emulator.setFault({ kind: 'throttle', operation, times: 1 });
    const err = await rejectionOf(call(emulator));
    expect(err.name).toBe(code);
    expect(emulator.publishedMessages()).toEqual([]);
  });

  it('ignores faults aimed at another account or region', async () => {
    emulator.setFault({ kind: 'server-error', account: '444455556666' });
    emulator.setFault({ kind: 'server-error', region: 'eu-west-1' });
    await expect(eks.send(new DescribeClusterCommand({ name: 'prod-api' }))).resolves.toBeDefined();
    emulator.clearFaults();
    expect(emulator.snapshot().faults).toEqual([]);
  });
});

describe('SNS Publish faults', () => {
  const alerts = `arn:aws:sns:us-east-1:${PROD}:eks-endpoint-guard-alerts`;
  const publish = (topicArn: string) => snsClient(emulator).send(new PublishCommand({ TopicArn: topicArn, Subject: 's', Message: 'm' }));

  it.each([
    // SNS answers code InternalError; the SDK names its modelled exception InternalErrorException.
    ['server-error', 'InternalErrorException', 500],
    ['throttle', 'Throttling', 400],
  ] as const)('%s makes Publish fail with an SNS error and publishes nothing', async (kind, name, status) => {
    emulator.setFault({ kind, operation: 'Publish', times: 1 });
    const err = await rejectionOf(publish(alerts));
    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.message).not.toBe('');
    expect(emulator.publishedMessages()).toEqual([]);
    await expect(publish(alerts)).resolves.toMatchObject({ MessageId: expect.any(String) });
  });

  it('targets one topic by name, leaving the others', async () => {
    const { TopicArn: ops } = await snsClient(emulator).send(new CreateTopicCommand({ Name: 'ops' }));
    emulator.setFault({ kind: 'server-error', operation: 'Publish', topic: 'eks-endpoint-guard-alerts' });
    await expect(publish(ops!)).resolves.toBeDefined();
    expect((await rejectionOf(publish(alerts))).name).toBe('InternalErrorException');
    expect(emulator.publishedMessages().map((m) => m.topicArn)).toEqual([ops]);
  });

  it('targets CreateTopic by the name it creates, and never matches calls that name no topic', async () => {
    emulator.setFault({ kind: 'throttle', topic: 'ops' });
    expect((await rejectionOf(snsClient(emulator).send(new CreateTopicCommand({ Name: 'ops' })))).name).toBe('Throttling');
    await expect(snsClient(emulator).send(new CreateTopicCommand({ Name: 'other' }))).resolves.toBeDefined();
    await expect(eks.send(new DescribeClusterCommand({ name: 'prod-api' }))).resolves.toBeDefined();
  });

  it('is refused at load when the topic filter is not a string', () => {
    expect(() => emulator.setFault({ kind: 'throttle', topic: 7 } as never)).toThrow();
  });
});

describe('latency', () => {
  it('delays matching calls', async () => {
    emulator.setFault({ kind: 'latency', operation: 'DescribeCluster', latencyMs: 200, times: 1 });
    const started = performance.now();
    await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe('update-fails', () => {
  it('ends the next update Failed with the given errors and leaves the config unchanged', async () => {
    const errors = [{ errorCode: 'AccessDenied', errorMessage: 'Role is not authorized' }];
    emulator.setFault({ kind: 'update-fails', cluster: 'prod-api', times: 1, errors });
    const { update } = await eks.send(new UpdateClusterConfigCommand(toPrivate));
    expect(update?.status).toBe('InProgress');
    emulator.clock.advance(10_000);
    const done = (await eks.send(new DescribeUpdateCommand({ name: 'prod-api', updateId: update!.id! }))).update;
    expect(done).toMatchObject({ status: 'Failed', errors: [{ ...errors[0], resourceIds: ['prod-api'] }] });
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
    expect(cluster?.status).toBe('ACTIVE');
    expect(cluster?.resourcesVpcConfig?.endpointPublicAccess).toBe(true);

    const retry = await eks.send(new UpdateClusterConfigCommand(toPrivate));
    emulator.clock.advance(10_000);
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod-api', updateId: retry.update!.id! }))).update?.status).toBe('Successful');
    expect(clusterIn(emulator, PROD, 'us-east-1', 'prod-api').config.endpointPublicAccess).toBe(false);
  });
});

describe('platform updates started by EKS', () => {
  it('keep the cluster ACTIVE but refuse other updates until they end', async () => {
    const platform = emulator.startPlatformUpdate({ account: PROD, region: 'us-east-1', cluster: 'prod-api', seconds: 30 });
    expect(platform).toMatchObject({ type: 'VersionUpdate', status: 'InProgress', params: [{ type: 'Version', value: '1.33' }, { type: 'PlatformVersion', value: 'eks.2' }] });
    expect((await eks.send(new DescribeClusterCommand({ name: 'prod-api' }))).cluster?.status).toBe('ACTIVE');

    const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand(toPrivate)));
    expect(err).toMatchObject({ name: 'ResourceInUseException', message: `Cannot EndpointAccessUpdate because cluster prod-api currently has update ${platform.id} in progress` });

    emulator.clock.advance(30_000);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-api' }));
    expect(cluster?.platformVersion).toBe('eks.2');
    await expect(eks.send(new UpdateClusterConfigCommand(toPrivate))).resolves.toBeDefined();
  });

  it('cannot start on an unknown cluster', () => {
    expect(() => emulator.startPlatformUpdate({ account: PROD, region: 'us-east-1', cluster: 'ghost' })).toThrow('no cluster ghost');
  });
});
