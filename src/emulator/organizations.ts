import { stableId } from './ids';
import { organizationAccountIds, type ResolvedOrganizationState } from './organization-state';
import { AwsError, type CallContext, type Env, type Operation, type Reply, type Service } from './protocol';

/** The X-Amz-Target of an Organizations call (the JSON 1.1 protocol): `AWSOrganizationsV20161128.<Operation>`. */
export const ORGANIZATIONS_TARGET = /^AWSOrganizationsV20161128\.(\w+)$/;

export type AccountState = ResolvedOrganizationState['accounts'][number]['status'];

export type OrgAccount = {
  id: string;
  arn: string;
  name: string;
  email: string;
  state: AccountState;
  joinedMethod: 'INVITED' | 'CREATED';
  joinedMs: number;
  parentId: string;
  tags: Record<string, string>;
};

export type OrgUnit = { id: string; arn: string; name: string; parentId: string; tags: Record<string, string> };

export type OrganizationSnapshot = {
  id: string;
  arn: string;
  rootId: string;
  managementAccount: string;
  delegatedAdministrators: string[];
  units: { id: string; name: string; parentId: string; tags: Record<string, string> }[];
  accounts: { id: string; name: string; status: AccountState; parentId: string; tags: Record<string, string> }[];
};

/** The organization resolved from the state: ids generated, references followed. */
export type OrganizationRecord = {
  id: string;
  arn: string;
  rootId: string;
  rootArn: string;
  management: string;
  admins: Set<string>;
  units: Map<string, OrgUnit>;
  accounts: Map<string, OrgAccount>;
};

/** The unit a state reference (name or id) names; references were validated with the state. */
function unitRef(org: ResolvedOrganizationState, ids: string[], ref: string): number {
  const byId = ids.indexOf(ref);
  return byId >= 0 ? byId : org.units.findIndex((u) => u.name === ref);
}

function build(org: ResolvedOrganizationState, nowMs: number, accountName: (id: string) => string | undefined): OrganizationRecord {
  const id = org.id ?? `o-${stableId('', `organization/${org.managementAccount}`, 10)}`;
  const explicitRoot = org.units.find((u) => u.id)?.id?.split('-')[1];
  const rootId = org.rootId ?? `r-${explicitRoot ?? stableId('', `${id}/root`, 4)}`;
  const base = `arn:aws:organizations::${org.managementAccount}`;
  // Generated OU ids hash the OU's path of names, so they survive reordering the state file.
  const path = (i: number, seen = new Set<number>()): string => {
    const unit = org.units[i]!;
    if (unit.parent === undefined || seen.has(i)) return unit.name;
    seen.add(i);
    const byId = org.units.findIndex((u) => u.id === unit.parent);
    const p = byId >= 0 ? byId : org.units.findIndex((u) => u.name === unit.parent);
    return `${path(p, seen)}/${unit.name}`;
  };
  const ids = org.units.map((u, i) => u.id ?? `ou-${rootId.slice(2)}-${stableId('', `${id}/${path(i)}`, 8)}`);
  const units = new Map<string, OrgUnit>();
  org.units.forEach((u, i) => {
    const parentId = u.parent === undefined ? rootId : ids[unitRef(org, ids, u.parent)]!;
    units.set(ids[i]!, { id: ids[i]!, arn: `${base}:ou/${id}/${ids[i]}`, name: u.name, parentId, tags: { ...u.tags } });
  });
  const listed = new Map(org.accounts.map((a) => [a.id, a]));
  const accounts = new Map<string, OrgAccount>();
  for (const accountId of organizationAccountIds(org)) {
    const a = listed.get(accountId);
    const name = a?.name ?? accountName(accountId) ?? accountId;
    accounts.set(accountId, {
      id: accountId,
      arn: `${base}:account/${id}/${accountId}`,
      name,
      email: a?.email ?? `aws+${accountId}@example.com`,
      state: a?.status ?? 'ACTIVE',
      joinedMethod: a?.joinedMethod ?? 'CREATED',
      joinedMs: nowMs,
      parentId: a?.unit === undefined ? rootId : ids[unitRef(org, ids, a.unit)]!,
      tags: { ...(a?.tags ?? {}) },
    });
  }
  return { id, arn: `${base}:organization/${id}`, rootId, rootArn: `${base}:root/${id}/${rootId}`, management: org.managementAccount, admins: new Set(org.delegatedAdministrators), units, accounts };
}

