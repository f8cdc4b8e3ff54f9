import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './protocol';
import type { MessageAttribute } from './world';

// --- errors, in SQS's query codes (the JSON protocol names the shape and repeats the code in a header) ---

/** Query-protocol error code -> the error shape the JSON protocol's `__type` names (the SDK's exception class). */
export const SQS_ERROR_SHAPES: Record<string, string> = {
  'AWS.SimpleQueueService.NonExistentQueue': 'QueueDoesNotExist',
  QueueAlreadyExists: 'QueueNameExists',
  'AWS.SimpleQueueService.QueueDeletedRecently': 'QueueDeletedRecently',
  'AWS.SimpleQueueService.MessageNotInflight': 'MessageNotInflight',
  'AWS.SimpleQueueService.PurgeQueueInProgress': 'PurgeQueueInProgress',
  'AWS.SimpleQueueService.BatchEntryIdsNotDistinct': 'BatchEntryIdsNotDistinct',
  'AWS.SimpleQueueService.BatchRequestTooLong': 'BatchRequestTooLong',
  'AWS.SimpleQueueService.EmptyBatchRequest': 'EmptyBatchRequest',
  'AWS.SimpleQueueService.InvalidBatchEntryId': 'InvalidBatchEntryId',
  'AWS.SimpleQueueService.TooManyEntriesInBatchRequest': 'TooManyEntriesInBatchRequest',
  'AWS.SimpleQueueService.UnsupportedOperation': 'UnsupportedOperation',
};

export const sqsErrors = {
  noQueue: () => new AwsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.'),
  invalidParameter: (message: string) => new AwsError('InvalidParameterValue', message),
  outOfRange: (name: string, value: unknown, min: number, max: number) =>
    new AwsError('InvalidParameterValue', `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`),
  missing: (name: string) => new AwsError('MissingParameter', `The request must contain the parameter ${name}.`),
  unknownAttribute: (name: string) => new AwsError('InvalidAttributeName', `Unknown Attribute ${name}.`),
  invalidAttributeValue: (name: string) => new AwsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`),
  invalidReceipt: (handle: string) => new AwsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`, 404),
  expiredReceipt: (handle: string) => new AwsError('InvalidParameterValue', `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`),
  notInFlight: () => new AwsError('AWS.SimpleQueueService.MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.'),
  accessDenied: (url: string) => new AwsError('AccessDenied', `Access to the resource ${url} is denied.`, 403),
};

// --- MD5s, as SQS computes them ------------------------------------------------------------------

export const md5Hex = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/**
 * MD5OfMessageAttributes (and MD5OfMessageSystemAttributes): names sorted; for each, the name, the data
 * type and the value, each as a 4-byte big-endian length and its bytes, with a transport byte (1 for
 * String and Number, 2 for Binary, whose value is the decoded bytes) before the value. Undefined for none.
 */
export function md5OfAttributes(attributes: Record<string, MessageAttribute>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const attribute = attributes[name]!;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(attribute.DataType, 'utf8'));
    const binary = attribute.DataType.startsWith('Binary');
    parts.push(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(attribute.BinaryValue ?? '', 'base64') : Buffer.from(attribute.StringValue ?? '', 'utf8'));
  }
  return md5Hex(Buffer.concat(parts));
}

// --- queue attributes ----------------------------------------------------------------------------

const INTEGER_ATTRIBUTES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  // 1 MiB since August 2025; a queue created with 262144 keeps the former 256 KiB limit.
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};
const JSON_ATTRIBUTES = new Set(['Policy', 'RedrivePolicy', 'RedriveAllowPolicy']);
/** Attributes a queue has unless set otherwise (what GetQueueAttributes All shows for a new queue). */
const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
/** Computed by SQS, never set. */
const READ_ONLY_ATTRIBUTES = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
];
export const QUEUE_ATTRIBUTE_NAMES = [...Object.keys(INTEGER_ATTRIBUTES), ...JSON_ATTRIBUTES, 'KmsMasterKeyId', 'SqsManagedSseEnabled', 'FifoQueue', ...READ_ONLY_ATTRIBUTES];

