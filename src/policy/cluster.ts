import { z } from 'zod';
import { InputError } from '../errors';
import { formatPath } from './load';
import type { EndpointConfig } from './types';

/** What the policy needs to know about a cluster, however it was obtained. */
export type ObservedCluster = {
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  status: string | null;
  vpcId: string | null;
  tags: Record<string, string>;
  config: EndpointConfig;
};

/** EKS's defaults for a cluster whose request omitted the endpoint fields. */
export const EKS_ENDPOINT_DEFAULTS: EndpointConfig = Object.freeze({
  endpointPublicAccess: true,
  endpointPrivateAccess: false,
  publicAccessCidrs: ['0.0.0.0/0'],
}) as EndpointConfig;

const clusterSchema = z.looseObject({
  name: z.string().min(1),
  arn: z.string().optional(),
  status: z.string().optional(),
  tags: z.record(z.string(), z.string()).nullish(),
  resourcesVpcConfig: z.looseObject({
    vpcId: z.string().nullish(),
    endpointPublicAccess: z.boolean().nullish(),
    endpointPrivateAccess: z.boolean().nullish(),
    publicAccessCidrs: z.array(z.string()).nullish(),
  }),
});

const CLUSTER_ARN = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):cluster\/(.+)$/;

/** Splits `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`; null for anything else. */
export function parseClusterArn(arn: string): { region: string; account: string; name: string } | null {
  const m = CLUSTER_ARN.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : null;
}

/**
 * Reads a cluster from a `DescribeCluster` response (`{cluster: {...}}`) or its `cluster` object.
 * Account and region come from the ARN unless given. A missing CIDR list while public access is on
 * means the endpoint is open to all (`0.0.0.0/0`): EKS never treats an empty list as restricted.
 */
export function parseObservedCluster(doc: unknown, given: { account?: string; region?: string } = {}): ObservedCluster {
  const isResponse = doc !== null && typeof doc === 'object' && 'cluster' in doc && typeof (doc as { cluster: unknown }).cluster === 'object';
  const body = isResponse ? (doc as { cluster: unknown }).cluster : doc;
  const parsed = clusterSchema.safeParse(body);
  if (!parsed.success) {
    const prefix = isResponse ? ['cluster'] : [];
    throw new InputError(
      parsed.error.issues.map((i) => {
        const what = /received undefined/.test(i.message) ? 'required but missing' : i.message;
        return `${formatPath([...prefix, ...i.path])}: ${what} (expected a DescribeCluster response or its "cluster" object)`;
      }),
    );
  }
  const c = parsed.data;
  const vpc = c.resourcesVpcConfig;
  const fromArn = c.arn ? parseClusterArn(c.arn) : null;
  const endpointPublicAccess = vpc.endpointPublicAccess ?? EKS_ENDPOINT_DEFAULTS.endpointPublicAccess;
  const cidrs = vpc.publicAccessCidrs && vpc.publicAccessCidrs.length > 0 ? vpc.publicAccessCidrs : EKS_ENDPOINT_DEFAULTS.publicAccessCidrs;
  return {
    name: c.name,
    arn: c.arn ?? null,
    account: given.account ?? fromArn?.account ?? null,
    region: given.region ?? fromArn?.region ?? null,
    status: c.status ?? null,
    vpcId: vpc.vpcId ?? null,
    tags: c.tags ?? {},
    config: {
      endpointPublicAccess,
      endpointPrivateAccess: vpc.endpointPrivateAccess ?? EKS_ENDPOINT_DEFAULTS.endpointPrivateAccess,
      publicAccessCidrs: [...cidrs],
    },
  };
}
