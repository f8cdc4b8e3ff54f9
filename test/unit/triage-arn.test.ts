import fc from 'fast-check';
import { isOwnRole, parseRoleArn, principalRole } from '../../src/events/arn';

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
