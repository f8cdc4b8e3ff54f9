/**
 * The organization port over AWS Organizations: which accounts there are, their status, the OU path of
 * each (ListParents walked up to the root) and their tags. Organizations answers only the management
 * account and a delegated administrator, so the guard reads it through ORGANIZATIONS_ROLE_ARN there, or
 * with its own role when the home account is the delegated administrator.
 *
 * Organizations is a global service with a low request rate (it throttles with TooManyRequestsException),
 * and an organization changes rarely: what was read is kept in memory for a short TTL, OU parents are
 * remembered across accounts (most accounts share them), and calls run a few at a time.
 */
// Types only: the SDK client is loaded on first use (see `sdk`), so a function whose policy never
// needs the organization never loads it.
import type { Account, OrganizationsClient, OrganizationsClientConfig } from '@aws-sdk/client-organizations';
import { AwsRequestRejectedError, GuardError } from '../errors';
import type { Organization, OrganizationPort, OrgAccount, OrgAccountStatus } from '../org/types';
import type { WiringContext } from '../wiring';
import { partitionOf, type ClientClass } from './clients';
import { awsErrorName, toGuardError } from './errors';
import { putOwn } from '../records';

export type OrganizationPortOptions = {
  /** The clock the cache is judged by (the emulator's in tests). */
  now?: () => number;
  /** How long a read of the organization (or of one account) is used before it is read again. */
  ttlMs?: number;
  /** Organizations calls in flight at once. */
  concurrency?: number;
  /** The role the client acts as, named in errors (null: the functions' own role). */
  roleArn?: string | null;
};

/** Five minutes: an account moved between OUs or retagged is seen within that long. */
export const ORGANIZATION_TTL_MS = 5 * 60 * 1000;
const DEFAULT_CONCURRENCY = 4;
/** Organizations list operations return at most 20 items a page. */
const PAGE_SIZE = 20;

// Errors that say the caller may not read the organization at all: repeating the call cannot help.
const REFUSALS = new Set(['AccessDeniedException', 'AccessDenied', 'AWSOrganizationsNotInUseException', 'AccessDeniedForDependencyException']);

/**
 * The account's standing as the guard uses it. `State` is the current field; the legacy `Status` knows
 * only ACTIVE, SUSPENDED and PENDING_CLOSURE. A closed account stays listed (suspended) for 90 days; an
 * account still being activated is treated as active, so that its missing member roles are reported as
 * uncovered rather than the account silently skipped. An unknown value, likewise, is not a reason to skip.
 */
function statusOf(account: Account): OrgAccountStatus {
  switch (account.State ?? account.Status) {
    case 'SUSPENDED':
    case 'CLOSED':
      return 'SUSPENDED';
    case 'PENDING_CLOSURE':
      return 'PENDING_CLOSURE';
    default:
      return 'ACTIVE';
  }
}

/** Runs `work` on every item with at most `limit` in flight; results in input order; the first error rejects. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * Promises of values read at a time, used for `ttlMs`: concurrent callers share one read, and a failed
 * read is dropped at once, so the next caller tries again rather than getting the same error for the TTL.
 */
class TimedCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();
  constructor(
    private readonly now: () => number,
    private readonly ttl: number,
  ) {}

  /** The value kept for `key` if still fresh, else undefined. */
  peek(key: string): Promise<V> | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && this.now() - entry.at < this.ttl ? entry.value : undefined;
  }

  get(key: string, read: () => Promise<V>): Promise<V> {
    const kept = this.peek(key);
    if (kept) return kept;
    const entry = { at: this.now(), value: read() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }
}

type Sdk = typeof import('@aws-sdk/client-organizations');
let loading: Promise<Sdk> | undefined;
/** The Organizations SDK, imported once, when the organization is first read. */
const sdk = (): Promise<Sdk> => (loading ??= import('@aws-sdk/client-organizations'));

