import * as z from 'zod';
import { clusterToWire, loggingAfter, newClusterRecord, updateToWire, type ClusterRecord, type LogSetup } from './cluster';
import { checkEndpointSettings, decideEndpointUpdate, decideLoggingUpdate, eksErrors, endpointConfigFor } from './eks-rules';
import { AwsError, type CallContext, type Env, type Operation, type Reply, type Service } from './protocol';
import { ownRecord, putOwn } from '../records';

const vpcConfigRequest = z.object({
  subnetIds: z.array(z.string()).optional(),
  securityGroupIds: z.array(z.string()).optional(),
  endpointPublicAccess: z.boolean().optional(),
  endpointPrivateAccess: z.boolean().optional(),
  publicAccessCidrs: z.array(z.string()).optional(),
  controlPlaneEgressMode: z.string().optional(),
});

const loggingRequest = z.object({
  clusterLogging: z.array(z.object({ types: z.array(z.string()).default([]), enabled: z.boolean().default(false) })),
});

const tags = ownRecord(z.string(), z.string());

const createClusterRequest = z.looseObject({
  name: z.string(),
  roleArn: z.string(),
  resourcesVpcConfig: vpcConfigRequest,
  version: z.string().regex(/^\d+\.\d+$/, 'must be a Kubernetes version such as 1.33').optional(),
  kubernetesNetworkConfig: z.looseObject({ ipFamily: z.enum(['ipv4', 'ipv6']).optional() }).optional(),
  logging: loggingRequest.optional(),
  tags: tags.optional(),
  clientRequestToken: z.string().optional(),
});

/** Fields other than these are other update types (accessConfig, upgradePolicy, ...), which the emulator does not implement. */
const updateClusterConfigRequest = z.looseObject({
  resourcesVpcConfig: vpcConfigRequest.optional(),
  logging: loggingRequest.optional(),
  clientRequestToken: z.string().optional(),
});

function parseJson(ctx: CallContext): unknown {
  if (ctx.body.length === 0) return {};
  try {
    return JSON.parse(ctx.body.toString('utf8'));
  } catch {
    throw eksErrors.invalidRequest('The request body is not valid JSON.');
  }
}

function validated<T extends z.ZodType>(schema: T, doc: unknown): z.output<T> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw eksErrors.invalidRequest('The request body must be a JSON object.');
  const parsed = schema.safeParse(doc);
  if (parsed.success) return parsed.data;
  throw eksErrors.invalid(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
}

function intParam(ctx: CallContext, name: string, min: number, max: number): number | undefined {
  const raw = ctx.query.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw eksErrors.invalid(`${name} must be an integer between ${min} and ${max}.`);
  return n;
}

/** Pages are cut at an index; the token is opaque to clients, as EKS's are. */
function page<T>(items: T[], ctx: CallContext, limit: number): { items: T[]; nextToken?: string } {
  const token = ctx.query.get('nextToken');
  let start = 0;
  if (token !== null) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0 || start > items.length) throw eksErrors.invalid('The nextToken is invalid.');
  }
  const end = start + (intParam(ctx, 'maxResults', 1, 100) ?? limit);
  return end < items.length ? { items: items.slice(start, end), nextToken: Buffer.from(String(end)).toString('base64url') } : { items: items.slice(start) };
}

function decodeSegments(path: string): string[] {
  try {
    return path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw eksErrors.invalidRequest('The request path is not valid percent-encoding.');
  }
}

function clusterOrThrow(env: Env, ctx: CallContext, name: string): ClusterRecord {
  const cluster = env.world.cluster(ctx.account, ctx.region, name);
  if (!cluster) throw eksErrors.clusterNotFound(name);
  return cluster;
}

function createCluster(env: Env, ctx: CallContext, body: z.output<typeof createClusterRequest>): unknown {
  const { name } = body;
  if (!/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(name)) {
    throw eksErrors.invalid(`Cluster name ${name} is invalid: use 1-100 letters, digits, hyphens and underscores, starting with a letter or digit.`);
  }
  const ipFamily = body.kubernetesNetworkConfig?.ipFamily ?? 'ipv4';
  const vpcReq = body.resourcesVpcConfig;
  const endpoint = endpointConfigFor(vpcReq, ipFamily);
  checkEndpointSettings(endpoint, vpcReq.publicAccessCidrs, ipFamily, name);
  if (env.world.cluster(ctx.account, ctx.region, name)) throw eksErrors.inUse(`Cluster already exists with name: ${name}`, name);
  // Subnets are not modelled one by one: a subnet declared under a VPC in the state file picks that VPC, else
  // the region's only VPC, else a made-up default VPC id.
  const vpcs = env.world.vpcList(ctx.account, ctx.region);
  const subnetIds = vpcReq.subnetIds ?? [];
  const vpc = vpcs.find((v) => v.subnetIds.some((s) => subnetIds.includes(s))) ?? (vpcs.length === 1 ? vpcs[0] : undefined);
  const logging: LogSetup[] | undefined = body.logging?.clusterLogging.length ? body.logging.clusterLogging : undefined;
  const cluster = newClusterRecord({
    name,
    account: ctx.account,
    region: ctx.region,
    nowMs: env.clock.now(),
    creationMs: env.settings.updateMs,
    roleArn: body.roleArn,
    ...(body.version ? { version: body.version } : {}),
    ...(vpc ? { vpcId: vpc.id } : {}),
    subnetIds,
    securityGroupIds: vpcReq.securityGroupIds ?? [],
    ipFamily,
    ...endpoint,
    tags: body.tags ?? {},
  });
  if (logging) cluster.logging = loggingAfter(cluster, logging);
  env.world.addCluster(cluster);
  return { cluster: clusterToWire(cluster, env.clock.now()) };
}

