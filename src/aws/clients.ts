/**
 * Builds AWS clients once per account and region (the composition root keeps one factory per cold start).
 * The home account uses the function's own credentials; another account of the organization is reached
 * through a member role there: the read role for every call that only reads, the write role for the one
 * call that changes a cluster (UpdateClusterConfig, from remediateCluster only). Every client honours
 * `endpoint` (the local emulator) and `maxAttempts`.
 *
 * Role chaining is `@aws-sdk/credential-providers` `fromTemporaryCredentials` (AssumeRole on the functions'
 * own credentials), and its result is memoized with the SDK's own `memoizeIdentityProvider` (the helper
 * every SDK client wraps credentials in), one per role ARN: the EKS and EC2 clients of an account, in every
 * region, share one set of assumed credentials and one in-flight AssumeRole, refreshed REFRESH_MARGIN_MS
 * before they expire. The provider is marked `memoized`, so the clients use it as it is rather than each
 * keeping a copy of their own judged by the wall clock (tests judge expiry by the emulator's clock).
 *
 * The factory imports no service client itself: each adapter passes the client class it uses, so a
 * function loads only the SDK clients of the adapters it is wired with (a cold start pays for nothing
 * else). fromTemporaryCredentials loads its STS client only when another account is first reached. Like
 * the whole SDK it is bundled (serverless.yml, custom.esbuild, says why): imported statically so that
 * esbuild keeps fromTemporaryCredentials alone of the package, not every provider of its index.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, MiddlewareStack, Pluggable } from '@aws-sdk/types';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, memoizeIdentityProvider } from '@smithy/core';
import { InputError } from '../errors';
import { partitionOf } from '../findings/arn';
import { toGuardError } from './errors';

// Any SDK v3 client: its middleware stack is typed per service, so accept them all here.
export type Instrumentable = { middlewareStack: MiddlewareStack<any, any> };

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/**
 * What a call does in a member account: `read` (describe, list) goes through the member read role,
 * `write` (UpdateClusterConfig) through the member write role, which only remediateCluster may assume.
 * In the home account both are the function's own role, whose own policy draws the same line.
 */
export type Access = 'read' | 'write' | 'findings';

export type ClientFactoryOptions = {
  /** Send every call here instead of AWS (the local emulator). */
  endpoint?: string;
  /** The functions' own credentials; default: the SDK's credential chain (the Lambda role). */
  credentials?: Credentials;
  /** The account the functions run in; unset means every account is reached with the own credentials. */
  homeAccount?: string;
  /** The region the functions run in: STS is called there when the member role is in the same partition. */
  homeRegion?: string;
  /** The member role assumed in other accounts for calls that only read (MEMBER_READ_ROLE_NAME). */
  memberReadRoleName?: string;
  /** The member role assumed in other accounts for UpdateClusterConfig (MEMBER_WRITE_ROLE_NAME). */
  memberWriteRoleName?: string;
  /**
   * The member role assumed in other accounts to import the account's own Security Hub findings
   * (MEMBER_FINDINGS_ROLE_NAME): it may do nothing else, so the functions that post findings never hold
   * a role that can change a cluster.
   */
  memberFindingsRoleName?: string;
  /**
   * One role name for both (the former CROSS_ACCOUNT_ROLE_NAME), used for an access whose own name is
   * unset: deployments from before the read/write split, and the local runner.
   */
  crossAccountRoleName?: string;
  /** Session name of the assumed role, as other accounts' CloudTrail shows it. */
  roleSessionName?: string;
  /** Called with every client built (and with the STS client of each assumed role), e.g. to count calls. */
  instrument?: (client: Instrumentable) => void;
  /** SDK-level attempts per call; the state machine retries transient errors on top. */
  maxAttempts?: number;
  /** The clock the assumed credentials' expiry is judged by (the emulator's in tests). */
  now?: () => number;
};

/** An SDK v3 client class: `new EKSClient({ region, credentials, endpoint, maxAttempts })`. */
export type ClientClass<C extends Instrumentable> = new (config: { region: string; maxAttempts?: number; endpoint?: string; credentials?: Credentials }) => C;

export type ClientFactory = {
  /**
   * A client acting on clusters of `account` in `region`: the function's own credentials in the home
   * account, the member role for `access` (default `read`) in any other.
   */
  forAccount<C extends Instrumentable>(Client: ClientClass<C>, account: string, region: string, access?: Access): C;
  /** A client of the home account's own services (the alert topic, the ledger, the state machine). */
  home<C extends Instrumentable>(Client: ClientClass<C>, region: string, overrides?: { maxAttempts?: number }): C;
  /**
   * A client acting as the role `roleArn` (e.g. the Organizations reader in the management account or
   * the delegated administrator), assumed from the function's own credentials; the own credentials when
   * `roleArn` is undefined or empty.
   */
  asRole<C extends Instrumentable>(Client: ClientClass<C>, roleArn: string | undefined, region: string): C;
};

