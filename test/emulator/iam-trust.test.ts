import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { manualClock, parseEmulatorState, startEmulator, type Credentials, type Emulator, type EmulatorState } from '../../src/emulator';
import fc from 'fast-check';
import { EmulatorCore } from '../../src/emulator/core';
import { trustAdmits } from '../../src/emulator/iam';
import { principalFromArn } from '../../src/emulator/identity';
import { rejectionOf } from './helpers';

const HOME = '111111111111';
const MEMBER = '333333333333';
const OPEN_MEMBER = '555555555555';
const OUTSIDER = '999999999999';
const LOCKED = '777777777777';

const guardFn = `arn:aws:iam::${HOME}:role/guard-fn`;
const readRole = `arn:aws:iam::${MEMBER}:role/eks-endpoint-guard-read`;

const state: EmulatorState = {
  accounts: [{ id: HOME, accessKeys: [{ accessKeyId: 'AKIAHOMEALICE0000001', user: 'alice' }] }, { id: OUTSIDER }, { id: LOCKED, strictRoles: true }],
  organization: { managementAccount: HOME, accounts: [{ id: MEMBER }, { id: OPEN_MEMBER }] },
  roles: [
    // The guard's own function role: its identity policy keeps sts:AssumeRole inside the organization.
    { account: HOME, name: 'guard-fn', assumeOnlyInOrganization: true },
    { account: MEMBER, name: 'eks-endpoint-guard-read', trust: [guardFn], orgCondition: true },
    { account: MEMBER, name: 'home-account', trust: [`arn:aws:iam::${HOME}:root`] },
    { account: MEMBER, name: 'ops-admin', path: '/ops/', trust: ['*'] },
    { account: MEMBER, name: 'ci-deployer', trust: [`arn:aws:iam::${OUTSIDER}:role/ci`, `arn:aws:iam::${OPEN_MEMBER}:role/ci`], orgCondition: true },
    { account: MEMBER, name: 'one-session', trust: [`arn:aws:sts::${HOME}:assumed-role/other-fn/nightly`] },
    { account: OUTSIDER, name: 'outside-read', trust: [guardFn, `arn:aws:iam::${HOME}:role/other-fn`] },
  ],
};

let emulator: Emulator;
const clients: STSClient[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator.close();
});
beforeEach(() => emulator.loadState(state));

function sts(credentials: Credentials): STSClient {
  const client = new STSClient({ endpoint: emulator.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

const as = (principalArn: string) => emulator.credentialsFor(principalArn);
const ALICE: Credentials = { accessKeyId: 'AKIAHOMEALICE0000001', secretAccessKey: 'x' };
const session = (role: string, name = 'local-session') => `arn:aws:sts::${HOME}:assumed-role/${role}/${name}`;

function assume(caller: Credentials, roleArn: string) {
  return sts(caller).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'guard' }));
}