const QUEUE_ARN = /^arn:aws:sqs:([a-z0-9-]+):(\d{12}):([\w-]{1,80})$/;
export const QUEUE_NAME = /^[\w-]{1,80}$/;

export function parseQueueArn(arn: string): { region: string; account: string; name: string } | undefined {
  const m = QUEUE_ARN.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : undefined;
}

export const queueArn = (account: string, region: string, name: string) => `arn:aws:sqs:${region}:${account}:${name}`;

type RedrivePolicy = { deadLetterTargetArn: string; maxReceiveCount: number };

function parseRedrivePolicy(text: string, queueExists: (arn: string) => boolean): RedrivePolicy {
  const invalid = (reason: string) => sqsErrors.invalidParameter(`Value ${text} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('Redrive policy is not a valid JSON map.');
  const target = doc.deadLetterTargetArn;
  if (typeof target !== 'string' || !parseQueueArn(target)) throw invalid('Invalid value for deadLetterTargetArn.');
  const count = typeof doc.maxReceiveCount === 'string' ? Number(doc.maxReceiveCount) : doc.maxReceiveCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) throw invalid('Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
  if (!queueExists(target)) throw invalid('Dead letter target does not exist.');
  return { deadLetterTargetArn: target, maxReceiveCount: count };
}

/**
 * Checks attributes given to CreateQueue or SetQueueAttributes and returns them as SQS stores them
 * (RedrivePolicy re-serialized with a numeric maxReceiveCount; an empty JSON attribute or key id unsets it).
 * FIFO queues are not modelled: `FifoQueue: true` and the FIFO-only attributes are refused.
 */
export function checkQueueAttributes(attributes: Record<string, string>, queueExists: (arn: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const range = INTEGER_ATTRIBUTES[name];
    if (range) {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || n < range[0] || n > range[1]) throw sqsErrors.invalidAttributeValue(name);
      out[name] = String(n);
    } else if (JSON_ATTRIBUTES.has(name)) {
      if (value === '') out[name] = '';
      else if (name === 'RedrivePolicy') out[name] = JSON.stringify(parseRedrivePolicy(value, queueExists));
      else {
        let doc: unknown;
        try {
          doc = JSON.parse(value);
        } catch {
          throw sqsErrors.invalidAttributeValue(name);
        }
        if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw sqsErrors.invalidAttributeValue(name);
        out[name] = value;
      }
    } else if (name === 'SqsManagedSseEnabled') {
      if (value !== 'true' && value !== 'false') throw sqsErrors.invalidAttributeValue(name);
      out[name] = value;
    } else if (name === 'KmsMasterKeyId') {
      out[name] = value;
    } else if (name === 'FifoQueue') {
      if (value === 'true') throw sqsErrors.invalidParameter('The emulator does not model FIFO queues: FifoQueue must be false.');
      if (value !== 'false') throw sqsErrors.invalidAttributeValue(name);
    } else {
      throw sqsErrors.unknownAttribute(name);
    }
  }
  return out;
}

// --- messages ------------------------------------------------------------------------------------

const MAX_MESSAGE_ATTRIBUTES = 10;
const ATTRIBUTE_NAME = /^[\w.-]{1,256}$/;
/** The characters SQS accepts in a body and in string values (XML 1.0's). */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function checkCharacters(text: string, where: string): void {
  const bad = INVALID_CHARACTER.exec(text);
  if (!bad) return;
  const code = bad[0].codePointAt(0)!.toString(16).toUpperCase();
  throw new AwsError(
    'InvalidMessageContents',
    `Invalid binary character '#x${code}' was found in the ${where}, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
  );
}