/**
 * The organization port over `client` (called for each request; it may build the client on first use).
 * `describe` reads the whole organization (DescribeOrganization, ListAccounts, then for each account its
 * OU path and tags, `concurrency` accounts at a time); `account` answers from a fresh `describe` when it
 * lists the account, else reads that one account (DescribeAccount, ListParents, ListTagsForResource).
 * Both are kept for `ttlMs`. Errors: the caller not allowed to read the organization becomes an
 * AwsRequestRejectedError naming the role; throttling, 5xx and network failures TransientAwsError.
 */
export function createOrganizationPort(client: () => OrganizationsClient | Promise<OrganizationsClient>, options: OrganizationPortOptions = {}): OrganizationPort {
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? ORGANIZATION_TTL_MS;
  const limit = options.concurrency ?? DEFAULT_CONCURRENCY;
  const who = options.roleArn ? `role ${options.roleArn}` : 'the function\'s own role';

  const fail = (err: unknown, operation: string, detail?: string): GuardError => {
    const name = awsErrorName(err);
    if (REFUSALS.has(name)) {
      const why =
        name === 'AWSOrganizationsNotInUseException'
          ? 'the account it acts in is not a member of an organization'
          : 'it may not read the organization: the guard reads AWS Organizations through the management account or a delegated administrator (set ORGANIZATIONS_ROLE_ARN to a role there that allows organizations:Describe*/List*)';
      return new AwsRequestRejectedError(`AWS Organizations refused ${operation}${detail ? ` on ${detail}` : ''} to ${who}: ${name}: ${why}`, name, { cause: err });
    }
    // Throttling, 5xx and network failures become TransientAwsError: the caller retries later.
    return toGuardError(err, { operation, detail: `${detail ? `${detail}, ` : ''}as ${who}` });
  };
  const send = async <T>(operation: string, detail: string | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw fail(err, operation, detail);
    }
  };

  // An OU's parent does not depend on the account asking: one ListParents per OU per TTL, however many
  // accounts it holds; concurrent walks through the same OU share one call.
  const parents = new TimedCache<string>(now, ttl);
  const parentOf = (childId: string): Promise<string> =>
    parents.get(childId, () =>
      send('ListParents', childId, async () => {
        const { paginateListParents } = await sdk();
        const found: string[] = [];
        for await (const page of paginateListParents({ client: await client(), pageSize: PAGE_SIZE }, { ChildId: childId })) {
          for (const p of page.Parents ?? []) if (p.Id) found.push(p.Id);
        }
        // Every account and OU has exactly one parent; anything else is not an answer to walk on.
        if (found.length !== 1) throw new AwsRequestRejectedError(`ListParents on ${childId} returned ${found.length} parents, expected exactly one`, 'UnexpectedResponse');
        return found[0]!;
      }),
    );

  /** Root first, then each OU down to the account's direct parent. */
  const ouPathOf = async (accountId: string): Promise<string[]> => {
    const path: string[] = [];
    let id = accountId;
    // An OU tree is at most five levels deep below the root; a longer walk is a loop, not a tree.
    for (let depth = 0; depth < 8; depth += 1) {
      const parent = await parentOf(id);
      path.unshift(parent);
      if (parent.startsWith('r-')) return path;
      id = parent;
    }
    throw new AwsRequestRejectedError(`ListParents from account ${accountId} did not reach the root after ${path.length} levels`, 'UnexpectedResponse');
  };

  const tagsOf = (accountId: string): Promise<Record<string, string>> =>
    send('ListTagsForResource', accountId, async () => {
      const { paginateListTagsForResource } = await sdk();
      const tags: Record<string, string> = {};
      for await (const page of paginateListTagsForResource({ client: await client() }, { ResourceId: accountId })) {
        for (const t of page.Tags ?? []) if (t.Key !== undefined) putOwn(tags, t.Key, t.Value ?? '');
      }
      return tags;
    });

  const complete = async (account: Account): Promise<OrgAccount> => {
    const id = account.Id!;
    const [ouPath, tags] = await Promise.all([ouPathOf(id), tagsOf(id)]);
    return { id, name: account.Name ?? id, status: statusOf(account), ouPath, tags };
  };

  const readOrganization = async (): Promise<Organization> => {
    const { DescribeOrganizationCommand, paginateListAccounts } = await sdk();
    const described = await send('DescribeOrganization', undefined, async () => (await client()).send(new DescribeOrganizationCommand({})));
    const org = described.Organization;
    if (!org?.Id || !org.MasterAccountId) throw new AwsRequestRejectedError('DescribeOrganization returned no organization id or management account', 'UnexpectedResponse');
    const listed = await send('ListAccounts', undefined, async () => {
      const all: Account[] = [];
      for await (const page of paginateListAccounts({ client: await client(), pageSize: PAGE_SIZE }, {})) all.push(...(page.Accounts ?? []).filter((a) => a.Id));
      return all;
    });
    // Each account costs one ListParents and one ListTagsForResource: `limit` accounts at a time keeps
    // at most twice that many calls in flight.
    const accounts = await mapBounded(listed, limit, complete);
    return { id: org.Id, managementAccount: org.MasterAccountId, accounts };
  };

  const whole = new TimedCache<Organization>(now, ttl);
  const single = new TimedCache<OrgAccount | null>(now, ttl);

  const readAccount = async (id: string): Promise<OrgAccount | null> => {
    const { DescribeAccountCommand } = await sdk();
    let account: Account | undefined;
    try {
      account = (await (await client()).send(new DescribeAccountCommand({ AccountId: id }))).Account;
    } catch (err) {
      // Not a member (never was, or has left): a known answer, not a failure.
      if (awsErrorName(err) === 'AccountNotFoundException') return null;
      throw fail(err, 'DescribeAccount', id);
    }
    if (!account?.Id) return null;
    return complete(account);
  };

  return {
    describe: () => whole.get('', readOrganization),

    async account(id) {
      // A fresh read of the whole organization answers for its members; an id it does not list is asked
      // about directly (DescribeAccount), so an account that joined since is not mistaken for an outsider.
      const org = whole.peek('');
      if (org) {
        const found = (await org.catch(() => null))?.accounts.find((a) => a.id === id);
        if (found) return found;
      }
      return single.get(id, () => readAccount(id));
    },
  };
}

