import type { Clock } from './clock';
import { CloudTrail, type CloudTrailEvent, type CloudTrailListener } from './cloudtrail';
import { clusterStatus, updateToWire, type EndpointConfig, type ErrorDetail, type LogSetup, type UpdateParam, type WireUpdate } from './cluster';
import { DynamoStore, type DynamoTableSnapshot } from './dynamodb-store';
import { platformUpdate } from './eks-rules';
import { EventBridge, type EventBridgeSnapshot, type TargetListener } from './eventbridge';
import { Faults, type Fault } from './faults';
import { Identities, type Credentials } from './identity';
import { stableId } from './ids';
import type { FunctionConfig, FunctionHandler, LambdaSnapshot } from './lambda-functions';
import { Roles, type RoleInput, type RoleRecord } from './iam';
import { Organizations, type OrganizationSnapshot } from './organizations';
import { organizationAccountIds } from './organization-state';
import { AwsError, type Env } from './protocol';
import type { SecurityHubSnapshot } from './securityhub';
import { checkMessageAttributes, type QueueMessage, type QueueSnapshot } from './sqs-queues';
import { parseEmulatorState, type EmulatorState, type ResolvedEmulatorState } from './state';
import { World, type MessageAttribute, type PublishedMessage } from './world';

export const DEFAULT_UPDATE_SECONDS = 10;

export type UpdateSnapshot = {
  id: string;
  type: string;
  status: string;
  params: UpdateParam[];
  createdAt: string;
  endsAt: string;
  errors: ErrorDetail[];
  startedByEks: boolean;
};

export type ClusterSnapshot = {
  account: string;
  region: string;
  name: string;
  arn: string;
  status: string;
  version: string;
  platformVersion: string;
  vpcId: string;
  /** The live endpoint configuration (what DescribeCluster shows). */
  config: EndpointConfig;
  logging: LogSetup[];
  tags: Record<string, string>;
  updates: UpdateSnapshot[];
};

export type EmulatorSnapshot = {
  now: string;
  updateSeconds: number;
  accounts: { id: string; name?: string }[];
  clusters: ClusterSnapshot[];
  vpcs: {
    account: string;
    region: string;
    id: string;
    enableDnsSupport: boolean;
    enableDnsHostnames: boolean;
    dhcpOptionsId: string;
    domainNameServers: string[];
    natGatewayIps: string[];
  }[];
  topics: { account: string; region: string; name: string; arn: string }[];
  /** Every DynamoDB table with its items as plain JSON (sets as arrays, binaries as base64), sorted by key. */
  dynamodb: { tables: DynamoTableSnapshot[] };
  faults: Fault[];
  /** The organization with its generated ids, or null when the state declares none. */
  organization: OrganizationSnapshot | null;
  /** Declared roles, and the accounts where AssumeRole admits only those (see iam.ts). */
  iam: { roles: RoleRecord[]; strictAccounts: string[] };
  /** EventBridge buses and rules (in the state file's shape, with ARNs and metrics) and every delivery to a target. */
  eventBridge: EventBridgeSnapshot;
  /** Where Security Hub is enabled, and every finding of every hub. */
  securityHub: SecurityHubSnapshot;
  /** SQS queues with their attributes and message counts (`queueMessages` shows the messages). */
  sqs: { queues: QueueSnapshot[] };
  /** Registered Lambda functions with their metrics, and every invocation. */
  lambda: LambdaSnapshot;
};

/** A message given to `sendToQueue`; a string attribute is a `String` one. */
export type QueueMessageInput = { body: string; attributes?: Record<string, string | MessageAttribute> };

/** The SenderId of messages EventBridge and the emulator's own callers put on queues. */
const EVENTBRIDGE_SENDER = stableId('AIDA', 'events.amazonaws.com', 17, true);
const EMULATOR_SENDER = stableId('AIDA', 'emulator', 17, true);

export type PlatformUpdateInput = { account: string; region: string; cluster: string; seconds?: number };

const iso = (ms: number) => new Date(ms).toISOString();

/** The emulator without its HTTP server: state, time, faults, identities and CloudTrail. */
export class EmulatorCore {
  readonly env: Env;
  private initial: ResolvedEmulatorState;

