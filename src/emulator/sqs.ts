import { AwsError, type CallContext, type Env, type Reply, type Service } from './protocol';
import {
  checkMessageAttributes,
  checkSystemAttributes,
  MESSAGE_SYSTEM_ATTRIBUTE_NAMES,
  messageBytes,
  SQS_ERROR_SHAPES,
  sqsErrors,
  type QueueRecord,
  type ReceivedMessage,
} from './sqs-queues';
import { awsQueryError, awsQuerySuccess, listParam, queryParams } from './xml';

/** The X-Amz-Target of an SQS call in the JSON 1.0 protocol (SDK v3, botocore >= 1.31): `AmazonSQS.<Operation>`. */
export const SQS_TARGET = /^AmazonSQS\.(\w+)$/;
const NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';
const JSON_10 = 'application/x-amz-json-1.0';
const MAX_BATCH_ENTRIES = 10;
/** A batch's messages together, as one message: 1 MiB. */
const MAX_BATCH_BYTES = 1_048_576;
const MAX_LIST_RESULTS = 1000;

type Doc = Record<string, any>;
type Handler = (env: Env, ctx: CallContext, doc: Doc) => unknown;

// --- queue URLs ----------------------------------------------------------------------------------

/** The path of a queue URL: `/<account>/<name>`. */
const QUEUE_PATH = /^\/(\d{12})\/([\w-]{1,80})\/?$/;
/** Hosts of AWS's queue URLs that name a region (`sqs.<region>.amazonaws.com`, legacy `<region>.queue.amazonaws.com`). */
const REGIONAL_HOST = /^(?:sqs\.([a-z0-9-]+)\.amazonaws\.com|([a-z0-9-]+)\.queue\.amazonaws\.com)$/;

/** The URL the emulator gives a queue: on the host the caller reached it by, so it works unchanged as an SDK QueueUrl. */
function queueUrl(ctx: CallContext, queue: QueueRecord): string {
  return `http://${ctx.headers.host ?? '127.0.0.1'}/${queue.account}/${queue.name}`;
}

/**
 * The queue a call names by its QueueUrl (the emulator's own form or AWS's; account and name come from
 * the path, the region from an AWS host or else the call's), or by the request path as old query clients send it.
 */
function queueOf(env: Env, ctx: CallContext, doc: Doc): QueueRecord {
  const given = typeof doc.QueueUrl === 'string' && doc.QueueUrl !== '' ? doc.QueueUrl : undefined;
  let path = ctx.path;
  let region = ctx.region;
  if (given) {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw new AwsError('InvalidAddress', `The address ${given} is not valid for this endpoint.`, 404);
    }
    path = url.pathname;
    const host = REGIONAL_HOST.exec(url.hostname);
    if (host) region = host[1] ?? host[2]!;
  }
  const m = QUEUE_PATH.exec(path);
  if (!m) throw given ? new AwsError('InvalidAddress', `The address ${given} is not valid for this endpoint.`, 404) : sqsErrors.missing('QueueUrl');
  const [, account, name] = m;
  const queue = env.world.queues.get(account!, region, name!);
  if (!queue) throw sqsErrors.noQueue();
  // Cross-account access needs a queue policy, which the emulator does not evaluate.
  if (account !== ctx.account) throw sqsErrors.accessDenied(given ?? path);
  return queue;
}

// --- parameters ----------------------------------------------------------------------------------

function requiredString(doc: Doc, name: string): string {
  const value = doc[name];
  if (typeof value !== 'string' || value === '') throw sqsErrors.missing(name);
  return value;
}

