import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { manualClock, startEmulator, type Emulator } from '../../src/emulator';
import { awsCliEnv } from './helpers';

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
      organization: {
        id: 'o-a1b2c3d4e5',
        managementAccount: ACCOUNT,
        units: [{ name: 'Prod' }],
        accounts: [{ id: '444455556666', name: 'prod-1', unit: 'Prod', tags: { env: 'prod' } }],
      },
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
  // Refusals the tests expect (not found, condition failed) are never retried by the CLI.
  const env = awsCliEnv(ACCOUNT, { AWS_ENDPOINT_URL: emulator.url });
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

  it('speaks Organizations JSON 1.1: list-accounts, list-parents, list-tags-for-resource, and its errors', async () => {
    const listed = await aws('organizations', 'list-accounts', '--region', 'us-east-1');
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(listed.json.Accounts.map((a: { Id: string; Name: string; Status: string }) => [a.Id, a.Name, a.Status])).toEqual([
      [ACCOUNT, ACCOUNT, 'ACTIVE'],
      ['444455556666', 'prod-1', 'ACTIVE'],
    ]);
    const parents = await aws('organizations', 'list-parents', '--region', 'us-east-1', '--child-id', '444455556666');
    expect(parents.json.Parents).toEqual([{ Id: emulator.snapshot().organization!.units[0]!.id, Type: 'ORGANIZATIONAL_UNIT' }]);
    const tags = await aws('organizations', 'list-tags-for-resource', '--region', 'us-east-1', '--resource-id', '444455556666');
    expect(tags.json).toEqual({ Tags: [{ Key: 'env', Value: 'prod' }] });
    const refused = await aws('organizations', 'describe-account', '--region', 'us-east-1', '--account-id', '999988887777');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(cliError('AccountNotFoundException', 'DescribeAccount', "You specified an account that doesn't exist."));
  });

  it('speaks EventBridge JSON 1.1: put-rule, put-targets, put-events reaching the target, test-event-pattern', async () => {
    const target = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:cli-target`;
    const seen: unknown[] = [];
    const off = emulator.onTarget(target, (event) => {
      seen.push(event);
    });
    try {
      const pattern = JSON.stringify({ source: ['cli.test'], detail: { n: [{ numeric: ['>', 1] }] } });
      const rule = await aws('events', 'put-rule', '--region', 'us-east-1', '--name', 'cli-rule', '--event-pattern', pattern);
      expect({ code: rule.code, stderr: rule.stderr, json: rule.json }).toEqual({ code: 0, stderr: '', json: { RuleArn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/cli-rule` } });
      expect((await aws('events', 'put-targets', '--region', 'us-east-1', '--rule', 'cli-rule', '--targets', `Id=fn,Arn=${target}`)).json).toEqual({ FailedEntryCount: 0, FailedEntries: [] });
      const put = await aws('events', 'put-events', '--region', 'us-east-1', '--entries', JSON.stringify([{ Source: 'cli.test', DetailType: 'probe', Detail: '{"n":2}' }, { Source: 'cli.test', DetailType: 'probe', Detail: 'not json' }]));
      expect(put.stderr).toBe('');
      expect(put.json).toEqual({ FailedEntryCount: 1, Entries: [{ EventId: expect.any(String) }, { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }] });
      expect(seen).toEqual([expect.objectContaining({ id: put.json.Entries[0].EventId, source: 'cli.test', 'detail-type': 'probe', account: ACCOUNT, detail: { n: 2 } })]);

      const event = JSON.stringify({ id: '1', account: ACCOUNT, source: 'cli.test', time: '2026-01-01T00:00:00Z', region: 'us-east-1', 'detail-type': 'probe', resources: [], detail: { n: 1 } });
      expect((await aws('events', 'test-event-pattern', '--region', 'us-east-1', '--event-pattern', pattern, '--event', event)).json).toEqual({ Result: false });
      const invalid = await aws('events', 'test-event-pattern', '--region', 'us-east-1', '--event-pattern', '{"source":"cli.test"}', '--event', event);
      expect(invalid.code).not.toBe(0);
      expect(invalid.stderr).toMatch(cliError('InvalidEventPatternException', 'TestEventPattern', 'Event pattern is not valid. Reason: source: "source" must be an object or an array, not "cli.test"'));
    } finally {
      off();
    }
  });
});
