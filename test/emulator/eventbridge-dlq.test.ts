import { EventBridgeClient, ListTargetsByRuleCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand, type Target } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { manualClock, startEmulator, type Emulator, type EmulatorState, type EventBridgeEvent } from '../../src/emulator';
import { rejectionOf } from './helpers';

const ACCOUNT = '111122223333';
const PARTNER = '999988887777';
const REGION = 'us-west-2';
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:guard-dlq`;
const MISSING_DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:no-such-queue`;
const TARGET = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:guard-intake`;
const RULE_ARN = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
const PATTERN = JSON.stringify({ source: ['guard.test'] });
const ENTRY = { Source: 'guard.test', DetailType: 'probe', Detail: '{"cluster":"prod-api"}' };

const STATE: EmulatorState = {
  accounts: [{ id: ACCOUNT }, { id: PARTNER }],
  sqs: { queues: [{ name: 'guard-dlq', account: ACCOUNT, region: REGION }] },
  eventBridge: {
    buses: [{ name: 'partner', account: PARTNER, region: REGION }],
    rules: [
      {
        name: 'from-state',
        account: ACCOUNT,
        region: REGION,
        pattern: { source: ['guard.state'] },
        targets: [{ id: 'intake', arn: TARGET, deadLetterConfig: { arn: DLQ }, retryPolicy: { maximumRetryAttempts: 1, maximumEventAgeInSeconds: 3600 } }],
      },
    ],
  },
};

let emulator: Emulator;
const clients: { destroy(): void }[] = [];
let events: EventBridgeClient;
let sqs: SQSClient;
const offs: (() => void)[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state: STATE });
  const config = { endpoint: emulator.url, region: REGION, credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'local' }, maxAttempts: 1 };
  events = new EventBridgeClient(config);
  sqs = new SQSClient(config);
  clients.push(events, sqs);
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator?.close();
});
beforeEach(() => emulator.loadState(STATE));
afterEach(() => {
  for (const off of offs.splice(0)) off();
});

/** A rule matching ENTRY with the given targets, and one event put on the default bus. */
async function putOneEvent(rule: string, targets: Target[]): Promise<string> {
  await events.send(new PutRuleCommand({ Name: rule, EventPattern: PATTERN }));
  await events.send(new PutTargetsCommand({ Rule: rule, Targets: targets }));
  const put = await events.send(new PutEventsCommand({ Entries: [ENTRY] }));
  await emulator.flushEvents();
  return put.Entries![0]!.EventId!;
}

async function deadLetters() {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: `${emulator.url}/${ACCOUNT}/guard-dlq`, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
  return (Messages ?? []).map((m) => ({
    body: m.Body!,
    attributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.DataType === 'String' ? v.StringValue : `${v.DataType}?`])),
  }));
}

describe('dead-letter queues of EventBridge targets', () => {
  it('sends an event whose target still fails after its retries to the DLQ: the event as delivered, with the rule, target and error', async () => {
    const received: EventBridgeEvent[] = [];
    offs.push(
      emulator.onTarget(TARGET, (event) => {
        received.push(event);
        throw new Error('intake is down');
      }),
    );
    const eventId = await putOneEvent('with-dlq', [{ Id: 'intake', Arn: TARGET, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }]);
    expect(received.map((e) => e.id)).toEqual([eventId, eventId, eventId]);
    const [letter, ...others] = await deadLetters();
    expect(others).toEqual([]);
    expect(letter!.body).toBe(JSON.stringify(received[0]));
    expect(letter!.attributes).toEqual({
      RULE_ARN: RULE_ARN('with-dlq'),
      TARGET_ARN: TARGET,
      ERROR_CODE: 'SDK_CLIENT_ERROR',
      ERROR_MESSAGE: 'intake is down',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '2',
    });
    const { deliveries, rules } = emulator.snapshot().eventBridge;
    expect(deliveries).toEqual([
      expect.objectContaining({ eventId, targetArn: TARGET, status: 'failed', reason: 'the listener threw: intake is down', retries: 2, deadLetter: { queueArn: DLQ, status: 'sent', messageId: expect.any(String) } }),
    ]);
    expect(rules.find((r) => r.name === 'with-dlq')?.metrics).toEqual({ matchedEvents: 1, invocations: 1, failedInvocations: 1, invocationsSentToDlq: 1, invocationsFailedToBeSentToDlq: 0 });
  });

  it('delivers when a retry succeeds, sending nothing to the DLQ', async () => {
    let failures = 1;
    offs.push(
      emulator.onTarget(TARGET, async () => {
        if (failures-- > 0) throw new Error('once');
      }),
    );
    await putOneEvent('flaky', [{ Id: 'intake', Arn: TARGET, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 3 } }]);
    expect(emulator.snapshot().eventBridge.deliveries.map((d) => [d.status, d.retries, d.deadLetter])).toEqual([['delivered', 1, undefined]]);
    expect(await deadLetters()).toEqual([]);
  });

  it('makes a single attempt without a RetryPolicy, and sends a target that does not exist to the DLQ at once', async () => {
    const calls: string[] = [];
    const thrower = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:thrower`;
    const nobody = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:nobody`;
    offs.push(
      emulator.onTarget(thrower, (event) => {
        calls.push(event.id);
        return Promise.reject(new Error(''));
      }),
    );
    await putOneEvent('two-targets', [
      { Id: 'thrower', Arn: thrower, DeadLetterConfig: { Arn: DLQ } },
      { Id: 'nobody', Arn: nobody, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 5 } },
    ]);
    expect(calls).toHaveLength(1);
    const letters = await deadLetters();
    expect(letters.map((l) => [l.attributes.TARGET_ARN, l.attributes.ERROR_CODE, l.attributes.ERROR_MESSAGE, l.attributes.RETRY_ATTEMPTS])).toEqual([
      // The missing target fails while routing; the rejection only once it settles.
      [nobody, 'NO_RESOURCE', `no in-process listener is registered for ${nobody} (emulator.onTarget)`, undefined],
      // An empty error message still gives ERROR_MESSAGE a value: SQS refuses empty attributes.
      [thrower, 'SDK_CLIENT_ERROR', 'SDK_CLIENT_ERROR', '0'],
    ]);
  });

  it.each([
    ['an event bus that does not exist', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/gone`, undefined, 'NO_RESOURCE'],
    ['a bus whose policy does not admit the rule account', `arn:aws:events:${REGION}:${PARTNER}:event-bus/partner`, `arn:aws:iam::${ACCOUNT}:role/forwarder`, 'NO_PERMISSIONS'],
  ])('sends an event for %s to the DLQ', async (_case, arn, roleArn, code) => {
    await putOneEvent('to-bus', [{ Id: 'bus', Arn: arn, ...(roleArn ? { RoleArn: roleArn } : {}), DeadLetterConfig: { Arn: DLQ } }]);
    const [letter] = await deadLetters();
    expect([letter?.attributes.ERROR_CODE, letter?.attributes.TARGET_ARN, letter?.attributes.RULE_ARN]).toEqual([code, arn, RULE_ARN('to-bus')]);
    expect(emulator.snapshot().eventBridge.deliveries[0]?.deadLetter?.status).toBe('sent');
  });

  it('loses the event when the DLQ does not exist, counting it as InvocationsFailedToBeSentToDlq', async () => {
    offs.push(
      emulator.onTarget(TARGET, () => {
        throw new Error('down');
      }),
    );
    await putOneEvent('lost', [{ Id: 'intake', Arn: TARGET, DeadLetterConfig: { Arn: MISSING_DLQ } }]);
    const { deliveries, rules } = emulator.snapshot().eventBridge;
    expect(deliveries[0]?.deadLetter).toEqual({ queueArn: MISSING_DLQ, status: 'failed', reason: `the queue ${MISSING_DLQ} does not exist` });
    expect(rules.find((r) => r.name === 'lost')?.metrics).toEqual({ matchedEvents: 1, invocations: 1, failedInvocations: 1, invocationsSentToDlq: 0, invocationsFailedToBeSentToDlq: 1 });
    expect(emulator.snapshot().sqs.queues.map((q) => [q.name, q.messages.available])).toEqual([['guard-dlq', 0]]);
  });

  it('takes the DLQ and RetryPolicy from the state file, and shows them in snapshot()', async () => {
    let attempts = 0;
    offs.push(
      emulator.onTarget(TARGET, () => {
        attempts += 1;
        throw new Error('from state');
      }),
    );
    await events.send(new PutEventsCommand({ Entries: [{ ...ENTRY, Source: 'guard.state' }] }));
    await emulator.flushEvents();
    expect(attempts).toBe(2);
    expect((await deadLetters()).map((l) => [l.attributes.RULE_ARN, l.attributes.RETRY_ATTEMPTS])).toEqual([[RULE_ARN('from-state'), '1']]);
    expect(emulator.snapshot().eventBridge.rules.find((r) => r.name === 'from-state')?.targets).toEqual([
      { id: 'intake', arn: TARGET, deadLetterConfig: { arn: DLQ }, retryPolicy: { maximumRetryAttempts: 1, maximumEventAgeInSeconds: 3600 } },
    ]);
  });
});

