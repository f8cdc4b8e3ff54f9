import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type CreateQueueCommandInput,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { InputError } from '../../src/errors';
import { manualClock, md5OfAttributes, parseEmulatorState, startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import { awsCliEnv, rejectionOf } from './helpers';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const REGION = 'eu-west-1';
const WORK_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:work`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:work-dlq`;

const STATE: EmulatorState = {
  accounts: [{ id: ACCOUNT }, { id: OTHER }],
  sqs: {
    queues: [
      { name: 'work', account: ACCOUNT, region: REGION, attributes: { VisibilityTimeout: 30 } },
      { name: 'work-dlq', account: ACCOUNT, region: REGION },
      { name: 'redriven', account: ACCOUNT, region: REGION, attributes: { VisibilityTimeout: 0, RedrivePolicy: { deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 2 } } },
      { name: 'small', account: ACCOUNT, region: REGION, attributes: { MaximumMessageSize: 262144 } },
      { name: 'theirs', account: OTHER, region: REGION },
    ],
  },
};

let emulator: Emulator;
const clients: SQSClient[] = [];
function sqs(account = ACCOUNT): SQSClient {
  const client = new SQSClient({ endpoint: emulator.url, region: REGION, credentials: { accessKeyId: account, secretAccessKey: 'local' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}
const urlOf = (name: string, account = ACCOUNT) => `${emulator.url}/${account}/${name}`;

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state: STATE });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator?.close();
});
beforeEach(() => emulator.loadState(STATE));

describe('MD5 digests, as SQS computes them', () => {
  // The reference values published with the AWS SDKs' checksum checks.
  it.each([
    ['two strings, given out of order', { test_attribute_name_2: { DataType: 'String', StringValue: 'test_attribute_value_2' }, test_attribute_name_1: { DataType: 'String', StringValue: 'test_attribute_value_1' } }, 'd53f3b558fe951154770f25cb63dbba9'],
    ['a binary value', { test_attribute_name: { DataType: 'Binary', BinaryValue: Buffer.from('test_attribute_value').toString('base64') } }, '23f6bd27ea87aab7dfeadcc9aebee495'],
    ['the SQS guide example', { SellerName: { DataType: 'String', StringValue: 'Example Store' } }, 'cd28f3b68aeee4b2eac9c66f2f694b58'],
  ])('MD5OfMessageAttributes of %s', (_case, attributes, expected) => {
    expect(md5OfAttributes(attributes)).toBe(expected);
  });

  it('answers SendMessage and ReceiveMessage with digests the SDK checks and accepts', async () => {
    const client = sqs();
    const attributes: Record<string, MessageAttributeValue> = {
      test_attribute_name_2: { DataType: 'String', StringValue: 'test_attribute_value_2' },
      test_attribute_name_1: { DataType: 'String', StringValue: 'test_attribute_value_1' },
    };
    // Multi-byte text: the body's digest is over its UTF-8 bytes.
    const body = 'cluster prod-api: öffentlich ✓';
    const sent = await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: body, MessageAttributes: attributes }));
    expect(sent.MD5OfMessageAttributes).toBe('d53f3b558fe951154770f25cb63dbba9');
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MessageAttributeNames: ['All'] }));
    expect(Messages?.map((m) => [m.MessageId, m.Body, m.MD5OfMessageAttributes, m.MessageAttributes])).toEqual([[sent.MessageId, body, 'd53f3b558fe951154770f25cb63dbba9', attributes]]);
  });

  it('digests the AWSTraceHeader system attribute too, and returns it with All', async () => {
    const client = sqs();
    const trace = { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' } };
    const sent = await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'traced', MessageSystemAttributes: trace }));
    expect([sent.MD5OfMessageSystemAttributes, sent.MD5OfMessageAttributes]).toEqual([md5OfAttributes(trace), undefined]);
    const [m] = (await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MessageSystemAttributeNames: ['All'] }))).Messages ?? [];
    expect(m?.Attributes?.AWSTraceHeader).toBe(trace.AWSTraceHeader.StringValue);
    const refused = await rejectionOf(client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'x', MessageSystemAttributes: { Other: { DataType: 'String', StringValue: 'v' } } as never })));
    expect([refused.name, refused.message]).toEqual(['InvalidParameterValue', "Message system attribute name 'Other' is invalid."]);
  });

  it('digests only the attributes it returns', async () => {
    const client = sqs();
    await client.send(
      new SendMessageCommand({
        QueueUrl: urlOf('work'),
        MessageBody: 'x',
        MessageAttributes: { 'guard.cluster': { DataType: 'String', StringValue: 'prod' }, 'guard.count': { DataType: 'Number', StringValue: '3' }, other: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2]) } },
      }),
    );
    const [m] = (await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MessageAttributeNames: ['guard.*'] }))).Messages ?? [];
    expect(Object.keys(m?.MessageAttributes ?? {}).sort()).toEqual(['guard.cluster', 'guard.count']);
    expect(m?.MD5OfMessageAttributes).toBe(md5OfAttributes({ 'guard.cluster': { DataType: 'String', StringValue: 'prod' }, 'guard.count': { DataType: 'Number', StringValue: '3' } }));
  });
});

