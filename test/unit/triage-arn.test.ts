import fc from 'fast-check';
import { clusterOfArn, isAccountId, isGuardPrincipal, isOwnRole, isRoleName, parseEksArn, parseRoleArn, principalRole } from '../../src/events/arn';

describe('parseRoleArn', () => {
  it.each([
    ['arn:aws:iam::123456789012:role/eks-endpoint-guard-prod-remediate', 'aws', 'eks-endpoint-guard-prod-remediate'],
    ['arn:aws:iam::123456789012:role/guard/prod/remediate', 'aws', 'remediate'],
    ['arn:aws-cn:iam::123456789012:role/service-role/guard+x=y,z.@_-', 'aws-cn', 'guard+x=y,z.@_-'],
    ['arn:aws-us-gov:iam::123456789012:role/aws-reserved/sso.amazonaws.com/us-gov-west-1/AWSReservedSSO_Admin_0123', 'aws-us-gov', 'AWSReservedSSO_Admin_0123'],
  ])('parses %s', (arn, partition, roleName) => {
    expect(parseRoleArn(arn)).toEqual({ partition, account: '123456789012', roleName });
  });

  it.each([
    ['an IAM user', 'arn:aws:iam::123456789012:user/alice'],
    ['an assumed-role session', 'arn:aws:sts::123456789012:assumed-role/guard/s'],
    ['a role without a name', 'arn:aws:iam::123456789012:role/'],
    ['a path without a name', 'arn:aws:iam::123456789012:role/guard/'],
    ['an empty path segment', 'arn:aws:iam::123456789012:role//guard'],
    ['a short account id', 'arn:aws:iam::12345:role/guard'],
    ['a region in an IAM ARN', 'arn:aws:iam:eu-west-1:123456789012:role/guard'],
    ['an unknown partition', 'arn:gcp:iam::123456789012:role/guard'],
    ['a role name with a space', 'arn:aws:iam::123456789012:role/my guard'],
    ['a role name over 64 characters', `arn:aws:iam::123456789012:role/${'r'.repeat(65)}`],
    ['a bare role name', 'eks-endpoint-guard-prod-remediate'],
    ['an empty string', ''],
  ])('rejects %s', (_, arn) => {
    expect(parseRoleArn(arn)).toBeNull();
  });
});

describe('principalRole', () => {
  it.each([
    ['arn:aws:sts::123456789012:assumed-role/guard/session@example.com', { partition: 'aws', account: '123456789012', roleName: 'guard' }],
    ['arn:aws-cn:sts::123456789012:assumed-role/guard/i-0abc', { partition: 'aws-cn', account: '123456789012', roleName: 'guard' }],
    ['arn:aws:iam::123456789012:role/a/b/guard', { partition: 'aws', account: '123456789012', roleName: 'guard' }],
    ['arn:aws:sts::123456789012:assumed-role/guard', null],
    ['arn:aws:sts::123456789012:federated-user/guard', null],
    ['arn:aws:iam::123456789012:root', null],
    ['arn:aws:iam::123456789012:user/guard', null],
    ['not an arn', null],
  ])('reads %s', (arn, expected) => {
    expect(principalRole(arn)).toEqual(expected);
  });
});

