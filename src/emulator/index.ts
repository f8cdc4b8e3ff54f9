import type { AddressInfo } from 'node:net';
import { realClock, type Clock } from './clock';
import type { CloudTrailEvent, CloudTrailListener } from './cloudtrail';
import type { WireUpdate } from './cluster';
import { EmulatorCore, type EmulatorSnapshot, type PlatformUpdateInput, type QueueMessageInput } from './core';
import type { TargetListener } from './eventbridge';
import type { Fault } from './faults';
import type { Credentials } from './identity';
import type { RoleInput, RoleRecord } from './iam';
import type { FunctionConfig, FunctionHandler } from './lambda-functions';
import { createEmulatorServer } from './server';
import type { DynamoTableSnapshot } from './dynamodb-store';
import type { EmulatorState } from './state';
import type { SecurityHubFinding } from './securityhub';
import type { QueueMessage } from './sqs-queues';
import type { PublishedMessage } from './world';

export { realClock, manualClock, scaledClock, DEFAULT_MANUAL_START_MS, type Clock } from './clock';
export type { CloudTrailEvent, CloudTrailListener, CloudTrailRecord, CloudTrailUserIdentity } from './cloudtrail';
export { DEFAULT_UPDATE_SECONDS, type ClusterSnapshot, type EmulatorSnapshot, type PlatformUpdateInput, type UpdateSnapshot } from './core';
export { faultSchema, OPERATIONS, SERVICE_NAMES, type Fault, type OperationName, type ServiceName } from './faults';
export { FALLBACK_ACCOUNT, FALLBACK_USER, DEFAULT_SESSION_NAME, type Credentials } from './identity';
export { emulatorStateSchema, parseEmulatorState, stateReferenceProblems, type EmulatorState, type ResolvedEmulatorState, type StateDynamoTable } from './state';
export { REFUSED_PUBLIC_CIDRS } from './cidr';
export type { EventBridgeEvent, EventBridgeSnapshot, EventDelivery, DeliveryStatus, RuleMetrics, TargetListener } from './eventbridge';
export { eventBridgeStateSchema, type EventBridgeState } from './eventbridge-state';
export { securityHubStateSchema, type SecurityHubState } from './securityhub-state';
export type { SecurityHubFinding, SecurityHubSnapshot } from './securityhub';
export { matchesEventPattern, validateEventPattern } from './event-pattern';
export { roleSchema, trustAdmits, type RoleInput, type RoleRecord } from './iam';
export { organizationStateSchema, type OrganizationState, type ResolvedOrganizationState } from './organization-state';
export type { OrganizationSnapshot } from './organizations';
export type { MessageAttribute, PublishedMessage } from './world';
export type { EndpointConfig, ErrorDetail, LogSetup, UpdateParam, UpdateStatus, WireUpdate } from './cluster';
export type { DynamoItem, DynamoTableSnapshot } from './dynamodb-store';
export type { QueueMessageInput } from './core';
export { sqsStateSchema, type SqsState } from './sqs-state';
export { md5OfAttributes, type QueueMessage, type QueueSnapshot } from './sqs-queues';
export { functionConfigSchema, type FunctionConfig, type FunctionError, type FunctionHandler, type FunctionMetrics, type InvocationRecord, type LambdaSnapshot } from './lambda-functions';

export type EmulatorOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Loopback only: the emulator has no authentication. */
  host?: '127.0.0.1';
  state?: EmulatorState;
  /** Emulated seconds an update or a cluster creation takes; wins over the state's `updateSeconds` (default 10). */
  updateSeconds?: number;
  clock?: Clock;
  /** A JSON Lines file every CloudTrail event is appended to. */
  cloudTrailFile?: string;
};

