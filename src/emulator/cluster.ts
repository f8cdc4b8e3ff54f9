import { randomUUID } from 'node:crypto';
import { stableId } from './ids';

export type EndpointConfig = { endpointPublicAccess: boolean; endpointPrivateAccess: boolean; publicAccessCidrs: string[] };
export type LogSetup = { types: string[]; enabled: boolean };
export type ErrorDetail = { errorCode: string; errorMessage: string; resourceIds: string[] };
export type UpdateParam = { type: string; value: string };
export type UpdateStatus = 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';
export type ClusterStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'FAILED' | 'DELETING' | 'PENDING';

export type UpdateRecord = {
  id: string;
  type: string;
  params: UpdateParam[];
  createdAtMs: number;
  endsAtMs: number;
  status: UpdateStatus;
  errors: ErrorDetail[];
  /** Started by EKS itself (a platform patch): the cluster keeps reporting ACTIVE meanwhile. */
  byEks: boolean;
  /** Set when a fault decided at acceptance time that this update will end Failed. */
  failWith?: ErrorDetail[];
  change: { endpoint?: Partial<EndpointConfig>; logging?: LogSetup[]; platformVersion?: string };
  clientRequestToken?: string;
};

export type ClusterRecord = {
  name: string;
  account: string;
  region: string;
  arn: string;
  createdAtMs: number;
  /** Until then the cluster is CREATING. */
  readyAtMs: number;
  /** Status once created and with no update running; ACTIVE for every cluster created through the API. */
  restingStatus: Exclude<ClusterStatus, 'CREATING' | 'UPDATING'>;
  version: string;
  platformVersion: string;
  roleArn: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupIds: string[];
  clusterSecurityGroupId: string;
  ipFamily: 'ipv4' | 'ipv6';
  endpoint: EndpointConfig;
  logging: LogSetup[];
  tags: Record<string, string>;
  updates: UpdateRecord[];
};

export const LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'] as const;

export function defaultCidrs(ipFamily: 'ipv4' | 'ipv6'): string[] {
  return ipFamily === 'ipv6' ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0'];
}

export function clusterArn(region: string, account: string, name: string): string {
  return `arn:aws:eks:${region}:${account}:cluster/${name}`;
}

export function newClusterRecord(input: {
  name: string;
  account: string;
  region: string;
  nowMs: number;
  creationMs: number;
  restingStatus?: ClusterRecord['restingStatus'];
  version?: string;
  platformVersion?: string;
  roleArn?: string;
  vpcId?: string;
  subnetIds?: string[];
  securityGroupIds?: string[];
  ipFamily?: 'ipv4' | 'ipv6';
  endpointPublicAccess?: boolean;
  endpointPrivateAccess?: boolean;
  publicAccessCidrs?: string[];
  logging?: LogSetup[];
  tags?: Record<string, string>;
}): ClusterRecord {
  const arn = clusterArn(input.region, input.account, input.name);
  const ipFamily = input.ipFamily ?? 'ipv4';
  return {
    name: input.name,
    account: input.account,
    region: input.region,
    arn,
    createdAtMs: input.nowMs,
    readyAtMs: input.nowMs + input.creationMs,
    restingStatus: input.restingStatus ?? 'ACTIVE',
    version: input.version ?? '1.33',
    platformVersion: input.platformVersion ?? 'eks.1',
    roleArn: input.roleArn ?? `arn:aws:iam::${input.account}:role/eks-cluster-role`,
    vpcId: input.vpcId ?? stableId('vpc-', `${input.account}/${input.region}/default-vpc`),
    subnetIds: input.subnetIds ?? [],
    securityGroupIds: input.securityGroupIds ?? [],
    clusterSecurityGroupId: stableId('sg-', `${arn}/cluster-security-group`),
    ipFamily,
    endpoint: {
      endpointPublicAccess: input.endpointPublicAccess ?? true,
      endpointPrivateAccess: input.endpointPrivateAccess ?? false,
      publicAccessCidrs: input.publicAccessCidrs?.length ? [...input.publicAccessCidrs] : defaultCidrs(ipFamily),
    },
    logging: input.logging ?? [{ types: [...LOG_TYPES], enabled: false }],
    tags: { ...(input.tags ?? {}) },
    updates: [],
  };
}

function applyLogging(current: LogSetup[], requested: LogSetup[]): LogSetup[] {
  const enabled = new Set(current.filter((s) => s.enabled).flatMap((s) => s.types));
  for (const setup of requested) for (const t of setup.types) (setup.enabled ? enabled.add(t) : enabled.delete(t));
  const on = LOG_TYPES.filter((t) => enabled.has(t));
  const off = LOG_TYPES.filter((t) => !enabled.has(t));
  return [...(on.length ? [{ types: on, enabled: true }] : []), ...(off.length ? [{ types: off, enabled: false }] : [])];
}