describe('isOwnRole', () => {
  const partition = fc.constantFrom('aws', 'aws-cn', 'aws-us-gov');
  const account = fc.stringMatching(/^\d{12}$/);
  const name = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
  const path = fc.array(fc.stringMatching(/^[\w.-]{1,10}$/), { maxLength: 3 }).map((parts) => parts.map((p) => `${p}/`).join(''));
  const session = fc.stringMatching(/^[\w+=,.@-]{2,64}$/);

  it('matches every session of a role, whatever the role path', () => {
    fc.assert(
      fc.property(partition, account, path, name, session, (p, a, rolePath, role, s) => {
        expect(isOwnRole(`arn:${p}:sts::${a}:assumed-role/${role}/${s}`, [`arn:${p}:iam::${a}:role/${rolePath}${role}`])).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('never matches when partition, account or role name differ', () => {
    const role = fc.tuple(partition, account, name);
    fc.assert(
      fc.property(role, role, session, ([p1, a1, n1], [p2, a2, n2], s) => {
        fc.pre(p1 !== p2 || a1 !== a2 || n1 !== n2);
        expect(isOwnRole(`arn:${p1}:sts::${a1}:assumed-role/${n1}/${s}`, [`arn:${p2}:iam::${a2}:role/${n2}`])).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('matches nothing with no own roles', () => {
    expect(isOwnRole('arn:aws:sts::123456789012:assumed-role/guard/s', [])).toBe(false);
  });
});

describe('isGuardPrincipal', () => {
  const HOME = '123456789012';
  const SELF = `arn:aws:iam::${HOME}:role/eks-endpoint-guard-prod-remediate`;
  const NAME = 'eks-endpoint-guard-member';
  const account = fc.stringMatching(/^\d{12}$/);
  const session = fc.stringMatching(/^[\w+=,.@-]{2,64}$/);
  const partition = fc.constantFrom('aws', 'aws-cn', 'aws-us-gov');

  it('takes every exact self role, as isOwnRole does, whatever the cross-account settings', () => {
    fc.assert(
      fc.property(session, fc.constantFrom(HOME, null), fc.constantFrom(NAME, null), (s, home, name) => {
        const arn = `arn:aws:sts::${HOME}:assumed-role/eks-endpoint-guard-prod-remediate/${s}`;

        expect(isGuardPrincipal(arn, { selfRoleArns: [SELF], crossAccountRoleName: name, homeAccount: home })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('takes the cross-account role in every account but the home account', () => {
    fc.assert(
      fc.property(account, account, session, (home, actor, s) => {
        const arn = `arn:aws:sts::${actor}:assumed-role/${NAME}/${s}`;

        expect(isGuardPrincipal(arn, { selfRoleArns: [], crossAccountRoleName: NAME, homeAccount: home })).toBe(actor !== home);
      }),
      { numRuns: 1000 },
    );
  });

  it('without a home account, takes the cross-account role outside the accounts and partitions of the self roles', () => {
    fc.assert(
      fc.property(account, partition, account, partition, session, (selfAccount, selfPartition, actor, actorPartition, s) => {
        const self = `arn:${selfPartition}:iam::${selfAccount}:role/guard`;
        const arn = `arn:${actorPartition}:sts::${actor}:assumed-role/${NAME}/${s}`;

        const expected = actorPartition === selfPartition && actor !== selfAccount;
        expect(isGuardPrincipal(arn, { selfRoleArns: [self], crossAccountRoleName: NAME, homeAccount: null })).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['a user of that name', `arn:aws:iam::210987654321:user/${NAME}`],
    ['a federated user of that name', `arn:aws:sts::210987654321:federated-user/${NAME}`],
    ['a role whose name only starts with it', `arn:aws:sts::210987654321:assumed-role/${NAME}x/s`],
    ['not an ARN', NAME],
  ])('does not take %s', (_, arn) => {
    expect(isGuardPrincipal(arn, { selfRoleArns: [SELF], crossAccountRoleName: NAME, homeAccount: HOME })).toBe(false);
  });
});

describe('parseEksArn and clusterOfArn', () => {
  it.each([
    ['arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments', 'cluster', 'prod-payments', { name: 'prod-payments', account: '123456789012', region: 'eu-west-1' }],
    ['arn:aws-cn:eks:cn-north-1:123456789012:cluster/A_1', 'cluster', 'A_1', { name: 'A_1', account: '123456789012', region: 'cn-north-1' }],
    ['arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/x', 'cluster', 'x', { name: 'x', account: '123456789012', region: 'us-gov-west-1' }],
    ['arn:aws:eks:eu-west-1:123456789012:nodegroup/prod/workers/4ec8', 'nodegroup', 'prod/workers/4ec8', null],
    ['arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/5ac8', 'addon', 'prod/vpc-cni/5ac8', null],
    ['arn:aws:eks:eu-west-1:123456789012:cluster/prod/extra', 'cluster', 'prod/extra', null],
    ['arn:aws:eks:eu-west-1:123456789012:cluster/-prod', 'cluster', '-prod', null],
    [`arn:aws:eks:eu-west-1:123456789012:cluster/${'c'.repeat(101)}`, 'cluster', 'c'.repeat(101), null],
  ])('reads %s', (arn, resourceType, resourceId, cluster) => {
    const parsed = parseEksArn(arn);

    expect(parsed).toMatchObject({ resourceType, resourceId });
    expect(clusterOfArn(parsed!)).toEqual(cluster);
  });

  it.each([
    ['another service', 'arn:aws:iam::123456789012:role/eks'],
    ['no region', 'arn:aws:eks::123456789012:cluster/prod'],
    ['a short account', 'arn:aws:eks:eu-west-1:1234:cluster/prod'],
    ['no resource id', 'arn:aws:eks:eu-west-1:123456789012:cluster/'],
    ['no resource type', 'arn:aws:eks:eu-west-1:123456789012:/prod'],
    ['no slash', 'arn:aws:eks:eu-west-1:123456789012:cluster'],
    ['an encoded ARN (decoding is the caller job)', 'arn%3Aaws%3Aeks%3Aeu-west-1%3A123456789012%3Acluster%2Fprod'],
    ['an unknown partition', 'arn:gcp:eks:eu-west-1:123456789012:cluster/prod'],
  ])('rejects %s', (_, arn) => {
    expect(parseEksArn(arn)).toBeNull();
  });
});

describe('isAccountId and isRoleName', () => {
  it.each([
    ['123456789012', true],
    ['012345678901', true],
    ['12345678901', false],
    ['1234567890123', false],
    ['12345678901a', false],
    ['', false],
  ])('isAccountId(%p) is %p', (value, expected) => {
    expect(isAccountId(value)).toBe(expected);
  });

  it.each([
    ['eks-endpoint-guard-member', true],
    ['a+b=c,d.e@f_g-h', true],
    ['r'.repeat(64), true],
    ['r'.repeat(65), false],
    ['with space', false],
    ['path/name', false],
    ['', false],
  ])('isRoleName(%p) is %p', (value, expected) => {
    expect(isRoleName(value)).toBe(expected);
  });
});
