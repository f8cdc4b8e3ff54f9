import {
  DescribeDhcpOptionsCommand,
  DescribeNatGatewaysCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type VpcAttributeName,
} from '@aws-sdk/client-ec2';
import type { Emulator } from '../../src/emulator';
import { BOB, PROD, SANDBOX, ec2Client, rejectionOf, startDemo } from './helpers';

let emulator: Emulator;
let prod: EC2Client;
let prodEu: EC2Client;
let sandbox: EC2Client;

beforeAll(async () => {
  emulator = await startDemo();
  prod = ec2Client(emulator);
  prodEu = ec2Client(emulator, { region: 'eu-west-1' });
  sandbox = ec2Client(emulator, { credentials: BOB });
});
afterAll(async () => {
  for (const c of [prod, prodEu, sandbox]) c.destroy();
  await emulator.close();
});

const clients = () => ({ prod, prodEu, sandbox });

describe('DescribeVpcs', () => {
  it('returns the VPCs of the caller account and region only', async () => {
    const { Vpcs } = await prod.send(new DescribeVpcsCommand({}));
    expect(Vpcs).toEqual([
      expect.objectContaining({ VpcId: 'vpc-0a1b2c3d4e5f60001', OwnerId: PROD, State: 'available', CidrBlock: '10.10.0.0/16', DhcpOptionsId: expect.stringMatching(/^dopt-/) }),
    ]);
    expect((await sandbox.send(new DescribeVpcsCommand({}))).Vpcs?.map((v) => [v.VpcId, v.OwnerId])).toEqual([['vpc-0b1b2c3d4e5f60001', SANDBOX]]);
  });

  it.each([
    ['VpcIds', { VpcIds: ['vpc-0a1b2c3d4e5f60001'] }, ['vpc-0a1b2c3d4e5f60001']],
    ['a vpc-id filter', { Filters: [{ Name: 'vpc-id', Values: ['vpc-0a1b2c3d4e5f60001', 'vpc-0fffffff'] }] }, ['vpc-0a1b2c3d4e5f60001']],
    ['a filter that matches nothing', { Filters: [{ Name: 'vpc-id', Values: ['vpc-0fffffff'] }] }, []],
  ])('selects by %s', async (_how, input, expected) => {
    expect((await prod.send(new DescribeVpcsCommand(input))).Vpcs?.map((v) => v.VpcId)).toEqual(expected);
  });

  it.each([
    [{ VpcIds: ['vpc-0b1b2c3d4e5f60001'] }, 'InvalidVpcID.NotFound', "The vpc ID 'vpc-0b1b2c3d4e5f60001' does not exist"],
    [{ Filters: [{ Name: 'colour', Values: ['blue'] }] }, 'InvalidParameterValue', "The filter 'colour' is invalid"],
  ])('refuses %p', async (input, code, message) => {
    const err = await rejectionOf(prod.send(new DescribeVpcsCommand(input)));
    expect(err).toMatchObject({ name: code, message });
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});

describe('DescribeVpcAttribute', () => {
  it.each([
    ['prod', 'vpc-0a1b2c3d4e5f60001', 'enableDnsSupport', true],
    ['prod', 'vpc-0a1b2c3d4e5f60001', 'enableDnsHostnames', true],
    ['prodEu', 'vpc-0a1b2c3d4e5f60002', 'enableDnsSupport', true],
    ['prodEu', 'vpc-0a1b2c3d4e5f60002', 'enableDnsHostnames', false],
  ] as const)('%s %s %s is %p', async (client, vpcId, attribute, expected) => {
    const result = await clients()[client].send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: attribute }));
    expect(result.VpcId).toBe(vpcId);
    expect(attribute === 'enableDnsSupport' ? result.EnableDnsSupport : result.EnableDnsHostnames).toEqual({ Value: expected });
  });

  it.each([
    [{ VpcId: 'vpc-0a1b2c3d4e5f60001', Attribute: 'colour' }, 'InvalidParameterValue'],
    [{ VpcId: 'vpc-0a1b2c3d4e5f60002', Attribute: 'enableDnsSupport' }, 'InvalidVpcID.NotFound'],
    [{ VpcId: 'vpc-0a1b2c3d4e5f60001' }, 'MissingParameter'],
  ])('refuses %p', async (input, code) => {
    const err = await rejectionOf(prod.send(new DescribeVpcAttributeCommand(input as { VpcId: string; Attribute: VpcAttributeName })));
    expect(err.name).toBe(code);
  });
});

describe('DescribeDhcpOptions', () => {
  it.each([
    ['prod', ['AmazonProvidedDNS'], undefined],
    ['sandbox', ['10.30.0.2', '10.30.0.3'], 'corp.example.internal'],
  ] as const)('%s: returns the DHCP options set of the VPC', async (client, servers, domain) => {
    const { Vpcs } = await clients()[client].send(new DescribeVpcsCommand({}));
    const { DhcpOptions } = await clients()[client].send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [Vpcs![0]!.DhcpOptionsId!] }));
    expect(DhcpOptions).toHaveLength(1);
    const configs = Object.fromEntries(DhcpOptions![0]!.DhcpConfigurations!.map((c) => [c.Key, c.Values!.map((v) => v.Value)]));
    expect(configs['domain-name-servers']).toEqual(servers);
    expect(configs['domain-name']).toEqual(domain && [domain]);
  });

  it('filters by key and refuses an unknown id', async () => {
    const { DhcpOptions } = await sandbox.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'key', Values: ['domain-name'] }] }));
    expect(DhcpOptions?.map((d) => d.DhcpOptionsId)).toEqual(['dopt-0b1b2c3d4e5f60001']);
    const err = await rejectionOf(prod.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: ['dopt-0b1b2c3d4e5f60001'] })));
    expect(err.name).toBe('InvalidDhcpOptionID.NotFound');
  });
});

describe('DescribeNatGateways', () => {
  it.each([
    ['prod', 'vpc-0a1b2c3d4e5f60001', ['203.0.113.10', '203.0.113.11']],
    ['prodEu', 'vpc-0a1b2c3d4e5f60002', ['198.51.100.20']],
    ['sandbox', 'vpc-0b1b2c3d4e5f60001', ['192.0.2.30']],
    ['prod', 'vpc-0b1b2c3d4e5f60001', []],
  ] as const)('%s: NAT public IPs of %s', async (client, vpcId, ips) => {
    const { NatGateways } = await clients()[client].send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }] }));
    expect(NatGateways?.flatMap((n) => n.NatGatewayAddresses!.map((a) => a.PublicIp))).toEqual(ips);
    for (const n of NatGateways ?? []) expect(n).toMatchObject({ VpcId: vpcId, State: 'available', NatGatewayId: expect.stringMatching(/^nat-/) });
  });
});