/**
 * The organization as other emulated services see it (EventBridge's aws:PrincipalOrgID, STS's
 * aws:PrincipalOrgID and aws:ResourceOrgID), and as the Organizations API serves it.
 */
export class Organizations {
  private org: OrganizationRecord | undefined;

  load(org: ResolvedOrganizationState | undefined, nowMs: number, accountName: (id: string) => string | undefined = () => undefined): void {
    this.org = org ? build(org, nowMs, accountName) : undefined;
  }

  /** The id of the organization `accountId` belongs to, or null when it belongs to none. */
  organizationIdOf(accountId: string): string | null {
    return this.org?.accounts.has(accountId) ? this.org.id : null;
  }

  /** Whether the account may call the organization-wide read APIs (management account or delegated administrator). */
  canReadOrganization(accountId: string): boolean {
    return !!this.org && (this.org.management === accountId || this.org.admins.has(accountId));
  }

  get current(): Readonly<OrganizationRecord> | undefined {
    return this.org;
  }

  snapshot(): OrganizationSnapshot | null {
    const o = this.org;
    if (!o) return null;
    return {
      id: o.id,
      arn: o.arn,
      rootId: o.rootId,
      managementAccount: o.management,
      delegatedAdministrators: [...o.admins],
      units: [...o.units.values()].map((u) => ({ id: u.id, name: u.name, parentId: u.parentId, tags: { ...u.tags } })),
      accounts: [...o.accounts.values()].map((a) => ({ id: a.id, name: a.name, status: a.state, parentId: a.parentId, tags: { ...a.tags } })),
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// The Organizations API (JSON 1.1). Messages are AWS's own, as its SDKs and CLI print them.

const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Every list operation of Organizations takes MaxResults 1-20 and returns at most 20 items a page. */
const PAGE_MAX = 20;

type Doc = Record<string, unknown>;

const errors = {
  notInUse: () => new AwsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.'),
  accessDenied: () => new AwsError('AccessDeniedException', "You don't have permissions to access this resource."),
  accountNotFound: () => new AwsError('AccountNotFoundException', "You specified an account that doesn't exist."),
  parentNotFound: () => new AwsError('ParentNotFoundException', "We can't find a root or OU with the ParentId that you specified."),
  childNotFound: () => new AwsError('ChildNotFoundException', "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."),
  targetNotFound: () => new AwsError('TargetNotFoundException', "We can't find a root, OU, account, or policy with the TargetId that you specified."),
  invalid: (reason: string, message: string) => new AwsError('InvalidInputException', message, 400, { Reason: reason }),
};

const invalidPattern = () => errors.invalid('INVALID_PATTERN', "You provided a value that doesn't match the required pattern.");

function parse(body: Buffer): Doc {
  if (body.length === 0) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  return doc as Doc;
}

function required(doc: Doc, field: string, pattern: RegExp): string {
  const value = doc[field];
  if (value === undefined || value === null || value === '') throw errors.invalid('INPUT_REQUIRED', 'You must include a value for all required parameters.');
  if (typeof value !== 'string' || !pattern.test(value)) throw invalidPattern();
  return value;
}

const ACCOUNT_ID = /^\d{12}$/;
const PARENT_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const CHILD_ID = /^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const TAG_TARGET_ID = /^(\d{12}|r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128})$/;

/**
 * One page of `items`. The token names the operation and its scope, so a token from another call is
 * refused as AWS refuses it, rather than silently paging something else.
 */
function page<T>(doc: Doc, scope: string, items: T[]): { items: T[]; NextToken?: string } {
  const max = doc.MaxResults;
  let limit = PAGE_MAX;
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max)) throw invalidPattern();
    if (max < 1) throw errors.invalid('MIN_VALUE_EXCEEDED', 'You provided a numeric parameter that has a smaller value than allowed.');
    if (max > PAGE_MAX) throw errors.invalid('MAX_VALUE_EXCEEDED', 'You provided a numeric parameter that has a larger value than allowed.');
    limit = max;
  }
  let start = 0;
  if (doc.NextToken !== undefined && doc.NextToken !== null) {
    const bad = () => errors.invalid('INVALID_NEXT_TOKEN', 'Get the value for the NextToken parameter from the response to a previous call of the operation.');
    if (typeof doc.NextToken !== 'string') throw bad();
    const m = /^(.*)#(\d+)$/.exec(Buffer.from(doc.NextToken, 'base64url').toString('utf8'));
    if (!m || m[1] !== scope || Number(m[2]) > items.length) throw bad();
    start = Number(m[2]);
  }
  const end = start + limit;
  return end < items.length ? { items: items.slice(start, end), NextToken: Buffer.from(`${scope}#${end}`).toString('base64url') } : { items: items.slice(start) };
}

