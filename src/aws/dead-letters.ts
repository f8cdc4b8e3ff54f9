/**
 * The AWS side of `eks-endpoint-guard redrive`: the intake's dead-letter queue (SQS) and the intake
 * function (Lambda) the events are re-submitted to, asynchronously, exactly as EventBridge invokes it, so
 * a re-submitted event that fails again lands in the same queue again. The intake names each execution
 * after the CloudTrail event id: an event submitted twice still runs once.
 */
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { QueueMessage } from '../redrive/dead-letter';
import { call } from './errors';

export type DeadLetterQueue = {
  url: string;
  /**
   * Receives every message (up to `max`), hidden for `visibilitySeconds` so a message is read once. A
   * failure part way returns what was received with the error, so the caller can release them.
   */
  receiveAll(options: { max: number; visibilitySeconds: number }): Promise<{ messages: QueueMessage[]; capped: boolean; error: Error | null }>;
  /** Makes messages visible again at once (a dry run leaves the queue as it found it). */
  release(messages: readonly QueueMessage[]): Promise<void>;
  delete(messages: readonly QueueMessage[]): Promise<void>;
  /** Messages hidden now (another run's, or one that failed and has not released them yet). */
  inFlight(): Promise<number>;
};

const BATCH = 10;
const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The queue URL of a queue name in the client's account and region. */
export async function queueUrlOf(client: SQSClient, queueName: string): Promise<string> {
  const out = await call({ operation: 'GetQueueUrl', detail: `queue ${queueName}` }, () => client.send(new GetQueueUrlCommand({ QueueName: queueName })));
  return out.QueueUrl!;
}

export function createDeadLetterQueue(client: SQSClient, url: string): DeadLetterQueue {
  const batchFailures = (op: string, failed: { Id?: string; Code?: string; Message?: string }[] | undefined) => {
    if (failed && failed.length > 0) throw new Error(`${op} on ${url} failed for ${failed.length} message(s): ${failed.map((f) => `${f.Id}: ${f.Code}: ${f.Message}`).join('; ')}`);
  };
  return {
    url,
    async receiveAll({ max, visibilitySeconds }) {
      const seen = new Map<string, QueueMessage>();
      // A receive may return fewer than are there (SQS samples servers): stop only after an empty one.
      while (seen.size < max) {
        let out;
        try {
          out = await call({ operation: 'ReceiveMessage', detail: `queue ${url}` }, () =>
          client.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: Math.min(BATCH, max - seen.size),
              VisibilityTimeout: visibilitySeconds,
              // Long polling asks every SQS server: a short poll may answer empty while messages are there.
              WaitTimeSeconds: 1,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            }),
          ),
          );
        } catch (err) {
          return { messages: [...seen.values()], capped: false, error: err as Error };
        }
        const messages = out.Messages ?? [];
        if (messages.length === 0) break;
        for (const m of messages) {
          if (!m.MessageId || seen.has(m.MessageId)) continue;
          const attributes = Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).flatMap(([k, v]) => (v.StringValue !== undefined ? [[k, v.StringValue]] : [])));
          seen.set(m.MessageId, {
            messageId: m.MessageId,
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            attributes,
            receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
            sentAt: m.Attributes?.SentTimestamp ? Number(m.Attributes.SentTimestamp) : null,
          });
        }
      }
      return { messages: [...seen.values()], capped: seen.size >= max, error: null };
    },
    async release(messages) {
      for (const batch of chunks(messages, BATCH)) {
        const out = await call({ operation: 'ChangeMessageVisibilityBatch', detail: `queue ${url}` }, () =>
          client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 })) })),
        );
        batchFailures('ChangeMessageVisibilityBatch', out.Failed);
      }
    },
    async inFlight() {
      const out = await call({ operation: 'GetQueueAttributes', detail: `queue ${url}` }, () =>
        client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] })),
      );
      return Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    },
    async delete(messages) {
      for (const batch of chunks(messages, BATCH)) {
        const out = await call({ operation: 'DeleteMessageBatch', detail: `queue ${url}` }, () =>
          client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })) })),
        );
        batchFailures('DeleteMessageBatch', out.Failed);
      }
    },
  };
}

export type IntakeInvoker = {
  functionName: string;
  /** Checks the function exists and may be invoked (a DryRun invocation), before any event is sent. */
  check(): Promise<void>;
  submit(event: Record<string, unknown>): Promise<void>;
};

/** Re-submits events to the intake function as EventBridge does: an asynchronous invocation (202). */
export function createIntakeInvoker(client: LambdaClient, functionName: string): IntakeInvoker {
  return {
    functionName,
    async check() {
      await call({ operation: 'Invoke (DryRun)', detail: `function ${functionName}` }, () => client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'DryRun' })));
    },
    async submit(event) {
      const out = await call({ operation: 'Invoke', detail: `function ${functionName}` }, () =>
        client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) })),
      );
      if (out.StatusCode !== 202) throw new Error(`Invoke of ${functionName} answered ${out.StatusCode}, not 202 (accepted)`);
    },
  };
}
