/**
 * What the guard knows of the AWS Organization it governs: shapes shared by the Organizations adapter
 * (src/aws/organizations.ts), the policy's `ous`/`accountTags` matching, the organization sweep and the
 * `scp` command. Pure data; no AWS calls here.
 */

/** An account's standing in the organization, as Organizations reports it. */
export type OrgAccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';

export type OrgAccount = {
  id: string;
  name: string;
  status: OrgAccountStatus;
  /** The account's ancestors, root first (`r-…`), then each OU (`ou-…`) down to its direct parent. */
  ouPath: string[];
  /** The account's tags (Organizations ListTagsForResource). */
  tags: Record<string, string>;
};

export type Organization = {
  /** `o-…`: the value of `aws:PrincipalOrgID` / `aws:ResourceOrgID`. */
  id: string;
  managementAccount: string;
  accounts: OrgAccount[];
};

/** What the policy's `ous` and `accountTags` match against for one account. */
export type AccountContext = Pick<OrgAccount, 'ouPath' | 'tags'>;

/** The guard's read of AWS Organizations (through the management account or a delegated administrator). */
export interface OrganizationPort {
  /** The whole organization: every account with its OU path and tags. */
  describe(): Promise<Organization>;
  /** One account, or null when it is not a member of the organization. */
  account(id: string): Promise<OrgAccount | null>;
}

/**
 * Organizations id formats (the API reference's patterns). An OU id embeds the id of the root that
 * holds it (`ou-ab12-…` lives under `r-ab12`), which is what lets a root cover its OUs without the tree.
 */
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
export const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;

/**
 * The context of an account that is not a member of the organization (or of a guard with no
 * organization): beneath no OU, no account tags. A known fact, not an unknown: rules on `ous` or
 * `accountTags` do not match it.
 */
export const OUTSIDE_ORGANIZATION: AccountContext = Object.freeze({ ouPath: Object.freeze([]) as unknown as string[], tags: Object.freeze({}) as Record<string, string> });
