import fc from 'fast-check';
import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  paginateListAccounts,
} from '@aws-sdk/client-organizations';
import { manualClock, parseEmulatorState, startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import { EmulatorCore } from '../../src/emulator/core';
import { OU_ID, ROOT_ID, organizationStateSchema } from '../../src/emulator/organization-state';
import { Organizations } from '../../src/emulator/organizations';
import { rejectionOf } from './helpers';

const MGMT = '111111111111';
const ADMIN = '222222222222';
const PROD1 = '333333333333';
const SUSPENDED = '444444444444';
const OUTSIDER = '999999999999';
/** Enough accounts under Dev for three ListAccounts pages (20 + 20 + 6). */
const DEV = Array.from({ length: 42 }, (_, i) => String(500000000000 + i));
const ORG_ID = 'o-a1b2c3d4e5';
const PROD_OU = 'ou-ab12-11111111';

const state: EmulatorState = {
  accounts: [{ id: OUTSIDER, name: 'outsider' }, { id: PROD1, name: 'prod-1' }],
  organization: {
    id: ORG_ID,
    managementAccount: MGMT,
    delegatedAdministrators: [ADMIN],
    units: [
      { name: 'Workloads' },
      { name: 'Prod', parent: 'Workloads', id: PROD_OU, tags: { tier: 'prod' } },
      { name: 'Dev', parent: 'Workloads' },
      { name: 'Security' },
    ],
    accounts: [
      { id: MGMT, name: 'management' },
      { id: ADMIN, name: 'security-tooling', unit: 'Security' },
      { id: PROD1, unit: 'Prod', tags: { env: 'prod', team: 'payments' } },
      { id: SUSPENDED, name: 'old-dev', unit: 'Dev', status: 'SUSPENDED' },
      ...DEV.map((id, i) => ({ id, name: `dev-${i}`, unit: 'Dev', tags: { env: 'dev' } })),
    ],
  },
};
const ALL_ACCOUNTS = [MGMT, ADMIN, PROD1, SUSPENDED, ...DEV];

let emulator: Emulator;
const clients: OrganizationsClient[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await emulator.close();
});

/** A client acting as local-user of `account` (a 12-digit key id names the account). */
function orgs(account: string): OrganizationsClient {
  const client = new OrganizationsClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: account, secretAccessKey: 'x' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}

const rootId = () => emulator.snapshot().organization!.rootId;
const ouId = (name: string) => emulator.snapshot().organization!.units.find((u) => u.name === name)!.id;