/** A running emulator: its URL, and the in-process twin of the /_emulator/ control API. */
export type Emulator = {
  url: string;
  port: number;
  clock: Clock;
  close(): Promise<void>;
  loadState(state: EmulatorState): void;
  reset(): void;
  snapshot(): EmulatorSnapshot;
  /** The DynamoDB tables and their items; the same as `snapshot().dynamodb.tables`. */
  dynamodbTables(): DynamoTableSnapshot[];
  publishedMessages(): PublishedMessage[];
  /** Copies of the Security Hub findings of one hub (account and region), of one account's hubs, or of every hub. */
  findings(account?: string, region?: string): SecurityHubFinding[];
  cloudTrailEvents(): CloudTrailEvent[];
  /** The listener runs synchronously when a mutating call is decided, before its HTTP response is written. */
  onCloudTrail(listener: CloudTrailListener): () => void;
  /**
   * Stands in for a Lambda or Step Functions target: EventBridge rules targeting `targetArn` call the
   * listener while routing (during the PutEvents call, or the call CloudTrail recorded). What it returns is
   * awaited by `flushEvents`; a throw or rejection is a failed delivery in `snapshot().eventBridge`.
   */
  onTarget(targetArn: string, listener: TargetListener): () => void;
  /** Resolves once every target listener invoked so far has settled, and every asynchronous Lambda invocation (retries and destination included). */
  flushEvents(): Promise<void>;
  /** Copies of the messages in an SQS queue (by ARN), in the order they were sent. Throws a RangeError for an unknown queue. */
  queueMessages(queueArn: string): QueueMessage[];
  /** Puts a message on a queue as another AWS service would (a string attribute is a String one). Throws a RangeError for an unknown queue or a message SQS refuses. */
  sendToQueue(queueArn: string, message: QueueMessageInput): { messageId: string };
  /**
   * Deploys a Lambda function whose code is `handler`: Invoke calls it, and so do EventBridge rules that
   * target its ARN when no `onTarget` listener is registered. Returns the function that unregisters it;
   * registrations survive loadState and reset. Throws an InputError naming bad fields.
   */
  registerFunction(config: FunctionConfig, handler: FunctionHandler): () => void;
  setFault(fault: Fault): void;
  clearFaults(): void;
  startPlatformUpdate(input: PlatformUpdateInput): WireUpdate;
  /** Sets how long updates and cluster creations started from now on take, in emulated seconds (until the next loadState or reset). */
  setUpdateSeconds(seconds: number): void;
  credentialsFor(principalArn: string, opts?: { sourceIp?: string; userAgent?: string }): Credentials;
  /** Creates or replaces an IAM role (e.g. a member stack deployed during a scenario); its account becomes strict. Throws an InputError naming bad fields. */
  putRole(role: RoleInput): RoleRecord;
  /** Deletes an IAM role; returns whether there was one. The account stays strict. */
  deleteRole(account: string, name: string): boolean;
};

/**
 * Starts EKS, EC2, SNS, STS and DynamoDB on one loopback port. Throws an InputError when `state` is
 * invalid (every problem listed with its path), or when DynamoDB refuses one of its tables or items.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? realClock();
  const core = new EmulatorCore(clock, options.state, options.updateSeconds, options.cloudTrailFile);
  const server = createEmulatorServer(core);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // SDK clients keep connections alive; without this, close() waits for them to time out.
      server.closeAllConnections();
    });
    await core.close();
  };
  try {
    await core.env.dynamo.settled();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url: `http://${host}:${port}`,
    port,
    clock,
    close,
    loadState: (state) => core.loadState(state),
    reset: () => core.reset(),
    snapshot: () => core.snapshot(),
    dynamodbTables: () => core.env.dynamo.snapshot(),
    publishedMessages: () => core.publishedMessages(),
    findings: (account, region) => core.env.world.securityHub.findings(account, region),
    cloudTrailEvents: () => core.cloudTrailEvents(),
    onCloudTrail: (listener) => core.onCloudTrail(listener),
    onTarget: (arn, listener) => core.onTarget(arn, listener),
    flushEvents: () => core.flushEvents(),
    queueMessages: (queueArn) => core.queueMessages(queueArn),
    sendToQueue: (queueArn, message) => core.sendToQueue(queueArn, message),
    registerFunction: (config, handler) => core.registerFunction(config, handler),
    setFault: (fault) => core.setFault(fault),
    clearFaults: () => core.clearFaults(),
    startPlatformUpdate: (input) => core.startPlatformUpdate(input),
    setUpdateSeconds: (seconds) => core.setUpdateSeconds(seconds),
    credentialsFor: (arn, opts) => core.credentialsFor(arn, opts),
    putRole: (role) => core.putRole(role),
    deleteRole: (account, name) => core.deleteRole(account, name),
  };
}
