import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { InputError } from '../errors';
import { stableId } from './ids';
import { AwsError } from './protocol';
import { parseQueueArn, type Queues } from './sqs-queues';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name such as us-east-1');

export const functionConfigSchema = z.strictObject({
  account: accountId,
  region,
  name: z.string().regex(/^[\w-]{1,64}$/, 'must be a Lambda function name (letters, digits, - and _, at most 64)'),
  /** Where an asynchronous invocation that failed every attempt goes: an SQS queue (the destination type the emulator models). */
  onFailure: z
    .strictObject({ destination: z.string().refine((arn) => parseQueueArn(arn) !== undefined, 'must be an SQS queue ARN such as arn:aws:sqs:us-east-1:111122223333:failures') })
    .optional(),
  /** Retries of a failed asynchronous invocation (Lambda's MaximumRetryAttempts: 0 to 2, default 2). */
  maximumRetryAttempts: z.number().int().min(0).max(2).default(2),
});

/** A function deployed by code: `Emulator.registerFunction` gives its handler. */
export type FunctionConfig = z.input<typeof functionConfigSchema>;
/** The function's code: receives the event (the invocation's JSON payload), returns the result or throws. */
export type FunctionHandler = (event: unknown) => Promise<unknown> | unknown;

/** What the Node.js runtime reports for an unhandled error. */
export type FunctionError = { errorType: string; errorMessage: string; trace: string[] };

export type InvocationRecord = {
  requestId: string;
  /** The unqualified function ARN. */
  functionArn: string;
  invocationType: 'RequestResponse' | 'Event';
  status: 'pending' | 'succeeded' | 'failed';
  /** Attempts made: 1 for RequestResponse; up to 1 + maximumRetryAttempts for Event. */
  attempts: number;
  error?: { errorType: string; errorMessage: string };
  /** An Event invocation that failed every attempt, sent (or not) to its onFailure destination. */
  destination?: { arn: string; status: 'sent' | 'failed'; messageId?: string; reason?: string };
  time: string;
};

/** AWS's Lambda metrics: Invocations counts every attempt, retries included. */
export type FunctionMetrics = { invocations: number; errors: number; destinationDeliveryFailures: number };

export type LambdaSnapshot = {
  functions: {
    account: string;
    region: string;
    name: string;
    arn: string;
    maximumRetryAttempts: number;
    onFailure?: { destination: string };
    metrics: FunctionMetrics;
  }[];
  /** Every invocation since the state was loaded, in order. */
  invocations: InvocationRecord[];
};

type Registered = { config: z.output<typeof functionConfigSchema>; arn: string; handler: FunctionHandler; metrics: FunctionMetrics };

export const functionArn = (account: string, region: string, name: string) => `arn:aws:lambda:${region}:${account}:function:${name}`;

