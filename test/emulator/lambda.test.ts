import { InvokeCommand, LambdaClient, type InvocationType } from '@aws-sdk/client-lambda';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { InputError } from '../../src/errors';
import { manualClock, startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import { rejectionOf } from './helpers';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const REGION = 'us-west-2';
const FAILURES = `arn:aws:sqs:${REGION}:${ACCOUNT}:fn-failures`;
const arnOf = (name: string, account = ACCOUNT) => `arn:aws:lambda:${REGION}:${account}:function:${name}`;

const STATE: EmulatorState = { accounts: [{ id: ACCOUNT }, { id: OTHER }], sqs: { queues: [{ name: 'fn-failures', account: ACCOUNT, region: REGION }] } };

let emulator: Emulator;
const clients: { destroy(): void }[] = [];
const unregister: (() => void)[] = [];
/** Every event each function received, in order. */
let calls: Record<string, unknown[]> = {};

function lambda(account = ACCOUNT): LambdaClient {
  const client = new LambdaClient({ endpoint: emulator.url, region: REGION, credentials: { accessKeyId: account, secretAccessKey: 'local' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}
const payloadOf = (bytes: Uint8Array | undefined) => (bytes && bytes.length ? JSON.parse(Buffer.from(bytes).toString('utf8')) : undefined);
const invoke = (FunctionName: string, payload: unknown, type?: InvocationType, client = lambda()) =>
  client.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(payload)), ...(type ? { InvocationType: type } : {}) }));

function register(name: string, handler: (event: unknown) => Promise<unknown> | unknown, extra: { onFailure?: { destination: string }; maximumRetryAttempts?: number } = {}) {
  unregister.push(
    emulator.registerFunction({ account: ACCOUNT, region: REGION, name, ...extra }, async (event) => {
      (calls[name] ??= []).push(event);
      return handler(event);
    }),
  );
}

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state: STATE });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator?.close();
});
beforeEach(() => {
  emulator.loadState(STATE);
  calls = {};
  register('double', (event) => ({ doubled: (event as { n: number }).n * 2 }));
  register('broken', () => {
    throw new TypeError('cannot read the cluster');
  }, { onFailure: { destination: FAILURES } });
});
afterEach(() => {
  for (const off of unregister.splice(0)) off();
});

describe('synchronous invocations (RequestResponse)', () => {
  it.each([
    ['its name', 'double'],
    ['its name and $LATEST', 'double:$LATEST'],
    ['a partial ARN', `${ACCOUNT}:function:double`],
    ['its ARN', arnOf('double')],
    ['its ARN and $LATEST', `${arnOf('double')}:$LATEST`],
  ])('runs the handler named by %s and answers with its result', async (_case, name) => {
    const out = await invoke(name, { n: 21 });
    expect([out.StatusCode, out.ExecutedVersion, out.FunctionError, payloadOf(out.Payload)]).toEqual([200, '$LATEST', undefined, { doubled: 42 }]);
    expect(calls.double).toEqual([{ n: 21 }]);
  });

  it('answers a throw with status 200, X-Amz-Function-Error: Unhandled and the runtime error payload', async () => {
    const out = await invoke('broken', { cluster: 'prod-api' });
    const payload = payloadOf(out.Payload);
    expect([out.StatusCode, out.FunctionError]).toEqual([200, 'Unhandled']);
    expect(payload).toEqual({ errorType: 'TypeError', errorMessage: 'cannot read the cluster', trace: expect.arrayContaining(['TypeError: cannot read the cluster']) });
    expect(payload.trace[0]).toBe('TypeError: cannot read the cluster');
    // A synchronous failure is the caller's to handle: no retry, nothing sent to the destination.
    expect(calls.broken).toHaveLength(1);
    expect(emulator.queueMessages(FAILURES)).toEqual([]);
  });

  it('returns null for a handler that returns nothing, and runs nothing on DryRun', async () => {
    register('quiet', () => undefined);
    expect(payloadOf((await invoke('quiet', {})).Payload)).toBeNull();
    const dry = await invoke('double', { n: 1 }, 'DryRun');
    expect([dry.StatusCode, payloadOf(dry.Payload)]).toEqual([204, undefined]);
    expect(calls.double).toBeUndefined();
  });
});

