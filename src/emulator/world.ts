import ipaddr from 'ipaddr.js';
import type { Clock } from './clock';
import { newClusterRecord, settle, type ClusterRecord } from './cluster';
import { stableId } from './ids';
import { Functions } from './lambda-functions';
import { SecurityHub } from './securityhub';
import { Queues } from './sqs-queues';
import type { ResolvedEmulatorState } from './state';

export type NatGatewayRecord = {
  id: string;
  publicIp: string;
  privateIp: string;
  allocationId: string;
  networkInterfaceId: string;
  subnetId: string;
};

export type VpcRecord = {
  id: string;
  account: string;
  region: string;
  cidrBlock: string;
  subnetIds: string[];
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  dhcpOptions: { id: string; domainNameServers: string[]; domainName?: string };
  natGateways: NatGatewayRecord[];
  createdAtMs: number;
};

export type TopicRecord = { name: string; account: string; region: string; arn: string };

export type MessageAttribute = { DataType: string; StringValue?: string; BinaryValue?: string };

export type PublishedMessage = {
  messageId: string;
  account: string;
  region: string;
  topicArn: string;
  subject?: string;
  message: string;
  messageStructure?: string;
  messageAttributes: Record<string, MessageAttribute>;
  /** ISO time on the emulator clock. */
  timestamp: string;
};

/** Accounts and regions are separate worlds: everything is keyed by both. */
function scope(account: string, region: string): string {
  return `${account}/${region}`;
}

function natPrivateIp(vpcCidr: string, index: number): string {
  const bytes = ipaddr.IPv4.networkAddressFromCIDR(vpcCidr).toByteArray();
  bytes[3] = (bytes[3] ?? 0) + 10 + index;
  return ipaddr.fromByteArray(bytes).toString();
}

/** All emulated resources. Reads go through here so that clusters are settled against the clock first. */
export class World {
  private clusters = new Map<string, Map<string, ClusterRecord>>();
  private vpcs = new Map<string, VpcRecord>();
  private topics = new Map<string, Map<string, TopicRecord>>();
  private accountNames = new Map<string, string | undefined>();
  readonly messages: PublishedMessage[] = [];
  /** Security Hub's hubs and findings. */
  readonly securityHub = new SecurityHub(() => this.clock.now());
  /** SQS queues and their messages. */
  readonly queues = new Queues(() => this.clock.now());
  /** Lambda functions registered by code (they survive `load`), and their invocations. */
  readonly functions = new Functions(() => this.clock.now(), this.queues);

  constructor(
    private readonly clock: Clock,
    private readonly creationMs: () => number,
  ) {}

  load(state: ResolvedEmulatorState): void {
    const now = this.clock.now();
    this.clusters.clear();
    this.vpcs.clear();
    this.topics.clear();
    this.accountNames.clear();
    this.messages.length = 0;
    this.securityHub.load(state.securityHub);
    this.queues.load(state.sqs?.queues ?? []);
    this.functions.reset();
    for (const account of state.accounts) this.accountNames.set(account.id, account.name);
    for (const vpc of state.vpcs) {
      const { id: dhcpId, ...dhcp } = vpc.dhcpOptions;
      this.vpcs.set(vpc.id, {
        id: vpc.id,
        account: vpc.account,
        region: vpc.region,
        cidrBlock: vpc.cidrBlock,
        subnetIds: vpc.subnetIds,
        enableDnsSupport: vpc.enableDnsSupport,
        enableDnsHostnames: vpc.enableDnsHostnames,
        dhcpOptions: { id: dhcpId ?? stableId('dopt-', `${vpc.id}/dhcp`), ...dhcp },
        natGateways: vpc.natGatewayIps.map((ip, i) => ({
          id: stableId('nat-', `${vpc.id}/${ip}`),
          publicIp: ip,
          privateIp: natPrivateIp(vpc.cidrBlock, i),
          allocationId: stableId('eipalloc-', ip),
          networkInterfaceId: stableId('eni-', `${vpc.id}/${ip}`),
          subnetId: vpc.subnetIds[0] ?? stableId('subnet-', `${vpc.id}/public`),
        })),
        createdAtMs: now,
      });
    }
    for (const c of state.clusters) {
      const vpc = c.vpcId ? this.vpcs.get(c.vpcId) : undefined;
      this.addCluster(
        newClusterRecord({
          ...c,
          nowMs: now,
          // A seeded CREATING cluster starts its creation now; every other seeded cluster already exists.
          creationMs: c.status === 'CREATING' ? this.creationMs() : 0,
          restingStatus: c.status === 'CREATING' ? 'ACTIVE' : c.status,
          ...(vpc ? { subnetIds: vpc.subnetIds } : {}),
        }),
      );
    }
    for (const t of state.topics) this.addTopic(t.account, t.region, t.name);
  }

