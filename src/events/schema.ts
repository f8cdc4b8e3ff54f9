/**
 * Schemas of the CloudTrail events the guard reacts to, as delivered by EventBridge ("AWS API Call via
 * CloudTrail") or as bare CloudTrail records. No real sample of an EKS UpdateClusterConfig record is
 * public, so every field beyond the three that identify a record is optional and may be null, unknown
 * fields are accepted (AWS keeps adding them), and the request/response bodies stay opaque until triage
 * reads the parts that matter for the call at hand.
 */
import { z } from 'zod';

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const EKS_EVENT_SOURCE = 'eks.amazonaws.com';

const optionalString = z.string().nullish();

export const UserIdentitySchema = z.object({
  type: optionalString,
  arn: optionalString,
  accountId: optionalString,
  sessionContext: z.object({ sessionIssuer: z.object({ arn: optionalString }).nullish() }).nullish(),
});

export const CloudTrailRecordSchema = z.object({
  eventName: z.string().min(1),
  eventSource: z.string().min(1),
  eventID: z.string().min(1),
  eventTime: optionalString,
  awsRegion: optionalString,
  recipientAccountId: optionalString,
  sourceIPAddress: optionalString,
  userAgent: optionalString,
  userIdentity: UserIdentitySchema.nullish(),
  errorCode: optionalString,
  errorMessage: optionalString,
  // Opaque here so that an odd body of some unrelated API call never rejects the whole record.
  requestParameters: z.record(z.string(), z.unknown()).nullish(),
  responseElements: z.record(z.string(), z.unknown()).nullish(),
});
export type CloudTrailRecord = z.infer<typeof CloudTrailRecordSchema>;

export const EventBridgeEnvelopeSchema = z.object({
  // Optional because hand-made test events often drop it; when present it must be the CloudTrail one.
  'detail-type': z.literal(CLOUDTRAIL_DETAIL_TYPE).optional(),
  account: optionalString,
  region: optionalString,
  detail: CloudTrailRecordSchema,
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

// CloudTrail has been seen to record booleans of request bodies as strings; EKS's own update params are strings too.
const flag = z.union([z.boolean(), z.string().regex(/^(true|false)$/i).transform((v) => v.toLowerCase() === 'true')], {
  error: 'expected true or false',
});

/** The endpoint fields of `resourcesVpcConfig` in a CreateCluster or UpdateClusterConfig request. */
export const EndpointRequestSchema = z.object({
  endpointPublicAccess: flag.nullish(),
  endpointPrivateAccess: flag.nullish(),
  publicAccessCidrs: z.array(z.string().min(1)).nullish(),
});

/** Where an EKS request body names its cluster; older CreateCluster records say `clusterName`. */
export const ClusterNameParamsSchema = z.object({
  name: z.string().min(1).nullish(),
  clusterName: z.string().min(1).nullish(),
});

/** The endpoint-related parts of a CreateCluster or UpdateClusterConfig request body. */
export const EndpointParamsSchema = z.object({
  resourcesVpcConfig: EndpointRequestSchema.nullish(),
  // IPv6 clusters get a dual-stack public endpoint whose default allowlist also holds `::/0`.
  kubernetesNetworkConfig: z.object({ ipFamily: optionalString }).nullish(),
});

/** `responseElements` of UpdateClusterConfig; `createdAt` is epoch seconds on the wire but a string in some records. */
export const EksUpdateResponseSchema = z.object({
  update: z
    .object({
      id: z.string().min(1),
      status: optionalString,
      type: optionalString,
      createdAt: z.union([z.string(), z.number()]).nullish(),
    })
    .nullish(),
});