export function loggingAfter(cluster: ClusterRecord, requested: LogSetup[]): LogSetup[] {
  return applyLogging(cluster.logging, requested);
}

/**
 * Brings a cluster's updates up to the clock. Completion is computed from the clock on every read
 * rather than by timers, so results depend only on emulated time, never on event-loop scheduling.
 */
export function settle(cluster: ClusterRecord, nowMs: number): ClusterRecord {
  for (const update of cluster.updates) {
    if (update.status !== 'InProgress' || nowMs < update.endsAtMs) continue;
    if (update.failWith) {
      update.status = 'Failed';
      update.errors = update.failWith;
      continue;
    }
    update.status = 'Successful';
    if (update.change.endpoint) cluster.endpoint = { ...cluster.endpoint, ...update.change.endpoint };
    if (update.change.logging) cluster.logging = applyLogging(cluster.logging, update.change.logging);
    if (update.change.platformVersion) cluster.platformVersion = update.change.platformVersion;
  }
  return cluster;
}

export function updateInProgress(cluster: ClusterRecord): UpdateRecord | undefined {
  return cluster.updates.find((u) => u.status === 'InProgress');
}

export function clusterStatus(cluster: ClusterRecord, nowMs: number): ClusterStatus {
  if (nowMs < cluster.readyAtMs) return 'CREATING';
  if (cluster.restingStatus !== 'ACTIVE') return cluster.restingStatus;
  return cluster.updates.some((u) => u.status === 'InProgress' && !u.byEks) ? 'UPDATING' : 'ACTIVE';
}

export function newUpdate(input: Omit<UpdateRecord, 'id' | 'status' | 'errors' | 'endsAtMs'> & { durationMs: number }): UpdateRecord {
  const { durationMs, ...rest } = input;
  return { ...rest, id: randomUUID(), status: 'InProgress', errors: [], endsAtMs: input.createdAtMs + durationMs };
}

/** EKS timestamps are epoch seconds (with a fraction) in JSON. */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** An update as EKS serializes it (createdAt in epoch seconds). */
export type WireUpdate = { id: string; status: UpdateStatus; type: string; params: UpdateParam[]; createdAt: number; errors: ErrorDetail[] };

export function updateToWire(update: UpdateRecord): WireUpdate {
  return {
    id: update.id,
    status: update.status,
    type: update.type,
    params: update.params,
    createdAt: epochSeconds(update.createdAtMs),
    errors: update.errors,
  };
}

/** The cluster as DescribeCluster returns it; call `settle` first. */
export function clusterToWire(cluster: ClusterRecord, nowMs: number): Record<string, unknown> {
  const status = clusterStatus(cluster, nowMs);
  const provisioned = status !== 'CREATING' && status !== 'FAILED' && status !== 'PENDING';
  const hostId = stableId('', cluster.arn, 32, true);
  return {
    name: cluster.name,
    arn: cluster.arn,
    createdAt: epochSeconds(cluster.createdAtMs),
    version: cluster.version,
    ...(provisioned ? { endpoint: `https://${hostId}.gr7.${cluster.region}.eks.amazonaws.com` } : {}),
    roleArn: cluster.roleArn,
    resourcesVpcConfig: {
      subnetIds: cluster.subnetIds,
      securityGroupIds: cluster.securityGroupIds,
      clusterSecurityGroupId: cluster.clusterSecurityGroupId,
      vpcId: cluster.vpcId,
      endpointPublicAccess: cluster.endpoint.endpointPublicAccess,
      endpointPrivateAccess: cluster.endpoint.endpointPrivateAccess,
      publicAccessCidrs: cluster.endpoint.publicAccessCidrs,
    },
    kubernetesNetworkConfig:
      cluster.ipFamily === 'ipv6'
        ? { serviceIpv6Cidr: 'fd00:ec2::/108', ipFamily: 'ipv6', elasticLoadBalancing: { enabled: false } }
        : { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4', elasticLoadBalancing: { enabled: false } },
    logging: { clusterLogging: cluster.logging },
    ...(provisioned
      ? {
          identity: { oidc: { issuer: `https://oidc.eks.${cluster.region}.amazonaws.com/id/${hostId}` } },
          certificateAuthority: { data: Buffer.from(`emulated certificate authority for ${cluster.arn}`).toString('base64') },
        }
      : {}),
    status,
    platformVersion: cluster.platformVersion,
    tags: cluster.tags,
    health: { issues: [] },
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    upgradePolicy: { supportType: 'STANDARD' },
  };
}
