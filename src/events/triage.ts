/**
 * First judgement on a CloudTrail event about an EKS cluster: is it an endpoint-access change that the
 * guard must evaluate, or something to ignore (and why)? Pure: the caller supplies the guard's own role
 * ARNs; nothing here reads the environment, the clock or the network.
 */
import type { z } from 'zod';
import { InputError } from '../errors';
import type { ClusterRef, EndpointTarget } from '../policy/types';
import { isOwnRole } from './arn';
import {
  ClusterNameParamsSchema,
  CloudTrailRecordSchema,
  EKS_EVENT_SOURCE,
  EksUpdateResponseSchema,
  EndpointParamsSchema,
  EventBridgeEnvelopeSchema,
  type CloudTrailRecord,
  type EventBridgeEnvelope,
} from './schema';

export type TriageDecision = 'evaluate' | 'ignore';
export type TriageReason = 'CALL_FAILED' | 'NOT_ENDPOINT_CHANGE' | 'SELF_REMEDIATION' | 'UNSUPPORTED_EVENT';
export type Actor = { arn: string | null; type: string | null; sourceIPAddress: string | null; userAgent: string | null };
export type WaitFor = 'update' | 'cluster-active';

export type TriageResult = {
  decision: TriageDecision;
  /** null when the decision is `evaluate`. */
  reason: TriageReason | null;
  eventName: string;
  /** CloudTrail `eventID` (not the EventBridge envelope id): stable across redeliveries, so usable for de-duplication. */
  eventId: string;
  eventTime: string | null;
  cluster: ClusterRef | null;
  /** `responseElements.update.id` of UpdateClusterConfig. */
  updateId: string | null;
  /** The endpoint fields asked for; for CreateCluster, omitted fields carry the EKS defaults. */
  requested: Partial<EndpointTarget> | null;
  actor: Actor | null;
  /** null when ignored. */
  waitFor: WaitFor | null;
};

export type TriageOptions = {
  /** The guard's own IAM role ARNs (`arn:aws:iam::ACCOUNT:role[/path]/NAME`); changes made through them are its own remediations. */
  selfRoleArns: readonly string[];
};

// What has to finish before the cluster's live configuration means anything (endpoint-rules.md, rule 14).
const WAIT_FOR: ReadonlyMap<string, WaitFor> = new Map([
  ['UpdateClusterConfig', 'update'],
  ['CreateCluster', 'cluster-active'],
]);

const WORLD_V4 = '0.0.0.0/0';
const WORLD_V6 = '::/0';

const NOT_AN_EVENT = 'event: not an EventBridge "AWS API Call via CloudTrail" envelope nor a CloudTrail record';
const IDENTIFYING_KEYS = new Set<PropertyKey>(['detail', 'detail-type', 'eventName', 'eventSource', 'eventID']);

type Path = readonly PropertyKey[];
type Source = { record: CloudTrailRecord; envelope: EventBridgeEnvelope | null; at: Path };

/**
 * Triages an EventBridge "AWS API Call via CloudTrail" event (the whole envelope, or the bare CloudTrail
 * record) for EKS `UpdateClusterConfig` and `CreateCluster`. Checks run in a fixed order: an unsupported
 * event, then a failed call, then one of the guard's own remediations, then an update that touches no
 * endpoint field; whatever survives is `evaluate`, with what to wait for before judging the live cluster
 * (the update, or for a new cluster its becoming ACTIVE; an update whose id was not recorded falls back to
 * `cluster-active`, since EKS puts the cluster back to ACTIVE when the update ends). Ignored events keep
 * every field that could be read, for the record. Input that is not such an event, or a successful
 * supported call whose record lacks the cluster name, account or region or carries malformed endpoint
 * fields, throws `InputError` with one line per problem, each naming the field.
 */
export function triageEvent(event: unknown, options: TriageOptions): TriageResult {
  const { record, envelope, at } = readEvent(event);
  const isEks = record.eventSource === EKS_EVENT_SOURCE;
  const waitFor = isEks ? WAIT_FOR.get(record.eventName) ?? null : null;
  const failed = typeof record.errorCode === 'string' && record.errorCode !== '';
  // Only a successful supported call can lead to action, so only its record must be complete;
  // the rest is read on a best-effort basis for the log.
  const strict = waitFor !== null && !failed;
  const problems: string[] = [];

  const cluster = isEks ? readCluster(record, envelope, at, problems) : null;
  const requested = waitFor !== null ? readRequested(record, at, problems) : null;
  const updateId = isEks && record.eventName === 'UpdateClusterConfig' ? readUpdateId(record, at, problems) : null;
  if (strict && problems.length > 0) throw new InputError(problems);

  const base = {
    eventName: record.eventName,
    eventId: record.eventID,
    eventTime: record.eventTime ?? null,
    cluster,
    updateId,
    requested,
    actor: readActor(record),
  };
  const ignore = (reason: TriageReason): TriageResult => ({ decision: 'ignore', reason, ...base, waitFor: null });

  if (waitFor === null) return ignore('UNSUPPORTED_EVENT');
  if (failed) return ignore('CALL_FAILED');
  if (isSelf(record, options.selfRoleArns)) return ignore('SELF_REMEDIATION');
  if (requested === null) return ignore('NOT_ENDPOINT_CHANGE');
  return { decision: 'evaluate', reason: null, ...base, waitFor: waitFor === 'update' && updateId === null ? 'cluster-active' : waitFor };
}