  constructor(
    readonly clock: Clock,
    state: EmulatorState | undefined,
    private readonly fixedUpdateSeconds: number | undefined,
    cloudTrailFile: string | undefined,
  ) {
    this.initial = parseEmulatorState(state ?? {}, 'state');
    const settings = { updateMs: 0 };
    this.env = {
      world: new World(clock, () => settings.updateMs),
      clock,
      faults: new Faults({ emulated: () => clock.now(), wall: () => performance.now() }),
      identities: new Identities(),
      cloudTrail: new CloudTrail(cloudTrailFile),
      dynamo: new DynamoStore(),
      settings,
      organizations: new Organizations(),
      iam: new Roles(),
      eventBridge: new EventBridge(clock, () => ({
        organizationIdOf: (account) => this.env.organizations.organizationIdOf(account),
        // Roles are checked where the role model knows the account (a strict one), else any role is accepted.
        roleExists: (roleArn) => (this.env.iam.strictAccounts().includes(roleArn.split(':')[4] ?? '') ? this.env.iam.list().some((r) => r.arn === roleArn) : undefined),
        sendToQueue: (queueArn, message) => this.enqueue(queueArn, message, EVENTBRIDGE_SENDER),
        invokeFunction: (functionArn, event) => this.env.world.functions.invokeAsync(functionArn, event),
      })),
    };
    // As in AWS, every CloudTrail management event also goes to the default bus of its account and region.
    this.env.cloudTrail.subscribe((event) => this.env.eventBridge.putServiceEvent(event));
    this.apply(this.initial);
  }

  private apply(state: ResolvedEmulatorState): void {
    this.env.settings.updateMs = (this.fixedUpdateSeconds ?? state.updateSeconds ?? DEFAULT_UPDATE_SECONDS) * 1000;
    this.env.identities.load(state, this.clock.now());
    this.env.world.load(state);
    this.env.dynamo.load(state.dynamodb.tables);
    this.env.cloudTrail.clear();
    this.env.faults.clear();
    const names = new Map(state.accounts.map((a) => [a.id, a.name]));
    this.env.organizations.load(state.organization, this.clock.now(), (id) => names.get(id));
    const strictMembers = state.organization?.strictRoles ? organizationAccountIds(state.organization) : [];
    this.env.iam.load(state.roles, [...state.accounts.filter((a) => a.strictRoles).map((a) => a.id), ...strictMembers]);
    this.env.eventBridge.load(state.eventBridge ?? { buses: [], rules: [] });
    for (const fault of state.faults) this.env.faults.add(fault);
  }

  /**
   * Replaces the whole world (resources, messages, DynamoDB tables, CloudTrail events, faults) with
   * `state`, which becomes what `reset` returns to. Keys issued by credentialsFor and AssumeRole stay
   * valid. DynamoDB tables are written in the background; DynamoDB calls wait for them.
   */
  loadState(state: EmulatorState): void {
    const parsed = parseEmulatorState(state, 'state');
    this.initial = parsed;
    this.apply(parsed);
  }

  reset(): void {
    this.apply(this.initial);
  }

  snapshot(): EmulatorSnapshot {
    const { world, clock, faults } = this.env;
    const now = clock.now();
    return {
      now: iso(now),
      updateSeconds: this.env.settings.updateMs / 1000,
      accounts: world.accounts(),
      clusters: world.allClusters().map((c) => ({
        account: c.account,
        region: c.region,
        name: c.name,
        arn: c.arn,
        status: clusterStatus(c, now),
        version: c.version,
        platformVersion: c.platformVersion,
        vpcId: c.vpcId,
        config: { ...c.endpoint, publicAccessCidrs: [...c.endpoint.publicAccessCidrs] },
        logging: c.logging,
        tags: { ...c.tags },
        updates: c.updates.map((u) => ({
          id: u.id,
          type: u.type,
          status: u.status,
          params: u.params,
          createdAt: iso(u.createdAtMs),
          endsAt: iso(u.endsAtMs),
          errors: u.errors,
          startedByEks: u.byEks,
        })),
      })),
      vpcs: world.allVpcs().map((v) => ({
        account: v.account,
        region: v.region,
        id: v.id,
        enableDnsSupport: v.enableDnsSupport,
        enableDnsHostnames: v.enableDnsHostnames,
        dhcpOptionsId: v.dhcpOptions.id,
        domainNameServers: v.dhcpOptions.domainNameServers,
        natGatewayIps: v.natGateways.map((n) => n.publicIp),
      })),
      topics: world.allTopics().map((t) => ({ ...t })),
      dynamodb: { tables: this.env.dynamo.snapshot() },
      faults: faults.list(),
      organization: this.env.organizations.snapshot(),
      iam: { roles: this.env.iam.list(), strictAccounts: this.env.iam.strictAccounts() },
      eventBridge: this.env.eventBridge.snapshot(),
      securityHub: world.securityHub.snapshot(),
      sqs: { queues: world.queues.snapshot() },
      lambda: world.functions.snapshot(),
    };
  }

  /** Stops every dynalite instance. */
  close(): Promise<void> {
    return this.env.dynamo.close();
  }

