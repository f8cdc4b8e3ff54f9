/**
 * What the organization sweep needs from AWS. Adapters in src/aws implement these; errors cross them as
 * the GuardError family (src/errors.ts), plus MemberRoleUnavailableError below.
 */
import { GuardError } from '../errors';
import type { ClusterRef } from '../policy/types';
import type { ClusterDescription } from '../workflow/ports';
import type { CoverageRecord } from './types';

/**
 * The guard cannot act in a member account: its member role is missing there, refuses AssumeRole
 * (trust policy), or lacks the permission the call needs (EKS AccessDenied). The account is then
 * `uncovered`, which the coverage record and its alert name; it is never a silent skip.
 */
export class MemberRoleUnavailableError extends GuardError {
  override readonly name = 'MemberRoleUnavailableError';
}

/** One ListClusters page. */
export type ClusterPage = { names: string[]; nextToken: string | null };

export type SweepEksPort = {
  /**
   * One ListClusters page of the account and region, from `nextToken` (null: the first page). Each page
   * is its own call, so a throttled page is retried alone. Throws TransientAwsError (throttled after the
   * SDK's adaptive retries), MemberRoleUnavailableError, AwsRequestRejectedError.
   */
  listClustersPage(account: string, region: string, nextToken: string | null): Promise<ClusterPage>;
  /** Throws ClusterNotFoundError, TransientAwsError, MemberRoleUnavailableError, AwsRequestRejectedError. */
  describeCluster(cluster: ClusterRef): Promise<ClusterDescription>;
};

/** Where coverage records are kept, and who is told when one is incomplete. */
export type CoveragePort = {
  /** Keeps the record (the latest, and one per sweep time). */
  keep(record: CoverageRecord): Promise<void>;
  /** Publishes a warning to the alert topic; returns the message id. */
  warn(alert: { subject: string; text: string; record: CoverageRecord }): Promise<string>;
};
