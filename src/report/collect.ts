/**
 * Reading every cluster of a scope (accounts × regions) through a port, with bounded concurrency. No AWS
 * SDK here: the port (src/aws/posture.ts) does the calls and maps SDK errors to the GuardError family.
 * A scope or a cluster that cannot be read becomes an error entry, never a gap in the report.
 */
import { AwsRequestRejectedError, GuardError } from '../errors';
import type { ClusterRef } from '../policy/types';
import type { ReadError } from './types';

/** What the report needs from AWS: read-only calls, in the cluster's own account. */
export type PostureReader = {
  /** Names of the clusters of one account and region (every page). */
  listClusters(account: string, region: string): Promise<string[]>;
  /** DescribeCluster's `cluster` object as plain JSON. */
  describeCluster(cluster: ClusterRef): Promise<unknown>;
};

export type Collected =
  | { kind: 'cluster'; account: string; region: string; name: string; description: unknown }
  | { kind: 'cluster-error'; account: string; region: string; name: string; error: ReadError }
  | { kind: 'scope-error'; account: string; region: string; error: ReadError };

export type CollectProgress = { done: number; total: number };

export type CollectOptions = {
  /** Calls in flight at most (default 8): EKS throttles control-plane reads per account and region. */
  concurrency?: number;
  /** Called after every call, with the work known so far (clusters are counted once their scope is listed). */
  onProgress?: (progress: CollectProgress) => void;
};

/**
 * Runs `fn` on every item, at most `limit` at a time, and returns the results in the items' order. A few
 * lines rather than a dependency: the order-preserving worker loop is all that is needed here.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * The error entry for a failed call. Only the project's errors (SDK errors mapped by the adapter) become
 * entries; anything else is a bug and is rethrown, so it fails the run instead of hiding in a row.
 */
export function readErrorOf(err: unknown): ReadError {
  if (!(err instanceof GuardError)) throw err;
  if (err instanceof AwsRequestRejectedError) return { code: err.awsErrorName, message: err.message };
  const cause = (err as { cause?: { name?: unknown } }).cause;
  const code = typeof cause?.name === 'string' && cause.name !== 'Error' ? cause.name : err.name;
  return { code, message: err.message };
}

/**
 * Lists the clusters of every account and region, then describes each. Returns one entry per cluster
 * (described, or its error) and one per scope that could not be listed, in scope order then name order.
 */
export async function collectPosture(scope: { accounts: readonly string[]; regions: readonly string[] }, reader: PostureReader, options: CollectOptions = {}): Promise<Collected[]> {
  const limit = options.concurrency ?? 8;
  const scopes = scope.accounts.flatMap((account) => scope.regions.map((region) => ({ account, region })));
  let done = 0;
  let total = scopes.length;
  const tick = () => options.onProgress?.({ done: ++done, total });

  const listed = await mapBounded(scopes, limit, async ({ account, region }) => {
    try {
      const names = [...new Set(await reader.listClusters(account, region))].sort();
      total += names.length;
      return { account, region, names, error: null };
    } catch (err) {
      return { account, region, names: [] as string[], error: readErrorOf(err) };
    } finally {
      tick();
    }
  });

  const refs = listed.flatMap((s) => s.names.map((name) => ({ account: s.account, region: s.region, name })));
  const described = await mapBounded(refs, limit, async (ref): Promise<Collected> => {
    try {
      return { kind: 'cluster', ...ref, description: await reader.describeCluster(ref) };
    } catch (err) {
      return { kind: 'cluster-error', ...ref, error: readErrorOf(err) };
    } finally {
      tick();
    }
  });

  const scopeErrors: Collected[] = listed.flatMap((s) => (s.error ? [{ kind: 'scope-error' as const, account: s.account, region: s.region, error: s.error }] : []));
  return [...scopeErrors, ...described];
}