/** The region Organizations' global endpoint lives in, for the partition the functions run in. */
export function organizationsRegion(homeRegion: string): string {
  switch (partitionOf(homeRegion)) {
    case 'aws-cn':
      return 'cn-northwest-1';
    case 'aws-us-gov':
      return 'us-gov-west-1';
    default:
      return 'us-east-1';
  }
}

/** SDK-level attempts of the Organizations client of the deployed functions. */
export const ORGANIZATIONS_MAX_ATTEMPTS = 6;
let patient: Promise<ClientClass<OrganizationsClient>> | undefined;

/**
 * The Organizations client class of the deployed functions: adaptive retry with more attempts than the
 * other clients, since one read of a large organization is hundreds of calls against a low rate limit,
 * and one throttled call would otherwise fail the whole read. One class per process: the client
 * factory keeps one client per class.
 */
function patientClientClass(): Promise<ClientClass<OrganizationsClient>> {
  patient ??= sdk().then(
    ({ OrganizationsClient }) =>
      class PatientOrganizationsClient extends OrganizationsClient {
        constructor(config: OrganizationsClientConfig) {
          const given = typeof config.maxAttempts === 'number' ? config.maxAttempts : 0;
          super({ ...config, retryMode: 'adaptive', maxAttempts: Math.max(given, ORGANIZATIONS_MAX_ATTEMPTS) });
        }
      },
  );
  return patient;
}

/**
 * The organization port of a function whose policy may match on `ous`/`accountTags` (see src/wiring.ts):
 * AWS Organizations through ORGANIZATIONS_ROLE_ARN when set (assumed from the function's own role),
 * else as the function's own role (the home account is the delegated administrator). Nothing is loaded
 * or called until the policy needs an account's context.
 */
export const organizationWiring = ({ clients, config, now }: WiringContext): OrganizationPort => {
  const roleArn = config.ORGANIZATIONS_ROLE_ARN || undefined;
  const region = organizationsRegion(config.AWS_REGION);
  return createOrganizationPort(async () => clients.asRole(await patientClientClass(), roleArn, region), { now, roleArn: roleArn ?? null });
};