describe('PutTargets with DeadLetterConfig and RetryPolicy', () => {
  it('keeps them as given, for ListTargetsByRule', async () => {
    await events.send(new PutRuleCommand({ Name: 'listed', EventPattern: PATTERN }));
    const target = { Id: 'intake', Arn: TARGET, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } };
    await events.send(new PutTargetsCommand({ Rule: 'listed', Targets: [target] }));
    expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'listed' }))).Targets).toEqual([target]);
  });

  it.each([
    ['a DLQ that is not an SQS queue', { DeadLetterConfig: { Arn: `arn:aws:sns:${REGION}:${ACCOUNT}:topic` } }, `Parameter DeadLetterConfig.Arn arn:aws:sns:${REGION}:${ACCOUNT}:topic is not valid. Reason: Provided Arn is not in correct format; a dead-letter queue is an SQS queue ARN.`],
    ['too many retries', { RetryPolicy: { MaximumRetryAttempts: 186 } }, "1 validation error detected: Value '186' at 'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185"],
    ['too short an event age', { RetryPolicy: { MaximumEventAgeInSeconds: 59 } }, "1 validation error detected: Value '59' at 'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"],
  ])('refuses %s', async (_case, extra, message) => {
    await events.send(new PutRuleCommand({ Name: 'bad', EventPattern: PATTERN }));
    const err = await rejectionOf(events.send(new PutTargetsCommand({ Rule: 'bad', Targets: [{ Id: 'intake', Arn: TARGET, ...extra }] })));
    expect([err.name, err.message]).toEqual(['ValidationException', message]);
  });
});