const accountToWire = (a: OrgAccount) => ({
  Id: a.id,
  Arn: a.arn,
  Email: a.email,
  Name: a.name,
  // The legacy Status knows only these three; closed accounts stay listed as SUSPENDED for 90 days.
  Status: a.state === 'CLOSED' ? 'SUSPENDED' : a.state === 'PENDING_ACTIVATION' ? 'ACTIVE' : a.state,
  State: a.state,
  JoinedMethod: a.joinedMethod,
  JoinedTimestamp: a.joinedMs / 1000,
});

const parentType = (id: string) => (id.startsWith('r-') ? 'ROOT' : 'ORGANIZATIONAL_UNIT');

type Handler = (org: OrganizationRecord, doc: Doc) => unknown;

function parentOf(org: OrganizationRecord, doc: Doc): string {
  const parentId = required(doc, 'ParentId', PARENT_ID);
  if (parentId !== org.rootId && !org.units.has(parentId)) throw errors.parentNotFound();
  return parentId;
}

const accountsUnder = (org: OrganizationRecord, parentId: string) => [...org.accounts.values()].filter((a) => a.parentId === parentId);
const unitsUnder = (org: OrganizationRecord, parentId: string) => [...org.units.values()].filter((u) => u.parentId === parentId);

/** Operations any member account may call; every other one needs the management account or a delegated administrator. */
const MEMBER_OPERATIONS = new Set(['DescribeOrganization']);

