import { SNSClient } from '@aws-sdk/client-sns';
import { createClientFactory, type ClientFactory } from '../../src/aws/clients';
import { alertWiring, createAlertPort, snsMessage, snsSubject, SNS_MAX_BYTES } from '../../src/aws/sns';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, InputError, TransientAwsError } from '../../src/errors';
import type { Emulator } from '../../src/emulator';
import type { Alert } from '../../src/workflow/types';
import { GUARD_ROLE_ARN, PROD, REGION, rejectionOf, useAdapterEmulator } from './helpers';

const TOPIC = `arn:aws:sns:${REGION}:${PROD}:eks-endpoint-guard-alerts`;

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    subject: '[REMEDIATED] prod-api 111122223333/us-east-1: public endpoint closed',
    text: 'Cluster prod-api was opened to 0.0.0.0/0 by arn:aws:iam::111122223333:user/alice.\nThe guard closed the public endpoint.',
    chat: {
      version: '1.0',
      source: 'custom',
      id: 'evt-1',
      content: { textType: 'client-markdown', title: ':white_check_mark: prod-api remediated', description: 'Public endpoint closed', nextSteps: ['Request an exemption'] },
      metadata: { threadId: 'prod-api', summary: 'prod-api remediated', eventType: 'remediated', relatedResources: ['arn:aws:eks:us-east-1:111122223333:cluster/prod-api'] },
    },
    attributes: { severity: 'critical', outcome: 'remediated', account: PROD, region: REGION, cluster: 'prod-api' },
    ...overrides,
  };
}

let emulator: Emulator;
let clients: ClientFactory;
let sns: (region: string) => SNSClient;

useAdapterEmulator((e) => (emulator = e));
beforeEach(() => {
  clients = createClientFactory({ endpoint: emulator.url, credentials: emulator.credentialsFor(GUARD_ROLE_ARN), homeAccount: PROD, maxAttempts: 1 });
  sns = (region) => clients.home(SNSClient, region);
});

describe('publish', () => {
  it('publishes one JSON-structured message: text for email and default, chat JSON for https, lambda and sqs', async () => {
    const a = alert();

    const messageId = await createAlertPort(sns(REGION), TOPIC).publish(a);

    const published = emulator.publishedMessages();
    expect(published).toHaveLength(1);
    const [message] = published;
    expect(message).toMatchObject({ messageId, topicArn: TOPIC, subject: a.subject, messageStructure: 'json' });
    const body = JSON.parse(message!.message) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs']);
    expect(body.default).toBe(a.text);
    expect(body.email).toBe(a.text);
    for (const protocol of ['https', 'lambda', 'sqs']) expect(JSON.parse(body[protocol]!)).toEqual(a.chat);
  });

  it('sets the filterable message attributes as Strings', async () => {
    await createAlertPort(sns(REGION), TOPIC).publish(alert());

    expect(emulator.publishedMessages()[0]!.messageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'critical' },
      outcome: { DataType: 'String', StringValue: 'remediated' },
      account: { DataType: 'String', StringValue: PROD },
      region: { DataType: 'String', StringValue: REGION },
      cluster: { DataType: 'String', StringValue: 'prod-api' },
    });
  });

  it('shortens an alert over 256 KiB instead of failing, keeping the chat notification whole', async () => {
    const huge = alert({ text: `violations:\n${'- 203.0.113.0/24 is not allowed "quoted"\n'.repeat(12_000)}` });

    await createAlertPort(sns(REGION), TOPIC).publish(huge);

    const [message] = emulator.publishedMessages();
    const body = JSON.parse(message!.message) as Record<string, string>;
    expect(Buffer.byteLength(message!.message)).toBeLessThanOrEqual(SNS_MAX_BYTES);
    expect(body.email!.startsWith('violations:\n- 203.0.113.0/24')).toBe(true);
    expect(body.email).toContain('shortened to fit');
    expect(JSON.parse(body.https!)).toEqual(huge.chat);
  });

  it('makes a subject with line breaks and over 100 characters acceptable to SNS', async () => {
    const messy = alert({ subject: `[FAILED] ${'very-long-cluster-name-'.repeat(6)}\nsecond line` });

    await createAlertPort(sns(REGION), TOPIC).publish(messy);

    const subject = emulator.publishedMessages()[0]!.subject!;
    expect(subject.length).toBeLessThan(100);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.startsWith('[FAILED] very-long-cluster-name-')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('maps a throttled publish to TransientAwsError', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'Publish', times: 1 });

    const err = await rejectionOf(createAlertPort(sns(REGION), TOPIC).publish(alert()));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(emulator.publishedMessages()).toHaveLength(0);
  });

  it('maps an unknown topic to AwsRequestRejectedError naming it', async () => {
    const missing = `arn:aws:sns:${REGION}:${PROD}:no-such-topic`;

    const err = await rejectionOf(createAlertPort(sns(REGION), missing).publish(alert()));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err.message).toContain(missing);
  });
});

describe('alertWiring', () => {
  it('publishes to ALERT_TOPIC_ARN in the home account region', async () => {
    const alerts = alertWiring({ clients, config: loadConfig({ ALERT_TOPIC_ARN: TOPIC, AWS_REGION: REGION }), now: () => emulator.clock.now() });

    const messageId = await alerts.publish(alert());

    expect(emulator.publishedMessages()).toEqual([expect.objectContaining({ messageId, topicArn: TOPIC })]);
  });

  it('refuses to build without ALERT_TOPIC_ARN, naming the setting', () => {
    expect(() => alertWiring({ clients, config: loadConfig({}), now: () => emulator.clock.now() })).toThrow(InputError);
    expect(() => alertWiring({ clients, config: loadConfig({}), now: () => emulator.clock.now() })).toThrow(/ALERT_TOPIC_ARN/);
  });
});

describe('snsMessage', () => {
  it('leaves a message under the budget untouched', () => {
    const a = alert();

    expect(JSON.parse(snsMessage(a)).default).toBe(a.text);
  });

  it('shrinks an oversized chat notification too, when the text alone cannot make room', () => {
    const a = alert({ text: 'short', chat: { version: '1.0', source: 'custom', content: { title: 't', description: 'x'.repeat(200_000), nextSteps: Array.from({ length: 500 }, (_, i) => `step ${i}`) } } });

    const message = snsMessage(a, 100_000);

    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(100_000);
    const chat = JSON.parse(JSON.parse(message).https) as { version: string; content: { title: string; description: string } };
    expect(chat.version).toBe('1.0');
    expect(chat.content.title).toBe('t');
    expect(chat.content.description.startsWith('xxx')).toBe(true);
  });

  it('never cuts a character in half', () => {
    const a = alert({ text: '🚨'.repeat(100_000) });

    const text = JSON.parse(snsMessage(a)).default as string;

    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('snsSubject', () => {
  it.each([
    ['[ALERT] prod-api: public endpoint open', '[ALERT] prod-api: public endpoint open'],
    ['two\nlines\tand\u0007bell', 'two lines and bell'],
    ['   ', 'eks-endpoint-guard alert'],
  ])('turns %j into %j', (input, expected) => {
    expect(snsSubject(input)).toBe(expected);
  });
});