describe('queues', () => {
  it('creates a queue idempotently, and refuses the same name with other attribute values', async () => {
    const client = sqs();
    const first = await client.send(new CreateQueueCommand({ QueueName: 'fresh', Attributes: { VisibilityTimeout: '45', MessageRetentionPeriod: '600' } }));
    const again = await client.send(new CreateQueueCommand({ QueueName: 'fresh', Attributes: { VisibilityTimeout: '45' } }));
    expect([first.QueueUrl, again.QueueUrl]).toEqual([urlOf('fresh'), urlOf('fresh')]);
    const clash = await rejectionOf(client.send(new CreateQueueCommand({ QueueName: 'fresh', Attributes: { VisibilityTimeout: '46' } })));
    expect([clash.name, clash.Code, clash.message, clash.$metadata?.httpStatusCode]).toEqual([
      'QueueNameExists',
      'QueueAlreadyExists',
      'A queue already exists with the same name and a different value for attribute VisibilityTimeout',
      400,
    ]);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: first.QueueUrl, AttributeNames: ['VisibilityTimeout', 'MessageRetentionPeriod', 'QueueArn'] }));
    expect(Attributes).toEqual({ VisibilityTimeout: '45', MessageRetentionPeriod: '600', QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:fresh` });
  });

  it.each([
    ['a bad name', { QueueName: 'no spaces' }, 'InvalidParameterValue', 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length'],
    ['a value out of range', { QueueName: 'q', Attributes: { VisibilityTimeout: '43201' } }, 'InvalidAttributeValue', 'Invalid value for the parameter VisibilityTimeout.'],
    ['an unknown attribute', { QueueName: 'q', Attributes: { Colour: 'blue' } }, 'InvalidAttributeName', 'Unknown Attribute Colour.'],
    ['a read-only attribute', { QueueName: 'q', Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:111122223333:q' } }, 'InvalidAttributeName', 'Unknown Attribute QueueArn.'],
    [
      'a dead-letter queue that does not exist',
      { QueueName: 'q', Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:nope`, maxReceiveCount: 3 }) } },
      'InvalidParameterValue',
      `Value {"deadLetterTargetArn":"arn:aws:sqs:${REGION}:${ACCOUNT}:nope","maxReceiveCount":3} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
    ],
  ])('refuses CreateQueue with %s', async (_case, input, name, message) => {
    // Deliberately outside the SDK's types: an unknown attribute name is what is under test.
    const err = await rejectionOf(sqs().send(new CreateQueueCommand(input as CreateQueueCommandInput)));
    expect([err.name, err.message]).toEqual([name, message]);
  });

  it('finds queues by name and lists them by prefix, a page at a time when MaxResults is given', async () => {
    const client = sqs();
    expect((await client.send(new GetQueueUrlCommand({ QueueName: 'work' }))).QueueUrl).toBe(urlOf('work'));
    expect((await client.send(new ListQueuesCommand({ QueueNamePrefix: 'work' }))).QueueUrls).toEqual([urlOf('work'), urlOf('work-dlq')]);
    const first = await client.send(new ListQueuesCommand({ MaxResults: 3 }));
    const second = await client.send(new ListQueuesCommand({ MaxResults: 3, NextToken: first.NextToken }));
    expect([first.QueueUrls, second.QueueUrls, second.NextToken]).toEqual([[urlOf('redriven'), urlOf('small'), urlOf('work')], [urlOf('work-dlq')], undefined]);
    // Another account's queue is not listed, and its name is not found from here.
    expect((await sqs(OTHER).send(new ListQueuesCommand({}))).QueueUrls).toEqual([urlOf('theirs', OTHER)]);
  });

  it('reports every attribute with All, and changes them with SetQueueAttributes', async () => {
    const client = sqs();
    await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'a' }));
    await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'b', DelaySeconds: 60 }));
    await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'c' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work') }));
    emulator.clock.advance(5_000);
    await client.send(new SetQueueAttributesCommand({ QueueUrl: urlOf('work'), Attributes: { DelaySeconds: '5', MessageRetentionPeriod: '86400' } }));
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: urlOf('work'), AttributeNames: ['All'] }));
    const created = String(Math.floor(emulator.clock.now() / 1000) - 5);
    expect(Attributes).toEqual({
      QueueArn: WORK_ARN,
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
      ApproximateNumberOfMessagesDelayed: '1',
      CreatedTimestamp: created,
      LastModifiedTimestamp: String(Number(created) + 5),
      VisibilityTimeout: '30',
      MaximumMessageSize: '1048576',
      MessageRetentionPeriod: '86400',
      DelaySeconds: '5',
      ReceiveMessageWaitTimeSeconds: '0',
      SqsManagedSseEnabled: 'true',
    });
    const unknown = await rejectionOf(client.send(new GetQueueAttributesCommand({ QueueUrl: urlOf('work'), AttributeNames: ['Colour' as never] })));
    expect([unknown.name, unknown.message]).toEqual(['InvalidAttributeName', 'Unknown Attribute Colour.']);
  });

  it('purges at most once a minute, and refuses a re-created name for a minute after DeleteQueue', async () => {
    const client = sqs();
    await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'a' }));
    await client.send(new PurgeQueueCommand({ QueueUrl: urlOf('work') }));
    expect(emulator.queueMessages(WORK_ARN)).toEqual([]);
    const again = await rejectionOf(client.send(new PurgeQueueCommand({ QueueUrl: urlOf('work') })));
    expect([again.name, again.Code, again.$metadata?.httpStatusCode]).toEqual(['PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress', 403]);
    emulator.clock.advance(60_000);
    await client.send(new PurgeQueueCommand({ QueueUrl: urlOf('work') }));

    await client.send(new DeleteQueueCommand({ QueueUrl: urlOf('work') }));
    const gone = await rejectionOf(client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'a' })));
    expect(gone.name).toBe('QueueDoesNotExist');
    const soon = await rejectionOf(client.send(new CreateQueueCommand({ QueueName: 'work' })));
    expect([soon.name, soon.message]).toEqual(['QueueDeletedRecently', 'You must wait 60 seconds after deleting a queue before you can create another with the same name.']);
    emulator.clock.advance(60_000);
    expect((await client.send(new CreateQueueCommand({ QueueName: 'work' }))).QueueUrl).toBe(urlOf('work'));
  });
});

describe('messages on the emulated clock', () => {
  it('hides a received message for the visibility timeout, then delivers it again with a higher ApproximateReceiveCount', async () => {
    const client = sqs();
    const sentAt = emulator.clock.now();
    const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'redeliver me' }));
    emulator.clock.advance(2_000);
    const receive = () =>
      client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'] }));
    const first = (await receive()).Messages ?? [];
    const firstAt = emulator.clock.now();
    expect(first.map((m) => [m.MessageId, m.Attributes])).toEqual([
      [MessageId, { ApproximateReceiveCount: '1', SentTimestamp: String(sentAt), ApproximateFirstReceiveTimestamp: String(firstAt) }],
    ]);
    expect((await receive()).Messages).toBeUndefined();
    emulator.clock.advance(29_999);
    expect((await receive()).Messages).toBeUndefined();
    expect(emulator.queueMessages(WORK_ARN).map((m) => [m.state, m.receiveCount])).toEqual([['in-flight', 1]]);
    emulator.clock.advance(1);
    const second = (await receive()).Messages ?? [];
    expect(second.map((m) => [m.MessageId, m.Attributes])).toEqual([
      [MessageId, { ApproximateReceiveCount: '2', SentTimestamp: String(sentAt), ApproximateFirstReceiveTimestamp: String(firstAt) }],
    ]);
    // The first receipt handle is stale: deleting with it succeeds but keeps the message, as SQS does.
    await client.send(new DeleteMessageCommand({ QueueUrl: urlOf('work'), ReceiptHandle: first[0]!.ReceiptHandle }));
    expect(emulator.queueMessages(WORK_ARN)).toHaveLength(1);
    await client.send(new DeleteMessageCommand({ QueueUrl: urlOf('work'), ReceiptHandle: second[0]!.ReceiptHandle }));
    expect(emulator.queueMessages(WORK_ARN)).toEqual([]);
  });

  it('takes a per-receive VisibilityTimeout, and ChangeMessageVisibility extends or releases a message', async () => {
    const client = sqs();
    await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'm' }));
    const [m] = (await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), VisibilityTimeout: 5 }))).Messages ?? [];
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: urlOf('work'), ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 100 }));
    emulator.clock.advance(99_000);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work') }))).Messages).toBeUndefined();
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: urlOf('work'), ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 0 }));
    const [again] = (await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work') }))).Messages ?? [];
    expect(again?.MessageId).toBe(m!.MessageId);
    const stale = await rejectionOf(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: urlOf('work'), ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 10 })));
    expect([stale.name, stale.message]).toEqual(['InvalidParameterValue', `Value ${m!.ReceiptHandle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`]);
    emulator.clock.advance(30_000);
    const notInFlight = await rejectionOf(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: urlOf('work'), ReceiptHandle: again!.ReceiptHandle, VisibilityTimeout: 10 })));
    expect([notInFlight.name, notInFlight.Code]).toEqual(['MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight']);
  });

  it('returns up to MaxNumberOfMessages in the order sent, and accepts WaitTimeSeconds without waiting', async () => {
    const client = sqs();
    for (let i = 0; i < 12; i++) await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: `m${i}` }));
    const one = await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work') }));
    const ten = await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }));
    const rest = await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }));
    expect([one, ten, rest].map((r) => r.Messages?.map((m) => m.Body))).toEqual([['m0'], ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10'], ['m11']]);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), WaitTimeSeconds: 20 }))).Messages).toBeUndefined();
  });

  it.each([
    [{ MaxNumberOfMessages: 11 }, 'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.'],
    [{ MaxNumberOfMessages: 0 }, 'Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.'],
    [{ WaitTimeSeconds: 21 }, 'Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be between 0 and 20, if provided.'],
    [{ VisibilityTimeout: 43201 }, 'Value 43201 for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.'],
  ])('refuses ReceiveMessage with %o', async (input, message) => {
    const err = await rejectionOf(sqs().send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), ...input })));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual(['InvalidParameterValue', message, 400]);
  });

  it('holds a delayed message back, and drops messages older than the retention period', async () => {
    const client = sqs();
    await client.send(new SetQueueAttributesCommand({ QueueUrl: urlOf('work'), Attributes: { MessageRetentionPeriod: '60' } }));
    await client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'later', DelaySeconds: 10 }));
    expect(emulator.queueMessages(WORK_ARN).map((m) => m.state)).toEqual(['delayed']);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work') }))).Messages).toBeUndefined();
    emulator.clock.advance(10_000);
    expect(emulator.queueMessages(WORK_ARN).map((m) => m.state)).toEqual(['available']);
    emulator.clock.advance(50_000);
    expect(emulator.queueMessages(WORK_ARN)).toEqual([]);
  });

  it('moves a message received maxReceiveCount times to the RedrivePolicy dead-letter queue', async () => {
    const client = sqs();
    const url = urlOf('redriven');
    const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison', MessageAttributes: { kind: { DataType: 'String', StringValue: 'x' } } }));
    for (let i = 0; i < 2; i++) expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.map((m) => m.MessageId)).toEqual([MessageId]);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const [moved] = (await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work-dlq'), MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }))).Messages ?? [];
    expect([moved?.MessageId, moved?.Body, moved?.Attributes?.DeadLetterQueueSourceArn, moved?.Attributes?.ApproximateReceiveCount, moved?.MessageAttributes]).toEqual([
      MessageId,
      'poison',
      `arn:aws:sqs:${REGION}:${ACCOUNT}:redriven`,
      '3',
      { kind: { DataType: 'String', StringValue: 'x' } },
    ]);
  });
});

describe('batches', () => {
  it('sends a batch entry by entry, failing the bad ones alone', async () => {
    const client = sqs();
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: urlOf('work'),
        Entries: [
          { Id: 'a', MessageBody: 'one', MessageAttributes: { n: { DataType: 'Number', StringValue: '1' } } },
          { Id: 'b', MessageBody: 'two', MessageAttributes: { n: { DataType: 'Number', StringValue: 'not a number' } } },
          { Id: 'c', MessageBody: 'three', DelaySeconds: 30 },
        ],
      }),
    );
    expect(out.Successful?.map((s) => [s.Id, s.MD5OfMessageAttributes])).toEqual([
      ['a', md5OfAttributes({ n: { DataType: 'Number', StringValue: '1' } })],
      ['c', undefined],
    ]);
    expect(out.Failed).toEqual([{ Id: 'b', SenderFault: true, Code: 'InvalidParameterValue', Message: "Can't cast the value of message (user) attribute 'n' to a number." }]);
    expect(emulator.queueMessages(WORK_ARN).map((m) => [m.body, m.state])).toEqual([
      ['one', 'available'],
      ['three', 'delayed'],
    ]);
  });

  it('deletes and changes visibility in batches, reporting bad receipt handles per entry', async () => {
    const client = sqs();
    await client.send(new SendMessageBatchCommand({ QueueUrl: urlOf('work'), Entries: [0, 1, 2].map((i) => ({ Id: `m${i}`, MessageBody: `m${i}` })) }));
    const received = (await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MaxNumberOfMessages: 3 }))).Messages ?? [];
    const changed = await client.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: urlOf('work'), Entries: [{ Id: 'keep', ReceiptHandle: received[2]!.ReceiptHandle, VisibilityTimeout: 0 }] }),
    );
    expect(changed.Successful).toEqual([{ Id: 'keep' }]);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: urlOf('work'),
        Entries: [
          { Id: 'x', ReceiptHandle: received[0]!.ReceiptHandle },
          { Id: 'y', ReceiptHandle: 'not-a-handle' },
          { Id: 'z', ReceiptHandle: received[1]!.ReceiptHandle },
        ],
      }),
    );
    expect([deleted.Successful, deleted.Failed]).toEqual([
      [{ Id: 'x' }, { Id: 'z' }],
      [{ Id: 'y', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle "not-a-handle" is not a valid receipt handle.' }],
    ]);
    expect(emulator.queueMessages(WORK_ARN).map((m) => [m.body, m.state])).toEqual([['m2', 'available']]);
  });

  it.each([
    ['no entries', [], 'EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.'],
    ['eleven entries', Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })), 'TooManyEntriesInBatchRequest', 'Maximum number of entries per request are 10. You have sent 11.'],
    ['a repeated id', [{ Id: 'a', MessageBody: 'x' }, { Id: 'a', MessageBody: 'y' }], 'BatchEntryIdsNotDistinct', 'Id a repeated.'],
    ['a malformed id', [{ Id: 'not ok', MessageBody: 'x' }], 'InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.'],
  ])('refuses a batch with %s', async (_case, entries, name, message) => {
    const err = await rejectionOf(sqs().send(new SendMessageBatchCommand({ QueueUrl: urlOf('work'), Entries: entries })));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual([name, message, 400]);
  });
});

describe('errors in SQS words', () => {
  it('names a missing queue as the SDK expects: QueueDoesNotExist, code AWS.SimpleQueueService.NonExistentQueue', async () => {
    const err = await rejectionOf(sqs().send(new GetQueueUrlCommand({ QueueName: 'nope' })));
    expect([err.name, err.Code, err.message, err.$metadata?.httpStatusCode]).toEqual(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.', 400]);
  });

  it.each([
    ['the default limit of 1 MiB', 'work', 1_048_577, 'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.'],
    ['a queue created with 256 KiB', 'small', 262_145, 'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.'],
  ])('refuses a message above %s', async (_case, queue, size, message) => {
    const client = sqs();
    const err = await rejectionOf(client.send(new SendMessageCommand({ QueueUrl: urlOf(queue), MessageBody: 'x'.repeat(size) })));
    expect([err.name, err.message]).toEqual(['InvalidParameterValue', message]);
    // Attributes count too: a body one byte under the limit with a one-byte attribute name is over it.
    const withAttribute = await rejectionOf(
      client.send(new SendMessageCommand({ QueueUrl: urlOf(queue), MessageBody: 'x'.repeat(size - 10), MessageAttributes: { k: { DataType: 'String', StringValue: 'abcd' } } })),
    );
    expect(withAttribute.message).toBe(message);
    await client.send(new SendMessageCommand({ QueueUrl: urlOf(queue), MessageBody: 'x'.repeat(size - 1) }));
  });

  it.each([
    ['a receipt handle that is no handle', () => new DeleteMessageCommand({ QueueUrl: urlOf('work'), ReceiptHandle: 'bogus' }), 'ReceiptHandleIsInvalid', 'The input receipt handle "bogus" is not a valid receipt handle.', 404],
    ['a control character in the body', () => new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'a\u0001b' }), 'InvalidMessageContents', "Invalid binary character '#x1' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", 400],
    ['an empty body', () => new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: '' }), 'MissingParameter', 'The request must contain the parameter MessageBody.', 400],
    ['an attribute named AWS.x', () => new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'b', MessageAttributes: { 'AWS.x': { DataType: 'String', StringValue: 'v' } } }), 'InvalidParameterValue', expect.stringContaining("Message (user) attribute name 'AWS.x' is invalid."), 400],
    ['a queue URL that names no queue', () => new SendMessageCommand({ QueueUrl: `https://sqs.${REGION}.amazonaws.com/queues/work`, MessageBody: 'b' }), 'InvalidAddress', `The address https://sqs.${REGION}.amazonaws.com/queues/work is not valid for this endpoint.`, 404],
    ["another account's queue", () => new SendMessageCommand({ QueueUrl: `https://sqs.${REGION}.amazonaws.com/${OTHER}/theirs`, MessageBody: 'b' }), 'AccessDenied', `Access to the resource https://sqs.${REGION}.amazonaws.com/${OTHER}/theirs is denied.`, 403],
  ])('refuses %s', async (_case, command, name, message, status) => {
    const err = await rejectionOf(sqs().send(command() as never));
    expect([err.name, err.message, err.$metadata?.httpStatusCode]).toEqual([name, message, status]);
  });

  it("accepts AWS's own queue URL form, resolving the account and name from its path", async () => {
    const client = sqs();
    const sent = await client.send(new SendMessageCommand({ QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/work`, MessageBody: 'via aws url' }));
    expect(emulator.queueMessages(WORK_ARN).map((m) => [m.messageId, m.body])).toEqual([[sent.MessageId, 'via aws url']]);
    const elsewhere = await rejectionOf(client.send(new SendMessageCommand({ QueueUrl: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/work`, MessageBody: 'x' })));
    expect(elsewhere.name).toBe('QueueDoesNotExist');
  });

  it('applies faults to SQS calls, in the throttling error the SDK retries', async () => {
    emulator.setFault({ kind: 'throttle', service: 'sqs', operation: 'SendMessage', times: 1 });
    const client = sqs();
    const throttled = await rejectionOf(client.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'x' })));
    expect([throttled.name, throttled.$metadata?.httpStatusCode]).toEqual(['RequestThrottled', 403]);
    emulator.setFault({ kind: 'server-error', service: 'sqs', times: 1 });
    const failed = await rejectionOf(client.send(new ReceiveMessageCommand({ QueueUrl: urlOf('work') })));
    expect([failed.name, failed.$metadata?.httpStatusCode]).toEqual(['InternalError', 500]);
    // A client that retries gets through a throttled call, as SDK retries treat RequestThrottled as throttling.
    emulator.setFault({ kind: 'throttle', service: 'sqs', operation: 'SendMessage', times: 1 });
    const retrying = new SQSClient({ endpoint: emulator.url, region: REGION, credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'local' }, maxAttempts: 2 });
    clients.push(retrying);
    const sent = await retrying.send(new SendMessageCommand({ QueueUrl: urlOf('work'), MessageBody: 'y' }));
    expect(sent.$metadata.attempts).toBe(2);
  });
});

