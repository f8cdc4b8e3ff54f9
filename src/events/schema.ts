/**
 * Schemas of the CloudTrail events the guard reacts to, as delivered by EventBridge ("AWS API Call via
 * CloudTrail") or as bare CloudTrail records. No real sample of an EKS UpdateClusterConfig record is
 * public, so only the three fields that identify a record are checked up front, unknown fields are kept
 * (AWS keeps adding them), and every other part is checked by triage only where it decides something for
 * the call at hand: an odd `userAgent` or `responseElements.update.createdAt` must never refuse an event.
 */
import { z } from 'zod';
import { ownRecord } from '../records';

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const EKS_EVENT_SOURCE = 'eks.amazonaws.com';

/** A CloudTrail record: its identifying fields, and the rest as found. */
export const CloudTrailRecordSchema = z.looseObject({
  eventName: z.string().min(1),
  eventSource: z.string().min(1),
  eventID: z.string().min(1),
});
export type CloudTrailRecord = z.infer<typeof CloudTrailRecordSchema>;

export const EventBridgeEnvelopeSchema = z.looseObject({
  // Optional because hand-made test events often drop it; when present it must be the CloudTrail one.
  'detail-type': z.literal(CLOUDTRAIL_DETAIL_TYPE).optional(),
  detail: CloudTrailRecordSchema,
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

// CloudTrail has been seen to record booleans of request bodies as strings; EKS's own update params are strings too.
export const EndpointFlagSchema = z.union(
  [z.boolean(), z.string().regex(/^(true|false)$/i).transform((v) => v.toLowerCase() === 'true')],
  { error: 'expected true or false' },
);

/** `resourcesVpcConfig.publicAccessCidrs` of a CreateCluster or UpdateClusterConfig request. */
export const PublicAccessCidrsSchema = z.array(z.string().min(1));

/** A part of a request body that must be a JSON object when present (`resourcesVpcConfig`). */
export const ObjectSchema = z.record(z.string(), z.unknown());

/** Where an EKS request body names its cluster; older CreateCluster records say `clusterName`. */
export const ClusterNameParamsSchema = z.object({
  name: z.string().min(1).nullish(),
  clusterName: z.string().min(1).nullish(),
});

/** The idempotency token of a request; the guard records the ones it sends. */
export const ClientRequestTokenParamsSchema = z.object({
  clientRequestToken: z.string().nullish(),
});

/** CreateCluster: IPv6 clusters get a dual-stack public endpoint whose default allowlist also holds `::/0`. */
export const IpFamilyParamsSchema = z.object({
  kubernetesNetworkConfig: z.object({ ipFamily: z.string().nullish() }).nullish(),
});

/** `responseElements` of UpdateClusterConfig: only the update id matters; `createdAt`, `status` and the rest do not. */
export const EksUpdateResponseSchema = z.object({
  update: z.object({ id: z.string().min(1) }).nullish(),
});

/** `requestParameters` of TagResource: the resource (an EKS ARN, URL-encoded in some records) and the tags set. */
export const TagResourceParamsSchema = z.object({
  resourceArn: z.string().min(1),
  tags: ownRecord(z.string(), z.string()),
});

/**
 * `requestParameters` of UntagResource: the resource and the keys removed. The keys travel in the query
 * string (`?tagKeys=a&tagKeys=b`), so a single key recorded as a plain string is read as a list of one.
 */
export const UntagResourceParamsSchema = z.object({
  resourceArn: z.string().min(1),
  tagKeys: z.union([z.array(z.string().min(1)), z.string().min(1).transform((key) => [key])], { error: 'expected an array of strings' }),
});