  publishedMessages(): PublishedMessage[] {
    return this.env.world.messages.map((m) => ({ ...m }));
  }

  cloudTrailEvents(): CloudTrailEvent[] {
    return this.env.cloudTrail.list();
  }

  onCloudTrail(listener: CloudTrailListener): () => void {
    return this.env.cloudTrail.subscribe(listener);
  }

  setFault(fault: Fault): void {
    this.env.faults.add(fault);
  }

  clearFaults(): void {
    this.env.faults.clear();
  }

  /**
   * Registers the in-process stand-in for a Lambda or Step Functions target ARN: EventBridge rules whose
   * target is `targetArn` call it synchronously while routing; `flushEvents` awaits what it returns.
   */
  onTarget(targetArn: string, listener: TargetListener): () => void {
    return this.env.eventBridge.onTarget(targetArn, listener);
  }

  /**
   * Resolves once every target listener invoked so far has settled (its delivery is then delivered or
   * failed), and every asynchronous Lambda invocation with it (its retries and destination included).
   */
  async flushEvents(): Promise<void> {
    const { eventBridge } = this.env;
    const { functions } = this.env.world;
    // A listener may invoke a function and a function may put events: settle both until neither has work.
    do {
      await eventBridge.flushEvents();
      await functions.flush();
    } while (eventBridge.hasPending() || functions.hasPending());
  }

  /** Copies of the messages in a queue, in the order they were sent. Throws a RangeError for an unknown queue. */
  queueMessages(queueArn: string): QueueMessage[] {
    const queue = this.env.world.queues.byArn(queueArn);
    if (!queue) throw new RangeError(`no queue ${queueArn}`);
    return this.env.world.queues.messagesOf(queue);
  }

  /** Sends a message as another AWS service would. Throws a RangeError for an unknown queue or a message SQS refuses. */
  sendToQueue(queueArn: string, message: QueueMessageInput): { messageId: string } {
    const attributes = Object.fromEntries(Object.entries(message.attributes ?? {}).map(([k, v]) => [k, typeof v === 'string' ? { DataType: 'String', StringValue: v } : v]));
    const sent = this.enqueue(queueArn, { body: message.body, attributes }, EMULATOR_SENDER);
    if ('failure' in sent) throw new RangeError(sent.failure);
    return sent;
  }

  private enqueue(queueArn: string, message: { body: string; attributes: Record<string, MessageAttribute> }, senderId: string): { messageId: string } | { failure: string } {
    const { queues } = this.env.world;
    const queue = queues.byArn(queueArn);
    if (!queue) return { failure: `the queue ${queueArn} does not exist` };
    try {
      return { messageId: queues.send(queue, { body: message.body, attributes: checkMessageAttributes(message.attributes), senderId }).messageId };
    } catch (err) {
      if (err instanceof AwsError) return { failure: `SQS refused the message: ${err.message}` };
      throw err;
    }
  }

  /** Registers (or replaces) a Lambda function's handler; returns the function that unregisters it. */
  registerFunction(config: FunctionConfig, handler: FunctionHandler): () => void {
    return this.env.world.functions.register(config, handler);
  }

  /** Creates or replaces an IAM role (a deployed member stack's roles); its account becomes strict. */
  putRole(role: RoleInput): RoleRecord {
    return this.env.iam.put(role, (id) => this.env.organizations.organizationIdOf(id));
  }

  /** Deletes an IAM role; returns whether there was one. Its account stays strict. */
  deleteRole(account: string, name: string): boolean {
    return this.env.iam.delete(account, name);
  }

  /** Sets how long updates and cluster creations started from now on take (until the next loadState or reset). */
  setUpdateSeconds(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`updateSeconds must be a non-negative number of seconds, not ${seconds}`);
    this.env.settings.updateMs = seconds * 1000;
  }

  /** Starts an update "by EKS" (a platform version patch): the cluster stays ACTIVE but refuses other updates until it ends. */
  startPlatformUpdate(input: PlatformUpdateInput): WireUpdate {
    const cluster = this.env.world.cluster(input.account, input.region, input.cluster);
    if (!cluster) throw new RangeError(`no cluster ${input.cluster} in ${input.account} ${input.region}`);
    const seconds = input.seconds ?? this.env.settings.updateMs / 1000;
    const update = platformUpdate(cluster, this.clock.now(), seconds * 1000);
    cluster.updates.push(update);
    return updateToWire(update);
  }

  credentialsFor(principalArn: string, opts: { sourceIp?: string; userAgent?: string } = {}): Credentials {
    const key = this.env.identities.credentialsFor(principalArn, opts, this.clock.now());
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) };
  }
}
