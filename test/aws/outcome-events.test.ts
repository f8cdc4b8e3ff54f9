/**
 * The outcome event adapter (src/aws/outcome-events.ts) against the emulator's EventBridge: the event
 * reaches a rule on the home account's default bus, and a failed entry (PutEvents answers 200 with
 * FailedEntryCount) is an error, transient or not as the state machine's Retry needs it.
 */
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { createClientFactory, type ClientFactory } from '../../src/aws/clients';
import { createOutcomeEventPort, outcomeEventsWiring } from '../../src/aws/outcome-events';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, TransientAwsError } from '../../src/errors';
import type { Emulator, EventBridgeEvent } from '../../src/emulator';
import { OUTCOME_EVENT_DETAIL_TYPE, OUTCOME_EVENT_SOURCE, type OutcomeEvent, type OutcomeEventDetail } from '../../src/workflow/outcome-event';
import { GUARD_ROLE_ARN, PROD, REGION, rejectionOf, useAdapterEmulator } from './helpers';

const CLUSTER_ARN = `arn:aws:eks:${REGION}:${PROD}:cluster/prod-api`;
const TARGET = `arn:aws:lambda:${REGION}:${PROD}:function:pagerduty-forwarder`;

const outcomeEvent = (outcome: OutcomeEventDetail['outcome'] = 'remediated'): OutcomeEvent => ({
  source: OUTCOME_EVENT_SOURCE,
  detailType: OUTCOME_EVENT_DETAIL_TYPE,
  resources: [CLUSTER_ARN],
  // The adapter sends the detail as it is; its shape is the builder's (test/unit/outcome-event.test.ts).
  detail: { schemaVersion: 1, executionName: 'evt-e-1', outcome, severity: 'warning', cluster: { account: PROD, region: REGION, name: 'prod-api', arn: CLUSTER_ARN } } as OutcomeEventDetail,
});

let emulator: Emulator;
let clients: ClientFactory;
let events: EventBridgeClient;

useAdapterEmulator((e) => (emulator = e));
beforeEach(async () => {
  clients = createClientFactory({ endpoint: emulator.url, credentials: emulator.credentialsFor(GUARD_ROLE_ARN), homeAccount: PROD, maxAttempts: 1 });
  events = clients.home(EventBridgeClient, REGION);
});

/** A user's rule on the home default bus, as the README shows it, with an in-process target. */
async function routeOutcomes(pattern: Record<string, unknown> = { source: [OUTCOME_EVENT_SOURCE] }): Promise<EventBridgeEvent[]> {
  await events.send(new PutRuleCommand({ Name: 'endpoint-guard-outcomes', EventPattern: JSON.stringify(pattern) }));
  await events.send(new PutTargetsCommand({ Rule: 'endpoint-guard-outcomes', Targets: [{ Id: 'pagerduty', Arn: TARGET }] }));
  const received: EventBridgeEvent[] = [];
  emulator.onTarget(TARGET, (event) => void received.push(event));
  return received;
}

describe('put', () => {
  it('puts one event on the default bus that a rule on source eks-endpoint-guard delivers, detail intact', async () => {
    const received = await routeOutcomes();
    const event = outcomeEvent();

    const eventId = await createOutcomeEventPort(events).put(event);
    await emulator.flushEvents();

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ id: eventId, source: 'eks-endpoint-guard', 'detail-type': 'Endpoint Guard Outcome', account: PROD, region: REGION, resources: [CLUSTER_ARN], detail: event.detail });
    expect(emulator.snapshot().eventBridge.deliveries).toEqual([expect.objectContaining({ eventId, status: 'delivered', bus: `arn:aws:events:${REGION}:${PROD}:event-bus/default` })]);
  });

  it('a rule on the outcome routes only the outcomes it names (as a PagerDuty resolve rule would)', async () => {
    const received = await routeOutcomes({ source: [OUTCOME_EVENT_SOURCE], 'detail-type': [OUTCOME_EVENT_DETAIL_TYPE], detail: { outcome: ['remediated', 'compliant'] } });
    const port = createOutcomeEventPort(events);

    await port.put(outcomeEvent('failed'));
    await port.put(outcomeEvent('remediated'));
    await emulator.flushEvents();

    expect(received.map((e) => (e.detail as OutcomeEventDetail).outcome)).toEqual(['remediated']);
  });

  it('a failed entry (here: the bus does not exist) is an AwsRequestRejectedError naming the bus, never a deleted cluster', async () => {
    const err = await rejectionOf(createOutcomeEventPort(events, 'no-such-bus').put(outcomeEvent()));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('ResourceNotFoundException');
    expect(err.message).toMatch(/^PutEvents \(entry failed\) on bus no-such-bus, Endpoint Guard Outcome of arn:aws:eks:.*cluster\/prod-api \(execution evt-e-1\) failed: ResourceNotFoundException/);
  });

  it('a throttled PutEvents call is a TransientAwsError (the state machine retries it)', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'PutEvents', times: 1 });
    const err = await rejectionOf(createOutcomeEventPort(events).put(outcomeEvent()));
    expect(err).toBeInstanceOf(TransientAwsError);
  });

  it.each([
    { code: 'ThrottlingException', expected: TransientAwsError },
    { code: 'InternalFailure', expected: TransientAwsError },
    { code: 'AccessDeniedException', expected: AwsRequestRejectedError },
    { code: 'MalformedDetail', expected: AwsRequestRejectedError },
  ])('an entry failing with $code (HTTP 200, FailedEntryCount 1) is a $expected.name', async ({ code, expected }) => {
    // The emulator fails entries only for reasons of the request; AWS also fails them on its side.
    const client = { send: async () => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: code, ErrorMessage: `${code} happened` }] }) } as unknown as EventBridgeClient;
    const err = await rejectionOf(createOutcomeEventPort(client).put(outcomeEvent()));
    expect(err).toBeInstanceOf(expected);
    expect(err.message).toContain(`${code}: ${code} happened`);
  });

  it('an entry without an event id is an error too', async () => {
    const client = { send: async () => ({ FailedEntryCount: 0, Entries: [{}] }) } as unknown as EventBridgeClient;
    await expect(createOutcomeEventPort(client).put(outcomeEvent())).rejects.toThrow(/returned no event id/);
  });
});

describe('outcomeEventsWiring', () => {
  const context = (env: Record<string, string>) => ({ clients, config: loadConfig({ AWS_ENDPOINT_URL: emulator.url, AWS_REGION: REGION, HOME_ACCOUNT_ID: PROD, ...env }), now: () => emulator.clock.now() });

  it('is on by default, on the default bus', async () => {
    const received = await routeOutcomes();
    await expect(outcomeEventsWiring(context({})).put(outcomeEvent())).resolves.toEqual(expect.any(String));
    await emulator.flushEvents();
    expect(received).toHaveLength(1);
  });

  it('OUTCOME_EVENTS=false puts nothing', async () => {
    const received = await routeOutcomes();
    await expect(outcomeEventsWiring(context({ OUTCOME_EVENTS: 'false' })).put(outcomeEvent())).resolves.toBeNull();
    await emulator.flushEvents();
    expect(received).toEqual([]);
    expect(emulator.snapshot().eventBridge.deliveries).toEqual([]);
  });

  it('OUTCOME_EVENT_BUS names the bus', async () => {
    await expect(outcomeEventsWiring(context({ OUTCOME_EVENT_BUS: 'missing-bus' })).put(outcomeEvent())).rejects.toThrow(/bus missing-bus/);
  });
});