/** Refresh assumed credentials this long before they expire, so no call starts with nearly dead ones. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const ASSUMED_ROLE_SECONDS = 3600;

/** The ARN partition of a region (pure, shared with the findings' ARNs). */
export { partitionOf };

/** The partition of an ARN (`arn:PARTITION:...`). */
function partitionOfArn(arn: string): string | undefined {
  return /^arn:([a-z-]+):/.exec(arn)?.[1];
}

/**
 * A client plugin that hands the STS client's middleware stack to `instrument` once. fromTemporaryCredentials
 * applies its plugins on every refresh, to the same client: adding a named middleware twice would throw.
 */
function instrumentOnce(instrument: (client: Instrumentable) => void): Pluggable<any, any> {
  const seen = new WeakSet<object>();
  return {
    applyToStack: (stack) => {
      if (seen.has(stack)) return;
      seen.add(stack);
      instrument({ middlewareStack: stack });
    },
  };
}

export function createClientFactory(options: ClientFactoryOptions = {}): ClientFactory {
  // One map of clients per client class: its key is the account, region and credentials used.
  const clients = new WeakMap<ClientClass<Instrumentable>, Map<string, Instrumentable>>();
  const roleCredentials = new Map<string, AwsCredentialIdentityProvider>();
  const now = options.now ?? Date.now;
  const own = options.credentials;
  const base = (region: string) => ({
    region,
    maxAttempts: options.maxAttempts ?? 2,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const withOwn = (region: string) => ({ ...base(region), ...(own ? { credentials: own } : {}) });

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

  const isExpired = (identity: { expiration?: Date }) => identity.expiration !== undefined && identity.expiration.getTime() - now() < REFRESH_MARGIN_MS;

  /** The shared, memoized credentials of one role; STS is called in `region` (same partition as the role). */
  const assumed = (roleArn: string, region: string): AwsCredentialIdentityProvider => {
    let provider = roleCredentials.get(roleArn);
    if (provider) return provider;
    const home = options.homeRegion;
    const stsRegion = home && partitionOf(home) === partitionOfArn(roleArn) ? home : region;
    const chained = fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: options.roleSessionName ?? 'eks-endpoint-guard', DurationSeconds: ASSUMED_ROLE_SECONDS },
      ...(own ? { masterCredentials: own } : {}),
      clientConfig: base(stsRegion),
      ...(options.instrument ? { clientPlugins: [instrumentOnce(options.instrument)] } : {}),
    });
    const assume: AwsCredentialIdentityProvider = async (props) => {
      try {
        return await chained(props);
      } catch (err) {
        throw toGuardError(err, { operation: 'AssumeRole', detail: roleArn });
      }
    };
    provider = memoizeIdentityProvider(assume, isExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider;
    // The SDK clients wrap an unmarked provider in a memo of their own, judged by the wall clock.
    (provider as { memoized?: boolean }).memoized = true;
    roleCredentials.set(roleArn, provider);
    return provider;
  };

  const memberRoleName = (access: Access): string | undefined =>
    (access === 'write' ? options.memberWriteRoleName : access === 'findings' ? options.memberFindingsRoleName : options.memberReadRoleName) || options.crossAccountRoleName || undefined;

  const credentialsFor = (account: string, region: string, access: Access): { key: string; credentials: Credentials | undefined } => {
    if (!options.homeAccount || account === options.homeAccount) return { key: 'own', credentials: own };
    const role = memberRoleName(access);
    if (!role) {
      const setting = access === 'write' ? 'MEMBER_WRITE_ROLE_NAME' : access === 'findings' ? 'MEMBER_FINDINGS_ROLE_NAME' : 'MEMBER_READ_ROLE_NAME';
      const what = access === 'findings' ? 'import Security Hub findings' : access;
      throw new InputError([`cluster account ${account} is not the home account ${options.homeAccount}, and ${setting} is not set: the guard cannot ${what} there`]);
    }
    const roleArn = `arn:${partitionOf(region)}:iam::${account}:role/${role}`;
    return { key: roleArn, credentials: assumed(roleArn, region) };
  };

  return {
    forAccount: (Client, account, region, access = 'read') => {
      const { key, credentials } = credentialsFor(account, region, access);
      return memo(Client, `${account}/${region}/${key}`, () => new Client({ ...base(region), ...(credentials ? { credentials } : {}) }));
    },
    home: (Client, region, overrides = {}) => memo(Client, `home/${region}`, () => new Client({ ...withOwn(region), ...overrides })),
    asRole: (Client, roleArn, region) => {
      if (!roleArn) return memo(Client, `own/${region}`, () => new Client(withOwn(region)));
      return memo(Client, `${roleArn}/${region}`, () => new Client({ ...base(region), credentials: assumed(roleArn, region) }));
    },
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
