import { randomUUID } from 'node:crypto';
import { AwsError, type CallContext, type Env, type Service } from './protocol';
import type { MessageAttribute, TopicRecord } from './world';
import { awsQueryError, awsQuerySuccess, memberList, queryParams, resolveAction, type QueryAction } from './xml';

const NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** 256 KiB, message and attributes together. */
export const MAX_MESSAGE_BYTES = 262_144;
const MAX_ATTRIBUTES = 10;
const PAGE = 100;

const invalid = (what: string) => new AwsError('InvalidParameter', `Invalid parameter: ${what}`);

function topicFromArn(env: Env, ctx: CallContext, arn: string): TopicRecord {
  const m = /^arn:aws:sns:([a-z0-9-]+):(\d{12}):([\w.-]+)$/.exec(arn);
  if (!m) throw invalid('TopicArn');
  const [, region, account, name] = m;
  if (region !== ctx.region) throw invalid(`TopicArn Reason: A topic in ${region} cannot be used from ${ctx.region}`);
  const topic = env.world.topic(account!, region, name!);
  if (!topic) throw new AwsError('NotFound', 'Topic does not exist', 404);
  // Cross-account publishing needs a topic policy, which the emulator does not model.
  if (account !== ctx.account) {
    throw new AwsError('AuthorizationError', `User: ${ctx.key.principal.arn} is not authorized to perform: SNS:Publish on resource: ${arn}`, 403);
  }
  return topic;
}

function messageAttributes(params: URLSearchParams): Record<string, MessageAttribute> {
  const out: Record<string, MessageAttribute> = {};
  for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
    const at = `MessageAttributes.entry.${i}`;
    const name = params.get(`${at}.Name`)!;
    const dataType = params.get(`${at}.Value.DataType`);
    const stringValue = params.get(`${at}.Value.StringValue`);
    const binaryValue = params.get(`${at}.Value.BinaryValue`);
    if (!dataType) throw invalid(`The message attribute '${name}' must contain a non-empty message attribute type.`);
    if (!/^(String|String\.Array|Number|Binary)(\..+)?$/.test(dataType)) {
      throw invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    const binary = dataType.startsWith('Binary');
    if (binary ? !binaryValue : !stringValue) {
      throw invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    }
    if (dataType.startsWith('Number') && !Number.isFinite(Number(stringValue))) {
      throw invalid(`Could not cast message attribute '${name}' value to number.`);
    }
    if (dataType.startsWith('String.Array')) {
      try {
        if (!Array.isArray(JSON.parse(stringValue!))) throw new Error('not an array');
      } catch {
        throw invalid(`The message attribute '${name}' with type 'String.Array' must be a JSON array.`);
      }
    }
    out[name] = binary ? { DataType: dataType, BinaryValue: binaryValue! } : { DataType: dataType, StringValue: stringValue! };
  }
  if (Object.keys(out).length > MAX_ATTRIBUTES) throw invalid(`Number of message attributes [${Object.keys(out).length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  return out;
}

function attributesBytes(attrs: Record<string, MessageAttribute>): number {
  return Object.entries(attrs).reduce(
    (sum, [name, a]) => sum + Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue ?? '') + Buffer.from(a.BinaryValue ?? '', 'base64').length,
    0,
  );
}

function checkSubject(subject: string): void {
  if (subject.length === 0 || subject.length >= 100) throw invalid('Subject Reason: must be non-empty and less than 100 characters long');
  if (/[\u0000-\u001f\u007f]/.test(subject)) throw invalid('Subject Reason: must not include line breaks or control characters');
}

function checkStructuredMessage(message: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(message);
  } catch {
    throw invalid('Message Structure - JSON message body failed to parse');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('Message Structure - JSON message body failed to parse');
  const entries = doc as Record<string, unknown>;
  if (typeof entries.default !== 'string') throw invalid('Message Structure - No default entry in JSON message body');
  for (const [protocol, value] of Object.entries(entries)) {
    if (typeof value !== 'string') throw invalid(`Message Structure - the value for protocol ${protocol} must be a string`);
  }
}

function publish(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const arn = params.get('TopicArn') || params.get('TargetArn');
  if (!arn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
  const message = params.get('Message');
  if (message === null || message === '') throw invalid('Empty message');
  const structure = params.get('MessageStructure');
  if (structure !== null && structure !== 'json') throw invalid('MessageStructure Reason: the only supported value is json');
  const subject = params.get('Subject');
  if (subject !== null) checkSubject(subject);
  const attributes = messageAttributes(params);
  if (Buffer.byteLength(message) + attributesBytes(attributes) > MAX_MESSAGE_BYTES) throw invalid('Message too long');
  if (structure === 'json') checkStructuredMessage(message);
  const topic = topicFromArn(env, ctx, arn);
  const messageId = randomUUID();
  env.world.messages.push({
    messageId,
    account: topic.account,
    region: topic.region,
    topicArn: topic.arn,
    ...(subject !== null ? { subject } : {}),
    message,
    ...(structure !== null ? { messageStructure: structure } : {}),
    messageAttributes: attributes,
    timestamp: new Date(env.clock.now()).toISOString(),
  });
  return { MessageId: messageId };
}

function createTopic(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const name = params.get('Name');
  if (!name) throw invalid('Name Reason: no value for required parameter');
  // FIFO topics (.fifo) are not modelled; the product does not use them.
  if (!/^[\w-]{1,256}$/.test(name)) throw invalid('Topic Name');
  return { TopicArn: env.world.addTopic(ctx.account, ctx.region, name).arn };
}

function listTopics(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const topics = env.world.topicList(ctx.account, ctx.region);
  const token = params.get('NextToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0 || start > topics.length) throw invalid('NextToken');
  const end = start + PAGE;
  return {
    Topics: memberList(topics.slice(start, end).map((t) => ({ TopicArn: t.arn }))),
    ...(end < topics.length ? { NextToken: Buffer.from(String(end)).toString('base64url') } : {}),
  };
}

const ACTIONS: Record<string, QueryAction> = {
  CreateTopic: createTopic,
  ListTopics: listTopics,
  Publish: publish,
};

/** SNS: the awsQuery protocol. */
export const snsService: Service = {
  resolve: (ctx, env) => {
    const op = resolveAction(ctx, env, ACTIONS, (a) => `The action ${a} is not valid for this web service.`);
    const params = queryParams(ctx.query, ctx.body);
    const arn = params.get('TopicArn') || params.get('TargetArn');
    const topic = arn ? arn.split(':').at(-1) : op.name === 'CreateTopic' ? params.get('Name') : null;
    return topic ? { ...op, topic } : op;
  },
  success: (op, payload, ctx) => awsQuerySuccess(op.name, NAMESPACE, payload, ctx.requestId),
  error: (err, ctx) => awsQueryError(err, NAMESPACE, ctx.requestId),
  throttled: () => new AwsError('Throttling', 'Rate exceeded', 400),
  serverError: () => new AwsError('InternalError', 'An internal error occurred (fault injected by the emulator).', 500),
};
