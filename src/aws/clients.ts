/**
 * Builds AWS clients once per account and region (the composition root keeps one factory per cold start).
 * The home account uses the function's own credentials; another account is reached by assuming the
 * cross-account role there, its temporary credentials shared by every client of that account and cached
 * until shortly before they expire. Every client honours `endpoint` (the local emulator) and `maxAttempts`.
 *
 * The factory imports no service client itself: each adapter passes the client class it uses, so a
 * function loads only the SDK clients of the adapters it is wired with (a cold start pays for nothing
 * else), and STS is loaded only when another account is first reached.
 */
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, MiddlewareStack } from '@aws-sdk/types';
import { InputError } from '../errors';
import { toGuardError } from './errors';

// Any SDK v3 client: its middleware stack is typed per service, so accept them all here.
export type Instrumentable = { middlewareStack: MiddlewareStack<any, any> };

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export type ClientFactoryOptions = {
  /** Send every call here instead of AWS (the local emulator). */
  endpoint?: string;
  /** The functions' own credentials; default: the SDK's credential chain (the Lambda role). */
  credentials?: Credentials;
  /** The account the functions run in; unset means every account is reached with the own credentials. */
  homeAccount?: string;
  /** The role assumed in any other account; unset means only the home account can be acted on. */
  crossAccountRoleName?: string;
  /** Session name of the assumed role, as other accounts' CloudTrail shows it. */
  roleSessionName?: string;
  /** Called with every client built, e.g. to count calls. */
  instrument?: (client: Instrumentable) => void;
  /** SDK-level attempts per call; the state machine retries transient errors on top. */
  maxAttempts?: number;
  /** The clock the assumed credentials' expiry is judged by (the emulator's in tests). */
  now?: () => number;
};

/** An SDK v3 client class: `new EKSClient({ region, credentials, endpoint, maxAttempts })`. */
export type ClientClass<C extends Instrumentable> = new (config: { region: string; maxAttempts?: number; endpoint?: string; credentials?: Credentials }) => C;

export type ClientFactory = {
  /** A client acting on clusters of `account` in `region` (the cross-account role outside the home account). */
  forAccount<C extends Instrumentable>(Client: ClientClass<C>, account: string, region: string): C;
  /** A client of the home account's own services (the alert topic, the ledger, the state machine). */
  home<C extends Instrumentable>(Client: ClientClass<C>, region: string, overrides?: { maxAttempts?: number }): C;
};

/** Refresh assumed credentials this long before they expire, so no call starts with nearly dead ones. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const ASSUMED_ROLE_SECONDS = 3600;

/** The ARN partition of a region: role ARNs in China or GovCloud are not `arn:aws:`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

/**
 * A credential provider for one role: AssumeRole on first use, the result cached until REFRESH_MARGIN_MS
 * before it expires; concurrent callers share one in-flight request.
 */
function assumedRoleCredentials(roleArn: string, sessionName: string, sts: () => Promise<STSClient>, now: () => number): AwsCredentialIdentityProvider {
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fresh = (c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity =>
    c !== undefined && (c.expiration === undefined || c.expiration.getTime() - now() > REFRESH_MARGIN_MS);
  return async () => {
    if (fresh(cached)) return cached;
    pending ??= (async () => {
      try {
        const { AssumeRoleCommand } = await import('@aws-sdk/client-sts');
        const out = await (await sts()).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: ASSUMED_ROLE_SECONDS }));
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
        cached = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
        return cached;
      } catch (err) {
        throw toGuardError(err, { operation: 'AssumeRole', detail: roleArn });
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
}

export function createClientFactory(options: ClientFactoryOptions = {}): ClientFactory {
  // One map of clients per client class: its key is the account and region.
  const clients = new WeakMap<ClientClass<Instrumentable>, Map<string, Instrumentable>>();
  const roleCredentials = new Map<string, AwsCredentialIdentityProvider>();
  const now = options.now ?? Date.now;
  const own = options.credentials;
  const base = (region: string) => ({
    region,
    maxAttempts: options.maxAttempts ?? 2,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });

  const memo = <C extends Instrumentable>(Client: ClientClass<C>, key: string, make: () => C): C => {
    let byKey = clients.get(Client as ClientClass<Instrumentable>);
    if (!byKey) clients.set(Client as ClientClass<Instrumentable>, (byKey = new Map()));
    let client = byKey.get(key) as C | undefined;
    if (!client) {
      client = make();
      options.instrument?.(client);
      byKey.set(key, client);
    }
    return client;
  };
  let stsClass: Promise<ClientClass<STSClient>> | undefined;

  const credentialsFor = (account: string, region: string): Credentials | undefined => {
    if (!options.homeAccount || account === options.homeAccount) return own;
    const role = options.crossAccountRoleName;
    if (!role) {
      throw new InputError([`cluster account ${account} is not the home account ${options.homeAccount}, and CROSS_ACCOUNT_ROLE_NAME is not set: the guard cannot act there`]);
    }
    const roleArn = `arn:${partitionOf(region)}:iam::${account}:role/${role}`;
    let provider = roleCredentials.get(roleArn);
    if (!provider) {
      const sts = async () => {
        stsClass ??= import('@aws-sdk/client-sts').then((m) => m.STSClient);
        const STS = await stsClass;
        return memo(STS, `home/${region}`, () => new STS({ ...base(region), ...(own ? { credentials: own } : {}) }));
      };
      provider = assumedRoleCredentials(roleArn, options.roleSessionName ?? 'eks-endpoint-guard', sts, now);
      roleCredentials.set(roleArn, provider);
    }
    return provider;
  };

  const config = (account: string, region: string) => {
    const credentials = credentialsFor(account, region);
    return { ...base(region), ...(credentials ? { credentials } : {}) };
  };
  const home = (region: string) => ({ ...base(region), ...(own ? { credentials: own } : {}) });

  return {
    forAccount: (Client, account, region) => memo(Client, `${account}/${region}`, () => new Client(config(account, region))),
    home: (Client, region, overrides = {}) => memo(Client, `home/${region}`, () => new Client({ ...home(region), ...overrides })),
  };
}

/**
 * An `instrument` hook that counts the operations sent through the clients it is given, by name
 * (`DescribeCluster`, `AssumeRole`): the local runner reports them per execution.
 */
export function callCounter(): { counts: Record<string, number>; instrument: (client: Instrumentable) => void } {
  const counts: Record<string, number> = {};
  const instrument = (client: Instrumentable) => {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String((context as { commandName?: string }).commandName ?? 'Unknown').replace(/Command$/, '');
        counts[op] = (counts[op] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countAwsCalls' },
    );
  };
  return { counts, instrument };
}