function asFunctionError(err: unknown): FunctionError {
  if (err instanceof Error) return { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

const zeroMetrics = (): FunctionMetrics => ({ invocations: 0, errors: 0, destinationDeliveryFailures: 0 });

/**
 * Lambda functions registered by code, and their invocations. A synchronous invocation runs the handler
 * once; an asynchronous one runs it up to 1 + maximumRetryAttempts times back to back (Lambda's minutes
 * between retries are not waited for) and, when every attempt failed, sends Lambda's failure record to
 * the onFailure queue. `flush()` awaits every asynchronous invocation started so far.
 */
export class Functions {
  private readonly functions = new Map<string, Registered>();
  private readonly pending = new Set<Promise<void>>();
  private invocations: InvocationRecord[] = [];

  /** `now` reads the emulator's clock (epoch ms). */
  constructor(
    private readonly now: () => number,
    private readonly queues: Queues,
  ) {}

  /** Registers (or replaces) a function; the returned function unregisters this registration. Throws an InputError naming bad fields. */
  register(config: FunctionConfig, handler: FunctionHandler): () => void {
    const parsed = functionConfigSchema.safeParse(config);
    if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `function ${i.path.join('.') || 'config'}: ${i.message}`));
    const arn = functionArn(parsed.data.account, parsed.data.region, parsed.data.name);
    const entry: Registered = { config: parsed.data, arn, handler, metrics: zeroMetrics() };
    this.functions.set(arn, entry);
    return () => {
      if (this.functions.get(arn) === entry) this.functions.delete(arn);
    };
  }

  /** Forgets invocations and metrics (loading a state); functions stay registered, as their code registered them. */
  reset(): void {
    this.invocations = [];
    for (const fn of this.functions.values()) fn.metrics = zeroMetrics();
  }

  /** A registered function by its unqualified ARN. */
  find(arn: string): Registered | undefined {
    return this.functions.get(arn);
  }

  private record(fn: Registered, requestId: string, invocationType: InvocationRecord['invocationType']): InvocationRecord {
    const record: InvocationRecord = { requestId, functionArn: fn.arn, invocationType, status: 'pending', attempts: 0, time: new Date(this.now()).toISOString() };
    this.invocations.push(record);
    return record;
  }

  /** One attempt: the handler's result as JSON text, or its error. */
  private async attempt(fn: Registered, record: InvocationRecord, event: unknown): Promise<{ payload: string } | { error: FunctionError }> {
    record.attempts += 1;
    fn.metrics.invocations += 1;
    try {
      // Each attempt gets its own copy, as each one deserializes the payload afresh.
      const result = await fn.handler(structuredClone(event));
      return { payload: JSON.stringify(result ?? null) };
    } catch (err) {
      fn.metrics.errors += 1;
      return { error: asFunctionError(err) };
    }
  }

  /** RequestResponse: runs the handler once and answers with what it returned or threw. */
  async invoke(arn: string, event: unknown, requestId: string): Promise<{ payload: string } | { error: FunctionError }> {
    const fn = this.functions.get(arn);
    if (!fn) throw new RangeError(`no function ${arn}`);
    const record = this.record(fn, requestId, 'RequestResponse');
    const outcome = await this.attempt(fn, record, event);
    record.status = 'error' in outcome ? 'failed' : 'succeeded';
    if ('error' in outcome) record.error = { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage };
    return outcome;
  }

  /** Event: queues the invocation and returns; false when no such function is registered. */
  invokeAsync(arn: string, event: unknown, requestId: string = randomUUID()): boolean {
    const fn = this.functions.get(arn);
    if (!fn) return false;
    const record = this.record(fn, requestId, 'Event');
    const run = (async () => {
      // Started after the caller's turn, as Lambda accepts the event before running it.
      await Promise.resolve();
      let last: FunctionError | undefined;
      for (let n = 0; n <= fn.config.maximumRetryAttempts; n++) {
        const outcome = await this.attempt(fn, record, event);
        if (!('error' in outcome)) {
          record.status = 'succeeded';
          return;
        }
        last = outcome.error;
      }
      record.status = 'failed';
      record.error = { errorType: last!.errorType, errorMessage: last!.errorMessage };
      if (fn.config.onFailure) this.sendFailureRecord(fn, record, event, last!);
    })();
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    return true;
  }

  /** Lambda's invocation record for an asynchronous invocation whose retries were exhausted. */
  private sendFailureRecord(fn: Registered, record: InvocationRecord, event: unknown, error: FunctionError): void {
    const arn = fn.config.onFailure!.destination;
    const body = JSON.stringify({
      version: '1.0',
      timestamp: new Date(this.now()).toISOString(),
      requestContext: { requestId: record.requestId, functionArn: `${fn.arn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: record.attempts },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: error,
    });
    const failed = (reason: string) => {
      record.destination = { arn, status: 'failed', reason };
      fn.metrics.destinationDeliveryFailures += 1;
    };
    const queue = this.queues.byArn(arn);
    if (!queue) return failed(`the destination queue ${arn} does not exist`);
    try {
      // Sent as the function's execution role, whose session Lambda names after the function.
      const sent = this.queues.send(queue, { body, senderId: `${stableId('AROA', fn.arn, 17, true)}:${fn.config.name}` });
      record.destination = { arn, status: 'sent', messageId: sent.messageId };
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      failed(`SQS refused the record: ${err.message}`);
    }
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves once every asynchronous invocation started so far (and those they started) has settled. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  snapshot(): LambdaSnapshot {
    return {
      functions: [...this.functions.values()]
        .sort((a, b) => a.arn.localeCompare(b.arn))
        .map((fn) => ({
          account: fn.config.account,
          region: fn.config.region,
          name: fn.config.name,
          arn: fn.arn,
          maximumRetryAttempts: fn.config.maximumRetryAttempts,
          ...(fn.config.onFailure ? { onFailure: { ...fn.config.onFailure } } : {}),
          metrics: { ...fn.metrics },
        })),
      invocations: this.invocations.map((r) => structuredClone(r)),
    };
  }
}
