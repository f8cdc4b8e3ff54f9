import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from './clock';
import type { CloudTrail } from './cloudtrail';
import type { DynamoStore } from './dynamodb-store';
import type { EventBridge } from './eventbridge';
import type { Faults } from './faults';
import type { AccessKey, Identities } from './identity';
import type { Roles } from './iam';
import type { Organizations } from './organizations';
import type { World } from './world';

/** A refusal in AWS's terms; each protocol renders it in its own wire shape. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra members of the error body (EKS adds clusterName and the like). */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type Reply = { status: number; headers: Record<string, string>; body: string };

export type CallContext = {
  requestId: string;
  service: string;
  region: string;
  account: string;
  key: AccessKey;
  sourceIp: string;
  userAgent: string;
  method: string;
  /** Raw (still percent-encoded) path. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
};

export type Settings = { updateMs: number };

/** What a service handler can reach: the shared model, time, faults and identities. */
export type Env = {
  world: World;
  clock: Clock;
  faults: Faults;
  identities: Identities;
  cloudTrail: CloudTrail;
  dynamo: DynamoStore;
  settings: Settings;
  /** The organization (if any): `organizationIdOf(account)` backs aws:PrincipalOrgID and aws:ResourceOrgID. */
  organizations: Organizations;
  /** IAM roles and their trust, as STS AssumeRole checks them. */
  iam: Roles;
  /** EventBridge buses, rules and targets of every account and region. */
  eventBridge: EventBridge;
};

/** One resolved call: its name and targets for faults and CloudTrail, and the body that decides it. */
export type Operation = {
  name: string;
  cluster?: string;
  /** SNS topic name. */
  topic?: string;
  /** DynamoDB tables the call reads or writes. */
  tables?: string[];
  /** Mutating EKS calls are recorded in CloudTrail, accepted or refused. */
  audited?: boolean;
  requestParameters?: () => unknown;
  /** Decides the call; DynamoDB's answer comes from dynalite, so it may be a promise. */
  run: () => unknown;
};

export type Service = {
  resolve(ctx: CallContext, env: Env): Operation;
  success(op: Operation, payload: unknown, ctx: CallContext): Reply;
  error(err: AwsError, ctx: CallContext): Reply;
  throttled(op: Operation): AwsError;
  serverError(): AwsError;
};