describe('DescribeOrganization', () => {
  it.each([
    ['the management account', MGMT],
    ['a delegated administrator', ADMIN],
    ['a plain member', PROD1],
  ])('describes the organization to %s', async (_who, account) => {
    const { Organization } = await orgs(account).send(new DescribeOrganizationCommand({}));
    expect(Organization).toEqual({
      Id: ORG_ID,
      Arn: `arn:aws:organizations::${MGMT}:organization/${ORG_ID}`,
      FeatureSet: 'ALL',
      MasterAccountArn: `arn:aws:organizations::${MGMT}:account/${ORG_ID}/${MGMT}`,
      MasterAccountId: MGMT,
      MasterAccountEmail: `aws+${MGMT}@example.com`,
      AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
    });
  });

  it('refuses an account outside the organization', async () => {
    const err = await rejectionOf(orgs(OUTSIDER).send(new DescribeOrganizationCommand({})));
    expect(err).toMatchObject({ name: 'AWSOrganizationsNotInUseException', message: 'Your account is not a member of an organization.' });
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});

describe('who may read the organization', () => {
  const calls = [
    ['ListRoots', (c: OrganizationsClient) => c.send(new ListRootsCommand({}))],
    ['ListAccounts', (c: OrganizationsClient) => c.send(new ListAccountsCommand({}))],
    ['DescribeAccount', (c: OrganizationsClient) => c.send(new DescribeAccountCommand({ AccountId: PROD1 }))],
    ['ListParents', (c: OrganizationsClient) => c.send(new ListParentsCommand({ ChildId: PROD1 }))],
    ['ListChildren', (c: OrganizationsClient) => c.send(new ListChildrenCommand({ ParentId: PROD_OU, ChildType: 'ACCOUNT' }))],
    ['ListAccountsForParent', (c: OrganizationsClient) => c.send(new ListAccountsForParentCommand({ ParentId: PROD_OU }))],
    ['ListOrganizationalUnitsForParent', (c: OrganizationsClient) => c.send(new ListOrganizationalUnitsForParentCommand({ ParentId: PROD_OU }))],
    ['ListTagsForResource', (c: OrganizationsClient) => c.send(new ListTagsForResourceCommand({ ResourceId: PROD1 }))],
  ] as const;

  it.each(calls)('%s answers the management account and a delegated administrator', async (_op, call) => {
    await expect(call(orgs(MGMT))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    await expect(call(orgs(ADMIN))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });

  it.each(calls)('%s refuses a plain member with AccessDeniedException and an outsider with AWSOrganizationsNotInUseException', async (_op, call) => {
    expect(await rejectionOf(call(orgs(PROD1)))).toMatchObject({ name: 'AccessDeniedException', message: "You don't have permissions to access this resource." });
    expect((await rejectionOf(call(orgs(OUTSIDER)))).name).toBe('AWSOrganizationsNotInUseException');
  });
});

describe('ListAccounts', () => {
  it('pages 20 at a time and lists every account once, the management account included', async () => {
    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const page of paginateListAccounts({ client: orgs(ADMIN) }, {})) {
      sizes.push(page.Accounts!.length);
      ids.push(...page.Accounts!.map((a) => a.Id!));
    }
    expect(sizes).toEqual([20, 20, ALL_ACCOUNTS.length - 40]);
    expect(ids).toEqual(ALL_ACCOUNTS);
  });

  it.each([1, 7, 20])('honours MaxResults %i across pages', async (max) => {
    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateListAccounts({ client: orgs(MGMT), pageSize: max }, {})) {
      expect(page.Accounts!.length).toBeLessThanOrEqual(max);
      ids.push(...page.Accounts!.map((a) => a.Id!));
      pages++;
    }
    expect(ids).toEqual(ALL_ACCOUNTS);
    expect(pages).toBe(Math.ceil(ALL_ACCOUNTS.length / max));
  });

  it('gives each account its ARN, name, e-mail, status and state', async () => {
    const { Accounts } = await orgs(MGMT).send(new ListAccountsCommand({ MaxResults: 4 }));
    expect(Accounts?.[2]).toEqual({
      Id: PROD1,
      Arn: `arn:aws:organizations::${MGMT}:account/${ORG_ID}/${PROD1}`,
      Name: 'prod-1',
      Email: `aws+${PROD1}@example.com`,
      Status: 'ACTIVE',
      State: 'ACTIVE',
      JoinedMethod: 'CREATED',
      JoinedTimestamp: new Date(emulator.clock.now()),
    });
    expect(Accounts?.[3]).toMatchObject({ Id: SUSPENDED, Status: 'SUSPENDED', State: 'SUSPENDED' });
  });

  it.each([
    [{ MaxResults: 21 }, 'MAX_VALUE_EXCEEDED'],
    [{ MaxResults: 0 }, 'MIN_VALUE_EXCEEDED'],
    [{ NextToken: 'bm9wZQ' }, 'INVALID_NEXT_TOKEN'],
  ])('refuses %j with InvalidInputException %s', async (input, reason) => {
    const err = await rejectionOf(orgs(MGMT).send(new ListAccountsCommand(input)));
    expect(err).toMatchObject({ name: 'InvalidInputException', Reason: reason });
  });

  it("refuses another operation's NextToken", async () => {
    const { NextToken } = await orgs(MGMT).send(new ListAccountsForParentCommand({ ParentId: ouId('Dev'), MaxResults: 5 }));
    expect(NextToken).toBeDefined();
    expect(await rejectionOf(orgs(MGMT).send(new ListAccountsCommand({ NextToken })))).toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_NEXT_TOKEN' });
  });
});

describe('the OU tree', () => {
  /** The account's OU path, root first, found as a guard would: ListParents up to the root. */
  async function pathOf(client: OrganizationsClient, childId: string): Promise<string[]> {
    const path: string[] = [];
    for (let id = childId; !id.startsWith('r-'); ) {
      const { Parents } = await client.send(new ListParentsCommand({ ChildId: id }));
      expect(Parents).toHaveLength(1);
      id = Parents![0]!.Id!;
      path.unshift(id);
    }
    return path;
  }

  it.each([
    [PROD1, () => [rootId(), ouId('Workloads'), PROD_OU]],
    [DEV[0]!, () => [rootId(), ouId('Workloads'), ouId('Dev')]],
    [ADMIN, () => [rootId(), ouId('Security')]],
    [MGMT, () => [rootId()]],
  ])('walks ListParents from %s up to the root', async (account, expected) => {
    expect(await pathOf(orgs(ADMIN), account)).toEqual(expected());
  });

  it('gives types to parents, and derives the root from the explicit OU id', async () => {
    expect(rootId()).toBe('r-ab12');
    expect((await orgs(MGMT).send(new ListParentsCommand({ ChildId: PROD_OU }))).Parents).toEqual([{ Id: ouId('Workloads'), Type: 'ORGANIZATIONAL_UNIT' }]);
    expect((await orgs(MGMT).send(new ListParentsCommand({ ChildId: ouId('Workloads') }))).Parents).toEqual([{ Id: 'r-ab12', Type: 'ROOT' }]);
    const { Roots } = await orgs(MGMT).send(new ListRootsCommand({}));
    expect(Roots).toEqual([{ Id: 'r-ab12', Arn: `arn:aws:organizations::${MGMT}:root/${ORG_ID}/r-ab12`, Name: 'Root', PolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }] }]);
  });

  it('lists the children of the root and of OUs by type', async () => {
    const c = orgs(MGMT);
    expect((await c.send(new ListChildrenCommand({ ParentId: rootId(), ChildType: 'ACCOUNT' }))).Children).toEqual([{ Id: MGMT, Type: 'ACCOUNT' }]);
    expect((await c.send(new ListChildrenCommand({ ParentId: rootId(), ChildType: 'ORGANIZATIONAL_UNIT' }))).Children).toEqual([
      { Id: ouId('Workloads'), Type: 'ORGANIZATIONAL_UNIT' },
      { Id: ouId('Security'), Type: 'ORGANIZATIONAL_UNIT' },
    ]);
    const ous = await c.send(new ListOrganizationalUnitsForParentCommand({ ParentId: ouId('Workloads') }));
    expect(ous.OrganizationalUnits).toEqual([
      { Id: PROD_OU, Arn: `arn:aws:organizations::${MGMT}:ou/${ORG_ID}/${PROD_OU}`, Name: 'Prod' },
      { Id: ouId('Dev'), Arn: expect.stringMatching(/:ou\/o-a1b2c3d4e5\/ou-ab12-[a-z0-9]{8}$/), Name: 'Dev' },
    ]);
    expect((await c.send(new ListAccountsForParentCommand({ ParentId: PROD_OU }))).Accounts?.map((a) => a.Id)).toEqual([PROD1]);
  });

  it('pages the accounts of one OU', async () => {
    const first = await orgs(MGMT).send(new ListChildrenCommand({ ParentId: ouId('Dev'), ChildType: 'ACCOUNT' }));
    const second = await orgs(MGMT).send(new ListChildrenCommand({ ParentId: ouId('Dev'), ChildType: 'ACCOUNT', NextToken: first.NextToken }));
    const third = await orgs(MGMT).send(new ListChildrenCommand({ ParentId: ouId('Dev'), ChildType: 'ACCOUNT', NextToken: second.NextToken }));
    expect([first.Children!.length, second.Children!.length, third.Children!.length, third.NextToken]).toEqual([20, 20, 3, undefined]);
    expect([...first.Children!, ...second.Children!, ...third.Children!].map((c) => c.Id)).toEqual([SUSPENDED, ...DEV]);
  });
});