function updateClusterConfig(env: Env, ctx: CallContext, name: string, body: z.output<typeof updateClusterConfigRequest>): unknown {
  const cluster = clusterOrThrow(env, ctx, name);
  const { resourcesVpcConfig: vpc, logging, clientRequestToken, ...rest } = body;
  const endpointFields = vpc && (vpc.endpointPublicAccess !== undefined || vpc.endpointPrivateAccess !== undefined || vpc.publicAccessCidrs !== undefined);
  const vpcFields = vpc && (vpc.subnetIds !== undefined || vpc.securityGroupIds !== undefined || vpc.controlPlaneEgressMode !== undefined);
  const others = Object.entries(rest as Record<string, unknown>)
    .filter(([k, v]) => k !== 'name' && v !== undefined && v !== null)
    .map(([k]) => k);
  const kinds = [endpointFields && 'endpoint', vpcFields && 'vpc', logging && 'logging', ...others].filter(Boolean);
  if (kinds.length > 1) throw eksErrors.invalid('Only one type of update can be allowed.', { clusterName: name });
  if (kinds.length === 0) throw eksErrors.invalid('No update was specified: give resourcesVpcConfig or logging.', { clusterName: name });

  // An SDK retry reuses its clientRequestToken: answer with the update the first attempt started.
  const replay = clientRequestToken ? cluster.updates.find((u) => u.clientRequestToken === clientRequestToken) : undefined;
  if (replay) return { update: updateToWire(replay) };

  const decision = { cluster, nowMs: env.clock.now(), durationMs: env.settings.updateMs, ...(clientRequestToken ? { clientRequestToken } : {}) };
  let update;
  if (endpointFields && vpc) {
    update = decideEndpointUpdate({ ...decision, request: vpc });
  } else if (logging) {
    update = decideLoggingUpdate({ ...decision, clusterLogging: logging.clusterLogging });
  } else {
    throw eksErrors.invalidRequest(`The emulator implements endpoint access and logging updates only, not ${kinds[0] === 'vpc' ? 'subnet or security group' : String(kinds[0])} updates.`, {
      clusterName: name,
    });
  }
  const failWith = env.faults.takeUpdateFailure({ account: ctx.account, region: ctx.region, cluster: name });
  if (failWith) update.failWith = failWith;
  cluster.updates.push(update);
  return { update: updateToWire(update) };
}

/** Only clusters carry tags here; ARNs of other EKS resources are "not found". */
function taggedCluster(env: Env, ctx: CallContext, arn: string): ClusterRecord {
  const m = /^arn:aws:eks:([a-z0-9-]+):(\d{12}):([a-z-]+)\/(.+)$/.exec(arn);
  if (!m) throw eksErrors.badRequest(`${arn} is not a valid EKS resource ARN.`);
  const [, region, account, kind, name] = m;
  const cluster = kind === 'cluster' && region === ctx.region && account === ctx.account ? env.world.cluster(account, region, name!) : undefined;
  if (!cluster) throw eksErrors.notFound(`Resource not found: ${arn}`);
  return cluster;
}

function checkTags(newTags: Record<string, string>): void {
  const entries = Object.entries(newTags);
  if (entries.length === 0) throw eksErrors.badRequest('tags must contain at least one tag.');
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128) throw eksErrors.badRequest(`Tag key ${k} must be 1-128 characters long.`);
    if (v.length > 256) throw eksErrors.badRequest(`The value of tag ${k} must be at most 256 characters long.`);
    if (k.toLowerCase().startsWith('aws:')) throw eksErrors.badRequest(`Tag keys starting with aws: are reserved: ${k}`);
  }
}

