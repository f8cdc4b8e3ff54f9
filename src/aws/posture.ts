/**
 * The AWS side of `eks-endpoint-guard report`: who the caller is (STS GetCallerIdentity), the clusters of
 * each account and region (EKS ListClusters and DescribeCluster through the EKS port), and the accounts of
 * the organization (AWS Organizations through the organization port). Read-only: nothing here changes
 * anything. Another account is reached as c7n-org does it: one member role name, assumed in each account
 * other than the caller's, its credentials cached per account (the client factory shares one AssumeRole
 * between the regions of an account).
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Organization } from '../org/types';
import type { PostureReader } from '../report/collect';
import { createClientFactory, type ClientFactory } from './clients';
import { createEksPort } from './eks';
import { call } from './errors';
import { createOrganizationPort, organizationsRegion } from './organizations';

export type PostureAwsOptions = {
  /** Send every call here (the local emulator); unset: AWS, or AWS_ENDPOINT_URL, which the SDK reads itself. */
  endpoint?: string;
  /** The member role assumed in every account other than the caller's. */
  roleName?: string;
  /** Where STS and the caller's own calls go. */
  region: string;
  /** SDK attempts per call (3: the SDK's standard retry mode with its default attempts). */
  maxAttempts?: number;
};

/** What CloudTrail in the member accounts shows as the session of the report's calls. */
export const REPORT_SESSION_NAME = 'eks-endpoint-guard-report';

export type PostureAws = {
  /** The caller's own account: the one read without assuming a role. */
  account: string;
  reader: PostureReader;
  /** The whole organization (management account or delegated administrator only). */
  organization(): Promise<Organization>;
};

/** Asks STS who the caller is, then builds the readers that act in each account from there. */
export async function connectPostureAws(options: PostureAwsOptions): Promise<PostureAws> {
  const common = { maxAttempts: options.maxAttempts ?? 3, ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
  const own: ClientFactory = createClientFactory(common);
  const identity = await call(`GetCallerIdentity in ${options.region} (who runs the report)`, () => own.home(STSClient, options.region).send(new GetCallerIdentityCommand({})));
  const account = identity.Account!;
  const clients = createClientFactory({
    ...common,
    homeAccount: account,
    homeRegion: options.region,
    ...(options.roleName ? { memberReadRoleName: options.roleName } : {}),
    roleSessionName: REPORT_SESSION_NAME,
  });
  const eks = createEksPort((acct, region) => clients.forAccount(EKSClient, acct, region));
  const organizations = createOrganizationPort(() => clients.asRole(OrganizationsClient, undefined, organizationsRegion(options.region)));
  return {
    account,
    reader: {
      listClusters: (acct, region) => eks.listClusters(acct, region),
      describeCluster: (cluster) => eks.describeCluster(cluster),
    },
    organization: () => organizations.describe(),
  };
}