function readEvent(event: unknown): Source {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InputError([`${NOT_AN_EVENT}: the document is ${describeKind(event)}, not a JSON object`]);
  }
  if ('detail' in event || 'detail-type' in event) {
    const parsed = EventBridgeEnvelopeSchema.safeParse(event, { reportInput: true });
    if (!parsed.success) throw new InputError(issueLines(parsed.error.issues, []));
    return { record: parsed.data.detail, envelope: parsed.data, at: ['detail'] };
  }
  if (!['eventName', 'eventSource', 'eventID'].some((key) => key in event)) {
    throw new InputError([`${NOT_AN_EVENT}: it has neither "detail" nor "eventName"`]);
  }
  const parsed = CloudTrailRecordSchema.safeParse(event, { reportInput: true });
  if (!parsed.success) throw new InputError(issueLines(parsed.error.issues, []));
  return { record: parsed.data, envelope: null, at: [] };
}

function readCluster(record: CloudTrailRecord, envelope: EventBridgeEnvelope | null, at: Path, problems: string[]): ClusterRef | null {
  const paramsPath = [...at, 'requestParameters'];
  const params = parsePart(ClusterNameParamsSchema, record.requestParameters, paramsPath, problems);
  const name = firstOf(params?.name, params?.clusterName);
  // A name of the wrong type has been reported already; do not report it missing as well.
  if (params && !name) problems.push(`event: missing ${formatPath([...paramsPath, 'name'])} (or ${formatPath([...paramsPath, 'clusterName'])})`);
  // recipientAccountId is the account that owns the cluster; userIdentity.accountId is the caller's, which differs for cross-account callers.
  const account = firstOf(record.recipientAccountId, record.userIdentity?.accountId, envelope?.account);
  if (!account) {
    const where = [formatPath([...at, 'recipientAccountId']), formatPath([...at, 'userIdentity', 'accountId'])];
    problems.push(`event: missing ${where.join(' (or ')}${envelope ? ', or account' : ''})`);
  }
  const region = firstOf(record.awsRegion, envelope?.region);
  if (!region) problems.push(`event: missing ${formatPath([...at, 'awsRegion'])}${envelope ? ' (or region)' : ''}`);
  return name && account && region ? { name, account, region } : null;
}

function readRequested(record: CloudTrailRecord, at: Path, problems: string[]): Partial<EndpointTarget> | null {
  const params = parsePart(EndpointParamsSchema, record.requestParameters, [...at, 'requestParameters'], problems);
  if (!params) return null;
  const vpc = params.resourcesVpcConfig ?? {};
  // Rule 3 of endpoint-rules.md: no CIDRs with public access on means open to all, so an empty list
  // must never read as "restricted"; it is reported as the world-open default instead.
  const cidrs = vpc.publicAccessCidrs?.length ? vpc.publicAccessCidrs : undefined;
  if (record.eventName === 'CreateCluster') {
    const endpointPublicAccess = vpc.endpointPublicAccess ?? true;
    const worldOpen = params.kubernetesNetworkConfig?.ipFamily?.toLowerCase() === 'ipv6' ? [WORLD_V4, WORLD_V6] : [WORLD_V4];
    return withoutUndefined({
      endpointPublicAccess,
      endpointPrivateAccess: vpc.endpointPrivateAccess ?? false,
      publicAccessCidrs: cidrs ?? (endpointPublicAccess ? worldOpen : undefined),
    });
  }
  const asked = withoutUndefined({
    endpointPublicAccess: vpc.endpointPublicAccess ?? undefined,
    endpointPrivateAccess: vpc.endpointPrivateAccess ?? undefined,
    publicAccessCidrs: vpc.publicAccessCidrs ? cidrs ?? [WORLD_V4] : undefined,
  });
  return Object.keys(asked).length > 0 ? asked : null;
}

function readUpdateId(record: CloudTrailRecord, at: Path, problems: string[]): string | null {
  const response = parsePart(EksUpdateResponseSchema, record.responseElements, [...at, 'responseElements'], problems);
  return response?.update?.id ?? null;
}

function readActor(record: CloudTrailRecord): Actor {
  return {
    arn: record.userIdentity?.arn ?? null,
    type: record.userIdentity?.type ?? null,
    sourceIPAddress: record.sourceIPAddress ?? null,
    userAgent: record.userAgent ?? null,
  };
}

function isSelf(record: CloudTrailRecord, selfRoleArns: readonly string[]): boolean {
  const identity = record.userIdentity;
  const principals = [identity?.arn, identity?.sessionContext?.sessionIssuer?.arn].filter((arn): arn is string => !!arn);
  return principals.some((arn) => isOwnRole(arn, selfRoleArns));
}

function parsePart<T>(schema: z.ZodType<T>, value: unknown, at: Path, problems: string[]): T | null {
  const parsed = schema.safeParse(value ?? {}, { reportInput: true });
  if (parsed.success) return parsed.data;
  problems.push(...issueLines(parsed.error.issues, at));
  return null;
}

function issueLines(issues: readonly z.core.$ZodIssue[], at: Path): string[] {
  return issues.map((issue) => {
    const path = [...at, ...issue.path];
    const where = formatPath(path);
    const identifying = IDENTIFYING_KEYS.has(issue.path[issue.path.length - 1] ?? '') && issue.path.length <= 2;
    const input = (issue as { input?: unknown }).input;
    if (input === undefined || (issue.code === 'too_small' && input === '')) {
      return `${identifying ? NOT_AN_EVENT : 'event'}: missing ${where}`;
    }
    const what = issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message.replace(/^Invalid input: /, '');
    return `${identifying ? NOT_AN_EVENT : 'event'}: ${where}: ${what}, got ${preview(input)}`;
  });
}

/** `detail.requestParameters.resourcesVpcConfig.publicAccessCidrs[0]`, as people write it. */
function formatPath(path: Path): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function firstOf(...values: Array<string | null | undefined>): string | null {
  return values.find((v): v is string => typeof v === 'string' && v !== '') ?? null;
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): Partial<EndpointTarget> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<EndpointTarget>;
}
