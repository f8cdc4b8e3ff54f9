/**
 * How the enforcement workflow follows an EKS update (or a new cluster) between its polls: the input of
 * the Express tracker (statemachine/track-change.asl.yml), which polls every few seconds for a few
 * minutes per run. Pure: the functions that poll (WaitForChange, WaitForRevert) and EvaluateCluster, for a
 * busy cluster, return it with their result.
 *
 * EKS sends no event when an update ends, and refuses a second update while one runs, so the time from
 * an update's end to the guard's next step is pure lag: the tracker keeps it to one poll interval. It is
 * an Express workflow because those are billed by duration, not per state transition: a poll there costs
 * about 10 µ$, where a Standard workflow's poll costs three transitions (75 µ$) and a Lambda invocation.
 */
import { partitionOf } from '../findings/arn';
import type { ClusterRef } from '../policy/types';

/** Seconds between two polls of the tracker: an update's end is seen at most this long after it happens. */
export const TRACK_POLL_SECONDS = 10;
/**
 * Polls per tracker run: 26 polls, 10 s apart, last about 4.4 minutes with the calls' own time, inside the
 * 5 minutes an Express execution may run (the definition's TimeoutSeconds) with half a minute for retries.
 * Longer runs mean fewer of the Standard workflow's transitions between them (three per run).
 */
export const TRACK_MAX_POLLS = 26;

/** What the tracker needs from the deployment (the stack's region and account, and the roles it polls as). */
export type TrackingSettings = {
  /** The stack's region: SDK integrations reach no other, so clusters elsewhere are polled through a function. */
  homeRegion: string;
  /** The stack's account; null: every cluster is treated as the stack's own. */
  homeAccount: string | null;
  /** The stack's change reader role (eks:DescribeUpdate and eks:DescribeCluster only), for its own account's clusters. */
  changeReaderRoleArn: string | null;
  /** The member read role, for clusters in other accounts (it already trusts the tracker). */
  memberReadRoleName: string | null;
};

/**
 * `sdk`: the tracker calls EKS itself (AWS SDK integration, `Credentials` = roleArn). `lambda`: it invokes
 * pollChange, for a cluster in another region than the stack's, or when no role to poll as is configured.
 */
export type TrackVia = 'sdk' | 'lambda';

/** The tracker's input (`track` in its execution input). */
export type Track = {
  cluster: ClusterRef;
  /** The update to follow; null: the cluster itself (a new one, or one busy with an update of unknown id), followed until it is no longer CREATING, UPDATING or PENDING. */
  updateId: string | null;
  via: TrackVia;
  /** The role the tracker's SDK calls assume; null with `via: lambda` (pollChange has the functions' own roles). */
  roleArn: string | null;
  pollSeconds: number;
  maxPolls: number;
};

/** The tracker's result, as the enforcement workflow keeps it (`$.changeTracking`, `$.revertTracking`, `$.busyTracking`), or the error its Catch kept. */
export type TrackResult = { done: boolean; status: string; polls: number } | { Error: string; Cause: string };

/** The role the tracker polls a cluster as: the change reader at home, the member read role elsewhere. */
export function trackingRoleArn(cluster: ClusterRef, settings: TrackingSettings): string | null {
  if (settings.homeAccount === null || cluster.account === settings.homeAccount) return settings.changeReaderRoleArn;
  if (!settings.memberReadRoleName) return null;
  return `arn:${partitionOf(cluster.region)}:iam::${cluster.account}:role/${settings.memberReadRoleName}`;
}

/**
 * The tracker's input for one wait. Without settings (a test's fakes), it polls through the function.
 * A run polls no longer than the wait budget has left (`budgetLeftSeconds`), so the function that judges
 * the budget polls again when it runs out, not up to a whole run later.
 */
export function trackOf(cluster: ClusterRef, updateId: string | null, settings: TrackingSettings | undefined, budgetLeftSeconds = Infinity): Track {
  const roleArn = settings ? trackingRoleArn(cluster, settings) : null;
  const via: TrackVia = settings && roleArn !== null && cluster.region === settings.homeRegion ? 'sdk' : 'lambda';
  const maxPolls = Math.max(1, Math.min(TRACK_MAX_POLLS, Math.ceil(budgetLeftSeconds / TRACK_POLL_SECONDS)));
  return { cluster, updateId, via, roleArn: via === 'sdk' ? roleArn : null, pollSeconds: TRACK_POLL_SECONDS, maxPolls };
}

/** The tracker's run failed (its Catch kept the error): the workflow waited in a Wait state instead. */
export function trackerFailure(result: TrackResult | undefined): { Error: string; Cause: string } | null {
  return result && 'Error' in result ? result : null;
}
