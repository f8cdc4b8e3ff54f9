import { DescribeClusterCommand, DescribeUpdateCommand, type EKSClient, paginateListClusters, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import type { ClusterRef, EndpointTarget } from '../policy/types';
import type { ClusterDescription, EksPort, UpdateDescription } from '../workflow/ports';
import { toGuardError } from './errors';

export type ClientFor<C> = (account: string, region: string) => C;

/** EKS refuses a change that changes nothing; for a remediation that means there is nothing left to do. */
const ALREADY_DESIRED = /already at the desired configuration/i;

/** Dates become epoch seconds, as EKS's JSON has them, so descriptions stay plain JSON for the state machine. */
function toJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Date ? Math.floor(v.getTime() / 1000) : v)));
}

/** The EKS port over the SDK: endpoint fields only, every error mapped to the project's errors. */
export function createEksPort(clientFor: ClientFor<EKSClient>): EksPort {
  const where = (c: ClusterRef) => `${c.name} (${c.account}/${c.region})`;
  return {
    async describeCluster(cluster) {
      try {
        const out = await clientFor(cluster.account, cluster.region).send(new DescribeClusterCommand({ name: cluster.name }));
        return toJson(out.cluster) as ClusterDescription;
      } catch (err) {
        throw toGuardError(err, `DescribeCluster ${where(cluster)}`);
      }
    },
    async describeUpdate(cluster, updateId): Promise<UpdateDescription> {
      try {
        const out = await clientFor(cluster.account, cluster.region).send(new DescribeUpdateCommand({ name: cluster.name, updateId }));
        const u = out.update ?? {};
        return {
          id: u.id ?? updateId,
          status: u.status ?? 'Unknown',
          type: u.type ?? null,
          errors: (u.errors ?? []).map((e) => ({ errorCode: e.errorCode ?? null, errorMessage: e.errorMessage ?? null })),
        };
      } catch (err) {
        throw toGuardError(err, `DescribeUpdate ${updateId} of ${where(cluster)}`);
      }
    },
    async updateEndpointAccess(cluster, target: EndpointTarget) {
      // Only the endpoint fields: one update type per call (EKS refuses mixing), and nothing else changes.
      const resourcesVpcConfig = {
        endpointPublicAccess: target.endpointPublicAccess,
        endpointPrivateAccess: target.endpointPrivateAccess,
        ...(target.endpointPublicAccess && target.publicAccessCidrs ? { publicAccessCidrs: target.publicAccessCidrs } : {}),
      };
      try {
        const out = await clientFor(cluster.account, cluster.region).send(new UpdateClusterConfigCommand({ name: cluster.name, resourcesVpcConfig }));
        return { updateId: out.update?.id ?? null };
      } catch (err) {
        const e = err as { name?: string; message?: string };
        if (e.name === 'InvalidParameterException' && ALREADY_DESIRED.test(e.message ?? '')) return { updateId: null };
        throw toGuardError(err, `UpdateClusterConfig ${where(cluster)}`);
      }
    },
    async listClusters(account, region) {
      const names: string[] = [];
      try {
        for await (const page of paginateListClusters({ client: clientFor(account, region) }, {})) names.push(...(page.clusters ?? []));
      } catch (err) {
        throw toGuardError(err, `ListClusters ${account}/${region}`);
      }
      return names;
    },
  };
}
