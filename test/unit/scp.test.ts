/**
 * `eks-endpoint-guard scp` as pure functions (src/scp/): where each Deny lands, what it refuses and admits
 * (judged by the IAM condition evaluator of src/iam/guardrail.ts, not by reading the JSON), the condition
 * semantics for fields a request omits, exceptions and the companion Deny that protects exceptions by
 * role name, size limits and splitting, what is left to the guard (every rule expressed or listed),
 * warnings on references the organization does not have, and the organization file.
 */
import { conditionHolds, denyingStatements, type IamRequest, type IamStatement } from '../../src/iam/guardrail';
import { validatePolicy } from '../../src/policy/load';
import { exceptionPatterns, generateScps, packStatements, SCP_MAX_CHARACTERS, type ScpOptions, type ScpOutput } from '../../src/scp/generate';
import { parseOrganizationDocument, type OrganizationTree } from '../../src/scp/organization-file';
import { renderScps } from '../../src/scp/render';

const ROOT = 'r-ab12';
const PROD = 'ou-ab12-prod0001';
const PAYMENTS = 'ou-ab12-paym0001';
const SANDBOX = 'ou-ab12-sand0001';
const MGMT = '111111111111';
const PAY = '222222222222';
const LEGACY = '333333333333';
const SBX = '444444444444';
const PARTNER = '555555555555';

const ORG = parseOrganizationDocument({
  managementAccount: MGMT,
  units: [
    { id: PROD, name: 'Production' },
    { id: PAYMENTS, name: 'Payments', parent: 'Production' },
    { id: SANDBOX, name: 'Sandbox' },
  ],
  accounts: [
    { id: PAY, name: 'payments', unit: PAYMENTS },
    { id: LEGACY, name: 'legacy', unit: PROD },
    { id: SBX, name: 'sandbox', unit: SANDBOX },
    { id: PARTNER, name: 'partner', unit: PROD, tags: { exposure: 'partner' } },
  ],
});

const policy = (rules: unknown[] = [], defaults: Record<string, unknown> = { publicAccess: 'forbidden' }, exemptions: unknown[] = []) =>
  validatePolicy({ version: 1, defaults: { maxTagExemptionDays: 0, ...defaults }, rules, exemptions });

type Req = { action: 'eks:CreateCluster' | 'eks:UpdateClusterConfig'; pub?: boolean; priv?: boolean; region?: string; principal?: string };
const request = (account: string, r: Req): IamRequest => ({
  action: r.action,
  keys: {
    'aws:PrincipalArn': r.principal ?? `arn:aws:iam::${account}:role/developer`,
    'aws:RequestedRegion': r.region ?? 'us-east-1',
    ...(r.pub === undefined ? {} : { 'eks:endpointPublicAccess': String(r.pub) }),
    ...(r.priv === undefined ? {} : { 'eks:endpointPrivateAccess': String(r.priv) }),
  },
});

/** The statements of every policy that applies to the account: its root, its OUs and itself (none for the management account). */
function applicable(out: ScpOutput, tree: OrganizationTree, account: string): IamStatement[] {
  if (account === tree.organization.managementAccount) return [];
  const path = tree.organization.accounts.find((a) => a.id === account)?.ouPath ?? [];
  return out.policies
    .filter((p) => (p.target.type === 'account' ? p.target.id === account : p.target.type === 'root' || path.includes(p.target.id)))
    .flatMap((p) => (JSON.parse(p.document) as { Statement: IamStatement[] }).Statement);
}
const denied = (out: ScpOutput, tree: OrganizationTree, account: string, r: Req) => denyingStatements(applicable(out, tree, account), request(account, r)).length > 0;

const PUBLIC_ON: Req = { action: 'eks:UpdateClusterConfig', pub: true };
const PRIVATE_OFF: Req = { action: 'eks:UpdateClusterConfig', priv: false };

