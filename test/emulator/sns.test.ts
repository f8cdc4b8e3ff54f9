import { CreateTopicCommand, ListTopicsCommand, PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import type { Emulator } from '../../src/emulator';
import { BOB, PROD, SANDBOX, rejectionOf, snsClient, startDemo } from './helpers';

let emulator: Emulator;
let sns: SNSClient;

beforeAll(async () => {
  emulator = await startDemo();
  sns = snsClient(emulator);
});
afterAll(async () => {
  sns.destroy();
  await emulator.close();
});
beforeEach(() => emulator.reset());

const TOPIC = `arn:aws:sns:us-east-1:${PROD}:eks-endpoint-guard-alerts`;
const LIMIT = 262_144;

describe('topics', () => {
  it('lists the topics of the caller account and region', async () => {
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn: TOPIC }]);
    const bob = snsClient(emulator, { credentials: BOB });
    const eu = snsClient(emulator, { region: 'eu-west-1' });
    try {
      expect((await bob.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn: `arn:aws:sns:us-east-1:${SANDBOX}:eks-endpoint-guard-alerts` }]);
      expect((await eu.send(new ListTopicsCommand({}))).Topics).toEqual([]);
    } finally {
      bob.destroy();
      eu.destroy();
    }
  });

  it('creates a topic idempotently', async () => {
    const first = await sns.send(new CreateTopicCommand({ Name: 'ops' }));
    const again = await sns.send(new CreateTopicCommand({ Name: 'ops' }));
    expect(first.TopicArn).toBe(`arn:aws:sns:us-east-1:${PROD}:ops`);
    expect(again.TopicArn).toBe(first.TopicArn);
    expect(emulator.snapshot().topics.filter((t) => t.account === PROD).map((t) => t.name)).toEqual(['eks-endpoint-guard-alerts', 'ops']);
  });

  it('pages ListTopics by 100', async () => {
    for (let i = 0; i < 120; i++) await sns.send(new CreateTopicCommand({ Name: `t${i}` }));
    const first = await sns.send(new ListTopicsCommand({}));
    const second = await sns.send(new ListTopicsCommand({ NextToken: first.NextToken! }));
    expect(first.Topics).toHaveLength(100);
    expect(second.Topics).toHaveLength(21);
    expect(second.NextToken).toBeUndefined();
  });

  it('refuses an invalid topic name', async () => {
    const err = await rejectionOf(sns.send(new CreateTopicCommand({ Name: 'bad name!' })));
    expect(err).toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Topic Name' });
  });
});

describe('Publish', () => {
  it('records the message with subject, structure and attributes', async () => {
    const message = JSON.stringify({ default: 'endpoint opened', email: 'long text' });
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: TOPIC,
        Subject: 'EKS endpoint violation: prod-api',
        Message: message,
        MessageStructure: 'json',
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: 'high' },
          count: { DataType: 'Number', StringValue: '3' },
          codes: { DataType: 'String.Array', StringValue: '["A","B"]' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      }),
    );
    expect(emulator.publishedMessages()).toEqual([
      {
        messageId: MessageId,
        account: PROD,
        region: 'us-east-1',
        topicArn: TOPIC,
        subject: 'EKS endpoint violation: prod-api',
        message,
        messageStructure: 'json',
        messageAttributes: {
          severity: { DataType: 'String', StringValue: 'high' },
          count: { DataType: 'Number', StringValue: '3' },
          codes: { DataType: 'String.Array', StringValue: '["A","B"]' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi').toString('base64') },
        },
        timestamp: new Date(emulator.clock.now()).toISOString(),
      },
    ]);
  });

  it('accepts a message of exactly 256 KiB including attributes', async () => {
    const attr = { k: { DataType: 'String', StringValue: 'v' } };
    const size = 'k'.length + 'String'.length + 'v'.length;
    await sns.send(new PublishCommand({ TopicArn: TOPIC, Message: 'x'.repeat(LIMIT - size), MessageAttributes: attr }));
    expect(emulator.publishedMessages()[0]?.message).toHaveLength(LIMIT - size);
  });

  it.each<[string, PublishCommandInput, string, number?]>([
    ['a message over 256 KiB', { TopicArn: TOPIC, Message: 'x'.repeat(LIMIT + 1) }, 'Invalid parameter: Message too long'],
    [
      'message plus attributes over 256 KiB',
      { TopicArn: TOPIC, Message: 'x'.repeat(LIMIT - 5), MessageAttributes: { key: { DataType: 'String', StringValue: 'value' } } },
      'Invalid parameter: Message too long',
    ],
    ['a multi-byte message over 256 KiB', { TopicArn: TOPIC, Message: 'é'.repeat(LIMIT / 2 + 1) }, 'Invalid parameter: Message too long'],
    ['a subject of 100 characters', { TopicArn: TOPIC, Message: 'm', Subject: 's'.repeat(100) }, 'Invalid parameter: Subject'],
    ['a subject with a line break', { TopicArn: TOPIC, Message: 'm', Subject: 'two\nlines' }, 'Invalid parameter: Subject'],
    ['a subject with a control character', { TopicArn: TOPIC, Message: 'm', Subject: 'bell\u0007' }, 'Invalid parameter: Subject'],
    ['a JSON message without default', { TopicArn: TOPIC, Message: '{"email":"x"}', MessageStructure: 'json' }, 'Invalid parameter: Message Structure - No default entry in JSON message body'],
    ['a JSON message that is not JSON', { TopicArn: TOPIC, Message: 'plain', MessageStructure: 'json' }, 'Invalid parameter: Message Structure - JSON message body failed to parse'],
    ['a non-string default', { TopicArn: TOPIC, Message: '{"default":1}', MessageStructure: 'json' }, 'No default entry'],
    ['an empty message', { TopicArn: TOPIC, Message: '' }, 'Invalid parameter: Empty message'],
    ['an attribute without a value', { TopicArn: TOPIC, Message: 'm', MessageAttributes: { a: { DataType: 'String' } } }, "must contain non-empty message attribute value for message attribute type 'String'"],
    ['a non-numeric Number attribute', { TopicArn: TOPIC, Message: 'm', MessageAttributes: { a: { DataType: 'Number', StringValue: 'many' } } }, "Could not cast message attribute 'a' value to number."],
    ['an unknown topic', { TopicArn: `arn:aws:sns:us-east-1:${PROD}:nope`, Message: 'm' }, 'Topic does not exist', 404],
    ['a topic of another account', { TopicArn: `arn:aws:sns:us-east-1:${SANDBOX}:eks-endpoint-guard-alerts`, Message: 'm' }, 'is not authorized to perform: SNS:Publish', 403],
  ])('refuses %s', async (_what, input, message, status = 400) => {
    const err = await rejectionOf(sns.send(new PublishCommand(input)));
    expect(err.message).toContain(message);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.name).toBe(status === 404 ? 'NotFoundException' : status === 403 ? 'AuthorizationErrorException' : 'InvalidParameterException');
    expect(emulator.publishedMessages()).toEqual([]);
  });
});
