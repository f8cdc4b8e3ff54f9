import type { EC2Client } from '@aws-sdk/client-ec2';
import { createClientFactory } from '../../src/aws/clients';
import { createEc2Port, ec2Wiring } from '../../src/aws/ec2';
import { loadConfig } from '../../src/config';
import { AwsRequestRejectedError, TransientAwsError } from '../../src/errors';
import type { Emulator } from '../../src/emulator';
import type { Ec2Port } from '../../src/workflow/ports';
import { GUARD_ROLE_ARN, PROD, SANDBOX, cluster, rejectionOf, useAdapterEmulator } from './helpers';

let emulator: Emulator;
let ec2: Ec2Port;

useAdapterEmulator((e) => (emulator = e));
beforeEach(() => {
  const clients = createClientFactory({
    endpoint: emulator.url,
    credentials: emulator.credentialsFor(GUARD_ROLE_ARN),
    homeAccount: PROD,
    crossAccountRoleName: 'eks-endpoint-guard-member',
    maxAttempts: 1,
    now: () => emulator.clock.now(),
  });
  // The port as the preflight check is wired with it: the cluster's own account, by the cross-account role outside the home account.
  ec2 = ec2Wiring({ clients, config: loadConfig({}), now: () => emulator.clock.now() });
});

describe('vpcDnsFacts', () => {
  it('reads DNS support, DNS hostnames and the DHCP name servers of a healthy VPC', async () => {
    const facts = await ec2.vpcDnsFacts(cluster('prod-api'), 'vpc-0a1b2c3d4e5f60001');

    expect(facts).toEqual({
      vpcId: 'vpc-0a1b2c3d4e5f60001',
      enableDnsSupport: true,
      enableDnsHostnames: true,
      dhcpOptionsId: expect.stringMatching(/^dopt-/),
      domainNameServers: ['AmazonProvidedDNS'],
    });
  });

  it('reports DNS hostnames off', async () => {
    const facts = await ec2.vpcDnsFacts(cluster('legacy-billing', PROD, 'eu-west-1'), 'vpc-0a1b2c3d4e5f60002');

    expect(facts).toMatchObject({ enableDnsSupport: true, enableDnsHostnames: false, domainNameServers: ['AmazonProvidedDNS'] });
  });

  it('reports custom DNS servers of a VPC in another account (through the cross-account role)', async () => {
    const facts = await ec2.vpcDnsFacts(cluster('sandbox-dev', SANDBOX), 'vpc-0b1b2c3d4e5f60001');

    expect(facts).toEqual({
      vpcId: 'vpc-0b1b2c3d4e5f60001',
      enableDnsSupport: true,
      enableDnsHostnames: true,
      dhcpOptionsId: 'dopt-0b1b2c3d4e5f60001',
      domainNameServers: ['10.30.0.2', '10.30.0.3'],
    });
  });

  it('maps an unknown VPC to AwsRequestRejectedError naming the VPC', async () => {
    const err = await rejectionOf(ec2.vpcDnsFacts(cluster('prod-api'), 'vpc-0fffffffffffffff0'));

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err.message).toContain('vpc-0fffffffffffffff0');
  });

  it('maps throttled EC2 calls to TransientAwsError', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'DescribeVpcAttribute', times: 1 });

    const err = await rejectionOf(ec2.vpcDnsFacts(cluster('prod-api'), 'vpc-0a1b2c3d4e5f60001'));

    expect(err).toBeInstanceOf(TransientAwsError);
  });

  it('lists no name servers for a VPC associated with no DHCP options ("default"), without asking for them', async () => {
    const sent: string[] = [];
    const fake = {
      send: async (command: { constructor: { name: string }; input: { Attribute?: string } }) => {
        sent.push(command.constructor.name);
        if (command.constructor.name === 'DescribeVpcAttributeCommand') {
          return command.input.Attribute === 'enableDnsSupport' ? { EnableDnsSupport: { Value: true } } : { EnableDnsHostnames: { Value: true } };
        }
        return { Vpcs: [{ VpcId: 'vpc-0123456789abcdef0', DhcpOptionsId: 'default' }] };
      },
    } as unknown as EC2Client;

    const facts = await createEc2Port(() => fake).vpcDnsFacts(cluster('prod-api'), 'vpc-0123456789abcdef0');

    expect(facts).toEqual({ vpcId: 'vpc-0123456789abcdef0', enableDnsSupport: true, enableDnsHostnames: true, dhcpOptionsId: 'default', domainNameServers: [] });
    expect(sent).not.toContain('DescribeDhcpOptionsCommand');
  });
});