describe('where the Denies land (with an organization)', () => {
  type Case = { name: string; rules: unknown[]; defaults?: Record<string, unknown>; targets: string[]; refused: [string, Req][]; admitted: [string, Req][] };
  const cases: Case[] = [
    {
      name: 'strict defaults and no rules: one policy at the root refuses everywhere but the management account',
      rules: [],
      defaults: { publicAccess: 'forbidden', privateAccess: 'required' },
      targets: [`root ${ROOT}`],
      refused: [
        [PAY, PUBLIC_ON],
        [SBX, PRIVATE_OFF],
        [PARTNER, { action: 'eks:CreateCluster', pub: true, priv: true }],
      ],
      admitted: [
        [MGMT, PUBLIC_ON],
        [PAY, { action: 'eks:UpdateClusterConfig', pub: false, priv: true }],
      ],
    },
    {
      name: 'an OU rule that allows public access keeps the Deny off the root and puts it on the other OU and account',
      rules: [{ name: 'sandbox', match: { ous: [SANDBOX] }, publicAccess: 'unrestricted', privateAccess: 'optional' }],
      defaults: { publicAccess: 'forbidden', privateAccess: 'required' },
      targets: [`ou ${PROD}`],
      refused: [
        [PAY, PUBLIC_ON],
        [LEGACY, PRIVATE_OFF],
      ],
      admitted: [
        [SBX, PUBLIC_ON],
        [SBX, PRIVATE_OFF],
      ],
    },
    {
      name: 'an account-tag rule is resolved against the organization: the tagged account gets no Deny, its OU siblings get theirs one by one',
      rules: [{ name: 'partners', match: { accountTags: { exposure: 'partner' } }, publicAccess: 'unrestricted' }],
      // Private access is required everywhere (the defaults), so that Deny goes to the root.
      targets: [`root ${ROOT}`, `ou ${SANDBOX}`, `ou ${PAYMENTS}`, `account ${LEGACY}`],
      refused: [
        [PAY, PUBLIC_ON],
        [LEGACY, PUBLIC_ON],
        [SBX, PUBLIC_ON],
      ],
      admitted: [[PARTNER, PUBLIC_ON]],
    },
    {
      name: 'a region rule becomes aws:RequestedRegion: refused elsewhere, admitted in the named region',
      rules: [{ name: 'eu-open', match: { regions: ['eu-west-1'] }, publicAccess: 'unrestricted' }],
      targets: [`root ${ROOT}`],
      refused: [
        [PAY, PUBLIC_ON],
        [PAY, { ...PUBLIC_ON, region: 'ap-south-1' }],
      ],
      admitted: [[PAY, { ...PUBLIC_ON, region: 'eu-west-1' }]],
    },
    {
      name: 'an account rule limited to a region: that account alone is admitted there',
      rules: [{ name: 'legacy-eu', match: { accounts: [LEGACY], regions: ['eu-west-1'] }, publicAccess: 'unrestricted' }],
      // The root denies private access off everywhere and public access on outside eu-west-1; the rest adds eu-west-1.
      targets: [`root ${ROOT}`, `ou ${SANDBOX}`, `ou ${PAYMENTS}`, `account ${PARTNER}`],
      refused: [
        [LEGACY, PUBLIC_ON],
        [PARTNER, { ...PUBLIC_ON, region: 'eu-west-1' }],
      ],
      admitted: [[LEGACY, { ...PUBLIC_ON, region: 'eu-west-1' }]],
    },
    {
      name: 'a cluster-name rule that allows public access anywhere leaves public access to the guard; private access is still refused',
      rules: [{ name: 'demo', match: { clusters: ['demo-*'] }, publicAccess: 'unrestricted' }],
      defaults: { publicAccess: 'forbidden', privateAccess: 'required' },
      targets: [`root ${ROOT}`],
      refused: [[PAY, PRIVATE_OFF]],
      admitted: [[PAY, PUBLIC_ON]],
    },
    {
      name: 'a cluster-tag rule that is as strict as the defaults does not hold the Deny back',
      rules: [{ name: 'tagged', match: { tags: { tier: 'gold' } }, publicAccess: 'forbidden' }],
      targets: [`root ${ROOT}`],
      refused: [[PAY, PUBLIC_ON]],
      admitted: [],
    },
    {
      name: 'a looser rule for the management account does not hold the root back: SCPs never apply to it',
      rules: [{ name: 'mgmt', match: { accounts: [MGMT] }, publicAccess: 'unrestricted', privateAccess: 'optional' }],
      defaults: { publicAccess: 'forbidden', privateAccess: 'required' },
      targets: [`root ${ROOT}`],
      refused: [
        [PAY, PUBLIC_ON],
        [SBX, PRIVATE_OFF],
      ],
      admitted: [[MGMT, PUBLIC_ON]],
    },
    {
      name: 'alert mode refuses nothing: the guard only reports there',
      rules: [],
      defaults: { publicAccess: 'forbidden', privateAccess: 'required', mode: 'alert' },
      targets: [],
      refused: [],
      admitted: [
        [PAY, PUBLIC_ON],
        [PAY, PRIVATE_OFF],
      ],
    },
    {
      name: 'unrestricted and optional defaults: nothing to refuse',
      rules: [],
      defaults: { publicAccess: 'unrestricted', privateAccess: 'optional' },
      targets: [],
      refused: [],
      admitted: [[PAY, PUBLIC_ON]],
    },
  ];

  it.each(cases)('$name', ({ rules, defaults, targets, refused, admitted }) => {
    const out = generateScps(policy(rules, defaults), { organization: ORG });

    expect(out.policies.map((p) => `${p.target.type} ${p.target.id}`)).toEqual(targets);
    for (const [account, r] of refused) expect({ account, r, denied: denied(out, ORG, account, r) }).toEqual({ account, r, denied: true });
    for (const [account, r] of admitted) expect({ account, r, denied: denied(out, ORG, account, r) }).toEqual({ account, r, denied: false });
  });
});

