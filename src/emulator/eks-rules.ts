import { EKS_MAX_PUBLIC_CIDRS } from '../policy/schema';
import { publicCidrProblem } from './cidr';
import {
  clusterStatus,
  defaultCidrs,
  LOG_TYPES,
  loggingAfter,
  newUpdate,
  updateInProgress,
  type ClusterRecord,
  type EndpointConfig,
  type LogSetup,
  type UpdateParam,
  type UpdateRecord,
} from './cluster';
import { AwsError } from './protocol';

export const eksErrors = {
  invalid: (message: string, fields: Record<string, string> = {}) => new AwsError('InvalidParameterException', message, 400, fields),
  invalidRequest: (message: string, fields: Record<string, string> = {}) => new AwsError('InvalidRequestException', message, 400, fields),
  inUse: (message: string, clusterName: string) => new AwsError('ResourceInUseException', message, 409, { clusterName }),
  clusterNotFound: (name: string) => new AwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`, 404, { clusterName: name }),
  badRequest: (message: string) => new AwsError('BadRequestException', message, 400),
  notFound: (message: string) => new AwsError('NotFoundException', message, 404),
};

export type EndpointRequest = { endpointPublicAccess?: boolean; endpointPrivateAccess?: boolean; publicAccessCidrs?: string[] };

/** An explicit empty list means "no restriction", like an omitted one (rule 3): store EKS's default. */
function normalizedCidrs(cidrs: string[], ipFamily: 'ipv4' | 'ipv6'): string[] {
  return cidrs.length ? [...new Set(cidrs)] : defaultCidrs(ipFamily);
}

/** Checks endpoint settings as EKS does on CreateCluster and UpdateClusterConfig. */
export function checkEndpointSettings(desired: EndpointConfig, givenCidrs: string[] | undefined, ipFamily: 'ipv4' | 'ipv6', clusterName: string): void {
  if (!desired.endpointPublicAccess && !desired.endpointPrivateAccess) {
    throw eksErrors.invalid('Both private and public endpoint access cannot be false', { clusterName });
  }
  if (!givenCidrs) return;
  if (givenCidrs.length > EKS_MAX_PUBLIC_CIDRS) {
    throw eksErrors.invalid(`publicAccessCidrs can contain at most ${EKS_MAX_PUBLIC_CIDRS} CIDR blocks; ${givenCidrs.length} were given`, { clusterName });
  }
  const invalid = givenCidrs.filter((c) => publicCidrProblem(c, ipFamily === 'ipv6') !== null);
  if (invalid.length) throw eksErrors.invalid(`The following CIDRs are invalid in publicAccessCidrs: [${invalid.join(',')}]`, { clusterName });
}

export function endpointConfigFor(request: EndpointRequest, ipFamily: 'ipv4' | 'ipv6', base?: EndpointConfig): EndpointConfig {
  return {
    endpointPublicAccess: request.endpointPublicAccess ?? base?.endpointPublicAccess ?? true,
    endpointPrivateAccess: request.endpointPrivateAccess ?? base?.endpointPrivateAccess ?? false,
    publicAccessCidrs: request.publicAccessCidrs ? normalizedCidrs(request.publicAccessCidrs, ipFamily) : (base?.publicAccessCidrs ?? defaultCidrs(ipFamily)),
  };
}

function sameConfig(a: EndpointConfig, b: EndpointConfig): boolean {
  const sa = [...a.publicAccessCidrs].sort().join();
  const sb = [...b.publicAccessCidrs].sort().join();
  return a.endpointPublicAccess === b.endpointPublicAccess && a.endpointPrivateAccess === b.endpointPrivateAccess && sa === sb;
}

/** Refuses a new update on a cluster that cannot take one (still creating, failed, or busy with another update). */
function checkCanUpdate(cluster: ClusterRecord, updateType: string, nowMs: number): void {
  const status = clusterStatus(cluster, nowMs);
  if (status === 'CREATING') throw eksErrors.inUse(`Cannot ${updateType} because cluster ${cluster.name} is currently CREATING`, cluster.name);
  if (status !== 'ACTIVE' && status !== 'UPDATING') {
    throw eksErrors.invalidRequest(`Cannot ${updateType} because cluster ${cluster.name} is in ${status} status`, { clusterName: cluster.name });
  }
  const busy = updateInProgress(cluster);
  if (busy) throw eksErrors.inUse(`Cannot ${updateType} because cluster ${cluster.name} currently has update ${busy.id} in progress`, cluster.name);
}

export type UpdateDecisionInput = { cluster: ClusterRecord; nowMs: number; durationMs: number; clientRequestToken?: string };

/** Decides an endpoint access update: refuses it with EKS's errors or returns the new InProgress update. */
export function decideEndpointUpdate(input: UpdateDecisionInput & { request: EndpointRequest }): UpdateRecord {
  const { cluster, request } = input;
  // A busy cluster is refused first: whether the request would be valid is judged against settings
  // that are about to change.
  checkCanUpdate(cluster, 'EndpointAccessUpdate', input.nowMs);
  const desired = endpointConfigFor(request, cluster.ipFamily, cluster.endpoint);
  checkEndpointSettings(desired, request.publicAccessCidrs, cluster.ipFamily, cluster.name);
  if (sameConfig(desired, cluster.endpoint)) {
    const e = cluster.endpoint;
    throw eksErrors.invalid(
      `Cluster is already at the desired configuration with endpointPrivateAccess: ${e.endpointPrivateAccess} , endpointPublicAccess: ${e.endpointPublicAccess}, and Public Endpoint Restrictions: [${e.publicAccessCidrs.join(', ')}]`,
      { clusterName: cluster.name },
    );
  }
  const params: UpdateParam[] = [];
  const change: Partial<EndpointConfig> = {};
  if (request.endpointPublicAccess !== undefined) {
    params.push({ type: 'EndpointPublicAccess', value: String(request.endpointPublicAccess) });
    change.endpointPublicAccess = request.endpointPublicAccess;
  }
  if (request.endpointPrivateAccess !== undefined) {
    params.push({ type: 'EndpointPrivateAccess', value: String(request.endpointPrivateAccess) });
    change.endpointPrivateAccess = request.endpointPrivateAccess;
  }
  if (request.publicAccessCidrs !== undefined) {
    params.push({ type: 'PublicAccessCidrs', value: JSON.stringify(desired.publicAccessCidrs) });
    change.publicAccessCidrs = desired.publicAccessCidrs;
  }
  return newUpdate({
    type: 'EndpointAccessUpdate',
    params,
    createdAtMs: input.nowMs,
    durationMs: input.durationMs,
    byEks: false,
    change: { endpoint: change },
    ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
  });
}

/** Decides a control-plane logging update. */
export function decideLoggingUpdate(input: UpdateDecisionInput & { clusterLogging: LogSetup[] }): UpdateRecord {
  const { cluster } = input;
  const unknown = input.clusterLogging.flatMap((s) => s.types).filter((t) => !(LOG_TYPES as readonly string[]).includes(t));
  if (unknown.length) {
    throw eksErrors.invalid(`Unknown log types: ${unknown.join(', ')} (valid: ${LOG_TYPES.join(', ')})`, { clusterName: cluster.name });
  }
  checkCanUpdate(cluster, 'LoggingUpdate', input.nowMs);
  if (JSON.stringify(loggingAfter(cluster, input.clusterLogging)) === JSON.stringify(cluster.logging)) {
    throw eksErrors.invalid('No changes needed for the logging config provided', { clusterName: cluster.name });
  }
  return newUpdate({
    type: 'LoggingUpdate',
    params: [{ type: 'ClusterLogging', value: JSON.stringify({ clusterLogging: input.clusterLogging }) }],
    createdAtMs: input.nowMs,
    durationMs: input.durationMs,
    byEks: false,
    change: { logging: input.clusterLogging },
    ...(input.clientRequestToken ? { clientRequestToken: input.clientRequestToken } : {}),
  });
}

/** An update EKS starts on its own (a platform version patch): it blocks other updates while the cluster stays ACTIVE. */
export function platformUpdate(cluster: ClusterRecord, nowMs: number, durationMs: number): UpdateRecord {
  const busy = updateInProgress(cluster);
  if (busy) throw new RangeError(`cluster ${cluster.name} already has update ${busy.id} in progress`);
  const next = `eks.${Number(cluster.platformVersion.replace('eks.', '')) + 1}`;
  return newUpdate({
    type: 'VersionUpdate',
    params: [
      { type: 'Version', value: cluster.version },
      { type: 'PlatformVersion', value: next },
    ],
    createdAtMs: nowMs,
    durationMs,
    byEks: true,
    change: { platformVersion: next },
  });
}
