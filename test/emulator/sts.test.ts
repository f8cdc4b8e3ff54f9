import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, GetCallerIdentityCommand, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import type { Credentials, Emulator } from '../../src/emulator';
import { ALICE, BOB, GUARD, PROD, SANDBOX, eksClient, rejectionOf, startDemo, stsClient } from './helpers';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startDemo();
});
afterAll(async () => {
  await emulator.close();
});

async function whoAmI(credentials: Credentials) {
  const sts = stsClient(emulator, { credentials });
  try {
    const { Arn, Account, UserId } = await sts.send(new GetCallerIdentityCommand({}));
    return { Arn, Account, UserId };
  } finally {
    sts.destroy();
  }
}

const key = (accessKeyId: string): Credentials => ({ accessKeyId, secretAccessKey: 'x' });

describe('GetCallerIdentity', () => {
  it.each([
    ['a state-file user key', ALICE, `arn:aws:iam::${PROD}:user/alice`, PROD, /^AIDA[0-9A-F]{17}$/],
    ['a state-file assumed-role key', GUARD, `arn:aws:sts::${PROD}:assumed-role/eks-endpoint-guard/remediation`, PROD, /^AROA[0-9A-F]{17}:remediation$/],
    ['another account user', BOB, `arn:aws:iam::${SANDBOX}:user/bob`, SANDBOX, /^AIDA/],
    ['a 12-digit key id', key('999988887777'), 'arn:aws:iam::999988887777:user/local-user', '999988887777', /^AIDA/],
    ['an unknown key (the default account)', key('AKIAUNKNOWN'), `arn:aws:iam::${PROD}:user/local-user`, PROD, /^AIDA/],
  ])('identifies %s', async (_what, credentials, arn, account, userId) => {
    const me = await whoAmI(credentials);
    expect(me).toEqual({ Arn: arn, Account: account, UserId: expect.stringMatching(userId) });
  });

  it.each([
    [`arn:aws:iam::${SANDBOX}:user/ci/deployer`, `arn:aws:iam::${SANDBOX}:user/ci/deployer`],
    [`arn:aws:iam::${SANDBOX}:role/ops/admin`, `arn:aws:sts::${SANDBOX}:assumed-role/admin/local-session`],
    [`arn:aws:sts::${SANDBOX}:assumed-role/admin/jane`, `arn:aws:sts::${SANDBOX}:assumed-role/admin/jane`],
  ])('acts as %s through credentialsFor', async (principal, arn) => {
    const credentials = emulator.credentialsFor(principal);
    expect((await whoAmI(credentials)).Arn).toBe(arn);
    expect(emulator.credentialsFor(principal).accessKeyId).toBe(credentials.accessKeyId);
  });

  it('refuses a malformed principal ARN', () => {
    expect(() => emulator.credentialsFor('arn:aws:iam::1:root')).toThrow('not a principal ARN');
  });
});

describe('AssumeRole', () => {
  it('returns credentials that act as the role session in the target account', async () => {
    const sts = stsClient(emulator);
    const { Credentials: creds, AssumedRoleUser } = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${SANDBOX}:role/eks-endpoint-guard`, RoleSessionName: 'remediate-sandbox-dev', DurationSeconds: 900 }),
    );
    sts.destroy();
    expect(AssumedRoleUser).toEqual({ Arn: `arn:aws:sts::${SANDBOX}:assumed-role/eks-endpoint-guard/remediate-sandbox-dev`, AssumedRoleId: expect.stringMatching(/^AROA.*:remediate-sandbox-dev$/) });
    expect(creds?.AccessKeyId).toMatch(/^ASIA/);
    expect(creds?.Expiration).toEqual(new Date(emulator.clock.now() + 900_000));
    const assumed = { accessKeyId: creds!.AccessKeyId!, secretAccessKey: creds!.SecretAccessKey!, sessionToken: creds!.SessionToken! };
    expect((await whoAmI(assumed)).Account).toBe(SANDBOX);

    const eks = eksClient(emulator, { credentials: assumed });
    try {
      expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['sandbox-dev']);
      expect((await eks.send(new DescribeClusterCommand({ name: 'sandbox-dev' }))).cluster?.arn).toContain(SANDBOX);
    } finally {
      eks.destroy();
    }
  });

  it.each<[string, Partial<AssumeRoleCommandInput>, string]>([
    ['no session name', { RoleArn: `arn:aws:iam::${SANDBOX}:role/x` }, "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"],
    ['no role', { RoleSessionName: 's1' }, "Value null at 'roleArn'"],
    ['a user ARN as role', { RoleArn: `arn:aws:iam::${SANDBOX}:user/x`, RoleSessionName: 's1' }, "at 'roleArn' failed to satisfy constraint"],
    ['a bad session name', { RoleArn: `arn:aws:iam::${SANDBOX}:role/x`, RoleSessionName: 'has space' }, "at 'roleSessionName'"],
    ['a too-long duration', { RoleArn: `arn:aws:iam::${SANDBOX}:role/x`, RoleSessionName: 's1', DurationSeconds: 50_000 }, "at 'durationSeconds'"],
  ])('refuses %s with a ValidationError', async (_what, input, message) => {
    const sts = stsClient(emulator);
    try {
      const err = await rejectionOf(sts.send(new AssumeRoleCommand(input as AssumeRoleCommandInput)));
      expect(err.name).toBe('ValidationError');
      expect(err.message).toContain(message);
      expect(err.$metadata?.httpStatusCode).toBe(400);
    } finally {
      sts.destroy();
    }
  });
});
