import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { manualClock, startEmulator, type Emulator } from '../../src/emulator';

const run = promisify(execFile);
const ACCOUNT = '111122223333';
const AWS = process.env.AWS_CLI ?? 'aws';

let emulator: Emulator;
let needsEndpointFlag = false;

beforeAll(async () => {
  // The CLI tests run in CI: a machine without the AWS CLI must fail them loudly, never skip them.
  let version: string;
  try {
    version = (await run(AWS, ['--version'])).stdout + '';
  } catch (err) {
    throw new Error(`The AWS CLI ("${AWS}") is not on PATH (${(err as Error).message}). Install it (pip install awscli, or the awscli Debian package) or set AWS_CLI to its path.`);
  }
  const m = /aws-cli\/(\d+)\.(\d+)/.exec(version);
  // AWS_ENDPOINT_URL is honoured from aws-cli 1.29 / 2.13 on; older versions need --endpoint-url.
  needsEndpointFlag = !m || (m[1] === '1' && Number(m[2]) < 29) || (m[1] === '2' && Number(m[2]) < 13);
  emulator = await startEmulator({
    clock: manualClock(),
    state: {
      accounts: [{ id: ACCOUNT }],
      vpcs: [{ id: 'vpc-0a1b2c3d4e5f60001', account: ACCOUNT, region: 'us-east-1', enableDnsHostnames: false }],
      clusters: [{ name: 'my-cluster', account: ACCOUNT, region: 'us-east-1', vpcId: 'vpc-0a1b2c3d4e5f60001' }],
      topics: [{ name: 'alerts', account: ACCOUNT, region: 'us-east-1' }],
      dynamodb: { tables: [{ name: 'guard-ledger', account: ACCOUNT, region: 'us-east-1', items: [{ pk: 'cluster#my-cluster', version: 2, lease: { holder: 'exec-1' } }] }] },
    },
  });
});
afterAll(async () => {
  await emulator?.close();
});

/** The CLI's error line; aws-cli 2.x adds how many retries it made ("(reached max retries: 0)"). */
function cliError(code: string, operation: string, message: string): RegExp {
  const quote = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`An error occurred \\(${code}\\) when calling the ${operation} operation( \\(reached max retries: \\d+\\))?: ${quote(message)}`);
}

type CliResult = { code: number; stdout: string; stderr: string; json: Record<string, any> };

async function aws(...args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  Object.assign(env, {
    AWS_ENDPOINT_URL: emulator.url,
    // A 12-digit access key id acts as local-user in that account.
    AWS_ACCESS_KEY_ID: ACCOUNT,
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
  });
  const argv = [...args, '--output', 'json', ...(needsEndpointFlag ? ['--endpoint-url', emulator.url] : [])];
  try {
    const { stdout, stderr } = await run(AWS, argv, { env });
    return { code: 0, stdout, stderr, json: stdout.trim() ? JSON.parse(stdout) : {} };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, json: {} };
  }
}