describe('refusals', () => {
  it.each([
    ['an unknown function', 'nobody', `Function not found: ${arnOf('nobody')}`],
    ['an unknown function ARN', arnOf('nobody'), `Function not found: ${arnOf('nobody')}`],
    ['a version the function does not have', 'double:7', `Function not found: ${arnOf('double')}:7`],
    ['a function of another region', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:double`, `Function not found: arn:aws:lambda:eu-west-1:${ACCOUNT}:function:double`],
  ])('answers %s with 404 ResourceNotFoundException', async (_case, name, message) => {
    const err = await rejectionOf(invoke(name, {}));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual(['ResourceNotFoundException', message, 404]);
  });

  it("refuses another account's function, as no resource policy allows it", async () => {
    const err = await rejectionOf(invoke(arnOf('double'), {}, undefined, lambda(OTHER)));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual(['AccessDeniedException', 403]);
    expect(err.message).toBe(
      `User: arn:aws:iam::${OTHER}:user/local-user is not authorized to perform: lambda:InvokeFunction on resource: ${arnOf('double')} because no resource-based policy allows the lambda:InvokeFunction action`,
    );
  });

  it('refuses a payload that is not JSON, and applies faults to Invoke', async () => {
    const bad = await rejectionOf(lambda().send(new InvokeCommand({ FunctionName: 'double', Payload: Buffer.from('{not json') })));
    expect([bad.name, bad.$metadata?.httpStatusCode]).toEqual(['InvalidRequestContentException', 400]);
    expect(bad.message).toMatch(/^Could not parse request body into json: /);
    emulator.setFault({ kind: 'throttle', service: 'lambda', operation: 'Invoke', times: 1 });
    const throttled = await rejectionOf(invoke('double', { n: 1 }));
    expect([throttled.name, throttled.$metadata?.httpStatusCode]).toEqual(['TooManyRequestsException', 429]);
    expect(payloadOf((await invoke('double', { n: 1 })).Payload)).toEqual({ doubled: 2 });
  });

  it('stops serving a function once unregistered, and refuses a bad registration with every problem named', async () => {
    unregister.pop()!();
    expect((await rejectionOf(invoke('broken', {}))).name).toBe('ResourceNotFoundException');
    expect(() => emulator.registerFunction({ account: '12', region: REGION, name: 'bad name', maximumRetryAttempts: 3 }, () => null)).toThrow(
      expect.objectContaining({
        name: 'InputError',
        problems: [
          'function account: must be a 12-digit AWS account id',
          'function name: must be a Lambda function name (letters, digits, - and _, at most 64)',
          'function maximumRetryAttempts: Too big: expected number to be <=2',
        ],
      }),
    );
    expect(() => emulator.registerFunction({ account: ACCOUNT, region: REGION, name: 'f', onFailure: { destination: 'arn:aws:sns:us-west-2:111122223333:t' } }, () => null)).toThrow(InputError);
  });
});

describe('asynchronous invocations (Event)', () => {
  it('accepts with 202, runs the handler, and flushEvents awaits it', async () => {
    const out = await invoke('double', { n: 5 }, 'Event');
    expect([out.StatusCode, payloadOf(out.Payload)]).toEqual([202, undefined]);
    await emulator.flushEvents();
    expect(calls.double).toEqual([{ n: 5 }]);
    expect(emulator.snapshot().lambda.invocations).toEqual([
      { requestId: out.$metadata.requestId, functionArn: arnOf('double'), invocationType: 'Event', status: 'succeeded', attempts: 1, time: new Date(emulator.clock.now()).toISOString() },
    ]);
  });

  it("retries a failing handler, then sends Lambda's failure record to the onFailure queue", async () => {
    const event = { detail: { cluster: 'prod-api' }, n: [1, 2] };
    const out = await invoke('broken', event, 'Event');
    await emulator.flushEvents();
    expect(calls.broken).toEqual([event, event, event]);
    const [message] = emulator.queueMessages(FAILURES);
    const record = JSON.parse(message!.body);
    expect(record).toEqual({
      version: '1.0',
      timestamp: new Date(emulator.clock.now()).toISOString(),
      requestContext: { requestId: out.$metadata.requestId, functionArn: `${arnOf('broken')}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'cannot read the cluster', trace: expect.arrayContaining(['TypeError: cannot read the cluster']) },
    });
    // The record is an ordinary SQS message: a redrive reads it with the SDK.
    const queue = new SQSClient({ endpoint: emulator.url, region: REGION, credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'local' }, maxAttempts: 1 });
    clients.push(queue);
    const { Messages } = await queue.send(new ReceiveMessageCommand({ QueueUrl: `${emulator.url}/${ACCOUNT}/fn-failures` }));
    expect(Messages?.map((m) => JSON.parse(m.Body!).requestContext.requestId)).toEqual([out.$metadata.requestId]);
    const { functions, invocations } = emulator.snapshot().lambda;
    expect(functions.find((f) => f.name === 'broken')?.metrics).toEqual({ invocations: 3, errors: 3, destinationDeliveryFailures: 0 });
    expect(invocations).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 3, error: { errorType: 'TypeError', errorMessage: 'cannot read the cluster' }, destination: { arn: FAILURES, status: 'sent', messageId: message!.messageId } }),
    ]);
  });

  it.each([
    ['no retries', 0, 1],
    ['one retry', 1, 2],
  ])('makes 1 + maximumRetryAttempts attempts (%s)', async (_case, retries, attempts) => {
    register('strict', () => Promise.reject(new Error('nope')), { onFailure: { destination: FAILURES }, maximumRetryAttempts: retries });
    await invoke('strict', { k: 1 }, 'Event');
    await emulator.flushEvents();
    expect(calls.strict).toHaveLength(attempts);
    expect(JSON.parse(emulator.queueMessages(FAILURES)[0]!.body).requestContext.approximateInvokeCount).toBe(attempts);
  });

  it('sends nothing when a retry succeeds, and counts a destination that does not exist as a delivery failure', async () => {
    let failures = 2;
    register('flaky', () => {
      if (failures-- > 0) throw new Error('transient');
      return 'ok';
    }, { onFailure: { destination: FAILURES } });
    register('lost', () => {
      throw new Error('always');
    }, { onFailure: { destination: `arn:aws:sqs:${REGION}:${ACCOUNT}:missing` } });
    await invoke('flaky', {}, 'Event');
    await invoke('lost', {}, 'Event');
    await emulator.flushEvents();
    expect(emulator.queueMessages(FAILURES)).toEqual([]);
    const { functions, invocations } = emulator.snapshot().lambda;
    expect(invocations.map((r) => [r.functionArn, r.status, r.attempts, r.destination])).toEqual([
      [arnOf('flaky'), 'succeeded', 3, undefined],
      [arnOf('lost'), 'failed', 3, { arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:missing`, status: 'failed', reason: `the destination queue arn:aws:sqs:${REGION}:${ACCOUNT}:missing does not exist` }],
    ]);
    expect(functions.find((f) => f.name === 'lost')?.metrics).toEqual({ invocations: 3, errors: 3, destinationDeliveryFailures: 1 });
  });

  it('is invoked by an EventBridge rule that targets the function, with no onTarget listener', async () => {
    const events = new EventBridgeClient({ endpoint: emulator.url, region: REGION, credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'local' }, maxAttempts: 1 });
    clients.push(events);
    await events.send(new PutRuleCommand({ Name: 'to-lambda', EventPattern: JSON.stringify({ source: ['guard.test'] }) }));
    await events.send(new PutTargetsCommand({ Rule: 'to-lambda', Targets: [{ Id: 'fn', Arn: arnOf('broken') }] }));
    const put = await events.send(new PutEventsCommand({ Entries: [{ Source: 'guard.test', DetailType: 'probe', Detail: '{"a":1}' }] }));
    await emulator.flushEvents();
    // EventBridge hands the event over (delivered); the function's failures are Lambda's, sent to its destination.
    expect(emulator.snapshot().eventBridge.deliveries.map((d) => [d.targetArn, d.status])).toEqual([[arnOf('broken'), 'delivered']]);
    expect(calls.broken).toHaveLength(3);
    expect(JSON.parse(emulator.queueMessages(FAILURES)[0]!.body).requestPayload).toMatchObject({ id: put.Entries![0]!.EventId, source: 'guard.test', detail: { a: 1 } });
  });
});