describe('the state file and the in-process API', () => {
  it('shows state queues, with their attributes and message counts, in snapshot()', async () => {
    emulator.sendToQueue(WORK_ARN, { body: 'seeded' });
    const work = emulator.snapshot().sqs.queues.find((q) => q.arn === WORK_ARN);
    expect(work).toEqual({
      account: ACCOUNT,
      region: REGION,
      name: 'work',
      arn: WORK_ARN,
      attributes: { DelaySeconds: '0', MaximumMessageSize: '1048576', MessageRetentionPeriod: '345600', ReceiveMessageWaitTimeSeconds: '0', VisibilityTimeout: '30', SqsManagedSseEnabled: 'true' },
      messages: { available: 1, inFlight: 0, delayed: 0 },
    });
    expect(emulator.snapshot().sqs.queues.map((q) => q.name)).toEqual(['redriven', 'small', 'work', 'work-dlq', 'theirs']);
    expect(JSON.parse(emulator.snapshot().sqs.queues[0]!.attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 2 });
  });

  it('names every bad queue of a state file with its path', () => {
    const bad = () =>
      parseEmulatorState(
        {
          accounts: [{ id: ACCOUNT }],
          sqs: {
            queues: [
              { name: 'a', account: ACCOUNT, region: REGION },
              { name: 'a', account: ACCOUNT, region: REGION, attributes: { VisibilityTimeout: -1 } },
              { name: 'b', account: OTHER, region: REGION, attributes: { RedrivePolicy: { deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:missing`, maxReceiveCount: 1 } } },
            ],
          },
        },
        'state.yaml',
      );
    expect(bad).toThrow(InputError);
    expect(() => bad()).toThrow(
      expect.objectContaining({
        problems: [
          `state.yaml: sqs.queues[2].account: account ${OTHER} is not declared in accounts`,
          `state.yaml: sqs.queues[1].name: queue a is declared twice in ${ACCOUNT} ${REGION}`,
          'state.yaml: sqs.queues[1].attributes: Invalid value for the parameter VisibilityTimeout.',
          `state.yaml: sqs.queues[2].attributes: Value {"deadLetterTargetArn":"arn:aws:sqs:${REGION}:${ACCOUNT}:missing","maxReceiveCount":1} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
        ],
      }),
    );
  });

  it('puts a message on a queue for other emulated services, and refuses an unknown queue', async () => {
    const { messageId } = emulator.sendToQueue(WORK_ARN, { body: '{"k":1}', attributes: { SOURCE: 'test', COUNT: { DataType: 'Number', StringValue: '2' } } });
    const [m] = (await sqs().send(new ReceiveMessageCommand({ QueueUrl: urlOf('work'), MessageAttributeNames: ['All'] }))).Messages ?? [];
    expect([m?.MessageId, m?.Body, m?.MessageAttributes]).toEqual([messageId, '{"k":1}', { SOURCE: { DataType: 'String', StringValue: 'test' }, COUNT: { DataType: 'Number', StringValue: '2' } }]);
    expect(emulator.queueMessages(WORK_ARN)).toEqual([
      { messageId, body: '{"k":1}', messageAttributes: m?.MessageAttributes, sentAt: new Date(emulator.clock.now()).toISOString(), receiveCount: 1, state: 'in-flight', visibleAt: new Date(emulator.clock.now() + 30_000).toISOString() },
    ]);
    expect(() => emulator.sendToQueue(`arn:aws:sqs:${REGION}:${ACCOUNT}:nope`, { body: 'x' })).toThrow(new RangeError(`the queue arn:aws:sqs:${REGION}:${ACCOUNT}:nope does not exist`));
    expect(() => emulator.queueMessages(`arn:aws:sqs:${REGION}:${ACCOUNT}:nope`)).toThrow(RangeError);
  });
});

describe('the query protocol (awscli 2.9 and other pre-JSON clients)', () => {
  /** The flattened lists of the answers read here, always as arrays. */
  const LISTS = ['ReceiveMessageResult.Message', 'Message.Attribute', 'Message.MessageAttribute', 'GetQueueAttributesResult.Attribute', 'SendMessageBatchResult.SendMessageBatchResultEntry', 'SendMessageBatchResult.BatchResultErrorEntry'];
  const parser = new XMLParser({ isArray: (_name, path) => LISTS.some((list) => String(path).endsWith(list)), parseTagValue: false, htmlEntities: true });

  async function query(params: Record<string, string>, path = '/'): Promise<{ status: number; doc: Record<string, any>; text: string }> {
    const res = await fetch(`${emulator.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        // Signatures are not verified: the credential scope routes the call and names the caller.
        authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20260101/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
    });
    const text = await res.text();
    return { status: res.status, doc: parser.parse(text) as Record<string, any>, text };
  }

  it('sends, receives and deletes with form parameters and XML answers', async () => {
    const created = await query({ Action: 'CreateQueue', QueueName: 'legacy', 'Attribute.1.Name': 'VisibilityTimeout', 'Attribute.1.Value': '10' });
    const url = created.doc.CreateQueueResponse.CreateQueueResult.QueueUrl;
    expect(url).toBe(urlOf('legacy'));
    const body = 'line one\r\nline two & <three>';
    const sent = await query({
      Action: 'SendMessage',
      QueueUrl: url,
      MessageBody: body,
      'MessageAttribute.1.Name': 'test_attribute_name_1',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'test_attribute_value_1',
      'MessageAttribute.2.Name': 'test_attribute_name_2',
      'MessageAttribute.2.Value.DataType': 'String',
      'MessageAttribute.2.Value.StringValue': 'test_attribute_value_2',
    });
    expect(sent.doc.SendMessageResponse.SendMessageResult).toEqual({
      MD5OfMessageBody: md5(body),
      MD5OfMessageAttributes: 'd53f3b558fe951154770f25cb63dbba9',
      MessageId: expect.any(String),
    });
    const received = await query({ Action: 'ReceiveMessage', QueueUrl: url, 'AttributeName.1': 'All', 'MessageAttributeName.1': 'All', MaxNumberOfMessages: '10' });
    const [message] = received.doc.ReceiveMessageResponse.ReceiveMessageResult.Message;
    expect(message).toMatchObject({ MessageId: sent.doc.SendMessageResponse.SendMessageResult.MessageId, Body: body, MD5OfBody: md5(body), MD5OfMessageAttributes: 'd53f3b558fe951154770f25cb63dbba9' });
    expect(Object.fromEntries(message.Attribute.map((a: { Name: string; Value: string }) => [a.Name, a.Value]))).toMatchObject({ ApproximateReceiveCount: '1', SentTimestamp: String(emulator.clock.now()) });
    expect(message.MessageAttribute).toEqual([
      { Name: 'test_attribute_name_1', Value: { DataType: 'String', StringValue: 'test_attribute_value_1' } },
      { Name: 'test_attribute_name_2', Value: { DataType: 'String', StringValue: 'test_attribute_value_2' } },
    ]);
    const deleted = await query({ Action: 'DeleteMessage', QueueUrl: url, ReceiptHandle: message.ReceiptHandle });
    expect([deleted.status, Object.keys(deleted.doc.DeleteMessageResponse)]).toEqual([200, ['ResponseMetadata']]);
    const attributes = await query({ Action: 'GetQueueAttributes', 'AttributeName.1': 'ApproximateNumberOfMessages', 'AttributeName.2': 'VisibilityTimeout' }, `/${ACCOUNT}/legacy`);
    expect(attributes.doc.GetQueueAttributesResponse.GetQueueAttributesResult.Attribute).toEqual([
      { Name: 'ApproximateNumberOfMessages', Value: '0' },
      { Name: 'VisibilityTimeout', Value: '10' },
    ]);
  });

  it('answers batches with result and error entries, and errors in the query XML shape', async () => {
    const batch = await query({
      Action: 'SendMessageBatch',
      QueueUrl: urlOf('work'),
      'SendMessageBatchRequestEntry.1.Id': 'ok',
      'SendMessageBatchRequestEntry.1.MessageBody': 'fine',
      'SendMessageBatchRequestEntry.2.Id': 'bad',
      'SendMessageBatchRequestEntry.2.MessageBody': 'x',
      'SendMessageBatchRequestEntry.2.DelaySeconds': '901',
    });
    const result = batch.doc.SendMessageBatchResponse.SendMessageBatchResult;
    expect(result.SendMessageBatchResultEntry).toEqual([{ Id: 'ok', MD5OfMessageBody: md5('fine'), MessageId: expect.any(String) }]);
    expect(result.BatchResultErrorEntry).toEqual([{ Id: 'bad', SenderFault: 'true', Code: 'InvalidParameterValue', Message: 'Value 901 for parameter DelaySeconds is invalid. Reason: Must be between 0 and 900, if provided.' }]);
    const missing = await query({ Action: 'GetQueueUrl', QueueName: 'nope' });
    expect([missing.status, missing.doc.ErrorResponse.Error]).toEqual([400, { Type: 'Sender', Code: 'AWS.SimpleQueueService.NonExistentQueue', Message: 'The specified queue does not exist.' }]);
    const unknown = await query({ Action: 'Frobnicate' });
    expect(unknown.doc.ErrorResponse.Error.Code).toBe('InvalidAction');
  });
});

/** MD5OfBody, computed independently of the emulator. */
const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

describe('the AWS CLI', () => {
  const run = promisify(execFile);
  const AWS = process.env.AWS_CLI ?? 'aws';

  async function aws(...args: string[]): Promise<{ code: number; stderr: string; json: Record<string, any> }> {
    const env = awsCliEnv(ACCOUNT);
    // --endpoint-url works with every CLI version (AWS_ENDPOINT_URL only from 1.29 / 2.13).
    const argv = [...args, '--region', REGION, '--output', 'json', '--endpoint-url', emulator.url];
    try {
      const { stdout, stderr } = await run(AWS, argv, { env });
      return { code: 0, stderr, json: stdout.trim() ? JSON.parse(stdout) : {} };
    } catch (err) {
      const e = err as { code: number; stderr: string };
      if (typeof e.code !== 'number') throw new Error(`The AWS CLI ("${AWS}") could not be run: ${String(err)}. Install it or set AWS_CLI to its path.`);
      return { code: e.code, stderr: e.stderr, json: {} };
    }
  }

  it('creates a queue, sends with attributes, receives with All, deletes, and reports a missing queue', async () => {
    const created = await aws('sqs', 'create-queue', '--queue-name', 'cli-queue', '--attributes', 'VisibilityTimeout=20');
    expect(created).toEqual({ code: 0, stderr: '', json: { QueueUrl: urlOf('cli-queue') } });
    const attributes = JSON.stringify({ cluster: { DataType: 'String', StringValue: 'prod-api' } });
    const sent = await aws('sqs', 'send-message', '--queue-url', urlOf('cli-queue'), '--message-body', '{"hello":"cli"}', '--message-attributes', attributes);
    expect(sent.json).toEqual({ MD5OfMessageBody: md5('{"hello":"cli"}'), MD5OfMessageAttributes: md5OfAttributes({ cluster: { DataType: 'String', StringValue: 'prod-api' } }), MessageId: expect.any(String) });
    const received = await aws('sqs', 'receive-message', '--queue-url', urlOf('cli-queue'), '--attribute-names', 'All', '--message-attribute-names', 'All');
    const [message] = received.json.Messages;
    expect(message).toMatchObject({ MessageId: sent.json.MessageId, Body: '{"hello":"cli"}', MessageAttributes: { cluster: { DataType: 'String', StringValue: 'prod-api' } }, Attributes: { ApproximateReceiveCount: '1' } });
    expect((await aws('sqs', 'delete-message', '--queue-url', urlOf('cli-queue'), '--receipt-handle', message.ReceiptHandle)).code).toBe(0);
    const counts = await aws('sqs', 'get-queue-attributes', '--queue-url', urlOf('cli-queue'), '--attribute-names', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible');
    expect(counts.json).toEqual({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    const missing = await aws('sqs', 'get-queue-url', '--queue-name', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/An error occurred \(AWS\.SimpleQueueService\.NonExistentQueue\) when calling the GetQueueUrl operation( \(reached max retries: \d+\))?: The specified queue does not exist\./);
  });
});
