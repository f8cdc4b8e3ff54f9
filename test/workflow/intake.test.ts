/** The intake through the real handler: de-duplication by CloudTrail eventID, and bad events not lost. */
import { readFileSync } from 'node:fs';
import { EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { parse } from 'yaml';
import { parsePolicy } from '../../src/policy';
import { manualClock, parseEmulatorState, startEmulator, type Emulator } from '../../src/emulator';
import { startLocalGuard, type LocalGuard } from '../../src/local/local-guard';

const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));
let emulator: Emulator;
let guard: LocalGuard;

beforeEach(async () => {
  // world.yaml is a simulate scenario base: its startTime is simulate's, not part of an emulator state.
  const { startTime, ...state } = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as { startTime: string };
  emulator = await startEmulator({ state: parseEmulatorState(state, 'world'), clock: manualClock(Date.parse(startTime)) });
  guard = await startLocalGuard({ emulator, policy, homeAccount: '111122223333', homeRegion: 'us-east-1' });
});
afterEach(async () => {
  guard.close();
  await emulator.close();
});

async function openProdApi(): Promise<void> {
  const client = new EKSClient({ region: 'us-east-1', endpoint: emulator.url, credentials: emulator.credentialsFor('arn:aws:iam::111122223333:user/alice'), maxAttempts: 1 });
  await client.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }));
  client.destroy();
}

test('a redelivered CloudTrail event starts no second execution', async () => {
  await openProdApi();
  const [event] = emulator.cloudTrailEvents();
  const first = await guard.deliver(event);
  const second = await guard.deliver(structuredClone(event));
  expect(first.started).toBe(true);
  expect(first.executions).toHaveLength(1);
  expect(second).toMatchObject({ started: false, executionName: first.executionName, executions: [] });
  expect(guard.runner.executions).toHaveLength(1);
  expect(guard.alerts().filter((a) => a.outcome === 'remediated')).toHaveLength(1);
});

test('an event that is not a CloudTrail record fails the invocation with a message naming what is missing', async () => {
  const record = await guard.deliver({ hello: 'world' });
  expect(record.error).toMatch(/InputError: .*not an EventBridge "AWS API Call via CloudTrail" envelope/);
  expect(record.executions).toEqual([]);
});

test('execution state and progress: every state is reported and Wait states move the emulated clock, not the real one', async () => {
  await openProdApi();
  const [record] = await guard.processPending();
  const execution = record!.executions[0]!;
  expect(execution.states.slice(0, 2)).toEqual(['IsRecheck', 'WaitForChange']);
  expect(execution.states).toEqual(expect.arrayContaining(['EvaluateCluster', 'PreflightCheck', 'RemediateCluster', 'WaitForRevert', 'VerifyRemediation', 'NotifyOutcome', 'Done']));
  // Two updates of 300 emulated seconds each were waited for.
  expect(execution.elapsedSeconds).toBeGreaterThanOrEqual(600);
});
