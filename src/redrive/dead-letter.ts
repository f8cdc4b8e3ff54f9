/**
 * What a message in the intake's dead-letter queue is, and the CloudTrail event inside it. The queue holds
 * two formats: EventBridge's (the event as the target would have received it, the reason in the message
 * attributes ERROR_CODE / ERROR_MESSAGE / RULE_ARN / TARGET_ARN) when the rule could not deliver to the
 * intake, and Lambda's on-failure record (`requestPayload` the event, `responsePayload` the error) when the
 * intake ran and failed through its retries. Pure: `redrive` and `triage` both read messages through it.
 */
import { triageEvent, type TriageResult } from '../events/triage';
import { InputError } from '../errors';

/**
 * `eventbridge-delivery-failure`: the rule could not deliver (an intake event, re-submitted; or the sweep's
 * schedule, which is not: the next sweep runs as scheduled); `lambda-failure`: the intake ran and failed;
 * `cloudtrail-record`: a bare CloudTrail record someone put there (re-submitted as it is, as the intake
 * takes those too); `malformed`: nothing in it can run.
 */
export type DeadLetterKind = 'eventbridge-delivery-failure' | 'lambda-failure' | 'cloudtrail-record' | 'malformed';

/** One queue message, as the SQS adapter reads it. */
export type QueueMessage = {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** String message attributes (EventBridge's reasons). */
  attributes: Record<string, string>;
  /** ApproximateReceiveCount: how often the message was received (this read included). */
  receiveCount: number;
  /** SentTimestamp, epoch ms. */
  sentAt: number | null;
};

export type DeadLetter = {
  messageId: string;
  kind: DeadLetterKind;
  /** Why it is in the queue, in one line: the delivery error, the function's error, or what is malformed. */
  explanation: string;
  error: { code: string; message: string } | null;
  /** The EventBridge event to re-submit; null when there is none (malformed). */
  event: Record<string, unknown> | null;
  /** What triage makes of the event (null when malformed): the CloudTrail event id, name and cluster. */
  triage: Pick<TriageResult, 'eventId' | 'eventName' | 'cluster' | 'decision' | 'reason'> | null;
  receiveCount: number;
  sentAt: string | null;
};

const asObject = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const oneLine = (s: string, max = 600) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
};

/** A Lambda on-failure record (asynchronous invocation destination), or null. */
function lambdaFailure(doc: Record<string, unknown>): { event: unknown; code: string; message: string; functionArn: string | null; attempts: number | null; condition: string | null } | null {
  const context = asObject(doc.requestContext);
  if (!context || !('requestPayload' in doc)) return null;
  const response = asObject(doc.responsePayload);
  const responseContext = asObject(doc.responseContext);
  const code = text(response?.errorType) ?? text(responseContext?.functionError) ?? text(context.condition) ?? 'Unknown';
  const message = text(response?.errorMessage) ?? text(context.condition) ?? 'the function failed';
  const attempts = typeof context.approximateInvokeCount === 'number' ? context.approximateInvokeCount : null;
  return { event: doc.requestPayload, code, message, functionArn: text(context.functionArn), attempts, condition: text(context.condition) };
}

function triageOf(event: unknown): { triage: DeadLetter['triage']; problem: string | null } {
  try {
    const t = triageEvent(event, { selfRoleArns: [] });
    return { triage: { eventId: t.eventId, eventName: t.eventName, cluster: t.cluster, decision: t.decision, reason: t.reason }, problem: null };
  } catch (err) {
    // The first problem says what it is not; the rest repeat it for each field.
    const problems = err instanceof InputError ? err.problems : [(err as Error).message];
    return { triage: null, problem: `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : ''}` };
  }
}

