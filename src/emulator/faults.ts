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
  // Organizations (ListTagsForResource is shared with EKS: give `service` to aim at one of them).
  'DescribeOrganization',
  'ListRoots',
  'ListAccounts',
  'DescribeAccount',
  'ListParents',
  'ListChildren',
  'ListAccountsForParent',
  'ListOrganizationalUnitsForParent',
  // EventBridge
  'PutEvents',
  'CreateEventBus',
  'DeleteEventBus',
  'DescribeEventBus',
  'ListEventBuses',
  'PutPermission',
  'RemovePermission',
  'PutRule',
  'DescribeRule',
  'ListRules',
  'DeleteRule',
  'EnableRule',
  'DisableRule',
  'PutTargets',
  'RemoveTargets',
  'ListTargetsByRule',
  'TestEventPattern',
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
  // Security Hub
  'BatchImportFindings',
  'GetFindings',
  'BatchUpdateFindings',
  // SQS
  'CreateQueue',
  'GetQueueUrl',
  'ListQueues',
  'GetQueueAttributes',
  'SetQueueAttributes',
  'SendMessage',
  'SendMessageBatch',
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'PurgeQueue',
  'DeleteQueue',
  // Lambda
  'Invoke',
] as const;
export type OperationName = (typeof OPERATIONS)[number];

/** The services the emulator serves, by their SigV4 signing name. */
export const SERVICE_NAMES = ['eks', 'ec2', 'sns', 'sts', 'dynamodb', 'organizations', 'events', 'securityhub', 'sqs', 'lambda'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const RATE_LIMIT_ONLY = ['perSecond', 'burst', 'clock'] as const;

export const faultSchema = z.strictObject({
  kind: z.enum(['throttle', 'server-error', 'latency', 'update-fails', 'rateLimit']),
  /** rateLimit: sustained requests per second allowed per account, region and service (a token bucket). */
  perSecond: z.number().positive().optional(),
  /** rateLimit: the bucket's size, the burst allowed after a quiet spell; default one second's worth (perSecond). */
  burst: z.number().int().positive().optional(),
  /**
   * rateLimit: what refills the bucket. `wall` (the default) is real elapsed time, so a benchmark on a
   * manual clock that never moves still makes progress, and a scaled demo clock does not multiply the
   * limit; `emulated` is the emulator's clock, for tests that step time to get exact results.
   */
  clock: z.enum(['wall', 'emulated']).optional(),
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
}).superRefine((f, ctx) => {
  if (f.kind === 'rateLimit') {
    if (f.perSecond === undefined) ctx.addIssue({ code: 'custom', path: ['perSecond'], message: 'a rateLimit fault needs perSecond (requests per second per account, region and service)' });
    // A bucket refills for ever: a call count would make it a plain throttle fault.
    if (f.times !== undefined) ctx.addIssue({ code: 'custom', path: ['times'], message: 'a rateLimit fault lasts until cleared; times applies to the other kinds' });
  } else {
    for (const key of RATE_LIMIT_ONLY) {
      if (f[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to rateLimit faults only` });
    }
  }
});

/**
 * An injected fault. `throttle` and `server-error` refuse matching calls before they are decided;
 * `latency` delays them; `update-fails` makes the next accepted update(s) of matching clusters end
 * `Failed` with `errors` and leave the configuration unchanged; `rateLimit` throttles matching calls
 * beyond `perSecond` per (account, region, service), each with its service's own throttling error.
 * Unset filters match everything; a `cluster`, `topic` or `table` filter matches only calls that name one.
 */
export type Fault = z.input<typeof faultSchema>;

export type CallTarget = { operation: string; service?: string; account: string; region: string; cluster?: string; topic?: string; tables?: string[] };
export type FaultEffect = { latencyMs: number; refuse?: 'throttle' | 'server-error' };

/**
 * A token bucket: `capacity` tokens, refilled continuously at `perSecond`; a call takes one token or is
 * throttled (a throttled call takes none, as AWS's buckets do not charge refused calls).
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  take(nowMs: number): boolean {
    // Time that seems to go back refills nothing.
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
    this.lastMs = Math.max(this.lastMs, nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

type ActiveFault = Fault & { remaining: number; buckets?: Map<string, TokenBucket> };

export type FaultClocks = {
  /** The emulator's clock (epoch ms), for `clock: emulated` rate limits. */
  emulated: () => number;
  /** Real elapsed time (ms, monotonic), for `clock: wall` rate limits. */
  wall: () => number;
};

export class Faults {
  private active: ActiveFault[] = [];

  constructor(private readonly clocks: FaultClocks = { emulated: () => Date.now(), wall: () => performance.now() }) {}

  add(fault: Fault): void {
    const parsed = faultSchema.parse(fault);
    this.active.push({ ...parsed, remaining: parsed.times ?? Infinity, ...(parsed.kind === 'rateLimit' ? { buckets: new Map() } : {}) });
  }

  /** Whether a rateLimit fault lets one more call through for the call's account, region and service. */
  private withinRate(f: ActiveFault, t: CallTarget): boolean {
    const now = f.clock === 'emulated' ? this.clocks.emulated() : this.clocks.wall();
    const key = `${t.account}/${t.region}/${t.service ?? ''}`;
    let bucket = f.buckets!.get(key);
    if (!bucket) f.buckets!.set(key, (bucket = new TokenBucket(f.perSecond!, f.burst ?? Math.max(1, Math.ceil(f.perSecond!)), now)));
    return bucket.take(now);
  }

  clear(): void {
    this.active = [];
  }

  list(): Fault[] {
    return this.active.map(({ remaining: _remaining, buckets: _buckets, ...fault }) => fault);
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
      } else if (f.kind === 'rateLimit') {
        // Checked only while nothing refuses the call yet: a call refused anyway spends no token.
        if (!refuse && !this.withinRate(f, target)) refuse = 'throttle';
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