describe('AssumeRole against declared trust', () => {
  it.each<[string, () => Credentials, string]>([
    ['the trusted function role, from the organization', () => as(guardFn), readRole],
    ['any principal of an account trusted as :root', () => ALICE, `arn:aws:iam::${MEMBER}:role/home-account`],
    ['anyone, on a role trusting "*" (ARN with its path)', () => as(`arn:aws:iam::${OUTSIDER}:user/someone`), `arn:aws:iam::${MEMBER}:role/ops/ops-admin`],
    ['an org member named in an orgCondition trust', () => as(`arn:aws:iam::${OPEN_MEMBER}:role/ci`), `arn:aws:iam::${MEMBER}:role/ci-deployer`],
    ['the one trusted session', () => as(session('other-fn', 'nightly')), `arn:aws:iam::${MEMBER}:role/one-session`],
    ['any role of an account that declares none (as before roles existed)', () => as(`arn:aws:iam::${OUTSIDER}:user/someone`), `arn:aws:iam::${OPEN_MEMBER}:role/whatever`],
    ['a role outside the organization, by a caller not confined to it', () => as(`arn:aws:iam::${HOME}:role/other-fn`), `arn:aws:iam::${OUTSIDER}:role/outside-read`],
  ])('admits %s', async (_who, caller, roleArn) => {
    const { AssumedRoleUser } = await assume(caller(), roleArn);
    expect(AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${roleArn.split(':')[4]}:assumed-role/${roleArn.split('/').pop()}/guard`);
  });

  it.each<[string, () => Credentials, string, string]>([
    ['another role of the trusted account', () => as(`arn:aws:iam::${HOME}:role/other-fn`), session('other-fn'), readRole],
    ['a user of the trusted account', () => ALICE, `arn:aws:iam::${HOME}:user/alice`, readRole],
    ['a role the account does not have', () => as(guardFn), session('guard-fn'), `arn:aws:iam::${MEMBER}:role/eks-endpoint-guard-write`],
    ['a role named with the wrong path', () => as(guardFn), session('guard-fn'), `arn:aws:iam::${MEMBER}:role/ops-admin`],
    ['any role of a strictRoles account without roles', () => as(guardFn), session('guard-fn'), `arn:aws:iam::${LOCKED}:role/eks-endpoint-guard-read`],
    ['a trusted principal outside the organization (orgCondition)', () => as(`arn:aws:iam::${OUTSIDER}:role/ci`), `arn:aws:sts::${OUTSIDER}:assumed-role/ci/local-session`, `arn:aws:iam::${MEMBER}:role/ci-deployer`],
    ['another session of the trusted session\'s role', () => as(session('other-fn', 'daily')), session('other-fn', 'daily'), `arn:aws:iam::${MEMBER}:role/one-session`],
    ['a role outside the organization, by a caller confined to it (aws:ResourceOrgID)', () => as(guardFn), session('guard-fn'), `arn:aws:iam::${OUTSIDER}:role/outside-read`],
    ['any role outside the organization by the confined caller, even in a lenient account', () => as(guardFn), session('guard-fn'), `arn:aws:iam::888888888888:role/anything`],
  ])('refuses %s with AccessDenied, as STS words it', async (_who, caller, callerArn, roleArn) => {
    const err = await rejectionOf(assume(caller(), roleArn));
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toBe(`User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it('chains roles with fromTemporaryCredentials, as the guard does', async () => {
    const credentials = fromTemporaryCredentials({
      masterCredentials: as(guardFn),
      params: { RoleArn: readRole, RoleSessionName: 'sweep' },
      clientConfig: { endpoint: emulator.url, region: 'us-east-1' },
    });
    const client = sts(await credentials());
    expect((await client.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${MEMBER}:assumed-role/eks-endpoint-guard-read/sweep`);
  });
});

describe('roles at run time (a member stack deployed during a scenario)', () => {
  const writeRole = { account: OPEN_MEMBER, name: 'eks-endpoint-guard-write', trust: [guardFn], orgCondition: true };

  it('putRole makes the account strict; deleteRole removes the role and keeps the account strict', async () => {
    await expect(assume(as(`arn:aws:iam::${HOME}:role/other-fn`), `arn:aws:iam::${OPEN_MEMBER}:role/anything`)).resolves.toBeDefined();
    expect(emulator.putRole(writeRole)).toMatchObject({ arn: `arn:aws:iam::${OPEN_MEMBER}:role/eks-endpoint-guard-write`, path: '/', orgCondition: true });
    await expect(assume(as(guardFn), `arn:aws:iam::${OPEN_MEMBER}:role/eks-endpoint-guard-write`)).resolves.toBeDefined();
    expect((await rejectionOf(assume(as(`arn:aws:iam::${HOME}:role/other-fn`), `arn:aws:iam::${OPEN_MEMBER}:role/anything`))).name).toBe('AccessDenied');
    expect(emulator.snapshot().iam.strictAccounts).toContain(OPEN_MEMBER);

    expect(emulator.deleteRole(OPEN_MEMBER, 'eks-endpoint-guard-write')).toBe(true);
    expect(emulator.deleteRole(OPEN_MEMBER, 'eks-endpoint-guard-write')).toBe(false);
    expect((await rejectionOf(assume(as(guardFn), `arn:aws:iam::${OPEN_MEMBER}:role/eks-endpoint-guard-write`))).name).toBe('AccessDenied');
    emulator.reset();
    expect(emulator.snapshot().iam.strictAccounts).not.toContain(OPEN_MEMBER);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a bad trust entry', { ...writeRole, trust: ['arn:aws:iam::1:root'] }, 'role.trust.0: must be "*", an account id'],
    ['an unknown key', { ...writeRole, policy: {} }, 'role: Unrecognized key: "policy"'],
    ['orgCondition outside the organization', { ...writeRole, account: OUTSIDER }, 'role.orgCondition: account 999999999999 is not in the organization'],
  ])('putRole refuses %s', (_what, role, message) => {
    expect(() => emulator.putRole(role as never)).toThrow(message);
  });

  it('the control API puts, lists and deletes roles', async () => {
    const call = (method: string, body?: unknown) =>
      fetch(`${emulator.url}/_emulator/iam/roles`, { method, ...(body ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    expect(await call('POST', [writeRole])).toMatchObject({ status: 200, body: { roles: [{ arn: `arn:aws:iam::${OPEN_MEMBER}:role/eks-endpoint-guard-write` }] } });
    expect((await call('GET')).body.roles.map((r: { name: string }) => r.name)).toContain('eks-endpoint-guard-write');
    expect(await call('DELETE', { account: OPEN_MEMBER, name: 'eks-endpoint-guard-write' })).toEqual({ status: 200, body: { deleted: true } });
    const refused = await call('POST', { ...writeRole, name: 'has space' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'InvalidInput', problems: [expect.stringContaining('role.name: must be an IAM role name')] });
  });
});

describe('the in-process role model other services use', () => {
  it('knows strict accounts and finds a role by its exact ARN', async () => {
    const core = new EmulatorCore(manualClock(), state, undefined, undefined);
    try {
      const { iam } = core.env;
      expect([MEMBER, LOCKED, HOME].map((a) => iam.isStrict(a))).toEqual([true, true, true]);
      expect([OPEN_MEMBER, '888888888888'].map((a) => iam.isStrict(a))).toEqual([false, false]);
      expect(iam.role(`arn:aws:iam::${MEMBER}:role/ops/ops-admin`)?.trust).toEqual(['*']);
      expect(iam.role(`arn:aws:iam::${MEMBER}:role/ops-admin`)).toBeUndefined();
      expect(iam.role(readRole)).toMatchObject({ orgCondition: true, trust: [guardFn] });
    } finally {
      await core.close();
    }
  });
});

describe('organization.strictRoles', () => {
  it('makes every member strict (an undeployed member has no role), leaving accounts outside lenient', async () => {
    emulator.loadState({ ...state, organization: { ...state.organization!, strictRoles: true } });
    const caller = as(`arn:aws:iam::${HOME}:role/other-fn`);
    expect((await rejectionOf(assume(caller, `arn:aws:iam::${OPEN_MEMBER}:role/eks-endpoint-guard-read`))).name).toBe('AccessDenied');
    expect((await rejectionOf(assume(caller, `arn:aws:iam::${HOME}:role/anything`))).name).toBe('AccessDenied');
    await expect(assume(caller, `arn:aws:iam::888888888888:role/anything`)).resolves.toBeDefined();
    expect(emulator.snapshot().iam.strictAccounts).toEqual([HOME, MEMBER, OPEN_MEMBER, LOCKED, OUTSIDER].sort());
  });
});

describe('roles in the state file', () => {
  it.each<[string, Partial<EmulatorState>, string]>([
    ['a role in an undeclared account', { roles: [{ account: '121212121212', name: 'r' }] }, 's: roles[0].account: account 121212121212 is not declared in accounts'],
    ['a role declared twice', { accounts: [{ id: HOME }], roles: [{ account: HOME, name: 'r' }, { account: HOME, name: 'r', path: '/x/' }] }, 's: roles[1].name: role r is declared twice in 111111111111'],
    ['orgCondition without an organization', { accounts: [{ id: HOME }], roles: [{ account: HOME, name: 'r', orgCondition: true }] }, 's: roles[0].orgCondition: account 111111111111 is not in the organization'],
    ['a malformed path', { accounts: [{ id: HOME }], roles: [{ account: HOME, name: 'r', path: 'ops' }] }, 's: roles[0].path: must be an IAM path'],
    ['strictRoles that is not a boolean', { accounts: [{ id: HOME, strictRoles: 'yes' as never }] }, 's: accounts[0].strictRoles'],
  ])('refuses %s', (_what, doc, message) => {
    expect(() => parseEmulatorState(doc, 's')).toThrow(message);
  });
});

describe('trustAdmits', () => {
  const account = fc.constantFrom(HOME, MEMBER, OUTSIDER);
  const name = fc.constantFrom('guard-fn', 'other-fn', 'alice');
  const principal = fc.oneof(
    fc.record({ account, name }).map(({ account: a, name: n }) => principalFromArn(`arn:aws:iam::${a}:user/${n}`, 0)),
    fc.record({ account, name, session: fc.constantFrom('s1', 's2') }).map(({ account: a, name: n, session: s }) => principalFromArn(`arn:aws:sts::${a}:assumed-role/${n}/${s}`, 0)),
  );

  it('admits exactly what each kind of entry names', () => {
    fc.assert(
      fc.property(principal, account, name, (p, a, n) => {
        expect(trustAdmits('*', p)).toBe(true);
        expect(trustAdmits(a, p)).toBe(p.account === a);
        expect(trustAdmits(`arn:aws:iam::${a}:root`, p)).toBe(p.account === a);
        const isRoleSession = p.type === 'AssumedRole' && p.account === a && p.role.name === n;
        expect(trustAdmits(`arn:aws:iam::${a}:role/${n}`, p)).toBe(isRoleSession);
        expect(trustAdmits(`arn:aws:iam::${a}:role/some/path/${n}`, p)).toBe(isRoleSession);
        expect(trustAdmits(`arn:aws:iam::${a}:user/${n}`, p)).toBe(p.type === 'IAMUser' && p.account === a && p.userName === n);
        expect(trustAdmits(p.arn, p)).toBe(true);
      }),
    );
  });
});
