import { AwsError, type CallContext, type Env, type Service } from './protocol';
import type { VpcRecord } from './world';
import { itemSet, listParam, resolveAction, xmlReply, type QueryAction } from './xml';

const NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

type Filter = { name: string; values: string[] };

function filters(params: URLSearchParams): Filter[] {
  const out: Filter[] = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) out.push({ name: params.get(`Filter.${i}.Name`)!, values: listParam(params, `Filter.${i}.Value`) });
  return out;
}

/** Applies EC2 filters; a filter name the resource does not know is refused, as EC2 does. */
function applyFilters<T>(items: T[], given: Filter[], fields: Record<string, (item: T) => string[]>): T[] {
  for (const f of given) {
    if (!fields[f.name]) throw new AwsError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
  }
  return items.filter((item) => given.every((f) => fields[f.name]!(item).some((v) => f.values.includes(v))));
}

function missing(name: string): AwsError {
  return new AwsError('MissingParameter', `The request must contain the parameter ${name}`);
}

function vpcOrThrow(env: Env, ctx: CallContext, id: string): VpcRecord {
  const vpc = env.world.vpcList(ctx.account, ctx.region).find((v) => v.id === id);
  if (!vpc) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
  return vpc;
}

function describeVpcs(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const ids = listParam(params, 'VpcId');
  for (const id of ids) vpcOrThrow(env, ctx, id);
  const all = env.world.vpcList(ctx.account, ctx.region).filter((v) => ids.length === 0 || ids.includes(v.id));
  const vpcs = applyFilters(all, filters(params), {
    'vpc-id': (v) => [v.id],
    'dhcp-options-id': (v) => [v.dhcpOptions.id],
    'owner-id': (v) => [v.account],
    state: () => ['available'],
    'cidr-block': (v) => [v.cidrBlock],
    'is-default': () => ['false'],
  });
  return {
    vpcSet: itemSet(
      vpcs.map((v) => ({
        vpcId: v.id,
        ownerId: v.account,
        state: 'available',
        cidrBlock: v.cidrBlock,
        cidrBlockAssociationSet: itemSet([{ cidrBlock: v.cidrBlock, associationId: `vpc-cidr-assoc-${v.id.slice(4)}`, cidrBlockState: { state: 'associated' } }]),
        dhcpOptionsId: v.dhcpOptions.id,
        instanceTenancy: 'default',
        isDefault: false,
      })),
    ),
  };
}

function describeVpcAttribute(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const vpcId = params.get('VpcId');
  if (!vpcId) throw missing('VpcId');
  const attribute = params.get('Attribute');
  if (!attribute) throw missing('Attribute');
  const vpc = vpcOrThrow(env, ctx, vpcId);
  const values: Record<string, boolean> = {
    enableDnsSupport: vpc.enableDnsSupport,
    enableDnsHostnames: vpc.enableDnsHostnames,
    enableNetworkAddressUsageMetrics: false,
  };
  if (!(attribute in values)) throw new AwsError('InvalidParameterValue', `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
  return { vpcId: vpc.id, [attribute]: { value: values[attribute] } };
}

function describeDhcpOptions(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const byId = new Map<string, VpcRecord['dhcpOptions'] & { owner: string }>();
  for (const v of env.world.vpcList(ctx.account, ctx.region)) byId.set(v.dhcpOptions.id, { ...v.dhcpOptions, owner: v.account });
  const ids = listParam(params, 'DhcpOptionsId');
  for (const id of ids) if (!byId.has(id)) throw new AwsError('InvalidDhcpOptionID.NotFound', `The dhcpOption ID '${id}' does not exist`);
  const configs = (d: VpcRecord['dhcpOptions']) => [
    { key: 'domain-name-servers', values: d.domainNameServers },
    ...(d.domainName ? [{ key: 'domain-name', values: [d.domainName] }] : []),
  ];
  const all = [...byId.values()].filter((d) => ids.length === 0 || ids.includes(d.id));
  const options = applyFilters(all, filters(params), {
    'dhcp-options-id': (d) => [d.id],
    key: (d) => configs(d).map((c) => c.key),
    value: (d) => configs(d).flatMap((c) => c.values),
    'owner-id': (d) => [d.owner],
  });
  return {
    dhcpOptionsSet: itemSet(
      options.map((d) => ({
        dhcpOptionsId: d.id,
        ownerId: d.owner,
        dhcpConfigurationSet: itemSet(configs(d).map((c) => ({ key: c.key, valueSet: itemSet(c.values.map((value) => ({ value }))) }))),
        tagSet: '',
      })),
    ),
  };
}

function describeNatGateways(env: Env, ctx: CallContext, params: URLSearchParams): unknown {
  const ids = listParam(params, 'NatGatewayId');
  const all = env.world
    .vpcList(ctx.account, ctx.region)
    .flatMap((vpc) => vpc.natGateways.map((nat) => ({ vpc, nat })))
    .filter(({ nat }) => ids.length === 0 || ids.includes(nat.id));
  for (const id of ids) if (!all.some(({ nat }) => nat.id === id)) throw new AwsError('NatGatewayNotFound', `The Nat Gateway ${id} was not found`);
  const gateways = applyFilters(all, filters(params), {
    'vpc-id': ({ vpc }) => [vpc.id],
    'nat-gateway-id': ({ nat }) => [nat.id],
    'subnet-id': ({ nat }) => [nat.subnetId],
    state: () => ['available'],
  });
  return {
    natGatewaySet: itemSet(
      gateways.map(({ vpc, nat }) => ({
        natGatewayId: nat.id,
        vpcId: vpc.id,
        subnetId: nat.subnetId,
        state: 'available',
        connectivityType: 'public',
        createTime: new Date(vpc.createdAtMs).toISOString(),
        natGatewayAddressSet: itemSet([
          {
            allocationId: nat.allocationId,
            networkInterfaceId: nat.networkInterfaceId,
            privateIp: nat.privateIp,
            publicIp: nat.publicIp,
            isPrimary: true,
            status: 'succeeded',
          },
        ]),
        tagSet: '',
      })),
    ),
  };
}

const ACTIONS: Record<string, QueryAction> = {
  DescribeVpcs: describeVpcs,
  DescribeVpcAttribute: describeVpcAttribute,
  DescribeDhcpOptions: describeDhcpOptions,
  DescribeNatGateways: describeNatGateways,
};

/** EC2: its own query protocol; results sit directly under `<ActionResponse>`, errors under `<Response><Errors>`. */
export const ec2Service: Service = {
  resolve: (ctx, env) => resolveAction(ctx, env, ACTIONS, (a) => `The action ${a} is not valid for this web service.`),
  success: (op, payload, ctx) =>
    xmlReply(200, { [`${op.name}Response`]: { '@_xmlns': NAMESPACE, requestId: ctx.requestId, ...(payload as object) } }, ctx.requestId),
  error: (err, ctx) =>
    xmlReply(err.status, { Response: { Errors: { Error: { Code: err.code, Message: err.message } }, RequestID: ctx.requestId } }, ctx.requestId),
  throttled: () => new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503),
  serverError: () => new AwsError('InternalError', 'An internal error has occurred (fault injected by the emulator).', 500),
};
