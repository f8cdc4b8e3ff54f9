/**
 * Judging a cluster when the policy may match on the account's place in the organization. The policy
 * is asked first without the account context; only when its answer depends on it (a rule or a live
 * exemption on `ous`/`accountTags` is reached before anything that decides) is the organization read,
 * and the cluster judged again with it. A policy without such keys, or a cluster an earlier rule
 * decides, costs no Organizations call.
 */
import { AccountContextUnknownError, evaluateCluster, type EvaluateOptions, type ObservedCluster, type Policy } from '../policy';
import type { Evaluation } from '../policy/types';
import { contextOfAccount } from './context';
import { OUTSIDE_ORGANIZATION, type AccountContext, type OrganizationPort } from './types';

/**
 * The account context of `account` as the organization port reports it: its OU path and tags, or
 * OUTSIDE_ORGANIZATION when the organization does not list it. Errors of the port (throttling, access
 * denied) propagate: a context that could not be read is never replaced by a guess.
 */
export async function readAccountContext(organization: OrganizationPort, account: string): Promise<AccountContext> {
  const found = await organization.account(account);
  return found === null ? OUTSIDE_ORGANIZATION : contextOfAccount(found);
}

/**
 * `evaluateCluster`, reading the account context through `organization` only when the decision needs
 * it. Throws AccountContextUnknownError when it is needed and cannot be had (no port, or a cluster of
 * unknown account), and whatever the port throws when reading it fails: never a verdict on a guess.
 */
export async function evaluateInOrganization(
  policy: Policy,
  cluster: ObservedCluster,
  options: Omit<EvaluateOptions, 'accountContext'>,
  organization: OrganizationPort | undefined,
): Promise<Evaluation> {
  try {
    return evaluateCluster(policy, cluster, options);
  } catch (err) {
    if (!(err instanceof AccountContextUnknownError) || organization === undefined || cluster.account === null) throw err;
  }
  const accountContext = await readAccountContext(organization, cluster.account);
  return evaluateCluster(policy, cluster, { ...options, accountContext });
}
