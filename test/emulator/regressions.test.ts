/** Cases an independent audit of the emulator found wrong; each stays fixed. */
import { DescribeVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { PublishCommand } from '@aws-sdk/client-sns';
import { manualClock, startEmulator, type Emulator } from '../../src/emulator';
import { ec2Client, eksClient, rejectionOf, snsClient } from './helpers';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    clock: manualClock(),
    state: {
      accounts: [{ id: '111122223333' }],
      clusters: [{ name: 'no-vpc', account: '111122223333', region: 'us-east-1', endpointPublicAccess: true, endpointPrivateAccess: true }],
      topics: [{ name: 'alerts', account: '111122223333', region: 'us-east-1' }],
    },
  });
});
afterAll(() => emulator.close());

const creds = { accessKeyId: '111122223333', secretAccessKey: 'local' };

test('a cluster placed in no declared VPC reports a VPC that EC2 can describe (the default VPC, DNS on)', async () => {
  const eks = eksClient(emulator, { credentials: creds });
  const ec2 = ec2Client(emulator, { credentials: creds });
  const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'no-vpc' }));
  const vpcId = cluster!.resourcesVpcConfig!.vpcId!;
  const attr = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }));
  expect(attr.EnableDnsHostnames?.Value).toBe(true);
});

test('a busy cluster is refused with ResourceInUseException before the request itself is judged', async () => {
  const eks = eksClient(emulator, { credentials: creds });
  await eks.send(new UpdateClusterConfigCommand({ name: 'no-vpc', resourcesVpcConfig: { publicAccessCidrs: ['203.0.113.0/24'] } }));
  // Against the current settings this would also be "both endpoints off"; the running update comes first.
  const err = await rejectionOf(eks.send(new UpdateClusterConfigCommand({ name: 'no-vpc', resourcesVpcConfig: { endpointPrivateAccess: false, endpointPublicAccess: false } })));
  expect(err.name).toBe('ResourceInUseException');
  expect(err.$metadata?.httpStatusCode).toBe(409);
});

test('an oversized query-protocol request gets an XML error the SDK can read', async () => {
  const sns = snsClient(emulator, { credentials: creds });
  // Text with spaces, as real messages are: the SDK's form encoder first tests the whole value with
  // /^[\w.~-]+$/, which on megabytes of word characters alone can overflow V8's regexp stack in the
  // client (a RangeError before anything is sent), which is not what this test is about.
  const err = await rejectionOf(sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:alerts', Message: 'cluster opened '.repeat(350_000) })));
  expect({ name: err.name, stack: err.name === 'RequestEntityTooLarge' ? 'ok' : (err as Error).stack }).toEqual({ name: 'RequestEntityTooLarge', stack: 'ok' });
  expect(err.$metadata?.httpStatusCode).toBe(413);
});
