/**
 * First judgement on a CloudTrail event about an EKS cluster: is it a change that the guard must evaluate
 * (an endpoint-access change, a new cluster, a tag change on a cluster), or something to ignore (and why)?
 * Pure: the caller supplies the guard's roles and the tokens of the updates it recorded; nothing here reads
 * the environment, the clock or the network.
 */
import { InputError } from '../errors';
import type { ClusterRef, EndpointTarget } from '../policy/types';
import { isGuardPrincipal } from './arn';
import {
  asObject,
  caseInsensitiveField,
  describeKind,
  firstString,
  formatPath,
  issueLines,
  looseString,
  NOT_AN_EVENT,
  objectPart,
  parsePart,
  preview,
  type JsonObject,
  type Path,
} from './read';
import {
  ClientRequestTokenParamsSchema,
  ClusterNameParamsSchema,
  CloudTrailRecordSchema,
  EKS_EVENT_SOURCE,
  EksUpdateResponseSchema,
  EndpointFlagSchema,
  EventBridgeEnvelopeSchema,
  IpFamilyParamsSchema,
  ObjectSchema,
  PublicAccessCidrsSchema,
  type CloudTrailRecord,
} from './schema';
import { readTagEvent, TAG_EVENT_NAMES, type TagChange } from './tags';

export type { TagChange } from './tags';

export type TriageDecision = 'evaluate' | 'ignore';
export type TriageReason =
  | 'CALL_FAILED'
  | 'GUARD_ROLE_UNVERIFIED'
  | 'NOT_CLUSTER_RESOURCE'
  | 'NOT_ENDPOINT_CHANGE'
  /** Decided by the intake, not by triage: the cluster's account or region is outside what the deployment governs. */
  | 'NOT_GOVERNED'
  | 'SELF_REMEDIATION'
  | 'UNSUPPORTED_EVENT';
export type Actor = { arn: string | null; type: string | null; sourceIPAddress: string | null; userAgent: string | null };
/** What must finish before the live configuration means anything; `none` for a tag change, which changes no configuration. */
export type WaitFor = 'update' | 'cluster-active' | 'none';

export type TriageResult = {
  decision: TriageDecision;
  /** null when the decision is `evaluate`, except `GUARD_ROLE_UNVERIFIED` (evaluated, and made with a guard role). */
  reason: TriageReason | null;
  eventName: string;
  /** CloudTrail `eventID` (not the EventBridge envelope id): stable across redeliveries, so usable for de-duplication. */
  eventId: string;
  eventTime: string | null;
  /** For a tag change, the cluster its resource ARN names; null when the resource is not a cluster. */
  cluster: ClusterRef | null;
  /** `responseElements.update.id` of UpdateClusterConfig. */
  updateId: string | null;
  /** The endpoint fields asked for; for CreateCluster, omitted fields carry the EKS defaults. null for tag changes. */
  requested: Partial<EndpointTarget> | null;
  actor: Actor | null;
  /** null when ignored. */
  waitFor: WaitFor | null;
  /** Made with one of the guard's roles (an exact self role, or the cross-account role in a member account). */
  guardRole: boolean;
  /** `requestParameters.clientRequestToken`: what ties an update to the guard's ledger. */
  clientRequestToken: string | null;
  /** TagResource / UntagResource: the tags set and the keys removed; null for other events. */
  tags: TagChange | null;
};

export type TriageOptions = {
  /** The guard's exact role ARNs (its function roles in the home account). */
  selfRoleArns: readonly string[];
  /** The member-account role name the guard assumes; it counts as the guard only in accounts other than homeAccount. */
  crossAccountRoleName?: string | null;
  /** The account the guard is deployed in. */
  homeAccount?: string | null;
  /** clientRequestTokens of the updates the guard recorded (its ledger) for this cluster. */
  ownTokens?: readonly string[];
};

// What has to finish before the cluster's live configuration means anything (endpoint-rules.md, rule 14).
const WAIT_FOR: ReadonlyMap<string, WaitFor> = new Map([
  ['UpdateClusterConfig', 'update'],
  ['CreateCluster', 'cluster-active'],
  ['TagResource', 'none'],
  ['UntagResource', 'none'],
]);

const WORLD_V4 = '0.0.0.0/0';
const WORLD_V6 = '::/0';

type Source = { record: CloudTrailRecord; envelope: JsonObject | null; at: Path };

/**
 * Triages an EventBridge "AWS API Call via CloudTrail" event (the whole envelope, or the bare CloudTrail
 * record) for EKS `UpdateClusterConfig`, `CreateCluster`, `TagResource` and `UntagResource`. Checks run in
 * a fixed order: an unsupported event; a failed call; the guard's own change (made with one of its roles
 * AND carrying a clientRequestToken it recorded); an update that touches no endpoint field, or a tag change
 * on something other than a cluster (nothing to judge, even when made with a guard role: `guardRole` still
 * tells); whatever survives is `evaluate`, with reason `GUARD_ROLE_UNVERIFIED` when it was made with a
 * guard role the ledger does not vouch for, and with what to wait for before judging the live cluster (the
 * update; for a new cluster its becoming ACTIVE, also when an update's id was not recorded, since EKS puts
 * the cluster back to ACTIVE when the update ends; nothing for a tag change). Ignored events keep every
 * field that could be read, for the record. Input that is not such an event, or a successful supported call
 * whose deciding fields (cluster name, account, region, endpoint fields, update id, token, tag fields) are
 * missing or malformed, throws `InputError` with one line per problem, each naming the field; any other field
 * of an unexpected type reads as absent.
 */