const HANDLERS: Record<string, Handler> = {
  DescribeOrganization: (org) => ({
    Organization: {
      Id: org.id,
      Arn: org.arn,
      FeatureSet: 'ALL',
      MasterAccountArn: org.accounts.get(org.management)!.arn,
      MasterAccountId: org.management,
      MasterAccountEmail: org.accounts.get(org.management)!.email,
      AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
    },
  }),
  ListRoots: (org, doc) => {
    const { items, NextToken } = page(doc, 'ListRoots', [org.rootId]);
    const roots = items.map((id) => ({ Id: id, Arn: org.rootArn, Name: 'Root', PolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }] }));
    return { Roots: roots, ...(NextToken ? { NextToken } : {}) };
  },
  ListAccounts: (org, doc) => {
    const { items, NextToken } = page(doc, 'ListAccounts', [...org.accounts.values()]);
    return { Accounts: items.map(accountToWire), ...(NextToken ? { NextToken } : {}) };
  },
  DescribeAccount: (org, doc) => {
    const account = org.accounts.get(required(doc, 'AccountId', ACCOUNT_ID));
    if (!account) throw errors.accountNotFound();
    return { Account: accountToWire(account) };
  },
  ListParents: (org, doc) => {
    const childId = required(doc, 'ChildId', CHILD_ID);
    const parentId = org.accounts.get(childId)?.parentId ?? org.units.get(childId)?.parentId;
    if (!parentId) throw errors.childNotFound();
    const { items, NextToken } = page(doc, `ListParents/${childId}`, [parentId]);
    return { Parents: items.map((id) => ({ Id: id, Type: parentType(id) })), ...(NextToken ? { NextToken } : {}) };
  },
  ListChildren: (org, doc) => {
    const parentId = parentOf(org, doc);
    const childType = doc.ChildType;
    if (childType === undefined || childType === null) throw errors.invalid('INPUT_REQUIRED', 'You must include a value for all required parameters.');
    if (childType !== 'ACCOUNT' && childType !== 'ORGANIZATIONAL_UNIT') throw errors.invalid('INVALID_ENUM', 'You specified an invalid value.');
    const ids = childType === 'ACCOUNT' ? accountsUnder(org, parentId).map((a) => a.id) : unitsUnder(org, parentId).map((u) => u.id);
    const { items, NextToken } = page(doc, `ListChildren/${parentId}/${childType}`, ids);
    return { Children: items.map((id) => ({ Id: id, Type: childType })), ...(NextToken ? { NextToken } : {}) };
  },
  ListAccountsForParent: (org, doc) => {
    const parentId = parentOf(org, doc);
    const { items, NextToken } = page(doc, `ListAccountsForParent/${parentId}`, accountsUnder(org, parentId));
    return { Accounts: items.map(accountToWire), ...(NextToken ? { NextToken } : {}) };
  },
  ListOrganizationalUnitsForParent: (org, doc) => {
    const parentId = parentOf(org, doc);
    const { items, NextToken } = page(doc, `ListOrganizationalUnitsForParent/${parentId}`, unitsUnder(org, parentId));
    return { OrganizationalUnits: items.map((u) => ({ Id: u.id, Arn: u.arn, Name: u.name })), ...(NextToken ? { NextToken } : {}) };
  },
  ListTagsForResource: (org, doc) => {
    const target = required(doc, 'ResourceId', TAG_TARGET_ID);
    const tags = target === org.rootId ? {} : (org.accounts.get(target)?.tags ?? org.units.get(target)?.tags);
    if (!tags) throw errors.targetNotFound();
    const { items, NextToken } = page(doc, `ListTagsForResource/${target}`, Object.entries(tags));
    return { Tags: items.map(([Key, Value]) => ({ Key, Value })), ...(NextToken ? { NextToken } : {}) };
  },
};

function reply(status: number, body: unknown, requestId: string, errorType?: string): Reply {
  return {
    status,
    headers: { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId, ...(errorType ? { 'x-amzn-errortype': errorType } : {}) },
    body: JSON.stringify(body),
  };
}

/**
 * AWS Organizations (JSON 1.1, signing name `organizations`, a global service its clients reach in
 * us-east-1): the read-only calls a guard needs to know accounts, their status, OU path and tags.
 * Calls are not recorded in CloudTrail: reads are not what the product watches.
 */
export const organizationsService: Service = {
  resolve: (ctx: CallContext, env: Env): Operation => {
    const target = String(ctx.headers['x-amz-target'] ?? '');
    const m = ORGANIZATIONS_TARGET.exec(target);
    if (!m) {
      throw new AwsError('UnknownOperationException', target ? `Unknown X-Amz-Target ${target}; Organizations' look like AWSOrganizationsV20161128.ListAccounts.` : 'The request has no X-Amz-Target header.');
    }
    const name = m[1]!;
    const handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
    if (!handler) throw new AwsError('UnknownOperationException', `The emulator's Organizations does not implement ${name}.`);
    return {
      name,
      run: () => {
        const org = env.organizations.current;
        if (!org || !org.accounts.has(ctx.account)) throw errors.notInUse();
        if (!MEMBER_OPERATIONS.has(name) && !env.organizations.canReadOrganization(ctx.account)) throw errors.accessDenied();
        return handler(org as OrganizationRecord, parse(ctx.body));
      },
    };
  },
  success: (_op, payload, ctx) => reply(200, payload ?? {}, ctx.requestId),
  error: (err, ctx) => reply(err.status, { __type: err.code, Message: err.message, ...err.fields }, ctx.requestId, err.code),
  // Organizations throttles with a 400 TooManyRequestsException, which the SDKs retry as throttling.
  throttled: () => new AwsError('TooManyRequestsException', "AWS Organizations can't complete your request because another request is already in progress. Try again later."),
  serverError: () => new AwsError('ServiceException', "AWS Organizations can't complete your request because of an internal service error. Try again later.", 500),
};