function route(ctx: CallContext, env: Env): Operation {
  const segs = decodeSegments(ctx.path);
  const m = ctx.method;
  const body = () => parseJson(ctx);
  // CloudTrail still names the resource when the body cannot be parsed.
  const bodyFields = (): object => {
    try {
      const doc = parseJson(ctx);
      return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? doc : {};
    } catch {
      return {};
    }
  };
  const [root, a, b, c] = segs;
  if (root === 'clusters' && segs.length === 1 && m === 'POST') {
    return {
      name: 'CreateCluster',
      audited: true,
      requestParameters: () => bodyFields(),
      run: () => createCluster(env, ctx, validated(createClusterRequest, body())),
    };
  }
  if (root === 'clusters' && segs.length === 1 && m === 'GET') {
    return {
      name: 'ListClusters',
      run: () => {
        const { items, nextToken } = page(env.world.clusterList(ctx.account, ctx.region), ctx, 100);
        return { clusters: items.map((x) => x.name), ...(nextToken ? { nextToken } : {}) };
      },
    };
  }
  if (root === 'clusters' && a !== undefined && segs.length === 2 && m === 'GET') {
    return { name: 'DescribeCluster', cluster: a, run: () => ({ cluster: clusterToWire(clusterOrThrow(env, ctx, a), env.clock.now()) }) };
  }
  if (root === 'clusters' && a !== undefined && segs.length === 2 && m === 'DELETE') {
    // EKS answers DELETING and removes the cluster minutes later; here it is gone at once, which is the
    // case that matters to a guard working on it (every later call gets ResourceNotFoundException).
    return {
      name: 'DeleteCluster',
      cluster: a,
      audited: true,
      requestParameters: () => ({ name: a }),
      run: () => {
        const cluster = clusterOrThrow(env, ctx, a);
        if (cluster.updates.some((u) => u.status === 'InProgress' && u.endsAtMs > env.clock.now())) {
          throw new AwsError('ResourceInUseException', `Cluster ${a} has an update in progress and cannot be deleted.`, 409, { clusterName: a });
        }
        const wire = clusterToWire(cluster, env.clock.now());
        env.world.removeCluster(ctx.account, ctx.region, a);
        return { cluster: { ...(wire as object), status: 'DELETING' } };
      },
    };
  }
  if (root === 'clusters' && a !== undefined && b === 'update-config' && segs.length === 3 && m === 'POST') {
    return {
      name: 'UpdateClusterConfig',
      cluster: a,
      audited: true,
      requestParameters: () => ({ name: a, ...bodyFields() }),
      run: () => updateClusterConfig(env, ctx, a, validated(updateClusterConfigRequest, body())),
    };
  }
  if (root === 'clusters' && a !== undefined && b === 'updates' && segs.length === 3 && m === 'GET') {
    return {
      name: 'ListUpdates',
      cluster: a,
      run: () => {
        const { items, nextToken } = page(clusterOrThrow(env, ctx, a).updates, ctx, 100);
        return { updateIds: items.map((u) => u.id), ...(nextToken ? { nextToken } : {}) };
      },
    };
  }
  if (root === 'clusters' && a !== undefined && b === 'updates' && c !== undefined && segs.length === 4 && m === 'GET') {
    return {
      name: 'DescribeUpdate',
      cluster: a,
      run: () => {
        const update = clusterOrThrow(env, ctx, a).updates.find((u) => u.id === c);
        if (!update) throw new AwsError('ResourceNotFoundException', `No update found for ID: ${c}`, 404, { clusterName: a });
        return { update: updateToWire(update) };
      },
    };
  }
  if (root === 'tags' && a !== undefined && segs.length === 2) {
    const arn = a;
    const clusterName = arn.split('/').slice(1).join('/');
    if (m === 'GET') return { name: 'ListTagsForResource', cluster: clusterName, run: () => ({ tags: taggedCluster(env, ctx, arn).tags }) };
    if (m === 'POST') {
      return {
        name: 'TagResource',
        cluster: clusterName,
        audited: true,
        requestParameters: () => ({ resourceArn: arn, ...bodyFields() }),
        run: () => {
          const { tags: newTags } = validated(z.looseObject({ tags }), body());
          const cluster = taggedCluster(env, ctx, arn);
          checkTags(newTags);
          if (Object.keys({ ...cluster.tags, ...newTags }).length > 50) throw eksErrors.badRequest('A resource can have at most 50 tags.');
          for (const [k, v] of Object.entries(newTags)) putOwn(cluster.tags, k, v);
          return null;
        },
      };
    }
    if (m === 'DELETE') {
      const tagKeys = ctx.query.getAll('tagKeys');
      return {
        name: 'UntagResource',
        cluster: clusterName,
        audited: true,
        requestParameters: () => ({ resourceArn: arn, tagKeys }),
        run: () => {
          if (tagKeys.length === 0) throw eksErrors.badRequest('tagKeys must contain at least one key.');
          const cluster = taggedCluster(env, ctx, arn);
          for (const k of tagKeys) delete cluster.tags[k];
          return null;
        },
      };
    }
  }
  throw new AwsError('UnknownOperationException', `The emulator does not implement EKS operation ${m} ${ctx.path.split('?')[0]}.`, 404);
}

function jsonReply(status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...extra }, body: JSON.stringify(body) };
}

/** EKS: REST-JSON. Errors are the HTTP status, `x-amzn-errortype` and `{"message"}`. */
export const eksService: Service = {
  resolve: route,
  success: (_op, payload, ctx) => jsonReply(200, payload ?? {}, ctx.requestId),
  error: (err, ctx) => jsonReply(err.status, { message: err.message, ...err.fields }, ctx.requestId, { 'x-amzn-errortype': err.code }),
  throttled: () => new AwsError('ThrottlingException', 'Rate exceeded', 429),
  serverError: () => new AwsError('ServerException', 'An internal error occurred (fault injected by the emulator).', 500),
};
