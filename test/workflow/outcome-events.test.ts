/**
 * Outcome events end to end: the real intake, state machine and handlers against the emulator. A user's
 * rule on the home account's default bus (pattern: source eks-endpoint-guard) receives exactly one event
 * per outcome, and none for the ALREADY_HANDLED duplicate of a change another execution covered.
 */
import { readFileSync } from 'node:fs';
import { EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { parse } from 'yaml';
import { parsePolicy } from '../../src/policy';
import { manualClock, parseEmulatorState, startEmulator, type Emulator, type EventBridgeEvent } from '../../src/emulator';
import { startLocalGuard, type LocalGuard } from '../../src/local/local-guard';
import type { OutcomeEventDetail } from '../../src/workflow/outcome-event';

const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));
const HOME = '111122223333';
const REGION = 'us-east-1';
const ALICE = `arn:aws:iam::${HOME}:user/alice`;
const TARGET = `arn:aws:lambda:${REGION}:${HOME}:function:outcome-consumer`;
const OPEN = { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };

let emulator: Emulator;
let guard: LocalGuard;
let received: EventBridgeEvent[];

/** The emulator, the local guard (`beforeTask` acts as simulate's `during` steps do) and the user's rule. */
async function start(beforeTask?: (task: { state: string; execution: string }) => Promise<void>): Promise<void> {
  const { startTime, ...state } = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as { startTime: string };
  emulator = await startEmulator({ state: parseEmulatorState(state, 'world'), clock: manualClock(Date.parse(startTime)) });
  guard = await startLocalGuard({ emulator, policy, homeAccount: HOME, homeRegion: REGION, ...(beforeTask ? { beforeTask } : {}) });
  // The user's own rule, as README "Outcome events" shows it.
  const events = new EventBridgeClient({ region: REGION, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${HOME}:user/platform-admin`), maxAttempts: 1 });
  await events.send(new PutRuleCommand({ Name: 'endpoint-guard-outcomes', EventPattern: JSON.stringify({ source: ['eks-endpoint-guard'], 'detail-type': ['Endpoint Guard Outcome'] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'endpoint-guard-outcomes', Targets: [{ Id: 'consumer', Arn: TARGET }] }));
  events.destroy();
  received = [];
  emulator.onTarget(TARGET, (event) => void received.push(event));
}
afterEach(async () => {
  guard.close();
  await emulator.close();
});

async function update(cluster: string, as: string, resourcesVpcConfig: Record<string, unknown>): Promise<void> {
  const client = new EKSClient({ region: REGION, endpoint: emulator.url, credentials: emulator.credentialsFor(as), maxAttempts: 1 });
  await client.send(new UpdateClusterConfigCommand({ name: cluster, resourcesVpcConfig }));
  client.destroy();
}

test('a remediation: exactly one outcome event, remediated, reaches the rule on the home default bus', async () => {
  await start();
  await update('prod-api', ALICE, OPEN);
  await guard.processPending();
  await emulator.flushEvents();

  const outcomes = received.filter((e) => e.resources.some((r) => r.endsWith(':cluster/prod-api')));
  expect(outcomes).toHaveLength(1);
  const [event] = outcomes;
  expect(event).toMatchObject({ source: 'eks-endpoint-guard', 'detail-type': 'Endpoint Guard Outcome', account: HOME, region: REGION, resources: [`arn:aws:eks:${REGION}:${HOME}:cluster/prod-api`] });
  const detail = event!.detail as OutcomeEventDetail;
  expect(detail).toMatchObject({ schemaVersion: 1, outcome: 'remediated', cluster: { account: HOME, region: REGION, name: 'prod-api' }, before: { endpointPublicAccess: true }, after: { endpointPublicAccess: false } });
  expect(detail.actors.map((a) => a.arn)).toContain(ALICE);
  expect(detail.remediation?.updateId).toEqual(expect.any(String));
  expect(detail.timings.timeToFixSeconds).toBeGreaterThan(0);
  // The execution that put it: the consumer's de-duplication key.
  expect(guard.runner.executions.map((e) => e.name)).toContain(detail.executionName);
  const deliveries = emulator.snapshot().eventBridge.deliveries.filter((d) => d.source === 'eks-endpoint-guard');
  expect(deliveries).toEqual([expect.objectContaining({ status: 'delivered', targetArn: TARGET, bus: `arn:aws:events:${REGION}:${HOME}:event-bus/default` })]);
});

test('a change made while the first is handled: its ALREADY_HANDLED execution puts no event, the remediation one', async () => {
  let raced = false;
  await start(async ({ state }) => {
    if (state !== 'AcquireLease' || raced) return;
    raced = true;
    await update('prod-api', `arn:aws:iam::${HOME}:user/bob`, { publicAccessCidrs: ['8.8.8.0/24'] });
  });
  await update('prod-api', ALICE, OPEN);
  await guard.processPending();
  await emulator.flushEvents();

  expect(raced).toBe(true);
  // Two executions of the user's changes (the guard's own revert starts none): one did the work.
  expect(guard.runner.executions.map((e) => e.outcome).sort()).toEqual(['ignored', 'remediated']);
  const events = received.map((e) => e.detail as OutcomeEventDetail);
  expect(events.map((d) => d.outcome)).toEqual(['remediated']);
  // Both actors are named in the one event.
  expect(events[0]!.actors.map((a) => a.arn)).toEqual(expect.arrayContaining([ALICE, `arn:aws:iam::${HOME}:user/bob`]));
});
