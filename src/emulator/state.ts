import * as z from 'zod';
import ipaddr from 'ipaddr.js';
import { InputError } from '../errors';
import { isCanonicalCidr } from './cidr';
import { faultSchema } from './faults';
import { roleReferenceProblems, roleSchema } from './iam';
import { organizationAccountIds, organizationReferenceProblems, organizationStateSchema } from './organization-state';
import { eventBridgeReferenceProblems, eventBridgeStateSchema } from './eventbridge-state';
import { securityHubReferenceProblems, securityHubStateSchema } from './securityhub-state';
import { sqsReferenceProblems, sqsStateSchema } from './sqs-state';
import { ownRecord } from '../records';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name such as us-east-1');
const cidr = z.string().refine(isCanonicalCidr, 'must be a CIDR block without host bits, such as 203.0.113.0/24');
const ipv4 = z.string().refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), 'must be an IPv4 address');
const iamName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM name (letters, digits and +=,.@_-)');
const principalArn = z
  .string()
  .regex(
    /^arn:aws:(iam::\d{12}:(user|role)\/[\w+=,.@/-]+|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/,
    'must be arn:aws:iam::ACCOUNT:user/NAME, arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION',
  );

const accessKeySchema = z.strictObject({
  accessKeyId: z.string().regex(/^\w{1,128}$/, 'must be letters, digits or underscores'),
  secretAccessKey: z.string().optional(),
  /** IAM user name the key belongs to; the default is `local-user`. */
  user: iamName.optional(),
  /** Alternative to `user`: any principal (e.g. an assumed-role session) the key acts as. */
  principalArn: principalArn.optional(),
});

const accountSchema = z.strictObject({
  id: accountId,
  name: z.string().optional(),
  accessKeys: z.array(accessKeySchema).default([]),
  /** AssumeRole into this account succeeds only for declared roles that trust the caller (as any account with a declared role). */
  strictRoles: z.boolean().optional(),
});

const vpcSchema = z.strictObject({
  id: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id such as vpc-0a1b2c3d'),
  account: accountId,
  region,
  cidrBlock: cidr.default('10.0.0.0/16'),
  subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0a1b2c3d')).default([]),
  enableDnsSupport: z.boolean().default(true),
  enableDnsHostnames: z.boolean().default(true),
  dhcpOptions: z
    .strictObject({
      id: z.string().regex(/^dopt-[0-9a-f]{8,17}$/, 'must be a DHCP options id such as dopt-0a1b2c3d').optional(),
      domainNameServers: z.array(z.string().min(1)).min(1).max(4).default(['AmazonProvidedDNS']),
      domainName: z.string().optional(),
    })
    .default({ domainNameServers: ['AmazonProvidedDNS'] }),
  natGatewayIps: z.array(ipv4).default([]),
});

const clusterSchema = z.strictObject({
  name: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'must be an EKS cluster name (letters, digits, - and _, at most 100)'),
  account: accountId,
  region,
  vpcId: z.string().optional(),
  endpointPublicAccess: z.boolean().default(true),
  endpointPrivateAccess: z.boolean().default(false),
  /** Omitted: EKS's default, 0.0.0.0/0 (plus ::/0 on IPv6 clusters). */
  publicAccessCidrs: z.array(cidr).optional(),
  tags: ownRecord(z.string(), z.string()).default({}),
  /** UPDATING is not a seedable status: start an update (or a platform update) instead. */
  status: z.enum(['ACTIVE', 'CREATING', 'FAILED', 'DELETING', 'PENDING']).default('ACTIVE'),
  version: z.string().regex(/^\d+\.\d+$/, 'must be a Kubernetes version such as 1.33').default('1.33'),
  platformVersion: z.string().regex(/^eks\.\d+$/, 'must be a platform version such as eks.5').default('eks.1'),
  roleArn: z.string().optional(),
  ipFamily: z.enum(['ipv4', 'ipv6']).default('ipv4'),
});

const topicSchema = z.strictObject({
  name: z.string().regex(/^[\w-]{1,256}$/, 'must be an SNS topic name (letters, digits, - and _)'),
  account: accountId,
  region,
});

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));
const attributeName = z.string().min(1, 'must be a non-empty attribute name').max(255, 'must be at most 255 characters');

const dynamoTableSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 letters, digits, _ . and -)'),
  account: accountId,
  region,
  partitionKey: attributeName.default('pk'),
  /** S (string, the default) or N (number). */
  partitionKeyType: z.enum(['S', 'N']).default('S'),
  sortKey: attributeName.optional(),
  /** S (string, the default when there is a sort key) or N (number). */
  sortKeyType: z.enum(['S', 'N']).optional(),
  /** The attribute DescribeTimeToLive reports as enabled (items are not expired by the emulator). */
  ttlAttribute: attributeName.optional(),
  /** Plain JSON items, written as the DynamoDB document client would marshal them (arrays are lists, objects maps). */
  items: z.array(z.record(z.string(), jsonValue)).default([]),
});

/**
 * The emulator's state file. Exported as a plain zod object (no top-level refinements) so that
 * simulation scenarios can `.extend()` it; cross-references are checked by `stateReferenceProblems`.
 */
