/**
 * Builds AWS clients once per account and region. The home account uses the function's own credentials;
 * another account is reached by assuming CROSS_ACCOUNT_ROLE_NAME there, with the temporary credentials
 * cached until shortly before they expire.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, MiddlewareStack } from '@aws-sdk/types';
import { InputError } from '../errors';
import { toGuardError } from './errors';

// Any SDK v3 client: its middleware stack is typed per service, so accept them all here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Instrumentable = { middlewareStack: MiddlewareStack<any, any> };

export type ClientFactoryOptions = {
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
  homeAccount?: string;
  crossAccountRoleName?: string;
  instrument?: (client: Instrumentable) => void;
  /** SDK-level attempts per call; the state machine retries transient errors on top. */
  maxAttempts?: number;
  /** The clock credential expiry is judged by (the emulator's, locally). */
  now?: () => number;
};

export type ClientFactory = {
  eks(account: string, region: string): EKSClient;
  ec2(account: string, region: string): EC2Client;
  sns(region: string): SNSClient;
  sfn(region: string): SFNClient;
};

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export function createClientFactory(options: ClientFactoryOptions): ClientFactory {
  const cache = new Map<string, unknown>();
  const base = (region: string) => ({ region, endpoint: options.endpoint, maxAttempts: options.maxAttempts ?? 2 });
  const own = options.credentials;

  const memo = <C extends { middlewareStack: unknown }>(key: string, make: () => C): C => {
    let client = cache.get(key) as C | undefined;
    if (!client) {
      client = make();
      options.instrument?.(client as unknown as Instrumentable);
      cache.set(key, client);
    }
    return client;
  };

  const now = options.now ?? Date.now;
  const providers = new Map<string, AwsCredentialIdentityProvider>();
  const credentialsFor = (account: string, region: string): AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined => {
    if (!options.homeAccount || account === options.homeAccount) return own;
    // One provider per account, shared by that account's clients in every region: one AssumeRole an hour.
    const existing = providers.get(account);
    if (existing) return existing;
    const role = options.crossAccountRoleName;
    if (!role) {
      throw new InputError([`cluster account ${account} is not the home account ${options.homeAccount}, and CROSS_ACCOUNT_ROLE_NAME is not set: cannot act there`]);
    }
    const roleArn = `arn:aws:iam::${account}:role/${role}`;
    let cached: AwsCredentialIdentity | undefined;
    const provider: AwsCredentialIdentityProvider = async () => {
      if (cached?.expiration && cached.expiration.getTime() - now() > REFRESH_MARGIN_MS) return cached;
      const sts = memo(`sts/${region}`, () => new STSClient({ ...base(region), credentials: own }));
      try {
        const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'eks-endpoint-guard', DurationSeconds: 3600 }));
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
        cached = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        return cached;
      } catch (err) {
        throw toGuardError(err, `AssumeRole ${roleArn}`);
      }
    };
    providers.set(account, provider);
    return provider;
  };

  return {
    eks: (account, region) => memo(`eks/${account}/${region}`, () => new EKSClient({ ...base(region), credentials: credentialsFor(account, region) })),
    ec2: (account, region) => memo(`ec2/${account}/${region}`, () => new EC2Client({ ...base(region), credentials: credentialsFor(account, region) })),
    sns: (region) => memo(`sns/${region}`, () => new SNSClient({ ...base(region), credentials: own })),
    sfn: (region) => memo(`sfn/${region}`, () => new SFNClient({ ...base(region), credentials: own })),
  };
}
