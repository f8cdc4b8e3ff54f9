/** The EKS port over the SDK: endpoint fields only, every error mapped to the project's errors. */
import {
  DescribeClusterCommand,
  DescribeUpdateCommand,
  ListClustersCommand,
  paginateListClusters,
  UpdateClusterConfigCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { AwsRequestRejectedError, ClusterNotFoundError } from '../errors';
import type { ClusterRef, EndpointTarget } from '../policy/types';
import type { ClusterDescription, EksPort, UpdateDescription } from '../workflow/ports';
import { guardRequestFields } from '../iam/guardrail';
import type { WiringContext } from '../wiring';
import type { Access, ClientClass } from './clients';
import { call, toGuardError } from './errors';
import { MemberRoleUnavailableError, type SweepEksPort } from '../sweep/ports';
import { putOwn } from '../records';

/**
 * A client for the cluster's own account and region. `access` says what the call does there: `read` (the
 * default) goes through the member read role, `write` through the member write role (see src/aws/clients.ts).
 */
export type ClientFor<C> = (account: string, region: string, access?: Access) => C;

export type EksPortOptions = {
  /** ListClusters page size (EKS allows 1-100; default 100). */
  pageSize?: number;
};

/** EKS refuses a change that changes nothing; for a remediation that means there is nothing left to do. */
const ALREADY_DESIRED = /already at the desired configuration/i;

/**
 * SDK output as plain JSON, the shape EKS's wire format and `aws eks describe-cluster --output json` share
 * apart from dates: a Date becomes epoch seconds (EKS's own JSON encoding), undefined members disappear.
 * The state machine stores step results as JSON, so nothing else may survive.
 */
export function toPlainJson(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // putOwn: the keys of `tags` are the cluster owner's, and `__proto__` is one an assignment would drop.
    for (const [key, v] of Object.entries(value)) if (v !== undefined && key !== '$metadata') putOwn(out, key, toPlainJson(v));
    return out;
  }
  return value;
}

function describe(cluster: ClusterRef, operation: string, detail?: string) {
  return { operation, cluster, ...(detail ? { detail } : {}) };
}

export function createEksPort(clientFor: ClientFor<EKSClient>, options: EksPortOptions = {}): EksPort {
  const port: EksPort = {
    async describeCluster(cluster) {
      const context = describe(cluster, 'DescribeCluster');
      const out = await call(context, () => clientFor(cluster.account, cluster.region).send(new DescribeClusterCommand({ name: cluster.name })));
      if (!out.cluster) throw new ClusterNotFoundError(`DescribeCluster on cluster ${cluster.name} (${cluster.account}/${cluster.region}) returned no cluster`);
      return toPlainJson(out.cluster) as ClusterDescription;
    },

    async describeUpdate(cluster, updateId): Promise<UpdateDescription> {
      const context = describe(cluster, 'DescribeUpdate', `update ${updateId}`);
      let out;
      try {
        out = await call(context, () => clientFor(cluster.account, cluster.region).send(new DescribeUpdateCommand({ name: cluster.name, updateId })));
      } catch (err) {
        // EKS says ResourceNotFoundException for an unknown update id too: only a missing cluster means it was deleted.
        if (err instanceof ClusterNotFoundError) {
          await port.describeCluster(cluster);
          throw new AwsRequestRejectedError(`DescribeUpdate on cluster ${cluster.name}: update ${updateId} is unknown to EKS`, 'UpdateNotFound', { cause: err });
        }
        throw err;
      }
      const u = out.update;
      if (!u?.status) throw new AwsRequestRejectedError(`DescribeUpdate on cluster ${cluster.name}, update ${updateId} returned no update status`, 'EmptyResponse');
      return {
        id: u.id ?? updateId,
        status: u.status,
        type: u.type ?? null,
        errors: (u.errors ?? []).map((e) => ({ errorCode: e.errorCode ?? null, errorMessage: e.errorMessage ?? null })),
      };
    },

    async updateEndpointAccess(cluster, target, request) {
      const fields = guardRequestFields(request.observed, target);
      // Nothing to change: EKS would refuse an empty request, and there is nothing left to do.
      if (Object.keys(fields).length === 0) return { updateId: null };
      // Only the endpoint fields: EKS takes one kind of change per update, and nothing else may change.
      // Flags are sent only when they change, and only in the narrowing direction, so the IAM guardrail on
      // the guard's role (which denies turning public on or private off) never blocks a legitimate revert.
      const command = new UpdateClusterConfigCommand({
        name: cluster.name,
        resourcesVpcConfig: fields,
        clientRequestToken: request.token,
      });
      try {
        // The only call through the member write role: every other call of every function only reads.
        const out = await clientFor(cluster.account, cluster.region, 'write').send(command);
        if (!out.update?.id) throw new AwsRequestRejectedError(`UpdateClusterConfig on cluster ${cluster.name} returned no update id`, 'EmptyResponse');
        return { updateId: out.update.id };
      } catch (err) {
        const e = err as { name?: unknown; message?: unknown };
        if (e?.name === 'InvalidParameterException' && typeof e.message === 'string' && ALREADY_DESIRED.test(e.message)) return { updateId: null };
        throw toGuardError(err, describe(cluster, 'UpdateClusterConfig'));
      }
    },

    async listClusters(account, region) {
      const names: string[] = [];
      await call({ operation: 'ListClusters', account, region }, async () => {
        const pages = paginateListClusters({ client: clientFor(account, region), pageSize: options.pageSize ?? 100 }, {});
        for await (const page of pages) names.push(...(page.clusters ?? []));
      });
      return names;
    },
  };
  return port;
}

