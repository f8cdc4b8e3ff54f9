/**
 * `eks-endpoint-guard redrive` end to end: the built CLI against the emulator, with the local guard as
 * deployed. The intake fails (DynamoDB down), its event lands in the dead-letter queue as Lambda's failure
 * record; a dry run explains it and changes nothing; `--apply` re-submits it to the intake function, the
 * execution runs once and reverts the change, the message is deleted; a second submission runs nothing.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { manualClock, startEmulator, type Emulator } from '../../src/emulator';
import { parsePolicy } from '../../src/policy';
import { DEAD_LETTER_QUEUE_NAME } from '../../src/local/deployment';
import { startLocalGuard, type LocalGuard } from '../../src/local/local-guard';

const CLI = join(process.cwd(), 'dist/cli.mjs');
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:${DEAD_LETTER_QUEUE_NAME}`;
const policy = parsePolicy('version: 1\ndefaults: { publicAccess: forbidden, privateAccess: required }\n', 'policy.yaml');

let emulator: Emulator;
let guard: LocalGuard;

type Run = { code: number; stdout: string; stderr: string };
async function redrive(args: string[]): Promise<Run> {
  const env = { ...process.env, NODE_OPTIONS: '', AWS_ENDPOINT_URL: emulator.url, AWS_ACCESS_KEY_ID: ACCOUNT, AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: REGION };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'redrive', '--stage', 'local', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeEach(async () => {
  emulator = await startEmulator({
    clock: manualClock(Date.parse('2026-05-01T00:00:00Z')),
    state: { accounts: [{ id: ACCOUNT }], clusters: [{ name: 'prod-api', account: ACCOUNT, region: REGION, endpointPublicAccess: false, endpointPrivateAccess: true }] },
  });
  guard = await startLocalGuard({ emulator, policy, homeAccount: ACCOUNT, homeRegion: REGION });
});
afterEach(async () => {
  guard.close();
  await emulator.close();
});

async function openWhileLedgerIsDown(): Promise<void> {
  emulator.setFault({ kind: 'server-error', service: 'dynamodb' });
  const eks = new EKSClient({ region: REGION, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${ACCOUNT}:user/alice`), maxAttempts: 1 });
  await eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true } }));
  eks.destroy();
  const [delivery] = await guard.processPending();
  expect(delivery!.error).toMatch(/TransientAwsError|dynamodb|DynamoDB|InternalServerError/i);
  emulator.clearFaults();
}

test('a dead-lettered event: the dry run explains it and leaves it; --apply re-submits it, it runs once, and the message is gone', async () => {
  await openWhileLedgerIsDown();
  expect(emulator.queueMessages(DLQ)).toHaveLength(1);

  const dry = await redrive([]);
  expect(dry.stderr).toBe('');
  expect(dry.code).toBe(0);
  expect(dry.stdout).toMatch(/1 message\(s\) in .*eks-endpoint-guard-local-unprocessed-events/);
  expect(dry.stdout).toMatch(/intake failure \(Lambda record\): UpdateClusterConfig .* on 111122223333\/us-east-1\/prod-api/);
  expect(dry.stdout).toContain('would re-submit event');
  expect(dry.stdout).toContain('dry run: nothing was sent or deleted');
  expect(emulator.queueMessages(DLQ).map((m) => m.state)).toEqual(['available']);
  expect(guard.invoked()).toHaveLength(0);

  const applied = await redrive(['--apply', '--json']);
  expect(applied.code).toBe(0);
  const out = JSON.parse(applied.stdout) as { dryRun: boolean; messages: { kind: string }[]; events: { status: string }[]; kept: string[] };
  expect(out).toMatchObject({ dryRun: false, messages: [{ kind: 'lambda-failure' }], events: [{ status: 'submitted' }], kept: [] });
  await emulator.flushEvents();
  expect(emulator.queueMessages(DLQ)).toEqual([]);
  const [run] = guard.invoked();
  expect(run).toMatchObject({ started: true, error: null });
  expect(run!.executions.map((e) => e.outcome)).toEqual(['remediated']);
  expect(await guard.readConfig({ name: 'prod-api', account: ACCOUNT, region: REGION })).toMatchObject({ endpointPublicAccess: false });

  // The same event again (someone re-queued it): the intake finds its execution, nothing runs twice.
  const body = JSON.stringify(run!.event);
  emulator.sendToQueue(DLQ, { body, attributes: { ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'Lambda was throttled' } });
  const again = await redrive(['--apply']);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/EventBridge delivery failure: UpdateClusterConfig/);
  await emulator.flushEvents();
  expect(guard.invoked()[1]).toMatchObject({ started: false, error: null });
  expect(guard.invoked()[1]!.executions).toEqual([]);
});

test('a malformed message is explained and kept (exit 1); the queue being empty is exit 0', async () => {
  expect((await redrive([])).stdout).toContain('0 message(s)');
  emulator.sendToQueue(DLQ, { body: '{"detail": {"eventName": 7}}' });
  const r = await redrive(['--apply']);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/malformed: \(no event\)/);
  expect(r.stdout).toMatch(/kept 1 message/);
  expect(emulator.queueMessages(DLQ).map((m) => m.state)).toEqual(['available']);
});

test('bad input exits 2 naming each problem; an unknown queue says which', async () => {
  const bad = await redrive(['--max', '0', '--queue-url', 'nope', '--function-name', 'a b']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--queue-url/);
  expect(bad.stderr).toMatch(/--function-name/);
  expect(bad.stderr).toMatch(/--max/);
  const unknown = await redrive(['--stage', 'nosuch']);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toMatch(/eks-endpoint-guard-nosuch-unprocessed-events/);
});

describe('a flaky queue and a careless operator (found by review)', () => {
  const events = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ version: '0', id: `e${i}`, 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.eks', account: ACCOUNT, time: '2026-05-01T00:00:00Z', region: REGION, resources: [], detail: { eventVersion: '1.09', eventSource: 'eks.amazonaws.com', eventName: 'UpdateClusterConfig', eventTime: '2026-05-01T00:00:00Z', eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, awsRegion: REGION, recipientAccountId: ACCOUNT, sourceIPAddress: '203.0.113.9', userAgent: 'aws-cli/2', userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT }, requestParameters: { name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true } }, responseElements: { update: { id: `u-${i}`, status: 'InProgress', type: 'EndpointAccessUpdate' } } } }));
  const fill = (n: number) => events(n).forEach((e) => emulator.sendToQueue(DLQ, { body: JSON.stringify(e), attributes: { ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'throttled' } }));

  test('--max stops early: said so, exit 1, the rest left for the next run', async () => {
    fill(15);
    const r = await redrive(['--max', '10']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('10 message(s)');
    expect(r.stdout).toMatch(/PROBLEM: stopped at --max 10/);
    expect(emulator.queueMessages(DLQ).filter((m) => m.state === 'available')).toHaveLength(15);
  });

  test('reading fails part way: what was read is reported and released, exit 1 (not 2)', async () => {
    fill(12);
    emulator.setFault({ kind: 'server-error', service: 'sqs', operation: 'ReceiveMessage', times: 100 });
    const r = await redrive(['--json']);
    emulator.clearFaults();
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { complete: boolean; problems: string[] };
    expect(out.complete).toBe(false);
    expect(out.problems[0]).toMatch(/reading the queue stopped after 0 message\(s\)/);
  });

  test('a delete that fails after the intake took the event says so, and the message stays for the next run', async () => {
    fill(1);
    emulator.setFault({ kind: 'server-error', service: 'sqs', operation: 'DeleteMessageBatch', times: 10 });
    const r = await redrive(['--apply']);
    emulator.clearFaults();
    await emulator.flushEvents();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/re-submitted, but its message\(s\) NOT deleted/);
    expect(guard.invoked()).toHaveLength(1);
    expect(emulator.queueMessages(DLQ).map((m) => m.state)).toEqual(['available']);
  });

  test('a wrong function name stops before anything is read or sent (exit 2, with the hint)', async () => {
    fill(1);
    const r = await redrive(['--apply', '--function-name', 'no-such-function']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-such-function.*check --stage or --function-name/);
    expect(emulator.queueMessages(DLQ).map((m) => m.state)).toEqual(['available']);
  });
});