export function triageEvent(event: unknown, options: TriageOptions): TriageResult {
  const { record, envelope, at } = readEvent(event);
  const isEks = record.eventSource === EKS_EVENT_SOURCE;
  const waitFor = isEks ? WAIT_FOR.get(record.eventName) ?? null : null;
  const isTag = waitFor !== null && TAG_EVENT_NAMES.has(record.eventName);
  const problems: string[] = [];
  const failed = readFailed(record, at, waitFor !== null, problems);
  // Only a successful supported call can lead to action, so only its record must be complete;
  // the rest is read on a best-effort basis for the log.
  const strict = waitFor !== null && !failed;

  const params = isEks ? objectPart(record.requestParameters, [...at, 'requestParameters'], problems) : null;
  const tagEvent = isTag && params ? readTagEvent(record.eventName, params, [...at, 'requestParameters'], problems) : null;
  const cluster = isTag ? tagEvent?.cluster ?? null : isEks ? readCluster(record, envelope, params, at, problems) : null;
  const requested = waitFor !== null && !isTag ? readRequested(record.eventName, params, [...at, 'requestParameters'], problems) : null;
  const updateId = isEks && record.eventName === 'UpdateClusterConfig' ? readUpdateId(record, at, problems) : null;
  const clientRequestToken = isEks ? readToken(params, [...at, 'requestParameters'], problems) : null;
  if (strict && problems.length > 0) throw new InputError([...new Set(problems)]);

  const guardRole = madeWithGuardRole(record, options);
  const base = {
    eventName: record.eventName,
    eventId: record.eventID,
    eventTime: looseString(record.eventTime),
    cluster,
    updateId,
    requested,
    actor: readActor(record),
  };
  const extra = { guardRole, clientRequestToken, tags: tagEvent?.tags ?? null };
  const ignore = (reason: TriageReason): TriageResult => ({ decision: 'ignore', reason, ...base, waitFor: null, ...extra });

  if (waitFor === null) return ignore('UNSUPPORTED_EVENT');
  if (failed) return ignore('CALL_FAILED');
  // The guard only ever calls UpdateClusterConfig, and records each call's token before making it. A token
  // alone can be copied from CloudTrail by anyone and a guard role alone can be borrowed: only both together
  // show a call the guard itself prepared.
  const recorded = clientRequestToken !== null && (options.ownTokens ?? []).includes(clientRequestToken);
  if (guardRole && recorded && record.eventName === 'UpdateClusterConfig') return ignore('SELF_REMEDIATION');
  if (isTag && cluster === null) return ignore('NOT_CLUSTER_RESOURCE');
  if (!isTag && requested === null) return ignore('NOT_ENDPOINT_CHANGE');
  return {
    decision: 'evaluate',
    reason: guardRole ? 'GUARD_ROLE_UNVERIFIED' : null,
    ...base,
    waitFor: waitFor === 'update' && updateId === null ? 'cluster-active' : waitFor,
    ...extra,
  };
}

function readEvent(event: unknown): Source {
  const object = asObject(event);
  if (!object) {
    throw new InputError([`${NOT_AN_EVENT}: the document is ${describeKind(event)}, not a JSON object`]);
  }
  if ('detail' in object || 'detail-type' in object) {
    const parsed = EventBridgeEnvelopeSchema.safeParse(object, { reportInput: true });
    if (!parsed.success) throw new InputError(issueLines(parsed.error.issues, []));
    return { record: parsed.data.detail, envelope: object, at: ['detail'] };
  }
  if (!['eventName', 'eventSource', 'eventID'].some((key) => key in object)) {
    throw new InputError([`${NOT_AN_EVENT}: it has neither "detail" nor "eventName"`]);
  }
  const parsed = CloudTrailRecordSchema.safeParse(object, { reportInput: true });
  if (!parsed.success) throw new InputError(issueLines(parsed.error.issues, []));
  return { record: parsed.data, envelope: null, at: [] };
}

/**
 * A call failed when its record carries an errorCode. One of another type cannot be told either way; for
 * a supported event that is a problem, since it decides whether the change happened at all.
 */
function readFailed(record: CloudTrailRecord, at: Path, supported: boolean, problems: string[]): boolean {
  const code = record.errorCode;
  if (typeof code === 'string') return code !== '';
  if (code !== undefined && code !== null && supported) problems.push(`event: ${formatPath([...at, 'errorCode'])}: expected string, got ${preview(code)}`);
  return false;
}

