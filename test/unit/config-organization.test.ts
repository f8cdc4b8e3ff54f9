/**
 * The organization's settings in the configuration (src/config.ts) as the central stack passes them
 * (every key is set, empty parameters as ''), and the governance the composition root derives from them
 * (src/dependencies.ts governanceOf).
 */
import { loadConfig } from '../../src/config';
import { governanceOf } from '../../src/dependencies';
import { InputError } from '../../src/errors';

/** What the central stack's template gives every function, with its parameters' defaults. */
const DEPLOYED = {
  HOME_ACCOUNT_ID: '111122223333',
  AWS_REGION: 'us-east-1',
  ORGANIZATION_ID: 'o-a1b2c3d4e5',
  GOVERNED_OUS: '',
  EXCLUDED_ACCOUNTS: '',
  GOVERNED_REGIONS: '',
  MEMBER_READ_ROLE_NAME: 'eks-endpoint-guard-member-read',
  MEMBER_WRITE_ROLE_NAME: 'eks-endpoint-guard-member-write',
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

describe('the organization settings', () => {
  it('reads the deployed defaults as the whole organization, in the functions\' own region', () => {
    expect(governanceOf(loadConfig(DEPLOYED))).toEqual({
      organizationId: 'o-a1b2c3d4e5',
      governedOus: [],
      excludedAccounts: [],
      regions: ['us-east-1'],
      organizationsRoleArn: null,
      memberReadRoleName: 'eks-endpoint-guard-member-read',
      memberWriteRoleName: 'eks-endpoint-guard-member-write',
      memberFindingsRoleName: null,
    });
  });

  it('reads comma lists with blanks, and each region once', () => {
    const config = loadConfig({
      ...DEPLOYED,
      GOVERNED_OUS: 'ou-ab12-cdef3456 , r-ab12',
      EXCLUDED_ACCOUNTS: '444455556666,777788889999',
      GOVERNED_REGIONS: 'eu-west-1, us-east-1,eu-west-1',
      ORGANIZATIONS_ROLE_ARN: 'arn:aws:iam::999988887777:role/org-reader',
    });

    expect(governanceOf(config)).toMatchObject({
      governedOus: ['ou-ab12-cdef3456', 'r-ab12'],
      excludedAccounts: ['444455556666', '777788889999'],
      regions: ['eu-west-1', 'us-east-1'],
      organizationsRoleArn: 'arn:aws:iam::999988887777:role/org-reader',
    });
  });

  it.each(['ORGANIZATION_ID', 'ORGANIZATIONS_ROLE_ARN', 'MEMBER_READ_ROLE_NAME', 'MEMBER_WRITE_ROLE_NAME'])('reads an empty %s as unset', (key) => {
    expect(loadConfig({ ...DEPLOYED, [key]: '' })[key as keyof ReturnType<typeof loadConfig>]).toBeUndefined();
  });

  it('lets the former single cross-account role stand in for an unset member role, never over a set one', () => {
    const legacy = governanceOf(loadConfig({ CROSS_ACCOUNT_ROLE_NAME: 'eks-endpoint-guard-member' }));
    const split = governanceOf(loadConfig({ ...DEPLOYED, CROSS_ACCOUNT_ROLE_NAME: 'eks-endpoint-guard-member' }));

    expect([legacy.memberReadRoleName, legacy.memberWriteRoleName]).toEqual(['eks-endpoint-guard-member', 'eks-endpoint-guard-member']);
    expect([split.memberReadRoleName, split.memberWriteRoleName]).toEqual(['eks-endpoint-guard-member-read', 'eks-endpoint-guard-member-write']);
    expect(governanceOf(loadConfig({})).memberReadRoleName).toBeNull();
  });

  it('reports every malformed setting at once, naming the entry', () => {
    const problems = problemsOf({
      ORGANIZATION_ID: 'org-1',
      GOVERNED_OUS: 'ou-ab12-cdef3456,Sandbox',
      EXCLUDED_ACCOUNTS: '4444',
      GOVERNED_REGIONS: 'us-east-1,mars-1',
      MEMBER_READ_ROLE_NAME: 'a role',
      ORGANIZATIONS_ROLE_ARN: 'org-reader',
    });

    expect(problems).toEqual([
      'environment MEMBER_READ_ROLE_NAME: not an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-) (value: "a role")',
      'environment ORGANIZATION_ID: not an AWS Organizations id (o-…) (value: "org-1")',
      'environment GOVERNED_OUS.1: not an OU id (ou-…) or root id (r-…) (value: "ou-ab12-cdef3456,Sandbox")',
      'environment EXCLUDED_ACCOUNTS.0: not a 12-digit AWS account id (value: "4444")',
      'environment GOVERNED_REGIONS.1: not an AWS region name such as eu-west-1 (value: "us-east-1,mars-1")',
      'environment ORGANIZATIONS_ROLE_ARN: not an IAM role ARN (value: "org-reader")',
    ]);
  });

  it.each([
    ['eu-wset-1', 'environment GOVERNED_REGIONS.1: "eu-wset-1" is not an AWS region (did you mean eu-west-1?) (value: "us-east-1,eu-wset-1")'],
    ['us-east-9', 'environment GOVERNED_REGIONS.1: "us-east-9" is not an AWS region'],
  ])('refuses a governed region the SDK does not know (%s): a typo would leave a real region ungoverned', (typo, expected) => {
    expect(problemsOf({ GOVERNED_REGIONS: `us-east-1,${typo}` }).join('\n')).toContain(expected);
  });
});