/** An integer parameter (a JSON number, or the query protocol's string), checked against SQS's range. */
function intParam(doc: Doc, name: string, min: number, max: number): number | undefined {
  const value = doc[name];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw sqsErrors.outOfRange(name, value, min, max);
  return n;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringMap(value: unknown, name: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw sqsErrors.invalidParameter(`${name} must be a map of names to values.`);
  return Object.fromEntries(Object.entries(value as Doc).map(([k, v]) => [k, String(v)]));
}

/** The common checks of a batch: 1 to 10 entries with distinct, well-formed ids. */
function batchEntries(doc: Doc, entryName: string): Doc[] {
  const entries = doc.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw new AwsError('AWS.SimpleQueueService.EmptyBatchRequest', `There should be at least one ${entryName} in the request.`);
  if (entries.length > MAX_BATCH_ENTRIES) {
    throw new AwsError('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`);
  }
  const ids = new Set<string>();
  for (const entry of entries as Doc[]) {
    const id = entry?.Id;
    if (typeof id !== 'string' || !/^[\w-]{1,80}$/.test(id)) {
      throw new AwsError('AWS.SimpleQueueService.InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (ids.has(id)) throw new AwsError('AWS.SimpleQueueService.BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
  }
  return entries as Doc[];
}

/** A batch entry's size as SQS counts it, before its attributes are checked (a bad one fails on its own). */
function entryBytes(entry: Doc): number {
  const attributes = entry.MessageAttributes && typeof entry.MessageAttributes === 'object' ? (entry.MessageAttributes as Record<string, Doc | undefined>) : {};
  const asSent = Object.fromEntries(
    Object.entries(attributes).map(([name, a]) => [name, { DataType: String(a?.DataType ?? ''), StringValue: typeof a?.StringValue === 'string' ? a.StringValue : '', ...(typeof a?.BinaryValue === 'string' ? { BinaryValue: a.BinaryValue } : {}) }]),
  );
  return messageBytes(typeof entry.MessageBody === 'string' ? entry.MessageBody : '', asSent);
}

/** Each entry succeeds or fails on its own, as SQS reports batch entries. */
function perEntry(entries: Doc[], run: (entry: Doc) => Doc): { Successful: Doc[]; Failed: Doc[] } {
  const out = { Successful: [] as Doc[], Failed: [] as Doc[] };
  for (const entry of entries) {
    try {
      out.Successful.push({ Id: entry.Id, ...run(entry) });
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      out.Failed.push({ Id: entry.Id, SenderFault: err.status < 500, Code: err.code, Message: err.message });
    }
  }
  return out;
}

// --- operations (JSON-protocol shapes in and out; the query protocol is translated around them) --------

function send(env: Env, ctx: CallContext, queue: QueueRecord, doc: Doc): Doc {
  const body = doc.MessageBody;
  if (typeof body !== 'string' || body === '') throw sqsErrors.missing('MessageBody');
  if (doc.MessageDeduplicationId !== undefined) throw sqsErrors.invalidParameter('The request include parameter that is not valid for this queue type');
  const delaySeconds = intParam(doc, 'DelaySeconds', 0, 900);
  const sent = env.world.queues.send(queue, {
    body,
    attributes: checkMessageAttributes(doc.MessageAttributes),
    systemAttributes: checkSystemAttributes(doc.MessageSystemAttributes),
    ...(delaySeconds !== undefined ? { delaySeconds } : {}),
    senderId: ctx.key.principal.principalId,
  });
  return {
    MD5OfMessageBody: sent.md5OfBody,
    ...(sent.md5OfAttributes ? { MD5OfMessageAttributes: sent.md5OfAttributes } : {}),
    ...(sent.md5OfSystemAttributes ? { MD5OfMessageSystemAttributes: sent.md5OfSystemAttributes } : {}),
    MessageId: sent.messageId,
  };
}

function messageToWire(m: ReceivedMessage): Doc {
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MD5OfBody: m.md5OfBody,
    Body: m.body,
    ...(Object.keys(m.attributes).length ? { Attributes: m.attributes } : {}),
    ...(m.md5OfMessageAttributes ? { MD5OfMessageAttributes: m.md5OfMessageAttributes, MessageAttributes: m.messageAttributes } : {}),
  };
}

const HANDLERS: Record<string, Handler> = {
  CreateQueue: (env, ctx, doc) => {
    const queue = env.world.queues.create(ctx.account, ctx.region, requiredString(doc, 'QueueName'), stringMap(doc.Attributes, 'Attributes'));
    return { QueueUrl: queueUrl(ctx, queue) };
  },
  GetQueueUrl: (env, ctx, doc) => {
    const name = requiredString(doc, 'QueueName');
    const owner = typeof doc.QueueOwnerAWSAccountId === 'string' && doc.QueueOwnerAWSAccountId !== '' ? doc.QueueOwnerAWSAccountId : ctx.account;
    const queue = env.world.queues.get(owner, ctx.region, name);
    if (!queue) throw sqsErrors.noQueue();
    if (owner !== ctx.account) throw sqsErrors.accessDenied(queueUrl(ctx, queue));
    return { QueueUrl: queueUrl(ctx, queue) };
  },
  ListQueues: (env, ctx, doc) => {
    const prefix = typeof doc.QueueNamePrefix === 'string' ? doc.QueueNamePrefix : '';
    const limit = intParam(doc, 'MaxResults', 1, MAX_LIST_RESULTS);
    const queues = env.world.queues.list(ctx.account, ctx.region).filter((q) => q.name.startsWith(prefix));
    const start = typeof doc.NextToken === 'string' && doc.NextToken !== '' ? Number(Buffer.from(doc.NextToken, 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0 || start > queues.length) throw sqsErrors.invalidParameter('Invalid NextToken value.');
    const end = start + (limit ?? MAX_LIST_RESULTS);
    const urls = queues.slice(start, end).map((q) => queueUrl(ctx, q));
    // A NextToken only when MaxResults was given, as SQS pages only then.
    const next = limit !== undefined && end < queues.length ? Buffer.from(String(end)).toString('base64') : undefined;
    return { ...(urls.length ? { QueueUrls: urls } : {}), ...(next ? { NextToken: next } : {}) };
  },
  GetQueueAttributes: (env, ctx, doc) => {
    const attributes = env.world.queues.attributes(queueOf(env, ctx, doc), stringList(doc.AttributeNames));
    return Object.keys(attributes).length ? { Attributes: attributes } : {};
  },
  SetQueueAttributes: (env, ctx, doc) => {
    const queue = queueOf(env, ctx, doc);
    if (doc.Attributes === undefined) throw sqsErrors.missing('Attributes');
    env.world.queues.setAttributes(queue, stringMap(doc.Attributes, 'Attributes'));
    return undefined;
  },
  SendMessage: (env, ctx, doc) => send(env, ctx, queueOf(env, ctx, doc), doc),
  SendMessageBatch: (env, ctx, doc) => {
    const queue = queueOf(env, ctx, doc);
    const entries = batchEntries(doc, 'SendMessageBatchRequestEntry');
    const total = entries.reduce((sum, e) => sum + entryBytes(e), 0);
    if (total > MAX_BATCH_BYTES) throw new AwsError('AWS.SimpleQueueService.BatchRequestTooLong', `Batch requested message too long: the messages total ${total} bytes, at most ${MAX_BATCH_BYTES} are allowed.`);
    return perEntry(entries, (entry) => send(env, ctx, queue, entry));
  },
  ReceiveMessage: (env, ctx, doc) => {
    const queue = queueOf(env, ctx, doc);
    const max = intParam(doc, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibilityTimeout = intParam(doc, 'VisibilityTimeout', 0, 43_200);
    // Accepted and checked, but never waited for: on the emulator's clock a long poll would only stall the caller.
    intParam(doc, 'WaitTimeSeconds', 0, 20);
    const systemAttributeNames = [...stringList(doc.AttributeNames), ...stringList(doc.MessageSystemAttributeNames)];
    for (const name of systemAttributeNames) if (!MESSAGE_SYSTEM_ATTRIBUTE_NAMES.includes(name)) throw sqsErrors.unknownAttribute(name);
    const messages = env.world.queues.receive(queue, {
      max,
      ...(visibilityTimeout !== undefined ? { visibilityTimeout } : {}),
      systemAttributeNames,
      messageAttributeNames: stringList(doc.MessageAttributeNames),
    });
    return messages.length ? { Messages: messages.map(messageToWire) } : {};
  },
  DeleteMessage: (env, ctx, doc) => {
    env.world.queues.deleteMessage(queueOf(env, ctx, doc), requiredString(doc, 'ReceiptHandle'));
    return undefined;
  },
  DeleteMessageBatch: (env, ctx, doc) => {
    const queue = queueOf(env, ctx, doc);
    return perEntry(batchEntries(doc, 'DeleteMessageBatchRequestEntry'), (entry) => {
      env.world.queues.deleteMessage(queue, requiredString(entry, 'ReceiptHandle'));
      return {};
    });
  },
  ChangeMessageVisibility: (env, ctx, doc) => {
    const queue = queueOf(env, ctx, doc);
    const handle = requiredString(doc, 'ReceiptHandle');
    const seconds = intParam(doc, 'VisibilityTimeout', 0, 43_200);
    if (seconds === undefined) throw sqsErrors.missing('VisibilityTimeout');
    env.world.queues.changeVisibility(queue, handle, seconds);
    return undefined;
  },
  ChangeMessageVisibilityBatch: (env, ctx, doc) => {
    const queue = queueOf(env, ctx, doc);
    return perEntry(batchEntries(doc, 'ChangeMessageVisibilityBatchRequestEntry'), (entry) => {
      const seconds = intParam(entry, 'VisibilityTimeout', 0, 43_200);
      if (seconds === undefined) throw sqsErrors.missing('VisibilityTimeout');
      env.world.queues.changeVisibility(queue, requiredString(entry, 'ReceiptHandle'), seconds);
      return {};
    });
  },
  PurgeQueue: (env, ctx, doc) => {
    env.world.queues.purge(queueOf(env, ctx, doc));
    return undefined;
  },
  DeleteQueue: (env, ctx, doc) => {
    env.world.queues.delete(queueOf(env, ctx, doc));
    return undefined;
  },
};

/** Every SQS operation the emulator serves, by its AWS name. */
export const SQS_OPERATIONS = Object.keys(HANDLERS);

// --- the query protocol (awscli 2.9 and other pre-2023 clients): form parameters in, XML out ------------

const opt = (p: URLSearchParams, name: string) => p.get(name) ?? undefined;

/** `Prefix.N.Name` / `Prefix.N.Value` pairs (queue attributes). */
function namedValues(p: URLSearchParams, prefix: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (let i = 1; p.has(`${prefix}.${i}.Name`); i++) out[p.get(`${prefix}.${i}.Name`)!] = p.get(`${prefix}.${i}.Value`) ?? '';
  return Object.keys(out).length ? out : undefined;
}

/** `Prefix.N.Name` with `Prefix.N.Value.{DataType,StringValue,BinaryValue}` (message attributes). */
function messageAttributesParam(p: URLSearchParams, prefix: string): Doc | undefined {
  const out: Doc = {};
  for (let i = 1; p.has(`${prefix}.${i}.Name`); i++) {
    const at = `${prefix}.${i}.Value`;
    out[p.get(`${prefix}.${i}.Name`)!] = { DataType: opt(p, `${at}.DataType`), StringValue: opt(p, `${at}.StringValue`), BinaryValue: opt(p, `${at}.BinaryValue`) };
  }
  return Object.keys(out).length ? out : undefined;
}

function entriesParam(p: URLSearchParams, prefix: string, entry: (at: string) => Doc): Doc[] {
  const out: Doc[] = [];
  for (let i = 1; p.has(`${prefix}.${i}.Id`); i++) out.push({ Id: p.get(`${prefix}.${i}.Id`), ...entry(`${prefix}.${i}`) });
  return out;
}

function messageParams(p: URLSearchParams, at: string): Doc {
  const field = (name: string) => (at ? `${at}.${name}` : name);
  return {
    MessageBody: opt(p, field('MessageBody')),
    DelaySeconds: opt(p, field('DelaySeconds')),
    MessageDeduplicationId: opt(p, field('MessageDeduplicationId')),
    MessageAttributes: messageAttributesParam(p, field('MessageAttribute')),
    MessageSystemAttributes: messageAttributesParam(p, field('MessageSystemAttribute')),
  };
}

const QUERY_INPUT: Record<string, (p: URLSearchParams) => Doc> = {
  CreateQueue: (p) => ({ QueueName: opt(p, 'QueueName'), Attributes: namedValues(p, 'Attribute') }),
  GetQueueUrl: (p) => ({ QueueName: opt(p, 'QueueName'), QueueOwnerAWSAccountId: opt(p, 'QueueOwnerAWSAccountId') }),
  ListQueues: (p) => ({ QueueNamePrefix: opt(p, 'QueueNamePrefix'), MaxResults: opt(p, 'MaxResults'), NextToken: opt(p, 'NextToken') }),
  GetQueueAttributes: (p) => ({ AttributeNames: listParam(p, 'AttributeName') }),
  SetQueueAttributes: (p) => ({ Attributes: namedValues(p, 'Attribute') }),
  SendMessage: (p) => messageParams(p, ''),
  SendMessageBatch: (p) => ({ Entries: entriesParam(p, 'SendMessageBatchRequestEntry', (at) => messageParams(p, at)) }),
  ReceiveMessage: (p) => ({
    MaxNumberOfMessages: opt(p, 'MaxNumberOfMessages'),
    VisibilityTimeout: opt(p, 'VisibilityTimeout'),
    WaitTimeSeconds: opt(p, 'WaitTimeSeconds'),
    AttributeNames: listParam(p, 'AttributeName'),
    MessageSystemAttributeNames: listParam(p, 'MessageSystemAttributeName'),
    MessageAttributeNames: listParam(p, 'MessageAttributeName'),
  }),
  DeleteMessage: (p) => ({ ReceiptHandle: opt(p, 'ReceiptHandle') }),
  DeleteMessageBatch: (p) => ({ Entries: entriesParam(p, 'DeleteMessageBatchRequestEntry', (at) => ({ ReceiptHandle: opt(p, `${at}.ReceiptHandle`) })) }),
  ChangeMessageVisibility: (p) => ({ ReceiptHandle: opt(p, 'ReceiptHandle'), VisibilityTimeout: opt(p, 'VisibilityTimeout') }),
  ChangeMessageVisibilityBatch: (p) => ({
    Entries: entriesParam(p, 'ChangeMessageVisibilityBatchRequestEntry', (at) => ({ ReceiptHandle: opt(p, `${at}.ReceiptHandle`), VisibilityTimeout: opt(p, `${at}.VisibilityTimeout`) })),
  }),
  PurgeQueue: () => ({}),
  DeleteQueue: () => ({}),
};

const pairs = (map: Record<string, unknown> | undefined) => Object.entries(map ?? {}).map(([Name, Value]) => ({ Name, Value }));

/** The query protocol's flattened lists, where the JSON protocol has arrays and maps. */
const QUERY_OUTPUT: Record<string, (out: Doc) => Doc> = {
  ListQueues: (o) => ({ QueueUrl: o.QueueUrls ?? [], ...(o.NextToken ? { NextToken: o.NextToken } : {}) }),
  GetQueueAttributes: (o) => ({ Attribute: pairs(o.Attributes) }),
  SendMessageBatch: (o) => ({ SendMessageBatchResultEntry: o.Successful, BatchResultErrorEntry: o.Failed }),
  DeleteMessageBatch: (o) => ({ DeleteMessageBatchResultEntry: o.Successful, BatchResultErrorEntry: o.Failed }),
  ChangeMessageVisibilityBatch: (o) => ({ ChangeMessageVisibilityBatchResultEntry: o.Successful, BatchResultErrorEntry: o.Failed }),
  ReceiveMessage: (o) => ({
    Message: ((o.Messages ?? []) as Doc[]).map(({ Attributes, MessageAttributes, ...m }) => ({
      ...m,
      Attribute: pairs(Attributes),
      MessageAttribute: pairs(MessageAttributes),
    })),
  }),
};

/** XML text cannot carry a raw carriage return (parsers turn it into a line feed): SQS sends it as a reference. */
const keepCarriageReturns = (reply: Reply): Reply => ({ ...reply, body: reply.body.replace(/\r/g, '&#xD;') });

// --- the service ---------------------------------------------------------------------------------

const isJson = (ctx: CallContext) => ctx.headers['x-amz-target'] !== undefined;

function parseJson(body: Buffer): Doc {
  let doc: unknown;
  try {
    doc = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new AwsError('SerializationException', 'The request body is not a JSON object.');
  return doc as Doc;
}

const invalidAction = (name: string) => new AwsError('InvalidAction', `The action ${name} is not valid for this web service.`);

/**
 * Amazon SQS (signing name `sqs`): standard queues over both wire protocols, the JSON 1.0 protocol the
 * SDK v3 and recent botocore speak and the query protocol with XML of older clients. JSON errors name
 * the error shape in `__type` and repeat the query code in `x-amzn-query-error`, as SQS does for
 * clients generated from the query-era model.
 */
export const sqsService: Service = {
  resolve: (ctx, env) => {
    if (isJson(ctx)) {
      const target = String(ctx.headers['x-amz-target']);
      const name = SQS_TARGET.exec(target)?.[1];
      if (!name || !Object.hasOwn(HANDLERS, name)) throw invalidAction(name ?? target);
      return { name, run: () => HANDLERS[name]!(env, ctx, parseJson(ctx.body)) };
    }
    const params = queryParams(ctx.query, ctx.body);
    const action = params.get('Action');
    if (!action) throw new AwsError('MissingAction', 'The request must contain the parameter Action.');
    if (!Object.hasOwn(HANDLERS, action)) throw invalidAction(action);
    return { name: action, run: () => HANDLERS[action]!(env, ctx, { QueueUrl: opt(params, 'QueueUrl'), ...QUERY_INPUT[action]!(params) }) };
  },
  success: (op, payload, ctx) => {
    if (isJson(ctx)) return { status: 200, headers: { 'content-type': JSON_10, 'x-amzn-requestid': ctx.requestId }, body: JSON.stringify(payload ?? {}) };
    const toXml = QUERY_OUTPUT[op.name];
    return keepCarriageReturns(awsQuerySuccess(op.name, NAMESPACE, payload === undefined ? undefined : toXml ? toXml(payload as Doc) : payload, ctx.requestId));
  },
  error: (err, ctx) => {
    if (!isJson(ctx)) return awsQueryError(err, NAMESPACE, ctx.requestId);
    return {
      status: err.status,
      headers: {
        'content-type': JSON_10,
        'x-amzn-requestid': ctx.requestId,
        'x-amzn-query-error': `${err.code};${err.status >= 500 ? 'Receiver' : 'Sender'}`,
      },
      body: JSON.stringify({ __type: `com.amazonaws.sqs#${SQS_ERROR_SHAPES[err.code] ?? err.code}`, message: err.message }),
    };
  },
  throttled: () => new AwsError('RequestThrottled', 'Request is throttled.', 403),
  serverError: () => new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500),
};