/** Checks message attributes as SendMessage receives them (JSON-protocol shape) and returns them. */
export function checkMessageAttributes(given: unknown): Record<string, MessageAttribute> {
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object' || Array.isArray(given)) throw sqsErrors.invalidParameter('MessageAttributes must be a map of attribute names to values.');
  const entries = Object.entries(given as Record<string, unknown>);
  if (entries.length > MAX_MESSAGE_ATTRIBUTES) throw sqsErrors.invalidParameter(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`);
  const out: Record<string, MessageAttribute> = {};
  for (const [name, raw] of entries) {
    if (!ATTRIBUTE_NAME.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..') || /^(aws|amazon)\./i.test(name)) {
      throw sqsErrors.invalidParameter(`Message (user) attribute name '${name}' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters; it cannot start or end with a period, contain two periods in a row, or start with AWS. or Amazon.`);
    }
    const value = (raw ?? {}) as Record<string, unknown>;
    const dataType = value.DataType;
    if (typeof dataType !== 'string' || dataType === '') throw sqsErrors.invalidParameter(`The message attribute '${name}' must contain a non-empty message attribute type.`);
    if (!/^(String|Number|Binary)(\..{1,256})?$/.test(dataType)) {
      throw sqsErrors.invalidParameter(`The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    if (dataType.startsWith('Binary')) {
      const binary = value.BinaryValue;
      if (typeof binary !== 'string' || binary === '') throw sqsErrors.invalidParameter(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
      out[name] = { DataType: dataType, BinaryValue: binary };
    } else {
      const text = value.StringValue;
      if (typeof text !== 'string' || text === '') throw sqsErrors.invalidParameter(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
      if (dataType.startsWith('Number') && !Number.isFinite(Number(text))) throw sqsErrors.invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      checkCharacters(text, `message attribute '${name}'`);
      out[name] = { DataType: dataType, StringValue: text };
    }
  }
  return out;
}

/** MessageSystemAttributes: SQS accepts AWSTraceHeader (a non-empty String) only. */
export function checkSystemAttributes(given: unknown): Record<string, MessageAttribute> {
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object' || Array.isArray(given)) throw sqsErrors.invalidParameter('MessageSystemAttributes must be a map of attribute names to values.');
  const out: Record<string, MessageAttribute> = {};
  for (const [name, raw] of Object.entries(given as Record<string, unknown>)) {
    if (name !== 'AWSTraceHeader') throw sqsErrors.invalidParameter(`Message system attribute name '${name}' is invalid.`);
    const value = (raw ?? {}) as Record<string, unknown>;
    if (value.DataType !== 'String' || typeof value.StringValue !== 'string' || value.StringValue === '') {
      throw sqsErrors.invalidParameter(`Message system attribute '${name}' must contain a non-empty value of type String.`);
    }
    out[name] = { DataType: 'String', StringValue: value.StringValue };
  }
  return out;
}

/** What SQS counts against MaximumMessageSize: the body, and each attribute's name, type and value. */
export function messageBytes(body: string, attributes: Record<string, MessageAttribute>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, a]) => sum + Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + (a.BinaryValue !== undefined ? Buffer.from(a.BinaryValue, 'base64').length : Buffer.byteLength(a.StringValue ?? '')),
    Buffer.byteLength(body),
  );
}

