import { DescribeDhcpOptionsCommand, DescribeVpcAttributeCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { Ec2Port, VpcDnsFacts } from '../workflow/ports';
import type { ClientFor } from './eks';
import { toGuardError } from './errors';

/** The VPC facts the private endpoint's DNS depends on (endpoint-rules.md, rule 8). */
export function createEc2Port(clientFor: ClientFor<EC2Client>): Ec2Port {
  return {
    async vpcDnsFacts(cluster, vpcId): Promise<VpcDnsFacts> {
      const client = clientFor(cluster.account, cluster.region);
      const what = `VPC ${vpcId} (${cluster.account}/${cluster.region})`;
      try {
        const [support, hostnames, vpcs] = await Promise.all([
          client.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' })),
          client.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' })),
          client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })),
        ]);
        const dhcpOptionsId = vpcs.Vpcs?.[0]?.DhcpOptionsId ?? null;
        let domainNameServers: string[] = [];
        // "default" is the VPC's implicit options set, which uses AmazonProvidedDNS; no set means no DNS servers.
        if (dhcpOptionsId === 'default') domainNameServers = ['AmazonProvidedDNS'];
        else if (dhcpOptionsId) {
          const dhcp = await client.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [dhcpOptionsId] }));
          const config = dhcp.DhcpOptions?.[0]?.DhcpConfigurations ?? [];
          domainNameServers = config.filter((c) => c.Key === 'domain-name-servers').flatMap((c) => (c.Values ?? []).map((v) => v.Value ?? '')).filter(Boolean);
        }
        return {
          vpcId,
          enableDnsSupport: support.EnableDnsSupport?.Value === true,
          enableDnsHostnames: hostnames.EnableDnsHostnames?.Value === true,
          dhcpOptionsId,
          domainNameServers,
        };
      } catch (err) {
        throw toGuardError(err, `DNS settings of ${what}`);
      }
    },
  };
}