describe('the AWS CLI against the emulator', () => {
  let updateId: string;

  it('runs the documented update-cluster-config command and gets an InProgress EndpointAccessUpdate', async () => {
    const res = await aws(
      'eks',
      'update-cluster-config',
      '--region',
      'us-east-1',
      '--name',
      'my-cluster',
      '--resources-vpc-config',
      'endpointPublicAccess=true,publicAccessCidrs="203.0.113.5/32",endpointPrivateAccess=true',
    );
    expect(res.stderr).toBe('');
    expect(res.json.update).toMatchObject({
      status: 'InProgress',
      type: 'EndpointAccessUpdate',
      params: [
        { type: 'EndpointPublicAccess', value: 'true' },
        { type: 'EndpointPrivateAccess', value: 'true' },
        { type: 'PublicAccessCidrs', value: '["203.0.113.5/32"]' },
      ],
    });
    updateId = res.json.update.id;
    expect(emulator.cloudTrailEvents().at(-1)?.detail).toMatchObject({
      eventName: 'UpdateClusterConfig',
      userAgent: expect.stringContaining('aws-cli/'),
      userIdentity: { arn: `arn:aws:iam::${ACCOUNT}:user/local-user` },
      requestParameters: { name: 'my-cluster', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.5/32'] } },
    });
  });

  it('describe-cluster shows UPDATING with the old values meanwhile', async () => {
    const { json } = await aws('eks', 'describe-cluster', '--region', 'us-east-1', '--name', 'my-cluster');
    expect(json.cluster).toMatchObject({ status: 'UPDATING', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] } });
  });

  it('describe-update returns Successful once the update time has passed, and describe-cluster the new values', async () => {
    expect((await aws('eks', 'describe-update', '--region', 'us-east-1', '--name', 'my-cluster', '--update-id', updateId)).json.update.status).toBe('InProgress');
    emulator.clock.advance(10_000);
    expect((await aws('eks', 'describe-update', '--region', 'us-east-1', '--name', 'my-cluster', '--update-id', updateId)).json.update).toMatchObject({ id: updateId, status: 'Successful' });
    const { json } = await aws('eks', 'describe-cluster', '--region', 'us-east-1', '--name', 'my-cluster');
    expect(json.cluster).toMatchObject({ status: 'ACTIVE', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.5/32'] } });
  });

  it('gets EKS errors as the CLI prints them', async () => {
    const res = await aws('eks', 'describe-cluster', '--region', 'us-east-1', '--name', 'nope');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(cliError('ResourceNotFoundException', 'DescribeCluster', 'No cluster found for name: nope.'));
  });

  it('speaks the query protocols too (STS, EC2, SNS)', async () => {
    expect((await aws('sts', 'get-caller-identity', '--region', 'us-east-1')).json).toMatchObject({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/local-user` });
    const attr = await aws('ec2', 'describe-vpc-attribute', '--region', 'us-east-1', '--vpc-id', 'vpc-0a1b2c3d4e5f60001', '--attribute', 'enableDnsHostnames');
    expect(attr.json).toEqual({ VpcId: 'vpc-0a1b2c3d4e5f60001', EnableDnsHostnames: { Value: false } });
    const published = await aws('sns', 'publish', '--region', 'us-east-1', '--topic-arn', `arn:aws:sns:us-east-1:${ACCOUNT}:alerts`, '--subject', 'hello', '--message', 'from the CLI');
    expect(published.json.MessageId).toBe(emulator.publishedMessages()[0]?.messageId);
  });

  it('speaks DynamoDB JSON: list-tables, get-item, and a conditional put-item refused as DynamoDB refuses it', async () => {
    // Compared whole, so a failing CLI call shows what the CLI printed on stderr.
    const listed = await aws('dynamodb', 'list-tables', '--region', 'us-east-1');
    expect({ code: listed.code, stderr: listed.stderr, json: listed.json }).toEqual({ code: 0, stderr: '', json: { TableNames: ['guard-ledger'] } });
    const got = await aws('dynamodb', 'get-item', '--region', 'us-east-1', '--table-name', 'guard-ledger', '--key', '{"pk":{"S":"cluster#my-cluster"}}');
    expect(got.stderr).toBe('');
    expect(got.json).toEqual({ Item: { pk: { S: 'cluster#my-cluster' }, version: { N: '2' }, lease: { M: { holder: { S: 'exec-1' } } } } });
    const refused = await aws(
      'dynamodb', 'put-item', '--region', 'us-east-1', '--table-name', 'guard-ledger',
      '--item', '{"pk":{"S":"cluster#my-cluster"}}', '--condition-expression', 'attribute_not_exists(pk)',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(cliError('ConditionalCheckFailedException', 'PutItem', 'The conditional request failed'));
    expect(emulator.snapshot().dynamodb.tables[0]?.items).toEqual([{ pk: 'cluster#my-cluster', version: 2, lease: { holder: 'exec-1' } }]);
  });
});
