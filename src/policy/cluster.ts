import { z } from 'zod';
import { InputError } from '../errors';
import { formatPath } from './load';
import type { EndpointConfig } from './types';
import { ownRecord } from '../records';

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

// Only the fields the decision reads are checked; every other field of the response (createdAt,
// version, logging, ...) is ignored whatever its type, so an API change there cannot stop the guard.
// status and vpcId are only reported, never judged: a value of an unexpected type becomes null.
const clusterSchema = z.looseObject({
  name: z.string().min(1),
  arn: z.string().optional(),
  tags: ownRecord(z.string(), z.string()).nullish(),
  resourcesVpcConfig: z.looseObject({
    endpointPublicAccess: z.boolean().nullish(),
    endpointPrivateAccess: z.boolean().nullish(),
    publicAccessCidrs: z.array(z.string()).nullish(),
  }),
});

const CLUSTER_FIELDS = ['name', 'arn', 'status', 'tags', 'resourcesVpcConfig'] as const;
const VPC_FIELDS = ['vpcId', 'endpointPublicAccess', 'endpointPrivateAccess', 'publicAccessCidrs'] as const;

// Read when spelt as expected, but never a reason to refuse a cluster: the decision does not use them.
const REPORTED_ONLY = new Set(['status', 'vpcId']);

const pascal = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const sameValue = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * Copies the named fields of `source` under their camelCase names. DescribeCluster through the SDK or
 * the CLI gives camelCase (`endpointPublicAccess`); the Step Functions AWS SDK integration gives
 * PascalCase (`EndpointPublicAccess`); both are read. Any other letter case of a field the decision
 * reads is refused, naming the key: skipped, the field would be judged as its EKS default, so an
 * `endpointpublicaccess: false` would be read as "public access on". Status and vpcId are only
 * reported, so for them an odd spelling is simply not read. `keys` records where each field came from.
 */
function readFields(
  source: Record<string, unknown>,
  fields: readonly string[],
  path: PropertyKey[],
  problems: string[],
): { values: Record<string, unknown>; keys: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const keys: Record<string, string> = {};
  const present = Object.keys(source);
  for (const field of fields) {
    const accepted = [field, pascal(field)];
    const found: string[] = [];
    for (const key of present) {
      if (key.toLowerCase() !== field.toLowerCase()) continue;
      if (accepted.includes(key)) found.push(key);
      else if (!REPORTED_ONLY.has(field)) {
        problems.push(`${formatPath([...path, key])}: unexpected letter case; the field is ${field} (or ${pascal(field)}), refused rather than ignored`);
      }
    }
    if (found.length === 2 && !REPORTED_ONLY.has(field) && !sameValue(source[found[0]!], source[found[1]!])) {
      problems.push(`${formatPath([...path, found[0]!])} and ${found[1]!}: both given, with different values (${JSON.stringify(source[found[0]!])} and ${JSON.stringify(source[found[1]!])})`);
    }
    if (found.length > 0) {
      values[field] = source[found[0]!];
      keys[field] = found[0]!;
    }
  }
  return { values, keys };
}

const EXPECTED = '(expected a DescribeCluster response or its "cluster" object)';

const CLUSTER_ARN = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):cluster\/(.+)$/;

/** Splits `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`; null for anything else. */
export function parseClusterArn(arn: string): { region: string; account: string; name: string } | null {
  const m = CLUSTER_ARN.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]! } : null;
}

/**
 * Reads a cluster from a `DescribeCluster` response (`{cluster: {...}}`) or its `cluster` object, in
 * camelCase (SDK, CLI) or PascalCase (`{Cluster: {ResourcesVpcConfig: {EndpointPublicAccess}}}`, the
 * Step Functions SDK integration); a decision field in any other letter case is an InputError naming
 * the key. Account and region come from the ARN unless given. A missing CIDR list while public access
 * is on means the endpoint is open to all (`0.0.0.0/0`): EKS never treats an empty list as restricted.
 * Fields the decision does not read never make it throw; status and vpcId of another type are null.
 */
export function parseObservedCluster(doc: unknown, given: { account?: string; region?: string } = {}): ObservedCluster {
  const problems: string[] = [];
  let body: unknown = doc;
  const prefix: PropertyKey[] = [];
  if (isRecord(doc)) {
    const wrapper = readFields(doc, ['cluster'], [], problems);
    if (isRecord(wrapper.values.cluster)) {
      body = wrapper.values.cluster;
      prefix.push(wrapper.keys.cluster!);
    }
  }
  const top = isRecord(body) ? readFields(body, CLUSTER_FIELDS, prefix, problems) : null;
  const vpcSource = top?.values.resourcesVpcConfig;
  const vpcPath = [...prefix, top?.keys.resourcesVpcConfig ?? 'resourcesVpcConfig'];
  const vpc = isRecord(vpcSource) ? readFields(vpcSource, VPC_FIELDS, vpcPath, problems) : null;
  const normalized = top ? { ...top.values, ...(vpc ? { resourcesVpcConfig: vpc.values } : {}) } : body;

  const parsed = clusterSchema.safeParse(normalized);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const what = /received undefined/.test(i.message) ? 'required but missing' : i.message;
      // Name the key as the document spells it (PascalCase or camelCase), not as it was normalized.
      const path = i.path.map((part, n) => {
        if (n === 0 && typeof part === 'string') return top?.keys[part] ?? part;
        if (n === 1 && i.path[0] === 'resourcesVpcConfig' && typeof part === 'string') return vpc?.keys[part] ?? part;
        return part;
      });
      problems.push(`${formatPath([...prefix, ...path])}: ${what} ${EXPECTED}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new InputError(problems);
  const c = parsed.data;
  const v = c.resourcesVpcConfig;
  const status = top?.values.status;
  const vpcId = vpc?.values.vpcId;
  const fromArn = c.arn ? parseClusterArn(c.arn) : null;
  const endpointPublicAccess = v.endpointPublicAccess ?? EKS_ENDPOINT_DEFAULTS.endpointPublicAccess;
  const cidrs = v.publicAccessCidrs && v.publicAccessCidrs.length > 0 ? v.publicAccessCidrs : EKS_ENDPOINT_DEFAULTS.publicAccessCidrs;
  return {
    name: c.name,
    arn: c.arn ?? null,
    account: given.account ?? fromArn?.account ?? null,
    region: given.region ?? fromArn?.region ?? null,
    status: typeof status === 'string' ? status : null,
    vpcId: typeof vpcId === 'string' ? vpcId : null,
    tags: c.tags ?? {},
    config: {
      endpointPublicAccess,
      endpointPrivateAccess: v.endpointPrivateAccess ?? EKS_ENDPOINT_DEFAULTS.endpointPrivateAccess,
      publicAccessCidrs: [...cidrs],
    },
  };
}