function readCluster(record: CloudTrailRecord, envelope: JsonObject | null, params: JsonObject | null, at: Path, problems: string[]): ClusterRef | null {
  const paramsPath = [...at, 'requestParameters'];
  const names = params ? parsePart(ClusterNameParamsSchema, params, paramsPath, problems) : null;
  const name = names?.name || names?.clusterName || null;
  // A name of the wrong type has been reported already; do not report it missing as well.
  if (names && !name) problems.push(`event: missing ${formatPath([...paramsPath, 'name'])} (or ${formatPath([...paramsPath, 'clusterName'])})`);
  // recipientAccountId is the account that owns the cluster; userIdentity.accountId is the caller's, which differs for cross-account callers.
  const accountAt = [formatPath([...at, 'recipientAccountId']), formatPath([...at, 'userIdentity', 'accountId'])];
  const account = firstString(
    [
      { value: record.recipientAccountId, at: [...at, 'recipientAccountId'] },
      { value: asObject(record.userIdentity)?.accountId, at: [...at, 'userIdentity', 'accountId'] },
      ...(envelope ? [{ value: envelope.account, at: ['account'] }] : []),
    ],
    `event: missing ${accountAt.join(' (or ')}${envelope ? ', or account' : ''})`,
    problems,
  );
  const region = firstString(
    [{ value: record.awsRegion, at: [...at, 'awsRegion'] }, ...(envelope ? [{ value: envelope.region, at: ['region'] }] : [])],
    `event: missing ${formatPath([...at, 'awsRegion'])}${envelope ? ' (or region)' : ''}`,
    problems,
  );
  return name && account && region ? { name, account, region } : null;
}

/**
 * The endpoint fields of a CreateCluster or UpdateClusterConfig request. Field names are matched whatever
 * their letter case, `resourcesVpcConfig` included: a change spelled `EndpointPublicAccess` read as "no
 * endpoint change" would pass unjudged.
 */
function readRequested(eventName: string, params: JsonObject | null, at: Path, problems: string[]): Partial<EndpointTarget> | null {
  if (!params) return null;
  const before = problems.length;
  const vpcAt = [...at, 'resourcesVpcConfig'];
  const vpc = caseInsensitiveField(params, 'resourcesVpcConfig', ObjectSchema, at, problems) ?? {};
  const pub = caseInsensitiveField(vpc, 'endpointPublicAccess', EndpointFlagSchema, vpcAt, problems);
  const priv = caseInsensitiveField(vpc, 'endpointPrivateAccess', EndpointFlagSchema, vpcAt, problems);
  const given = caseInsensitiveField(vpc, 'publicAccessCidrs', PublicAccessCidrsSchema, vpcAt, problems);
  const ipFamily = eventName === 'CreateCluster' ? parsePart(IpFamilyParamsSchema, params, at, problems)?.kubernetesNetworkConfig?.ipFamily : null;
  if (problems.length > before) return null;
  // Rule 3 of endpoint-rules.md: no CIDRs with public access on means open to all, so an empty list
  // must never read as "restricted"; it is reported as the world-open default instead.
  const cidrs = given?.length ? given : undefined;
  if (eventName === 'CreateCluster') {
    const endpointPublicAccess = pub ?? true;
    const worldOpen = ipFamily?.toLowerCase() === 'ipv6' ? [WORLD_V4, WORLD_V6] : [WORLD_V4];
    return withoutUndefined({
      endpointPublicAccess,
      endpointPrivateAccess: priv ?? false,
      publicAccessCidrs: cidrs ?? (endpointPublicAccess ? worldOpen : undefined),
    });
  }
  const asked = withoutUndefined({
    endpointPublicAccess: pub,
    endpointPrivateAccess: priv,
    publicAccessCidrs: given ? cidrs ?? [WORLD_V4] : undefined,
  });
  return Object.keys(asked).length > 0 ? asked : null;
}

function readUpdateId(record: CloudTrailRecord, at: Path, problems: string[]): string | null {
  const responseAt = [...at, 'responseElements'];
  const response = objectPart(record.responseElements, responseAt, problems);
  return response ? parsePart(EksUpdateResponseSchema, response, responseAt, problems)?.update?.id ?? null : null;
}

function readToken(params: JsonObject | null, at: Path, problems: string[]): string | null {
  return (params && parsePart(ClientRequestTokenParamsSchema, params, at, problems)?.clientRequestToken) || null;
}

function readActor(record: CloudTrailRecord): Actor {
  const identity = asObject(record.userIdentity);
  return {
    arn: looseString(identity?.arn),
    type: looseString(identity?.type),
    sourceIPAddress: looseString(record.sourceIPAddress),
    userAgent: looseString(record.userAgent),
  };
}

function madeWithGuardRole(record: CloudTrailRecord, options: TriageOptions): boolean {
  const identity = asObject(record.userIdentity);
  const issuer = asObject(asObject(identity?.sessionContext)?.sessionIssuer);
  const principals = [looseString(identity?.arn), looseString(issuer?.arn)].filter((arn): arn is string => arn !== null);
  return principals.some((arn) => isGuardPrincipal(arn, options));
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): Partial<EndpointTarget> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<EndpointTarget>;
}