/** The message system attributes ReceiveMessage can return (FIFO ones are never present here). */
export const MESSAGE_SYSTEM_ATTRIBUTE_NAMES = [
  'All',
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

// --- the model -----------------------------------------------------------------------------------

type StoredMessage = {
  messageId: string;
  body: string;
  attributes: Record<string, MessageAttribute>;
  systemAttributes: Record<string, MessageAttribute>;
  senderId: string;
  sentMs: number;
  visibleAtMs: number;
  receiveCount: number;
  firstReceiveMs?: number;
  /** The sequence number of the latest receive; only its receipt handle deletes the message. */
  receipt?: number;
  deadLetterSourceArn?: string;
};

export type QueueRecord = {
  name: string;
  account: string;
  region: string;
  arn: string;
  /** The settable attributes CreateQueue and SetQueueAttributes stored (defaults are not stored). */
  attributes: Record<string, string>;
  createdMs: number;
  modifiedMs: number;
  messages: StoredMessage[];
  /** How many receives the queue has served: the sequence receipt handles carry. */
  receipts: number;
  lastPurgeMs?: number;
};

export type SendInput = {
  body: string;
  attributes?: Record<string, MessageAttribute>;
  systemAttributes?: Record<string, MessageAttribute>;
  delaySeconds?: number;
  senderId: string;
};

export type SendResult = { messageId: string; md5OfBody: string; md5OfAttributes?: string; md5OfSystemAttributes?: string };

export type ReceivedMessage = {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  /** The system attributes asked for, as strings. */
  attributes: Record<string, string>;
  messageAttributes: Record<string, MessageAttribute>;
  md5OfMessageAttributes?: string;
};

/** What is in a queue, for tests (`Emulator.queueMessages`). Times are ISO on the emulator clock. */
export type QueueMessage = {
  messageId: string;
  body: string;
  messageAttributes: Record<string, MessageAttribute>;
  sentAt: string;
  receiveCount: number;
  state: 'available' | 'in-flight' | 'delayed';
  /** When the message becomes (or became) receivable: the end of its delay or of its visibility timeout. */
  visibleAt: string;
  /** Set when SQS moved the message here from a queue whose RedrivePolicy names this one. */
  deadLetterSourceArn?: string;
};

export type QueueSnapshot = {
  account: string;
  region: string;
  name: string;
  arn: string;
  /** Every settable attribute with its value (defaults included). */
  attributes: Record<string, string>;
  messages: { available: number; inFlight: number; delayed: number };
};

export type StateQueueInput = { account: string; region: string; name: string; attributes?: Record<string, string> };

/** SQS refuses to re-create a queue this soon after deleting it, and to purge a queue twice this often. */
const COOL_DOWN_MS = 60_000;

const key = (account: string, region: string, name: string) => `${account}/${region}/${name}`;
const iso = (ms: number) => new Date(ms).toISOString();

function encodeReceipt(queue: QueueRecord, messageId: string, receipt: number): string {
  return Buffer.from(`${queue.arn}\n${messageId}\n${receipt}\n${randomBytes(12).toString('hex')}`).toString('base64');
}

function decodeReceipt(handle: string): { arn: string; messageId: string; receipt: number } | undefined {
  const parts = Buffer.from(handle, 'base64').toString('utf8').split('\n');
  if (parts.length !== 4 || !parseQueueArn(parts[0]!) || !/^\d+$/.test(parts[2]!)) return undefined;
  return { arn: parts[0]!, messageId: parts[1]!, receipt: Number(parts[2]) };
}

/**
 * Standard SQS queues of every account and region, on the emulator's clock: visibility timeouts,
 * delays, retention and RedrivePolicy moves happen when time is read, so a test that advances the clock
 * sees messages come back, expire or move. Messages are returned in the order they were sent.
 */
export class Queues {
  private readonly queues = new Map<string, QueueRecord>();
  /** When each queue name was last deleted (for QueueDeletedRecently). */
  private readonly deleted = new Map<string, number>();

  /** `now` reads the emulator's clock (epoch ms). */
  constructor(private readonly now: () => number) {}

  /** Replaces every queue (and message) with the state's queues, empty. */
  load(queues: StateQueueInput[]): void {
    this.queues.clear();
    this.deleted.clear();
    const now = this.now();
    const declared = new Set(queues.map((q) => queueArn(q.account, q.region, q.name)));
    for (const q of queues) {
      const attributes = checkQueueAttributes(q.attributes ?? {}, (arn) => declared.has(arn));
      this.queues.set(key(q.account, q.region, q.name), this.newQueue(q.account, q.region, q.name, attributes, now));
    }
  }

  private newQueue(account: string, region: string, name: string, attributes: Record<string, string>, now: number): QueueRecord {
    return { name, account, region, arn: queueArn(account, region, name), attributes: dropEmpty(attributes), createdMs: now, modifiedMs: now, messages: [], receipts: 0 };
  }

  get(account: string, region: string, name: string): QueueRecord | undefined {
    return this.queues.get(key(account, region, name));
  }

  byArn(arn: string): QueueRecord | undefined {
    const where = parseQueueArn(arn);
    return where && this.get(where.account, where.region, where.name);
  }

  readonly exists = (arn: string): boolean => this.byArn(arn) !== undefined;

  list(account: string, region: string): QueueRecord[] {
    return [...this.queues.values()].filter((q) => q.account === account && q.region === region).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** CreateQueue: idempotent for the same attributes; a name in use with other values is refused. */
  create(account: string, region: string, name: string, given: Record<string, string>): QueueRecord {
    if (!QUEUE_NAME.test(name)) {
      throw sqsErrors.invalidParameter(
        name.endsWith('.fifo') ? 'The emulator does not model FIFO queues (names ending in .fifo).' : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const attributes = checkQueueAttributes(given, this.exists);
    const existing = this.get(account, region, name);
    const now = this.now();
    if (existing) {
      const current = { ...DEFAULT_ATTRIBUTES, ...existing.attributes };
      for (const [attribute, value] of Object.entries(attributes)) {
        if ((current[attribute] ?? '') !== value) throw new AwsError('QueueAlreadyExists', `A queue already exists with the same name and a different value for attribute ${attribute}`);
      }
      return existing;
    }
    const deletedMs = this.deleted.get(key(account, region, name));
    if (deletedMs !== undefined && now - deletedMs < COOL_DOWN_MS) {
      throw new AwsError('AWS.SimpleQueueService.QueueDeletedRecently', 'You must wait 60 seconds after deleting a queue before you can create another with the same name.');
    }
    const queue = this.newQueue(account, region, name, attributes, now);
    this.queues.set(key(account, region, name), queue);
    return queue;
  }

  delete(queue: QueueRecord): void {
    this.queues.delete(key(queue.account, queue.region, queue.name));
    this.deleted.set(key(queue.account, queue.region, queue.name), this.now());
  }

  setAttributes(queue: QueueRecord, given: Record<string, string>): void {
    const attributes = checkQueueAttributes(given, this.exists);
    queue.attributes = dropEmpty({ ...queue.attributes, ...attributes });
    queue.modifiedMs = this.now();
  }

  /** GetQueueAttributes: the names asked for (`All` for every one), settable and computed. */
  attributes(queue: QueueRecord, names: string[]): Record<string, string> {
    for (const name of names) if (name !== 'All' && !QUEUE_ATTRIBUTE_NAMES.includes(name)) throw sqsErrors.unknownAttribute(name);
    const counts = this.counts(queue);
    const all: Record<string, string> = {
      ...DEFAULT_ATTRIBUTES,
      ...queue.attributes,
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(counts.available),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdMs / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modifiedMs / 1000)),
    };
    if (names.includes('All')) return all;
    return Object.fromEntries(names.filter((n) => all[n] !== undefined).map((n) => [n, all[n]!]));
  }

  private number(queue: QueueRecord, attribute: string): number {
    return Number(queue.attributes[attribute] ?? DEFAULT_ATTRIBUTES[attribute]);
  }

  /** Drops messages older than the queue's MessageRetentionPeriod. */
  private prune(queue: QueueRecord, now: number): void {
    const retentionMs = this.number(queue, 'MessageRetentionPeriod') * 1000;
    if (queue.messages.some((m) => now - m.sentMs >= retentionMs)) queue.messages = queue.messages.filter((m) => now - m.sentMs < retentionMs);
  }

  counts(queue: QueueRecord): QueueSnapshot['messages'] {
    const now = this.now();
    this.prune(queue, now);
    const counts = { available: 0, inFlight: 0, delayed: 0 };
    const field = { available: 'available', 'in-flight': 'inFlight', delayed: 'delayed' } as const;
    for (const m of queue.messages) counts[field[stateOf(m, now)]] += 1;
    return counts;
  }

  /** SendMessage: checks the body and its size against the queue's MaximumMessageSize, then enqueues. */
  send(queue: QueueRecord, input: SendInput): SendResult {
    if (input.body === '') throw sqsErrors.missing('MessageBody');
    checkCharacters(input.body, 'message body');
    const attributes = input.attributes ?? {};
    const limit = this.number(queue, 'MaximumMessageSize');
    if (messageBytes(input.body, attributes) > limit) throw sqsErrors.invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`);
    const delay = input.delaySeconds ?? this.number(queue, 'DelaySeconds');
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) throw sqsErrors.outOfRange('DelaySeconds', delay, 0, 900);
    const now = this.now();
    this.prune(queue, now);
    const message: StoredMessage = {
      messageId: randomUUID(),
      body: input.body,
      attributes,
      systemAttributes: input.systemAttributes ?? {},
      senderId: input.senderId,
      sentMs: now,
      visibleAtMs: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.push(message);
    const ofAttributes = md5OfAttributes(attributes);
    const ofSystemAttributes = md5OfAttributes(message.systemAttributes);
    return {
      messageId: message.messageId,
      md5OfBody: md5Hex(input.body),
      ...(ofAttributes ? { md5OfAttributes: ofAttributes } : {}),
      ...(ofSystemAttributes ? { md5OfSystemAttributes: ofSystemAttributes } : {}),
    };
  }

  /**
   * ReceiveMessage: up to `max` receivable messages, each hidden for the visibility timeout and counted
   * as received. A message already received maxReceiveCount times moves to the RedrivePolicy's
   * dead-letter queue instead (when that queue exists), as SQS does when such a message comes up again.
   */
  receive(queue: QueueRecord, opts: { max: number; visibilityTimeout?: number; systemAttributeNames: string[]; messageAttributeNames: string[] }): ReceivedMessage[] {
    const now = this.now();
    this.prune(queue, now);
    const visibilityMs = (opts.visibilityTimeout ?? this.number(queue, 'VisibilityTimeout')) * 1000;
    const redrive = queue.attributes.RedrivePolicy ? (JSON.parse(queue.attributes.RedrivePolicy) as RedrivePolicy) : undefined;
    const out: ReceivedMessage[] = [];
    for (const message of [...queue.messages]) {
      if (out.length >= opts.max) break;
      if (message.visibleAtMs > now) continue;
      const deadLetters = redrive && message.receiveCount >= redrive.maxReceiveCount ? this.byArn(redrive.deadLetterTargetArn) : undefined;
      if (deadLetters) {
        queue.messages = queue.messages.filter((m) => m !== message);
        const { receipt: _receipt, ...moved } = message;
        deadLetters.messages.push({ ...moved, visibleAtMs: now, deadLetterSourceArn: queue.arn });
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveMs ??= now;
      message.visibleAtMs = now + visibilityMs;
      message.receipt = ++queue.receipts;
      out.push(this.view(queue, message, opts.systemAttributeNames, opts.messageAttributeNames));
    }
    return out;
  }

  private view(queue: QueueRecord, message: StoredMessage, systemNames: string[], attributeNames: string[]): ReceivedMessage {
    const all = systemNames.includes('All');
    const system: Record<string, string> = {
      SenderId: message.senderId,
      SentTimestamp: String(message.sentMs),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveMs),
      ...(message.systemAttributes.AWSTraceHeader ? { AWSTraceHeader: message.systemAttributes.AWSTraceHeader.StringValue! } : {}),
      ...(message.deadLetterSourceArn ? { DeadLetterQueueSourceArn: message.deadLetterSourceArn } : {}),
    };
    const attributes = Object.fromEntries(Object.entries(system).filter(([name]) => all || systemNames.includes(name)));
    const wanted = (name: string) =>
      attributeNames.some((pattern) => pattern === 'All' || pattern === '.*' || pattern === name || (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))));
    const messageAttributes = Object.fromEntries(Object.entries(message.attributes).filter(([name]) => wanted(name)));
    const md5 = md5OfAttributes(messageAttributes);
    return {
      messageId: message.messageId,
      receiptHandle: encodeReceipt(queue, message.messageId, message.receipt!),
      body: message.body,
      md5OfBody: md5Hex(message.body),
      attributes,
      messageAttributes,
      ...(md5 ? { md5OfMessageAttributes: md5 } : {}),
    };
  }

  /** The message a receipt handle names, refusing handles that are not this queue's. */
  private byReceipt(queue: QueueRecord, handle: string): { message?: StoredMessage; receipt: number } {
    const decoded = decodeReceipt(handle);
    if (!decoded || decoded.arn !== queue.arn) throw sqsErrors.invalidReceipt(handle);
    return { message: queue.messages.find((m) => m.messageId === decoded.messageId), receipt: decoded.receipt };
  }

  /**
   * DeleteMessage: the latest receipt handle deletes its message. As in SQS, a handle of a message already
   * deleted, or an older handle of a message received again since, succeeds without deleting anything.
   */
  deleteMessage(queue: QueueRecord, handle: string): void {
    const { message, receipt } = this.byReceipt(queue, handle);
    if (message && message.receipt === receipt) queue.messages = queue.messages.filter((m) => m !== message);
  }

  /** ChangeMessageVisibility: hides (or, with 0, releases) an in-flight message from now on. */
  changeVisibility(queue: QueueRecord, handle: string, seconds: number): void {
    const { message, receipt } = this.byReceipt(queue, handle);
    if (!message || message.receipt !== receipt) throw sqsErrors.expiredReceipt(handle);
    const now = this.now();
    if (message.visibleAtMs <= now) throw sqsErrors.notInFlight();
    message.visibleAtMs = now + seconds * 1000;
  }

  purge(queue: QueueRecord): void {
    const now = this.now();
    if (queue.lastPurgeMs !== undefined && now - queue.lastPurgeMs < COOL_DOWN_MS) {
      throw new AwsError('AWS.SimpleQueueService.PurgeQueueInProgress', `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`, 403);
    }
    queue.lastPurgeMs = now;
    queue.messages = [];
  }

  messagesOf(queue: QueueRecord): QueueMessage[] {
    const now = this.now();
    this.prune(queue, now);
    return queue.messages.map((m) => ({
      messageId: m.messageId,
      body: m.body,
      messageAttributes: structuredClone(m.attributes),
      sentAt: iso(m.sentMs),
      receiveCount: m.receiveCount,
      state: stateOf(m, now),
      visibleAt: iso(m.visibleAtMs),
      ...(m.deadLetterSourceArn ? { deadLetterSourceArn: m.deadLetterSourceArn } : {}),
    }));
  }

  snapshot(): QueueSnapshot[] {
    return [...this.queues.values()]
      .sort((a, b) => a.arn.localeCompare(b.arn))
      .map((q) => ({ account: q.account, region: q.region, name: q.name, arn: q.arn, attributes: { ...DEFAULT_ATTRIBUTES, ...q.attributes }, messages: this.counts(q) }));
  }
}

function stateOf(m: StoredMessage, now: number): QueueMessage['state'] {
  if (m.visibleAtMs <= now) return 'available';
  return m.receiveCount === 0 ? 'delayed' : 'in-flight';
}

function dropEmpty(attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== ''));
}
