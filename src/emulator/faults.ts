import * as z from 'zod';
import type { ErrorDetail } from './cluster';

/** Every operation the emulator implements, by its AWS name. */
export const OPERATIONS = [
  'CreateCluster',
  'DeleteCluster',
  'DescribeCluster',
  'ListClusters',
  'UpdateClusterConfig',
  'DescribeUpdate',
  'ListUpdates',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
  'DescribeVpcs',
  'DescribeVpcAttribute',
  'DescribeDhcpOptions',
  'DescribeNatGateways',
  'CreateTopic',
  'ListTopics',
  'Publish',
  'GetCallerIdentity',
  'AssumeRole',
  // DynamoDB (TagResource and UntagResource are shared with EKS: give `service` to aim at one of them).
  'CreateTable',
  'DescribeTable',
  'UpdateTable',
  'DeleteTable',
  'ListTables',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'ListTagsOfResource',
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
] as const;
export type OperationName = (typeof OPERATIONS)[number];

/** The services the emulator serves, by their SigV4 signing name. */
export const SERVICE_NAMES = ['eks', 'ec2', 'sns', 'sts', 'dynamodb'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const faultSchema = z.strictObject({
  kind: z.enum(['throttle', 'server-error', 'latency', 'update-fails']),
  operation: z.enum(OPERATIONS).optional(),
  service: z.enum(SERVICE_NAMES).optional(),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  region: z.string().optional(),
  cluster: z.string().optional(),
  /** SNS: the topic's name (the last part of the TopicArn of Publish, the Name of CreateTopic). */
  topic: z.string().optional(),
  /** DynamoDB: a table the call reads or writes (any of them, for batches and transactions). */
  table: z.string().optional(),
  /** How many matching calls (or updates) the fault hits; unlimited when omitted. */
  times: z.number().int().positive().optional(),
  latencyMs: z.number().nonnegative().optional(),
  errors: z
    .array(z.strictObject({ errorCode: z.string(), errorMessage: z.string(), resourceIds: z.array(z.string()).optional() }))
    .optional(),
});

/**
 * An injected fault. `throttle` and `server-error` refuse matching calls before they are decided;
 * `latency` delays them; `update-fails` makes the next accepted update(s) of matching clusters end
 * `Failed` with `errors` and leave the configuration unchanged. Unset filters match everything; a
 * `cluster`, `topic` or `table` filter matches only calls that name one.
 */
export type Fault = z.input<typeof faultSchema>;

export type CallTarget = { operation: string; service?: string; account: string; region: string; cluster?: string; topic?: string; tables?: string[] };
export type FaultEffect = { latencyMs: number; refuse?: 'throttle' | 'server-error' };

type ActiveFault = Fault & { remaining: number };

export class Faults {
  private active: ActiveFault[] = [];

  add(fault: Fault): void {
    const parsed = faultSchema.parse(fault);
    this.active.push({ ...parsed, remaining: parsed.times ?? Infinity });
  }

  clear(): void {
    this.active = [];
  }

  list(): Fault[] {
    return this.active.map(({ remaining: _remaining, ...fault }) => fault);
  }

  private matches(f: ActiveFault, t: CallTarget): boolean {
    return (
      f.remaining > 0 &&
      (!f.operation || f.operation === t.operation) &&
      (!f.service || f.service === t.service) &&
      (!f.account || f.account === t.account) &&
      (!f.region || f.region === t.region) &&
      (!f.cluster || f.cluster === t.cluster) &&
      (!f.topic || f.topic === t.topic) &&
      (!f.table || (t.tables ?? []).includes(f.table))
    );
  }

  private consume(f: ActiveFault): void {
    f.remaining -= 1;
    if (f.remaining <= 0) this.active = this.active.filter((x) => x !== f);
  }

  /** What happens to one call: latency faults add up; the first matching refusal wins. */
  forCall(target: CallTarget): FaultEffect {
    let latencyMs = 0;
    let refuse: FaultEffect['refuse'];
    for (const f of [...this.active]) {
      if (f.kind === 'update-fails' || !this.matches(f, target)) continue;
      if (f.kind === 'latency') {
        latencyMs += f.latencyMs ?? 1000;
        this.consume(f);
      } else if (!refuse) {
        refuse = f.kind;
        this.consume(f);
      }
    }
    return refuse ? { latencyMs, refuse } : { latencyMs };
  }

  /** The errors an update accepted now will end with, or undefined when it will succeed. */
  takeUpdateFailure(target: { account: string; region: string; cluster: string }): ErrorDetail[] | undefined {
    const f = this.active.find((x) => x.kind === 'update-fails' && this.matches(x, { ...target, operation: 'UpdateClusterConfig', service: 'eks' }));
    if (!f) return undefined;
    this.consume(f);
    const errors = f.errors ?? [{ errorCode: 'Unknown', errorMessage: 'The update failed (fault injected by the emulator).' }];
    return errors.map((e) => ({ errorCode: e.errorCode, errorMessage: e.errorMessage, resourceIds: e.resourceIds ?? [target.cluster] }));
  }
}