describe('condition semantics of omitted fields', () => {
  const out = generateScps(policy([], { publicAccess: 'forbidden', privateAccess: 'required' }), { organization: ORG });
  const statements = applicable(out, ORG, PAY);

  it.each([
    ['CreateCluster omitting endpointPublicAccess (EKS default: public on), key absent', { action: 'eks:CreateCluster', priv: true } as Req, ['DenyEksCreateOmittingPublicAccess']],
    ['CreateCluster omitting endpointPrivateAccess (EKS default: private off), key absent', { action: 'eks:CreateCluster', pub: false } as Req, ['DenyEksCreateOmittingPrivateAccess']],
    ['CreateCluster omitting both', { action: 'eks:CreateCluster' } as Req, ['DenyEksCreateOmittingPublicAccess', 'DenyEksCreateOmittingPrivateAccess']],
    ['CreateCluster asking public off and private on explicitly', { action: 'eks:CreateCluster', pub: false, priv: true } as Req, []],
    ['UpdateClusterConfig omitting both (a CIDR or logging change): nothing changes, nothing denied', { action: 'eks:UpdateClusterConfig' } as Req, []],
    ['UpdateClusterConfig omitting public, turning private on', { action: 'eks:UpdateClusterConfig', priv: true } as Req, []],
    ['UpdateClusterConfig turning public off only', { action: 'eks:UpdateClusterConfig', pub: false } as Req, []],
  ])('%s', (_name, r, sids) => {
    expect(denyingStatements(statements, request(PAY, r))).toEqual(sids);
  });

  it('CreateCluster omitting a field is refused also if AWS fills the key in with the EKS default', () => {
    // AWS does not document which it does; the Bool statements cover the key present with the default.
    const defaulted: IamRequest = { action: 'eks:CreateCluster', keys: { 'aws:RequestedRegion': 'us-east-1', 'eks:endpointPublicAccess': 'true', 'eks:endpointPrivateAccess': 'false' } };
    expect(denyingStatements(statements, defaulted)).toEqual(['DenyEksPublicEndpointOn', 'DenyEksPrivateEndpointOff']);
  });

  it('uses Bool and Null only, never BoolIfExists, and Null only on CreateCluster', () => {
    const all = out.policies.flatMap((p) => (JSON.parse(p.document) as { Statement: IamStatement[] }).Statement);
    expect(JSON.stringify(all)).not.toMatch(/IfExists/);
    for (const s of all.filter((x) => x.Condition?.Null)) expect(s.Action).toBe('eks:CreateCluster');
    expect(out.notes.join('\n')).toMatch(/Null/);
    expect(out.notes.join('\n')).toMatch(/never BoolIfExists/);
  });

  it('the root policy is exactly these four statements, minified', () => {
    expect(out.policies).toHaveLength(1);
    const [p] = out.policies;
    expect(p!.document).toBe(
      '{"Version":"2012-10-17","Statement":[' +
        '{"Sid":"DenyEksPublicEndpointOn","Effect":"Deny","Action":["eks:CreateCluster","eks:UpdateClusterConfig"],"Resource":"*","Condition":{"Bool":{"eks:endpointPublicAccess":"true"}}},' +
        '{"Sid":"DenyEksCreateOmittingPublicAccess","Effect":"Deny","Action":"eks:CreateCluster","Resource":"*","Condition":{"Null":{"eks:endpointPublicAccess":"true"}}},' +
        '{"Sid":"DenyEksPrivateEndpointOff","Effect":"Deny","Action":["eks:CreateCluster","eks:UpdateClusterConfig"],"Resource":"*","Condition":{"Bool":{"eks:endpointPrivateAccess":"false"}}},' +
        '{"Sid":"DenyEksCreateOmittingPrivateAccess","Effect":"Deny","Action":"eks:CreateCluster","Resource":"*","Condition":{"Null":{"eks:endpointPrivateAccess":"true"}}}]}',
    );
    expect(p).toMatchObject({ name: `eks-endpoint-guard-${ROOT}`, target: { type: 'root', id: ROOT }, size: p!.document.length });
  });
});

describe('exceptions', () => {
  const options: ScpOptions = {
    organization: ORG,
    guardRoleArns: ['arn:aws:iam::999999999999:role/eks-endpoint-guard-remediate'],
    guardRoleNames: ['eks-endpoint-guard-write'],
    breakGlassRoles: ['ops/BreakGlass'],
  };
  const out = generateScps(policy([], { publicAccess: 'forbidden', privateAccess: 'required' }), options);

  it.each([
    ['the central remediation role', 'arn:aws:iam::999999999999:role/eks-endpoint-guard-remediate', false],
    ['the member write role in any account', `arn:aws:iam::${PAY}:role/eks-endpoint-guard-write`, false],
    ['the break-glass role, with its path', `arn:aws:iam::${PAY}:role/ops/BreakGlass`, false],
    ['a role of the same name under another path', `arn:aws:iam::${PAY}:role/BreakGlass`, true],
    ['a role whose name only starts like the write role', `arn:aws:iam::${PAY}:role/eks-endpoint-guard-write2`, true],
    ['the central role name in another account', `arn:aws:iam::${PAY}:role/eks-endpoint-guard-remediate`, true],
  ])('%s (%s): denied %s', (_name, principal, expected) => {
    for (const r of [PUBLIC_ON, PRIVATE_OFF, { action: 'eks:CreateCluster' } as Req]) {
      expect(denied(out, ORG, PAY, { ...r, principal })).toBe(expected);
    }
  });

  it('are ArnNotLike aws:PrincipalArn patterns with the role names in any account', () => {
    expect(exceptionPatterns(options)).toEqual([
      'arn:aws:iam::999999999999:role/eks-endpoint-guard-remediate',
      'arn:aws:iam::*:role/eks-endpoint-guard-write',
      'arn:aws:iam::*:role/ops/BreakGlass',
    ]);
    expect(out.policies[0]!.document).toContain('"ArnNotLike":{"aws:PrincipalArn":[');
  });

  it.each([
    [{ guardRoleArns: ['arn:aws:iam::*:role/x'] }, /--guard-role-arn: not an IAM role ARN/],
    [{ guardRoleArns: ['arn:aws:iam::123456789012:user/x'] }, /--guard-role-arn/],
    [{ breakGlassRoles: ['Break*'] }, /--break-glass-role: not an IAM role name.*"Break\*"/],
    [{ guardRoleNames: [''] }, /--guard-role-name/],
  ] as [ScpOptions, RegExp][])('refuses %j', (bad, message) => {
    expect(() => exceptionPatterns(bad)).toThrow(message);
  });
});

