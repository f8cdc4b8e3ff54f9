/** The EC2 port over the SDK: the VPC facts the private endpoint's DNS depends on (endpoint-rules.md). */
import { DescribeDhcpOptionsCommand, DescribeVpcAttributeCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AwsRequestRejectedError } from '../errors';
import type { Ec2Port, VpcDnsFacts } from '../workflow/ports';
import type { ClientFor } from './eks';
import type { WiringContext } from '../wiring';
import { call } from './errors';

/**
 * `default` is what EC2 reports for a VPC associated with no DHCP options set: the instances get no DNS
 * server from DHCP at all, so it lists no servers (and in particular not AmazonProvidedDNS).
 */
const NO_DHCP_OPTIONS = 'default';

/** Waits for every promise, then resolves like Promise.all or rejects with the first failure. */
async function settledAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export function createEc2Port(clientFor: ClientFor<EC2Client>): Ec2Port {
  return {
    async vpcDnsFacts(cluster, vpcId): Promise<VpcDnsFacts> {
      const client = clientFor(cluster.account, cluster.region);
      const context = (operation: string, detail = `VPC ${vpcId}`) => ({ operation, cluster, detail });
      // allSettled, not all: a failure must not leave the other calls running after the step has answered.
      const [support, hostnames, vpcs] = await settledAll([
        call(context('DescribeVpcAttribute'), () => client.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' }))),
        call(context('DescribeVpcAttribute'), () => client.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }))),
        call(context('DescribeVpcs'), () => client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))),
      ]);
      const vpc = vpcs.Vpcs?.find((v) => v.VpcId === vpcId) ?? vpcs.Vpcs?.[0];
      if (!vpc) throw new AwsRequestRejectedError(`DescribeVpcs on cluster ${cluster.name}: VPC ${vpcId} not found`, 'InvalidVpcID.NotFound');
      const dhcpOptionsId = vpc.DhcpOptionsId ?? null;
      let domainNameServers: string[] = [];
      if (dhcpOptionsId && dhcpOptionsId !== NO_DHCP_OPTIONS) {
        const out = await call(context('DescribeDhcpOptions', `DHCP options ${dhcpOptionsId} of VPC ${vpcId}`), () =>
          client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [dhcpOptionsId] })),
        );
        const configurations = out.DhcpOptions?.find((d) => d.DhcpOptionsId === dhcpOptionsId)?.DhcpConfigurations ?? [];
        domainNameServers = configurations
          .filter((c) => c.Key === 'domain-name-servers')
          .flatMap((c) => (c.Values ?? []).map((v) => v.Value ?? ''))
          .filter((server) => server !== '');
      }
      return {
        vpcId,
        enableDnsSupport: support.EnableDnsSupport?.Value === true,
        enableDnsHostnames: hostnames.EnableDnsHostnames?.Value === true,
        dhcpOptionsId,
        domainNameServers,
      };
    },
  };
}

/** The EC2 port of the preflight check (the cluster's own account). */
export const ec2Wiring = ({ clients }: WiringContext): Ec2Port => createEc2Port((account, region) => clients.forAccount(EC2Client, account, region));