export const emulatorStateSchema = z.strictObject({
  /** Account of access keys that are neither declared nor 12-digit account ids. */
  defaultAccount: accountId.optional(),
  /** Emulated seconds an update (and a cluster creation) stays in progress. */
  updateSeconds: z.number().nonnegative().optional(),
  accounts: z.array(accountSchema).default([]),
  vpcs: z.array(vpcSchema).default([]),
  clusters: z.array(clusterSchema).default([]),
  topics: z.array(topicSchema).default([]),
  dynamodb: z.strictObject({ tables: z.array(dynamoTableSchema).default([]) }).default({ tables: [] }),
  /** One AWS Organization; its accounts count as declared (they are added to `accounts` when missing). */
  organization: organizationStateSchema.optional(),
  /** IAM roles STS AssumeRole checks; see iam.ts for which accounts are strict. */
  roles: z.array(roleSchema).default([]),
  /** Faults active from the start (and again after reset), as if set through setFault. */
  faults: z.array(faultSchema).default([]),
  /** EventBridge buses (with resource policies) and rules with targets; every account and region has a `default` bus. */
  eventBridge: eventBridgeStateSchema.optional(),
  /** Where Security Hub is enabled: every account and region without this section or its `hubs`, else only the hubs listed. */
  securityHub: securityHubStateSchema.optional(),
  /** SQS standard queues (created empty) with their attributes. */
  sqs: sqsStateSchema.optional(),
});

/** A state document as authors write it (defaults may be omitted). */
export type EmulatorState = z.input<typeof emulatorStateSchema>;
/** A validated state document with every default filled in. */
export type ResolvedEmulatorState = z.output<typeof emulatorStateSchema>;
export type StateCluster = ResolvedEmulatorState['clusters'][number];
export type StateVpc = ResolvedEmulatorState['vpcs'][number];
export type StateDynamoTable = ResolvedEmulatorState['dynamodb']['tables'][number];

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function issueText(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  const what = issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
  return where ? `${where}: ${what}` : what;
}

/**
 * Problems zod cannot see because they span entries: undeclared accounts, duplicate names, a cluster
 * whose VPC is missing or lives elsewhere, endpoint settings EKS itself would refuse, DynamoDB items
 * without their key attributes or with a key already taken.
 */