describe('size: within 5,120 characters, split, never truncated', () => {
  const manyArns = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::${String(100000000000 + i)}:role/eks-endpoint-guard-remediate-${i}`);

  it('splits into several policies for one target when the statements do not fit in one, keeping every statement', () => {
    const out = generateScps(policy([], { publicAccess: 'forbidden', privateAccess: 'required' }), { organization: ORG, guardRoleArns: manyArns(25) });
    expect(out.policies.length).toBeGreaterThan(1);
    for (const p of out.policies) {
      expect(p.size).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
      expect(p.size).toBe(p.document.length);
      expect(JSON.stringify(JSON.parse(p.document))).toBe(p.document);
    }
    expect(out.policies.map((p) => p.name)).toEqual([`eks-endpoint-guard-${ROOT}-1`, `eks-endpoint-guard-${ROOT}-2`, ...(out.policies.length > 2 ? out.policies.slice(2).map((_, i) => `eks-endpoint-guard-${ROOT}-${i + 3}`) : [])]);
    const sids = out.policies.flatMap((p) => (JSON.parse(p.document) as { Statement: IamStatement[] }).Statement.map((s) => s.Sid));
    expect(sids).toEqual(['DenyEksPublicEndpointOn', 'DenyEksCreateOmittingPublicAccess', 'DenyEksPrivateEndpointOff', 'DenyEksCreateOmittingPrivateAccess']);
  });

  it('splits a positive region list across statements when one statement alone is too large', () => {
    const regions = Array.from({ length: 400 }, (_, i) => `us-east-${i + 1}`);
    const big: IamStatement = { Sid: 'DenyX', Effect: 'Deny', Action: 'eks:CreateCluster', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': regions } } };
    const documents = packStatements([big]);
    expect(documents.length).toBeGreaterThan(1);
    const covered = documents.flat().flatMap((s) => [(s.Condition!.StringEquals as Record<string, string | string[]>)['aws:RequestedRegion']].flat());
    expect(covered.sort()).toEqual([...regions].sort());
    for (const d of documents) expect(JSON.stringify({ Version: '2012-10-17', Statement: d }).length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
  });

  it('refuses, naming the options, when the exceptions alone do not fit in one statement', () => {
    expect(() => generateScps(policy(), { guardRoleArns: manyArns(80) })).toThrow(/more than an SCP may hold \(5120\).*--guard-role-arn/);
  });
});

describe('enforced by the guard only', () => {
  const out = generateScps(
    policy(
      [
        { name: 'partner', match: { accounts: [PARTNER] }, publicAccess: 'restricted', allowedPublicCidrs: ['203.0.113.0/24'] },
        { name: 'demo', match: { clusters: ['demo-*'] }, publicAccess: 'unrestricted' },
        { name: 'gold', match: { tags: { tier: 'gold' } }, publicAccess: 'forbidden' },
        { name: 'shadow', match: { accounts: [SBX] }, mode: 'alert' },
        { name: 'by-tag', match: { accountTags: { env: 'prod' } }, publicAccess: 'forbidden' },
      ],
      { publicAccess: 'forbidden', maxTagExemptionDays: 7 },
      [{ name: 'migration', match: { clusters: ['billing'] }, reason: 'moving', expires: '2027-01-31' }],
    ),
  );
  const reasons = (rule: string) => out.guardOnly.filter((g) => g.rule === rule).map((g) => g.reason);

  it.each([
    ['partner', /no IAM condition key describes publicAccessCidrs/],
    ['demo', /cluster names/],
    ['gold', /cluster tags/],
    ['shadow', /mode alert: the guard only reports/],
    ['by-tag', /without --organization/],
    ['exemption migration', /does not honour exemptions/],
    ['exemptionTag eks-endpoint-guard/exempt-until', /up to 7 days/],
  ])('%s: %s', (rule, reason) => {
    expect(reasons(rule).some((r) => reason.test(r))).toBe(true);
  });

  it('lists the management account under the rule that applies there, with an organization', () => {
    const withOrg = generateScps(policy([{ name: 'mgmt', match: { accounts: [MGMT] }, publicAccess: 'forbidden', privateAccess: 'required' }], { publicAccess: 'unrestricted', privateAccess: 'optional' }), { organization: ORG });
    expect(withOrg.guardOnly).toContainEqual({ rule: 'mgmt', reason: expect.stringContaining(`management account ${MGMT}, where SCPs never apply`) });
    expect(withOrg.policies).toEqual([]);
  });
});

describe('without an organization', () => {
  it('targets the root (its id taken from the OU ids), the OUs and the accounts the policy names', () => {
    const out = generateScps(
      policy(
        [
          { name: 'strict-ou', match: { ous: [PROD] }, publicAccess: 'forbidden', privateAccess: 'required' },
          { name: 'pay', match: { accounts: [PAY] }, privateAccess: 'required' },
          { name: 'sandbox', match: { ous: [SANDBOX] }, publicAccess: 'unrestricted' },
        ],
        { publicAccess: 'forbidden', privateAccess: 'optional' },
      ),
    );
    // The root denies nothing: any account may be in the sandbox OU. PAY is judged by strict-ou or pay
    // (both strict) since, wherever it is, a rule before sandbox decides.
    expect(out.policies.map((p) => `${p.target.type} ${p.target.id}`)).toEqual([`ou ${PROD}`, `account ${PAY}`]);
    const sids = (i: number) => (JSON.parse(out.policies[i]!.document) as { Statement: IamStatement[] }).Statement.map((s) => s.Sid);
    const all = ['DenyEksPublicEndpointOn', 'DenyEksCreateOmittingPublicAccess', 'DenyEksPrivateEndpointOff', 'DenyEksCreateOmittingPrivateAccess'];
    expect([sids(0), sids(1)]).toEqual([all, all]);
  });

  it('does not deny in a named OU what a rule on another OU, possibly nested inside it, allows', () => {
    const out = generateScps(
      policy(
        [
          { name: 'sandbox', match: { ous: [SANDBOX] }, publicAccess: 'unrestricted' },
          { name: 'strict-ou', match: { ous: [PROD] }, publicAccess: 'forbidden', privateAccess: 'required' },
        ],
        { publicAccess: 'forbidden', privateAccess: 'optional' },
      ),
    );
    expect(out.policies).toEqual([]);
    expect(out.notes.join('\n')).toMatch(/Without --organization/);
  });

  it('puts the defaults at a root of unknown id when no OU id reveals it, and says so', () => {
    const out = generateScps(policy());
    expect(out.policies.map((p) => p.target)).toEqual([{ type: 'root', id: 'root' }]);
    expect(out.notes.join('\n')).toMatch(/root id is unknown/);
  });
});

describe('organization file', () => {
  it('resolves OU paths by id or name, nested, and lists the management account even when only named as such', () => {
    expect([ORG.root, ORG.rootKnown]).toEqual([ROOT, true]);
    const paths = Object.fromEntries(ORG.organization.accounts.map((a) => [a.id, a.ouPath]));
    expect(paths).toEqual({ [PAY]: [ROOT, PROD, PAYMENTS], [LEGACY]: [ROOT, PROD], [SBX]: [ROOT, SANDBOX], [PARTNER]: [ROOT, PROD], [MGMT]: [ROOT] });
    expect(ORG.units).toContainEqual({ id: PAYMENTS, name: 'Payments', parent: PROD });
  });

  it('reads the organization: section of a whole emulator state file, keys the emulator knows included', () => {
    const tree = parseOrganizationDocument({
      clusters: [],
      organization: { managementAccount: MGMT, delegatedAdministrators: [PAY], strictRoles: true, units: [{ name: 'Workloads', tags: { a: 'b' } }], accounts: [{ id: PAY, unit: 'Workloads', email: 'x@example.com' }] },
    });
    expect(tree.organization.accounts.map((a) => a.id).sort()).toEqual([MGMT, PAY]);
    // Neither rootId nor an OU id: both are made up, as the emulator makes them up.
    expect(tree.rootKnown).toBe(false);
    expect(tree.units).toEqual([{ id: expect.stringMatching(/^ou-[0-9a-z]+-[0-9a-z]{8}$/), name: 'Workloads', parent: tree.root }]);
    expect(tree.organization.accounts.find((a) => a.id === PAY)!.ouPath).toEqual([tree.root, tree.units[0]!.id]);
  });

  it('resolves ids exactly as the emulator does for the same state', async () => {
    const { Organizations } = await import('../../src/emulator/organizations');
    const { organizationStateSchema } = await import('../../src/emulator/organization-state');
    const state = { managementAccount: MGMT, units: [{ name: 'A' }, { name: 'B', parent: 'A' }], accounts: [{ id: PAY, unit: 'B' }] };
    const emulated = new Organizations();
    emulated.load(organizationStateSchema.parse(state), 0);
    const snapshot = emulated.snapshot()!;
    const tree = parseOrganizationDocument(state);
    expect(tree.root).toBe(snapshot.rootId);
    expect(tree.units.map((u) => [u.id, u.parent])).toEqual(snapshot.units.map((u) => [u.id, u.parentId]));
  });

  it.each([
    [{ managementAccount: 111111111111, accounts: [] }, /org.yaml: organization.managementAccount: .*\(got 111111111111\); write account ids as quoted strings/],
    [{ managementAccount: MGMT, accounts: [{ id: PAY, unit: 'Nowhere' }] }, /org.yaml: organization.accounts\[0\]\.unit: no OU has the name or id Nowhere/],
    [{ managementAccount: MGMT, units: [{ id: 'ou-bad', name: 'x' }] }, /organization.units\[0\]\.id: must be an OU id.*\(got "ou-bad"\)/],
    [{ managementAccount: MGMT, units: [{ id: PROD, name: 'A', parent: PAYMENTS }, { id: PAYMENTS, name: 'B', parent: PROD }] }, /is its own ancestor/],
    [{ managementAccount: MGMT, units: [{ id: PROD, name: 'Same' }, { id: PAYMENTS, name: 'Same', parent: PROD }], accounts: [{ id: PAY, unit: 'Same' }] }, /more than one OU is named Same/],
    [{ managementAccount: MGMT, accounts: [{ id: PAY }, { id: PAY }] }, /organization.accounts\[1\]\.id: account 222222222222 is listed twice/],
    [{ managementAccount: MGMT, acounts: [] }, /Unrecognized key.*acounts/],
  ])('refuses %j', (doc, message) => {
    expect(() => parseOrganizationDocument(doc, 'org.yaml')).toThrow(message);
  });
});

describe('the IAM condition evaluator (src/iam/guardrail.ts)', () => {
  it.each([
    ['Null true holds when the key is absent', { Null: { k: 'true' } }, {}, true],
    ['Null true fails when the key is present', { Null: { k: 'true' } }, { k: 'false' }, false],
    ['Null false holds when present', { Null: { k: 'false' } }, { k: 'x' }, true],
    ['Bool is case-insensitive', { Bool: { k: 'TRUE' } }, { k: 'true' }, true],
    ['Bool fails on an absent key', { Bool: { k: 'true' } }, {}, false],
    ['BoolIfExists holds on an absent key', { BoolIfExists: { k: 'true' } }, {}, true],
    ['StringNotEquals holds on an absent key', { StringNotEquals: { k: ['a'] } }, {}, true],
    ['StringNotEquals fails when any value equals', { StringNotEquals: { k: ['a', 'b'] } }, { k: 'b' }, false],
    ['StringEquals ORs its values', { StringEquals: { k: ['a', 'b'] } }, { k: 'b' }, true],
    ['key names are case-insensitive', { StringEquals: { 'AWS:RequestedRegion': 'x' } }, { 'aws:requestedregion': 'x' }, true],
    ['ArnNotLike holds on an absent key', { ArnNotLike: { k: 'arn:aws:iam::*:role/x' } }, {}, true],
    ['ArnLike: * does not cross a colon', { ArnLike: { k: 'arn:aws:iam::*:role/x' } }, { k: 'arn:aws:iam::1:2:role/x' }, false],
    ['ArnLike: * in the resource part spans a path', { ArnLike: { k: 'arn:aws:iam::*:role/*' } }, { k: 'arn:aws:iam::123456789012:role/a/b' }, true],
    ['operators AND together', { Bool: { a: 'true' }, StringEquals: { b: 'x' } }, { a: 'true', b: 'y' }, false],
  ] as [string, IamStatement['Condition'], Record<string, string>, boolean][])('%s', (_name, condition, keys, expected) => {
    expect(conditionHolds(condition, keys)).toBe(expected);
  });

  it('throws on an operator it does not know, rather than reading it as true or false', () => {
    expect(() => conditionHolds({ ForAnyValue: { k: 'x' } }, { k: 'x' })).toThrow(/ForAnyValue/);
  });
});

describe('text format', () => {
  it('says per policy where it attaches, what it denies where, and the document', () => {
    const out = generateScps(policy([{ name: 'eu', match: { regions: ['eu-west-1'] }, publicAccess: 'unrestricted' }]), { organization: ORG, breakGlassRoles: ['BreakGlass'] });
    const text = renderScps(out);
    expect(text).toContain(`eks-endpoint-guard-${ROOT} → attach to root ${ROOT}`);
    expect(text).toContain('denies public endpoint on: eks:CreateCluster and eks:UpdateClusterConfig asking eks:endpointPublicAccess=true, in every region except eu-west-1');
    expect(text).toContain('except principals: arn:aws:iam::*:role/BreakGlass');
    expect(text).toContain(out.policies[0]!.document);
    expect(text).toMatch(/Notes:/);
  });
});

describe('exceptions by role name bring a companion Deny that protects those names', () => {
  const strict = policy([], { publicAccess: 'forbidden', privateAccess: 'required' });
  const companions = (out: ScpOutput) =>
    out.policies.flatMap((p) => (JSON.parse(p.document) as { Statement: IamStatement[] }).Statement.filter((s) => s.Sid === 'DenyChangingExceptedRoles').map((s) => ({ target: p.target, s })));
  const onRole = (patterns: string | readonly string[] | undefined, arn: string) => conditionHolds({ ArnLike: { k: patterns ?? [] } }, { k: arn });

  it('refuses creating or retrusting a role of an excepted name to all but the StackSet execution role, by default', () => {
    const out = generateScps(strict, { organization: ORG, breakGlassRoles: ['ops/BreakGlass'] });
    const found = companions(out);
    // Once, at the root: an SCP there applies to every member account.
    expect(found.map((c) => c.target)).toEqual([{ type: 'root', id: ROOT }]);
    const s = found[0]!.s;
    expect(s.Resource).toEqual(['arn:aws:iam::*:role/ops/BreakGlass', 'arn:aws:iam::*:role/stacksets-exec-*']);
    expect(s.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/stacksets-exec-*' } });
    type Case = [string, string, string, boolean];
    const cases: Case[] = [
      ['a developer creating the break-glass role', `arn:aws:iam::${PAY}:role/developer`, 'iam:CreateRole', true],
      ['a developer rewriting its trust policy', `arn:aws:iam::${PAY}:role/developer`, 'iam:UpdateAssumeRolePolicy', true],
      ['a developer attaching a policy to it', `arn:aws:iam::${PAY}:role/developer`, 'iam:AttachRolePolicy', true],
      ['a developer deleting it (to re-create it)', `arn:aws:iam::${PAY}:role/developer`, 'iam:DeleteRole', true],
      ['the StackSet execution role creating it', `arn:aws:iam::${PAY}:role/stacksets-exec-0123abcd`, 'iam:CreateRole', false],
      ['a developer reading it', `arn:aws:iam::${PAY}:role/developer`, 'iam:GetRole', false],
    ];
    for (const [what, principal, action, refused] of cases) {
      expect({ what, refused: denyingStatements([s], { action, keys: { 'aws:PrincipalArn': principal } }).length > 0 }).toEqual({ what, refused });
    }
    expect(onRole(s.Resource, `arn:aws:iam::${PAY}:role/ops/BreakGlass`)).toBe(true);
    // Nobody makes themselves a role admin by creating a role so named.
    expect(onRole(s.Resource, `arn:aws:iam::${PAY}:role/stacksets-exec-evil`)).toBe(true);
    expect(onRole(s.Resource, `arn:aws:iam::${PAY}:role/developer`)).toBe(false);
    expect(out.notes.join('\n')).toMatch(/DenyChangingExceptedRoles: it refuses iam:CreateRole.*stacksets-exec-\*, the default/);
  });

  it('takes the role admins from --role-admin-arn', () => {
    const admin = 'arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole';
    const [c] = companions(generateScps(strict, { organization: ORG, breakGlassRoles: ['BreakGlass'], roleAdminArns: [admin] }));
    expect(c!.s.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': admin } });
    expect(c!.s.Resource).toEqual(['arn:aws:iam::*:role/BreakGlass', admin]);
  });

  it('goes on each topmost target that carries an exception by name, not on those beneath it', () => {
    const rules = [{ name: 'sandbox', match: { ous: [SANDBOX] }, publicAccess: 'unrestricted', privateAccess: 'optional' }];
    const out = generateScps(policy(rules, { publicAccess: 'forbidden', privateAccess: 'required' }), { organization: ORG, breakGlassRoles: ['BreakGlass'] });
    expect(out.policies.map((p) => `${p.target.type} ${p.target.id}`)).toEqual([`ou ${PROD}`]);
    expect(companions(out).map((c) => c.target.id)).toEqual([PROD]);
    const tagged = generateScps(policy([{ name: 'partners', match: { accountTags: { exposure: 'partner' } }, publicAccess: 'unrestricted' }]), { organization: ORG, breakGlassRoles: ['BreakGlass'] });
    // The root carries the private-access Deny, so its companion covers every OU and account beneath.
    expect(companions(tagged).map((c) => c.target.id)).toEqual([ROOT]);
  });

  it('is not there when every exception is an exact ARN (and --role-admin-arn then only warns)', () => {
    const out = generateScps(strict, { organization: ORG, guardRoleArns: ['arn:aws:iam::999999999999:role/remediate'], roleAdminArns: ['arn:aws:iam::*:role/deployer'] });
    expect(companions(out)).toEqual([]);
    expect(out.warnings).toEqual([expect.stringMatching(/^--role-admin-arn: has no effect without --guard-role-name or --break-glass-role/)]);
  });

  it('warns that excepting the guard member write role is unnecessary', () => {
    const out = generateScps(strict, { organization: ORG, guardRoleNames: ['eks-endpoint-guard-write'] });
    expect(out.warnings).toEqual([expect.stringMatching(/^--guard-role-name eks-endpoint-guard-write: not needed: .*guardrail Deny.*never creates clusters/)]);
    expect(companions(out)).toHaveLength(1);
    expect(generateScps(strict, { organization: ORG, breakGlassRoles: ['BreakGlass'] }).warnings).toEqual([]);
  });

  it.each([
    ['arn:aws:iam::*:role/*', /--role-admin-arn: not an IAM role ARN pattern.*"arn:aws:iam::\*:role\/\*"/],
    ['*', /--role-admin-arn/],
    ['arn:aws:iam::*:user/deployer', /--role-admin-arn/],
  ])('refuses --role-admin-arn %s', (arn, message) => {
    expect(() => exceptionPatterns({ roleAdminArns: [arn] })).toThrow(message);
  });

  it('is shown in the text report', () => {
    const text = renderScps(generateScps(strict, { organization: ORG, breakGlassRoles: ['BreakGlass'] }));
    expect(text).toContain('denies changing the roles arn:aws:iam::*:role/BreakGlass, arn:aws:iam::*:role/stacksets-exec-* (iam:CreateRole, iam:DeleteRole, iam:UpdateAssumeRolePolicy');
    expect(text).toContain('except to arn:aws:iam::*:role/stacksets-exec-*');
    expect(text).toContain('except principals: arn:aws:iam::*:role/BreakGlass');
  });
});

describe('every rule is expressed by a policy or listed in guardOnly', () => {
  it.each([
    {
      name: 'with an organization, a rule naming an account it does not have',
      rules: [{ name: 'typo', match: { accounts: ['333333333334'] }, publicAccess: 'forbidden', privateAccess: 'required' }],
      defaults: { publicAccess: 'unrestricted', privateAccess: 'optional' },
      org: true,
      reason: /^names account 333333333334, which is not in the organization file, so it matches no member account/,
    },
    {
      name: 'without an organization, an OU rule held back by a looser OU rule',
      rules: [
        { name: 'sandbox', match: { ous: [SANDBOX] }, publicAccess: 'unrestricted' },
        { name: 'strict-ou', match: { ous: [PROD] }, publicAccess: 'forbidden', privateAccess: 'required' },
      ],
      defaults: { publicAccess: 'forbidden', privateAccess: 'optional' },
      org: false,
      rule: 'strict-ou',
      reason: /^OU placement unknown without --organization: .*ou-ab12-prod0001.*, sandbox and defaults may decide instead/,
    },
    {
      name: 'a rule shadowed by an earlier one',
      rules: [
        { name: 'first', match: { accounts: [PAY] }, publicAccess: 'unrestricted' },
        { name: 'second', match: { accounts: [PAY] }, publicAccess: 'forbidden' },
      ],
      defaults: { publicAccess: 'unrestricted', privateAccess: 'optional' },
      org: true,
      rule: 'second',
      reason: /^never decides: wherever it could match, first matches first/,
    },
    {
      name: 'a rule that allows everything',
      rules: [{ name: 'open', match: { accounts: [SBX] }, publicAccess: 'unrestricted', privateAccess: 'optional' }],
      defaults: { publicAccess: 'forbidden' },
      org: true,
      rule: 'open',
      reason: /^publicAccess unrestricted, privateAccess optional: nothing for an SCP to refuse/,
    },
    {
      name: 'a rule only for the management account',
      rules: [{ name: 'mgmt', match: { accounts: [MGMT] }, publicAccess: 'forbidden' }],
      defaults: { publicAccess: 'unrestricted', privateAccess: 'optional' },
      org: true,
      rule: 'mgmt',
      reason: /^applies to the management account 111111111111, where SCPs never apply/,
    },
  ])('$name', ({ rules, defaults, org, rule, reason }) => {
    const p = policy(rules, defaults);
    const out = generateScps(p, org ? { organization: ORG } : {});
    const name = rule ?? rules[0]!.name;
    expect(out.policies.flatMap((x) => x.rules)).not.toContain(name);
    expect(out.guardOnly.filter((g) => g.rule === name).map((g) => g.reason)).toEqual([expect.stringMatching(reason)]);
  });

  it('names in each policy the rules it expresses', () => {
    const out = generateScps(
      policy([{ name: 'legacy-eu', match: { accounts: [LEGACY], regions: ['eu-west-1'] }, publicAccess: 'unrestricted' }, { name: 'pay', match: { accounts: [PAY] }, publicAccess: 'forbidden' }]),
      { organization: ORG },
    );
    // legacy-eu inherits privateAccess required from the defaults: the root's private-access Deny expresses it.
    expect(Object.fromEntries(out.policies.map((p) => [p.target.id, p.rules]))).toEqual({ [ROOT]: ['legacy-eu', 'pay', 'defaults'], [SANDBOX]: ['defaults'], [PAYMENTS]: ['pay'], [PARTNER]: ['defaults'] });
  });
});

describe('warnings: what the policy names that the organization does not have', () => {
  it.each([
    [{ ous: ['ou-ab12-prod0002'] }, 'rules[0].match.ous[0]: ou-ab12-prod0002 is not an OU of the organization (did you mean ou-ab12-prod0001?)'],
    [{ ous: ['r-zz99'] }, "rules[0].match.ous[0]: r-zz99 is not the organization's root (r-ab12)"],
    [{ accounts: [PAY, '333333333334'] }, 'rules[0].match.accounts[1]: 333333333334 is not an account of the organization (did you mean 333333333333?)'],
    [{ accountTags: { exposre: 'partner' } }, 'rules[0].match.accountTags.exposre: no account of the organization carries the tag exposre (did you mean exposure?)'],
    [{ accountTags: { exposure: 'partnr' } }, 'rules[0].match.accountTags.exposure: no account of the organization carries exposure=partnr (exposure is partner) (did you mean partner?)'],
  ])('%j', (match, warning) => {
    const out = generateScps(policy([{ name: 'r', match, publicAccess: 'unrestricted' }]), { organization: ORG });
    expect(out.warnings).toEqual([warning]);
  });

  it('checks exemptions too, and says nothing without an organization or when everything is known', () => {
    const p = policy([{ name: 'ok', match: { ous: [PROD], accounts: [PAY], accountTags: { exposure: 'partner' } } }], undefined, [{ name: 'x', match: { ous: ['ou-ab12-sand0002'] }, reason: 'r', expires: '2099-01-01' }]);
    expect(generateScps(p, { organization: ORG }).warnings).toEqual(['exemptions[0].match.ous[0]: ou-ab12-sand0002 is not an OU of the organization (did you mean ou-ab12-sand0001?)']);
    expect(generateScps(p).warnings).toEqual([]);
  });
});

describe('guardOnly reasons for references the organization does not have', () => {
  it('explains a loosening rule on an unknown OU by the unknown OU, not by what it allows', () => {
    const out = generateScps(policy([{ name: 'sandbox', match: { ous: ['ou-ab12-sand0002'] }, publicAccess: 'unrestricted', privateAccess: 'optional' }]), { organization: ORG });
    expect(out.guardOnly.filter((g) => g.rule === 'sandbox').map((g) => g.reason)).toEqual([expect.stringMatching(/^names OU ou-ab12-sand0002, which is not in the organization file/)]);
  });
});