/** The EKS port of a function that acts on clusters (in their own accounts). */
export const eksWiring = ({ clients }: WiringContext): EksPort =>
  createEksPort((account, region, access = 'read') => clients.forAccount(EKSClient, account, region, access));


// --- The organization sweep's EKS port (src/sweep) ---

/**
 * SDK attempts per sweep call (the SDK default): a call that is still throttled after them waits in a
 * Step Functions Wait state for its next round, which bills no Lambda time, rather than in the Lambda.
 */
export const SWEEP_SDK_ATTEMPTS = 3;

/**
 * EKS for the organization sweep: the SDK's `adaptive` retry mode, whose client-side token bucket
 * (one per client, so per account and region: EKS's own throttling scope) slows the client down to the
 * rate EKS admits once it throttles, instead of retrying blindly on a fixed budget. A class of its own,
 * so the client factory keeps these clients apart from the enforcement's standard-mode ones.
 */
export class SweepEKSClient extends EKSClient {
  constructor(config: ConstructorParameters<ClientClass<EKSClient>>[0]) {
    super({ ...config, retryMode: 'adaptive', maxAttempts: SWEEP_SDK_ATTEMPTS });
  }
}

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnrecognizedClientException', 'InvalidClientTokenId']);

/**
 * The guard cannot act in the account: AssumeRole of the member role failed (the role is missing, or
 * its trust refuses the guard: AWS does not tell the two apart), or EKS refused the role's permissions.
 */
function sweepError(err: unknown, context: Parameters<typeof toGuardError>[1]): Error {
  const e = toGuardError(err, context);
  if (e instanceof AwsRequestRejectedError && (DENIED.has(e.awsErrorName) || e.message.startsWith('AssumeRole '))) {
    return new MemberRoleUnavailableError(`the member role cannot be used: ${e.message}`, { cause: e });
  }
  return e;
}

export function createSweepEksPort(clientFor: (account: string, region: string) => EKSClient, options: EksPortOptions = {}): SweepEksPort {
  return {
    async listClustersPage(account, region, nextToken) {
      try {
        const out = await clientFor(account, region).send(new ListClustersCommand({ maxResults: options.pageSize ?? 100, ...(nextToken ? { nextToken } : {}) }));
        return { names: out.clusters ?? [], nextToken: out.nextToken || null };
      } catch (err) {
        throw sweepError(err, { operation: 'ListClusters', account, region, ...(nextToken ? { detail: 'a later page' } : {}) });
      }
    },
    async describeCluster(cluster) {
      let out;
      try {
        out = await clientFor(cluster.account, cluster.region).send(new DescribeClusterCommand({ name: cluster.name }));
      } catch (err) {
        throw sweepError(err, describe(cluster, 'DescribeCluster'));
      }
      if (!out.cluster) throw new ClusterNotFoundError(`DescribeCluster on cluster ${cluster.name} (${cluster.account}/${cluster.region}) returned no cluster`);
      return toPlainJson(out.cluster) as ClusterDescription;
    },
  };
}

/** The sweep's EKS port: read-only, through the member read role outside the home account. */
export const sweepEksWiring = ({ clients }: WiringContext): SweepEksPort => createSweepEksPort((account, region) => clients.forAccount(SweepEKSClient, account, region, 'read'));