export function stateReferenceProblems(state: ResolvedEmulatorState): string[] {
  const problems: string[] = [];
  const accounts = new Set<string>();
  const keys = new Set<string>();
  state.accounts.forEach((account, i) => {
    if (accounts.has(account.id)) problems.push(`accounts[${i}].id: account ${account.id} is declared twice`);
    accounts.add(account.id);
    account.accessKeys.forEach((key, k) => {
      const at = `accounts[${i}].accessKeys[${k}]`;
      if (keys.has(key.accessKeyId)) problems.push(`${at}.accessKeyId: ${key.accessKeyId} is declared twice`);
      keys.add(key.accessKeyId);
      if (key.user && key.principalArn) problems.push(`${at}: give user or principalArn, not both`);
      if (key.principalArn && key.principalArn.split(':')[4] !== account.id) {
        problems.push(`${at}.principalArn: ${key.principalArn} is not in account ${account.id}`);
      }
    });
  });
  if (state.organization) {
    // Organization members are declared by the organization section itself; a name given twice must agree.
    problems.push(...organizationReferenceProblems(state.organization));
    const names = new Map(state.accounts.map((a) => [a.id, a.name]));
    state.organization.accounts.forEach((member, i) => {
      const name = names.get(member.id);
      if (member.name && name && member.name !== name) problems.push(`organization.accounts[${i}].name: ${member.name} differs from ${name}, the name accounts gives ${member.id}`);
    });
    for (const id of organizationAccountIds(state.organization)) accounts.add(id);
  }
  const declared = (id: string, at: string) => {
    if (!accounts.has(id)) problems.push(`${at}: account ${id} is not declared in accounts`);
  };
  if (state.defaultAccount) declared(state.defaultAccount, 'defaultAccount');

  const vpcs = new Map<string, StateVpc>();
  const dhcp = new Map<string, string>();
  state.vpcs.forEach((vpc, i) => {
    declared(vpc.account, `vpcs[${i}].account`);
    if (vpcs.has(vpc.id)) problems.push(`vpcs[${i}].id: VPC ${vpc.id} is declared twice`);
    vpcs.set(vpc.id, vpc);
    const { id, ...config } = vpc.dhcpOptions;
    if (id) {
      const scoped = `${vpc.account}/${vpc.region}/${id}`;
      const seen = dhcp.get(scoped);
      if (seen !== undefined && seen !== JSON.stringify(config)) problems.push(`vpcs[${i}].dhcpOptions: ${id} is declared twice with different settings`);
      dhcp.set(scoped, JSON.stringify(config));
    }
  });

  const clusters = new Set<string>();
  state.clusters.forEach((cluster, i) => {
    const at = `clusters[${i}]`;
    declared(cluster.account, `${at}.account`);
    const scoped = `${cluster.account}/${cluster.region}/${cluster.name}`;
    if (clusters.has(scoped)) problems.push(`${at}.name: cluster ${cluster.name} is declared twice in ${cluster.account} ${cluster.region}`);
    clusters.add(scoped);
    if (cluster.vpcId) {
      const vpc = vpcs.get(cluster.vpcId);
      if (!vpc) problems.push(`${at}.vpcId: VPC ${cluster.vpcId} is not declared in vpcs`);
      else if (vpc.account !== cluster.account || vpc.region !== cluster.region) {
        problems.push(`${at}.vpcId: VPC ${cluster.vpcId} is in ${vpc.account} ${vpc.region}, not ${cluster.account} ${cluster.region}`);
      }
    }
    if (!cluster.endpointPublicAccess && !cluster.endpointPrivateAccess) {
      problems.push(`${at}: endpointPublicAccess and endpointPrivateAccess cannot both be false (EKS refuses it)`);
    }
    if ((cluster.publicAccessCidrs?.length ?? 0) > 40) problems.push(`${at}.publicAccessCidrs: at most 40 CIDR blocks`);
  });

  const topics = new Set<string>();
  state.topics.forEach((topic, i) => {
    declared(topic.account, `topics[${i}].account`);
    const scoped = `${topic.account}/${topic.region}/${topic.name}`;
    if (topics.has(scoped)) problems.push(`topics[${i}].name: topic ${topic.name} is declared twice in ${topic.account} ${topic.region}`);
    topics.add(scoped);
  });

  const tables = new Set<string>();
  state.dynamodb.tables.forEach((table, i) => {
    const at = `dynamodb.tables[${i}]`;
    declared(table.account, `${at}.account`);
    const scoped = `${table.account}/${table.region}/${table.name}`;
    if (tables.has(scoped)) problems.push(`${at}.name: table ${table.name} is declared twice in ${table.account} ${table.region}`);
    tables.add(scoped);
    if (table.sortKeyType && !table.sortKey) problems.push(`${at}.sortKeyType: give sortKey too`);
    if (table.sortKey === table.partitionKey) problems.push(`${at}.sortKey: must differ from partitionKey (${table.partitionKey})`);
    const keyAttributes: [string, 'S' | 'N'][] = [[table.partitionKey, table.partitionKeyType]];
    if (table.sortKey) keyAttributes.push([table.sortKey, table.sortKeyType ?? 'S']);
    const keys = new Set<string>();
    table.items.forEach((item, k) => {
      const values = keyAttributes.map(([name, type]) => {
        const value = item[name];
        const fits = type === 'S' ? typeof value === 'string' && value !== '' : typeof value === 'number';
        if (!fits) problems.push(`${at}.items[${k}].${name}: the key attribute must be ${type === 'S' ? 'a non-empty string' : 'a number'}`);
        return value;
      });
      const key = JSON.stringify(values);
      if (keys.has(key)) problems.push(`${at}.items[${k}]: an item with the key ${key} is declared twice`);
      keys.add(key);
    });
  });
  if (state.eventBridge) problems.push(...eventBridgeReferenceProblems(state.eventBridge, declared));
  if (state.securityHub) problems.push(...securityHubReferenceProblems(state.securityHub, declared));
  if (state.sqs) problems.push(...sqsReferenceProblems(state.sqs, declared));
  const members = new Set(state.organization ? organizationAccountIds(state.organization) : []);
  problems.push(...roleReferenceProblems(state.roles, accounts, (id) => (members.has(id) ? 'member' : null)));
  return problems;
}

/** Adds the organization's members that `accounts` lacks (named as the organization names them), so they exist like declared accounts. */
function withOrganizationAccounts(state: ResolvedEmulatorState): ResolvedEmulatorState {
  if (!state.organization) return state;
  const known = new Set(state.accounts.map((a) => a.id));
  const members = new Map(state.organization.accounts.map((a) => [a.id, a]));
  const added = organizationAccountIds(state.organization)
    .filter((id) => !known.has(id))
    .map((id) => {
      const name = members.get(id)?.name;
      return name === undefined ? { id, accessKeys: [] } : { id, name, accessKeys: [] };
    });
  const named = state.accounts.map((a) => (a.name === undefined && members.get(a.id)?.name ? { ...a, name: members.get(a.id)!.name } : a));
  return { ...state, accounts: [...named, ...added] };
}

/**
 * Validates a state document (already parsed from YAML or JSON) and fills in defaults. Throws an
 * InputError listing every problem as `SOURCE: path: message`; an empty document is an empty state.
 */
export function parseEmulatorState(doc: unknown, sourceName: string): ResolvedEmulatorState {
  const parsed = emulatorStateSchema.safeParse(doc ?? {});
  if (!parsed.success) throw new InputError(parsed.error.issues.map((issue) => `${sourceName}: ${issueText(issue)}`));
  const problems = stateReferenceProblems(parsed.data);
  if (problems.length > 0) throw new InputError(problems.map((p) => `${sourceName}: ${p}`));
  return withOrganizationAccounts(parsed.data);
}
