import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { AccessKey, Principal } from './identity';

export type CloudTrailUserIdentity = {
  type: 'IAMUser' | 'AssumedRole';
  principalId: string;
  arn: string;
  accountId: string;
  accessKeyId: string;
  userName?: string;
  sessionContext?: {
    sessionIssuer: { type: 'Role'; principalId: string; arn: string; accountId: string; userName: string };
    attributes: { creationDate: string; mfaAuthenticated: 'false' };
  };
};

export type CloudTrailRecord = {
  eventVersion: '1.09';
  userIdentity: CloudTrailUserIdentity;
  eventTime: string;
  eventSource: 'eks.amazonaws.com';
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: unknown;
  responseElements: unknown;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: false;
  eventType: 'AwsApiCall';
  managementEvent: true;
  recipientAccountId: string;
  eventCategory: 'Management';
};

/** The EventBridge envelope of an "AWS API Call via CloudTrail" event. */
export type CloudTrailEvent = {
  version: '0';
  id: string;
  'detail-type': 'AWS API Call via CloudTrail';
  source: 'aws.eks';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: CloudTrailRecord;
};

export type CloudTrailListener = (event: CloudTrailEvent) => void;

/** CloudTrail writes times to the second, without milliseconds. */
export function cloudTrailTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function userIdentity(principal: Principal, accessKeyId: string): CloudTrailUserIdentity {
  const base = { principalId: principal.principalId, arn: principal.arn, accountId: principal.account, accessKeyId };
  if (principal.type === 'IAMUser') return { type: 'IAMUser', ...base, userName: principal.userName };
  return {
    type: 'AssumedRole',
    ...base,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: principal.role.principalId, arn: principal.role.arn, accountId: principal.account, userName: principal.role.name },
      attributes: { creationDate: cloudTrailTime(principal.createdMs), mfaAuthenticated: 'false' },
    },
  };
}

export type AuditInput = {
  key: AccessKey;
  region: string;
  eventName: string;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  timeMs: number;
  requestParameters: unknown;
  outcome: { responseElements: unknown } | { errorCode: string; errorMessage: string };
};

/** Records audited calls, hands them to listeners synchronously and optionally appends them to a JSON Lines file. */
export class CloudTrail {
  private readonly events: CloudTrailEvent[] = [];
  private readonly listeners = new Set<CloudTrailListener>();

  constructor(private readonly file?: string) {}

  record(input: AuditInput): CloudTrailEvent {
    const time = cloudTrailTime(input.timeMs);
    const account = input.key.principal.account;
    const outcome =
      'errorCode' in input.outcome
        ? { responseElements: null, errorCode: input.outcome.errorCode, errorMessage: input.outcome.errorMessage }
        : { responseElements: input.outcome.responseElements };
    const event: CloudTrailEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.eks',
      account,
      time,
      region: input.region,
      resources: [],
      detail: {
        eventVersion: '1.09',
        userIdentity: userIdentity(input.key.principal, input.key.accessKeyId),
        eventTime: time,
        eventSource: 'eks.amazonaws.com',
        eventName: input.eventName,
        awsRegion: input.region,
        sourceIPAddress: input.key.sourceIp ?? input.sourceIp,
        userAgent: input.key.userAgent ?? input.userAgent,
        requestParameters: input.requestParameters,
        ...outcome,
        requestID: input.requestId,
        eventID: randomUUID(),
        readOnly: false,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: account,
        eventCategory: 'Management',
      },
    };
    this.events.push(event);
    // Synchronous on purpose: the line is on disk before the caller sees the HTTP response.
    if (this.file) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        process.emitWarning(`CloudTrail listener failed: ${(err as Error).message}`);
      }
    }
    return event;
  }

  list(): CloudTrailEvent[] {
    return [...this.events];
  }

  clear(): void {
    this.events.length = 0;
  }

  subscribe(listener: CloudTrailListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
