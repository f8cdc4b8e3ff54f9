import * as z from 'zod';
import { AwsError } from './protocol';
import { checkQueueAttributes, QUEUE_NAME, queueArn } from './sqs-queues';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name such as us-east-1');
/** SQS attributes are strings on the wire; a state file may write numbers, booleans and JSON documents inline. */
const attributeValue = z
  .union([z.string(), z.number(), z.boolean(), z.record(z.string(), z.unknown())])
  .transform((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v)));

export const sqsQueueSchema = z.strictObject({
  name: z.string().regex(QUEUE_NAME, 'must be an SQS queue name (letters, digits, - and _, at most 80; FIFO queues are not modelled)'),
  account: accountId,
  region,
  /** CreateQueue's attributes, e.g. VisibilityTimeout, MessageRetentionPeriod, RedrivePolicy. */
  attributes: z.record(z.string(), attributeValue).optional(),
});

/** The `sqs:` section of the emulator's state file: standard queues, created empty. */
export const sqsStateSchema = z.strictObject({
  queues: z.array(sqsQueueSchema).default([]),
});

export type SqsState = z.input<typeof sqsStateSchema>;
export type ResolvedSqsState = z.output<typeof sqsStateSchema>;

/**
 * Problems spanning entries: queues declared twice, attributes SQS would refuse (a RedrivePolicy must
 * name a queue of the state), and accounts missing from `accounts` (checked by `declared`).
 */
export function sqsReferenceProblems(state: ResolvedSqsState, declared: (account: string, at: string) => void, at = 'sqs'): string[] {
  const problems: string[] = [];
  const arns = new Set(state.queues.map((q) => queueArn(q.account, q.region, q.name)));
  const seen = new Set<string>();
  state.queues.forEach((queue, i) => {
    declared(queue.account, `${at}.queues[${i}].account`);
    const arn = queueArn(queue.account, queue.region, queue.name);
    if (seen.has(arn)) problems.push(`${at}.queues[${i}].name: queue ${queue.name} is declared twice in ${queue.account} ${queue.region}`);
    seen.add(arn);
    try {
      checkQueueAttributes(queue.attributes ?? {}, (target) => arns.has(target));
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      problems.push(`${at}.queues[${i}].attributes: ${err.message}`);
    }
  });
  return problems;
}