/** Reads one dead-letter message: its kind, why it failed, and the event to re-submit (if any). */
export function explainDeadLetter(message: QueueMessage): DeadLetter {
  const base = { messageId: message.messageId, receiveCount: message.receiveCount, sentAt: message.sentAt === null ? null : new Date(message.sentAt).toISOString() };
  const malformed = (why: string): DeadLetter => ({ ...base, kind: 'malformed', explanation: oneLine(why), error: null, event: null, triage: null });
  let doc: Record<string, unknown> | null;
  try {
    doc = asObject(JSON.parse(message.body));
  } catch (err) {
    return malformed(`the body is not JSON (${(err as Error).message}): ${JSON.stringify(message.body.slice(0, 80))}`);
  }
  if (!doc) return malformed('the body is JSON but not an object: neither an EventBridge event nor a Lambda failure record');

  const failure = lambdaFailure(doc);
  if (failure) {
    const event = asObject(failure.event);
    const { triage, problem } = triageOf(failure.event);
    const where = `${failure.functionArn ?? 'the intake function'}${failure.attempts ? ` after ${failure.attempts} attempt(s)` : ''}${failure.condition ? ` (${failure.condition})` : ''}`;
    if (!event || problem) return malformed(`a Lambda failure record from ${where} whose event is not a CloudTrail event: ${problem ?? 'the requestPayload is not an object'} (the intake refused it as malformed: ${failure.code}: ${failure.message})`);
    return { ...base, kind: 'lambda-failure', explanation: oneLine(`the intake ran and failed: ${failure.code}: ${failure.message}, in ${where}`), error: { code: failure.code, message: failure.message }, event, triage };
  }

  const { triage, problem } = triageOf(doc);
  const code = message.attributes.ERROR_CODE ?? null;
  const errorMessage = message.attributes.ERROR_MESSAGE ?? null;
  const reason = code ? `${code}${errorMessage ? `: ${errorMessage}` : ''}` : null;
  const rule = message.attributes.RULE_ARN ? ` by rule ${message.attributes.RULE_ARN}` : '';
  const target = message.attributes.TARGET_ARN ? ` to ${message.attributes.TARGET_ARN}` : '';
  if (doc.source === 'aws.events' && doc['detail-type'] === 'Scheduled Event') {
    // The sweep's schedule shares the queue: nothing to re-submit, the next scheduled sweep runs as usual.
    return { ...base, kind: 'eventbridge-delivery-failure', explanation: oneLine(`EventBridge could not start the scheduled sweep${rule}${target}${reason ? `: ${reason}` : ''}; nothing to re-submit (the next sweep runs on schedule): delete it`), error: code ? { code, message: errorMessage ?? '' } : null, event: null, triage: null };
  }
  if (problem) {
    return malformed(`${reason ? `EventBridge could not deliver it (${reason}), and ` : ''}it is not a CloudTrail event nor a Lambda failure record: ${problem}`);
  }
  const why = reason ?? 'no reason given (no ERROR_CODE attribute)';
  if (!('detail' in doc) && !code) {
    return { ...base, kind: 'cloudtrail-record', explanation: 'a bare CloudTrail record (no EventBridge envelope, no reason attributes): re-submitted as it is', error: null, event: doc, triage };
  }
  return {
    ...base,
    kind: 'eventbridge-delivery-failure',
    explanation: oneLine(`EventBridge could not deliver it${rule}${target}: ${why}`),
    error: code ? { code, message: errorMessage ?? '' } : null,
    event: doc,
    triage,
  };
}

/**
 * The event inside a document that may be a dead letter: a Lambda failure record's `requestPayload`,
 * otherwise the document itself. `triage` reads a dead-lettered message body this way.
 */
export function unwrapDeadLetter(doc: unknown): unknown {
  const o = asObject(doc);
  if (o) {
    const failure = lambdaFailure(o);
    if (failure) return failure.event;
  }
  return doc;
}

export type RedrivePlan = {
  /** One re-submission per CloudTrail event: the same event in both formats is sent once. */
  submit: { eventId: string; event: Record<string, unknown>; messageIds: string[] }[];
  /** Messages that are kept: nothing in them can be run. */
  keep: DeadLetter[];
};

/** What to re-submit and what to keep, from the explained messages. */
export function planRedrive(letters: readonly DeadLetter[]): RedrivePlan {
  const byEvent = new Map<string, RedrivePlan['submit'][number]>();
  const keep: DeadLetter[] = [];
  for (const letter of letters) {
    if (!letter.event || !letter.triage) {
      keep.push(letter);
      continue;
    }
    const id = letter.triage.eventId;
    const entry = byEvent.get(id);
    if (entry) entry.messageIds.push(letter.messageId);
    else byEvent.set(id, { eventId: id, event: letter.event, messageIds: [letter.messageId] });
  }
  return { submit: [...byEvent.values()], keep };
}