  accounts(): { id: string; name?: string }[] {
    const ids = new Set<string>(this.accountNames.keys());
    for (const key of [...this.clusters.keys(), ...this.topics.keys()]) ids.add(key.split('/')[0]!);
    for (const vpc of this.vpcs.values()) ids.add(vpc.account);
    return [...ids].sort().map((id) => {
      const name = this.accountNames.get(id);
      return name === undefined ? { id } : { id, name };
    });
  }

  cluster(account: string, region: string, name: string): ClusterRecord | undefined {
    const found = this.clusters.get(scope(account, region))?.get(name);
    return found && settle(found, this.clock.now());
  }

  clusterList(account: string, region: string): ClusterRecord[] {
    const now = this.clock.now();
    return [...(this.clusters.get(scope(account, region))?.values() ?? [])].map((c) => settle(c, now)).sort((a, b) => a.name.localeCompare(b.name));
  }

  allClusters(): ClusterRecord[] {
    const now = this.clock.now();
    return [...this.clusters.values()].flatMap((m) => [...m.values()]).map((c) => settle(c, now));
  }

  /** Removes a cluster; returns it, or undefined when there was none. */
  removeCluster(account: string, region: string, name: string): ClusterRecord | undefined {
    const inScope = this.clusters.get(scope(account, region));
    const cluster = inScope?.get(name);
    if (cluster) inScope!.delete(name);
    return cluster;
  }

  addCluster(cluster: ClusterRecord): void {
    // A cluster placed in no declared VPC lives in its region's default VPC, which AWS creates with DNS
    // support, DNS hostnames and AmazonProvidedDNS: make it exist, so EC2 can describe what EKS reports.
    if (!this.vpcs.has(cluster.vpcId)) {
      this.vpcs.set(cluster.vpcId, {
        id: cluster.vpcId,
        account: cluster.account,
        region: cluster.region,
        cidrBlock: '172.31.0.0/16',
        subnetIds: cluster.subnetIds,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        dhcpOptions: { id: stableId('dopt-', `${cluster.vpcId}/dhcp`), domainNameServers: ['AmazonProvidedDNS'] },
        natGateways: [],
        createdAtMs: this.clock.now(),
      });
    }
    const key = scope(cluster.account, cluster.region);
    let inScope = this.clusters.get(key);
    if (!inScope) this.clusters.set(key, (inScope = new Map()));
    inScope.set(cluster.name, cluster);
  }

  vpcList(account: string, region: string): VpcRecord[] {
    return [...this.vpcs.values()].filter((v) => v.account === account && v.region === region);
  }

  allVpcs(): VpcRecord[] {
    return [...this.vpcs.values()];
  }

  topic(account: string, region: string, name: string): TopicRecord | undefined {
    return this.topics.get(scope(account, region))?.get(name);
  }

  topicList(account: string, region: string): TopicRecord[] {
    return [...(this.topics.get(scope(account, region))?.values() ?? [])];
  }

  allTopics(): TopicRecord[] {
    return [...this.topics.values()].flatMap((m) => [...m.values()]);
  }

  addTopic(account: string, region: string, name: string): TopicRecord {
    const key = scope(account, region);
    let inScope = this.topics.get(key);
    if (!inScope) this.topics.set(key, (inScope = new Map()));
    const existing = inScope.get(name);
    if (existing) return existing;
    const topic = { name, account, region, arn: `arn:aws:sns:${region}:${account}:${name}` };
    inScope.set(name, topic);
    return topic;
  }
}