describe('account tags', () => {
  it.each([
    [PROD1, [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'payments' }]],
    [MGMT, []],
    [PROD_OU, [{ Key: 'tier', Value: 'prod' }]],
    ['r-ab12', []],
  ])('lists the tags of %s', async (id, tags) => {
    expect((await orgs(ADMIN).send(new ListTagsForResourceCommand({ ResourceId: id }))).Tags).toEqual(tags);
  });
});

describe('errors of a call aimed at nothing', () => {
  it.each([
    ['DescribeAccount of an account outside', (c: OrganizationsClient) => c.send(new DescribeAccountCommand({ AccountId: OUTSIDER })), 'AccountNotFoundException', "You specified an account that doesn't exist."],
    ['ListChildren of an unknown OU', (c: OrganizationsClient) => c.send(new ListChildrenCommand({ ParentId: 'ou-ab12-99999999', ChildType: 'ACCOUNT' })), 'ParentNotFoundException', "We can't find a root or OU with the ParentId that you specified."],
    ['ListAccountsForParent of an unknown root', (c: OrganizationsClient) => c.send(new ListAccountsForParentCommand({ ParentId: 'r-zz99' })), 'ParentNotFoundException', 'ParentId'],
    ['ListParents of an account outside', (c: OrganizationsClient) => c.send(new ListParentsCommand({ ChildId: OUTSIDER })), 'ChildNotFoundException', 'ChildId'],
    ['ListTagsForResource of an account outside', (c: OrganizationsClient) => c.send(new ListTagsForResourceCommand({ ResourceId: OUTSIDER })), 'TargetNotFoundException', 'TargetId'],
    ['DescribeAccount of a malformed id', (c: OrganizationsClient) => c.send(new DescribeAccountCommand({ AccountId: '12345' })), 'InvalidInputException', "doesn't match the required pattern"],
    ['ListChildren without ChildType', (c: OrganizationsClient) => c.send(new ListChildrenCommand({ ParentId: 'r-ab12' } as never)), 'InvalidInputException', 'You must include a value for all required parameters.'],
    ['ListChildren with a bad ChildType', (c: OrganizationsClient) => c.send(new ListChildrenCommand({ ParentId: 'r-ab12', ChildType: 'POLICY' as never })), 'InvalidInputException', 'You specified an invalid value.'],
  ])('%s', async (_what, call, name, message) => {
    const err = await rejectionOf(call(orgs(MGMT)));
    expect(err.name).toBe(name);
    expect(err.message).toContain(message);
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});

describe('the in-process model', () => {
  it('tells other services the organization of an account, and the snapshot shows it', async () => {
    const core = new EmulatorCore(manualClock(), state, undefined, undefined);
    try {
      expect(core.env.organizations.organizationIdOf(PROD1)).toBe(ORG_ID);
      expect(core.env.organizations.organizationIdOf(MGMT)).toBe(ORG_ID);
      expect(core.env.organizations.organizationIdOf(OUTSIDER)).toBeNull();
    } finally {
      await core.close();
    }
    const snap = emulator.snapshot();
    expect(snap.organization).toMatchObject({ id: ORG_ID, rootId: 'r-ab12', managementAccount: MGMT, delegatedAdministrators: [ADMIN] });
    expect(snap.organization!.accounts.find((a) => a.id === PROD1)).toEqual({ id: PROD1, name: 'prod-1', status: 'ACTIVE', parentId: PROD_OU, tags: { env: 'prod', team: 'payments' } });
    // Members are declared accounts too, named as the organization names them.
    expect(snap.accounts).toEqual(expect.arrayContaining([{ id: ADMIN, name: 'security-tooling' }, { id: MGMT, name: 'management' }, { id: PROD1, name: 'prod-1' }]));
  });

  it('generates ids from the state alone: the same for the same organization, valid, unique, and every account reaching the root', () => {
    const tree = fc
      .array(fc.nat(), { minLength: 0, maxLength: 12 })
      .chain((parents) =>
        fc.record({
          parents: fc.constant(parents.map((p, i) => (i === 0 ? -1 : (p % (i + 1)) - 1))),
          accountUnits: fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
          management: fc.stringMatching(/^\d{12}$/),
        }),
      );
    fc.assert(
      fc.property(tree, ({ parents, accountUnits, management }) => {
        const units = parents.map((p, i) => ({ name: `ou${i}`, ...(p >= 0 ? { parent: `ou${p}` } : {}) }));
        const accounts = accountUnits.map((u, i) => ({ id: String(100000000000 + i), ...(units.length ? { unit: `ou${u % units.length}` } : {}) }));
        const doc = organizationStateSchema.parse({ managementAccount: management, units, accounts });
        const a = new Organizations();
        const b = new Organizations();
        a.load(doc, 0);
        b.load(doc, 1);
        const snap = a.snapshot()!;
        expect(b.snapshot()!.units).toEqual(snap.units);
        expect(snap.id).toMatch(/^o-[a-z0-9]{10,32}$/);
        expect(snap.rootId).toMatch(ROOT_ID);
        const ids = snap.units.map((u) => u.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids) expect(id).toMatch(OU_ID);
        const parentOf = new Map(snap.units.map((u) => [u.id, u.parentId]));
        for (const account of snap.accounts) {
          let at = account.parentId;
          for (let steps = 0; at !== snap.rootId; steps++) {
            expect(steps).toBeLessThan(units.length);
            at = parentOf.get(at)!;
          }
        }
      }),
    );
  });
});

describe('state validation', () => {
  const base = { managementAccount: MGMT };
  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown parent', { ...base, units: [{ name: 'A', parent: 'Nope' }] }, 'organization.units[0].parent: no OU has the name or id Nope in organization.units'],
    ['an unknown unit of an account', { ...base, accounts: [{ id: PROD1, unit: 'Ghost' }] }, 'organization.accounts[0].unit: no OU has the name or id Ghost'],
    ['an ambiguous unit name', { ...base, units: [{ name: 'A' }, { name: 'B' }, { name: 'X', parent: 'A' }, { name: 'X', parent: 'B' }], accounts: [{ id: PROD1, unit: 'X' }] }, 'organization.accounts[0].unit: more than one OU is named X; refer to it by id'],
    ['a cycle', { ...base, units: [{ name: 'A', parent: 'B' }, { name: 'B', parent: 'A' }] }, 'organization.units[0].parent: OU A is its own ancestor'],
    ['sibling OUs of one name', { ...base, units: [{ name: 'A' }, { name: 'A' }] }, 'organization.units[1].name: another OU named A has the same parent'],
    ['OU ids of two roots', { ...base, units: [{ name: 'A', id: 'ou-ab12-11111111' }, { name: 'B', id: 'ou-cd34-22222222' }] }, 'organization.units[1].id: ou-cd34-22222222 must start with ou-ab12-'],
    ['a duplicate member', { ...base, accounts: [{ id: PROD1 }, { id: PROD1 }] }, 'organization.accounts[1].id: account 333333333333 is listed twice'],
    ['a delegated administrator outside', { ...base, delegatedAdministrators: [OUTSIDER] }, 'organization.delegatedAdministrators[0]: account 999999999999 is not in organization.accounts'],
    ['the management account as delegated administrator', { ...base, delegatedAdministrators: [MGMT] }, 'organization.delegatedAdministrators[0]: 111111111111 is the management account, which cannot be a delegated administrator'],
    ['a malformed organization id', { ...base, id: 'o-SHOUT' }, 'organization.id: must be an organization id such as o-a1b2c3d4e5'],
    ['an unknown key', { ...base, ou: [] }, 'organization: unknown key "ou"'],
    ['a bad status', { ...base, accounts: [{ id: PROD1, status: 'GONE' }] }, 'organization.accounts[0].status'],
  ])('refuses %s', (_what, organization, message) => {
    expect(() => parseEmulatorState({ organization }, 'state.yaml')).toThrow(`state.yaml: ${message}`);
  });

  it('refuses a member named differently in accounts', () => {
    const doc = { accounts: [{ id: PROD1, name: 'prod-1' }], organization: { ...base, accounts: [{ id: PROD1, name: 'production' }] } };
    expect(() => parseEmulatorState(doc, 's')).toThrow('s: organization.accounts[0].name: production differs from prod-1, the name accounts gives 333333333333');
  });

  it('declares the members, so clusters may live in them without an accounts entry', () => {
    const doc = { organization: { ...base, accounts: [{ id: PROD1, name: 'prod-1' }] }, clusters: [{ name: 'c1', account: PROD1, region: 'eu-west-1' }] };
    expect(parseEmulatorState(doc, 's').accounts).toEqual([{ id: MGMT, accessKeys: [] }, { id: PROD1, name: 'prod-1', accessKeys: [] }]);
    expect(() => parseEmulatorState({ clusters: doc.clusters }, 's')).toThrow('s: clusters[0].account: account 333333333333 is not declared in accounts');
  });
});
