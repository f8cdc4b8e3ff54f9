/**
 * The Organizations adapter against the emulator's AWS Organizations: the organization read whole
 * (accounts over several ListAccounts pages, each account's OU path walked up with ListParents, OU
 * parents asked once, tags), one account read alone, the in-memory TTL on an injected clock, bounded
 * concurrency, and errors: a caller that may not read the organization is a clear, non-transient
 * refusal naming the role; throttling is transient.
 */
import { readFileSync } from 'node:fs';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { parse as parseYaml } from 'yaml';
import { createClientFactory } from '../../src/aws/clients';
import { createOrganizationPort, ORGANIZATION_TTL_MS, organizationsRegion, organizationWiring, type OrganizationPortOptions } from '../../src/aws/organizations';
import { loadConfig } from '../../src/config';
import { manualClock, parseEmulatorState, startEmulator, type Emulator } from '../../src/emulator';
import { AwsRequestRejectedError, TransientAwsError } from '../../src/errors';
import type { OrganizationPort } from '../../src/org/types';
import { DEMO_STATE_PATH, rejectionOf } from '../emulator/helpers';
import { callCounter } from './helpers';

const MANAGEMENT = '111122223333';
const ADMIN = '444455556666'; // the delegated administrator
const ROOT = 'r-ab12';
const PROD_OU = 'ou-ab12-prod0001';
const PAYMENTS_OU = 'ou-ab12-paym0001';
const SANDBOX_OU = 'ou-ab12-sand0001';
/** Enough sandbox accounts that ListAccounts takes two pages (Organizations pages hold at most 20). */
const SANDBOXES = Array.from({ length: 22 }, (_, i) => `5000000000${String(i).padStart(2, '0')}`);
const PLAIN_MEMBER = SANDBOXES[0]!;

function organizationState() {
  const doc = parseYaml(readFileSync(DEMO_STATE_PATH, 'utf8')) as Record<string, unknown>;
  doc.organization = {
    id: 'o-exampleorg1',
    rootId: ROOT,
    managementAccount: MANAGEMENT,
    delegatedAdministrators: [ADMIN],
    units: [
      { name: 'Production', id: PROD_OU },
      { name: 'Payments', id: PAYMENTS_OU, parent: 'Production' },
      { name: 'Sandbox', id: SANDBOX_OU },
    ],
    accounts: [
      { id: ADMIN, unit: 'Payments', tags: { env: 'prod', 'cost-center': '1234' } },
      ...SANDBOXES.map((id, i) => ({ id, name: `sandbox-${i}`, unit: 'Sandbox', tags: { env: 'dev' }, status: i === 1 ? 'SUSPENDED' : i === 2 ? 'CLOSED' : i === 3 ? 'PENDING_CLOSURE' : i === 4 ? 'PENDING_ACTIVATION' : 'ACTIVE' })),
    ],
  };
  return parseEmulatorState(doc, 'organization-state');
}

let emulator: Emulator;
const state = organizationState();
beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), state });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => emulator.loadState(state));

const caller = (account: string) => `arn:aws:sts::${account}:assumed-role/eks-endpoint-guard-organizations/guard`;

/** The port as `account`'s own role, with every call counted and the calls in flight at once measured. */
function portAs(account: string, options: OrganizationPortOptions = {}) {
  const counter = callCounter();
  let inFlight = 0;
  let maxInFlight = 0;
  const client = new OrganizationsClient({ endpoint: emulator.url, region: 'us-east-1', credentials: emulator.credentialsFor(caller(account)), maxAttempts: 1 });
  counter.instrument(client);
  client.middlewareStack.add(
    (next) => async (args) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
      }
    },
    { step: 'finalizeRequest', name: 'measureInFlight' },
  );
  const port: OrganizationPort = createOrganizationPort(() => client, { now: () => emulator.clock.now(), roleArn: `arn:aws:iam::${account}:role/eks-endpoint-guard-organizations`, ...options });
  return { port, counts: counter.counts, maxInFlight: () => maxInFlight };
}

describe('describe: the whole organization', () => {
  it('lists every account with its status, its OU path from the root down and its tags', async () => {
    const { port } = portAs(MANAGEMENT);

    const org = await port.describe();

    expect({ id: org.id, managementAccount: org.managementAccount }).toEqual({ id: 'o-exampleorg1', managementAccount: MANAGEMENT });
    expect(org.accounts).toHaveLength(2 + SANDBOXES.length);
    const byId = new Map(org.accounts.map((a) => [a.id, a]));
    expect(byId.get(MANAGEMENT)).toEqual({ id: MANAGEMENT, name: 'prod', status: 'ACTIVE', ouPath: [ROOT], tags: {} });
    expect(byId.get(ADMIN)).toEqual({ id: ADMIN, name: 'sandbox', status: 'ACTIVE', ouPath: [ROOT, PROD_OU, PAYMENTS_OU], tags: { env: 'prod', 'cost-center': '1234' } });
    expect(byId.get(SANDBOXES[0]!)).toMatchObject({ name: 'sandbox-0', status: 'ACTIVE', ouPath: [ROOT, SANDBOX_OU], tags: { env: 'dev' } });
    // Organizations' State, as the guard reads it: closed accounts are suspended, activating ones active.
    expect(SANDBOXES.slice(1, 5).map((id) => byId.get(id)!.status)).toEqual(['SUSPENDED', 'SUSPENDED', 'PENDING_CLOSURE', 'ACTIVE']);
  });

  it('asks each OU for its parent once, however many accounts it holds', async () => {
    const { port, counts } = portAs(MANAGEMENT);

    const org = await port.describe();

    const accounts = org.accounts.length;
    // One ListParents per account, plus one per OU on the way up (Payments, Production, Sandbox): the
    // 22 sandbox accounts share Sandbox's answer.
    expect(counts).toEqual({ DescribeOrganization: 1, ListAccounts: 2, ListParents: accounts + 3, ListTagsForResource: accounts });
  });

  it('keeps what it read for the TTL on the injected clock, then reads again', async () => {
    const { port, counts } = portAs(MANAGEMENT);
    await port.describe();
    const first = { ...counts };

    emulator.clock.advance(ORGANIZATION_TTL_MS - 1000);
    await port.describe();
    expect(counts).toEqual(first);

    emulator.clock.advance(1000);
    const again = await port.describe();
    expect(counts.ListAccounts).toBe(first.ListAccounts! * 2);
    expect(again.accounts).toHaveLength(2 + SANDBOXES.length);
  });

  it('shares one read between concurrent callers', async () => {
    const { port, counts } = portAs(MANAGEMENT);
    const [a, b] = await Promise.all([port.describe(), port.describe()]);
    expect(a).toBe(b);
    expect(counts.DescribeOrganization).toBe(1);
  });

  it.each([1, 3])('keeps at most twice %i calls in flight (one account\'s ListParents and tags each)', async (concurrency) => {
    emulator.setFault({ kind: 'latency', service: 'organizations', latencyMs: 5 });
    const { port, maxInFlight } = portAs(MANAGEMENT, { concurrency });
    await port.describe();
    expect(maxInFlight()).toBeLessThanOrEqual(2 * concurrency);
    expect(maxInFlight()).toBeGreaterThan(1);
  });

  it('works as the delegated administrator', async () => {
    const { port } = portAs(ADMIN);
    await expect(port.describe()).resolves.toMatchObject({ id: 'o-exampleorg1' });
  });
});

describe('account: one account', () => {
  it('reads one account alone, without listing the organization', async () => {
    const { port, counts } = portAs(MANAGEMENT);

    const account = await port.account(ADMIN);

    expect(account).toEqual({ id: ADMIN, name: 'sandbox', status: 'ACTIVE', ouPath: [ROOT, PROD_OU, PAYMENTS_OU], tags: { env: 'prod', 'cost-center': '1234' } });
    expect(counts).toEqual({ DescribeAccount: 1, ListParents: 3, ListTagsForResource: 1 });
  });

  it('is null for an account outside the organization', async () => {
    const { port } = portAs(MANAGEMENT);
    await expect(port.account('999999999999')).resolves.toBeNull();
  });

  it('answers from a fresh read of the whole organization, and asks about an id it does not list', async () => {
    const { port, counts } = portAs(MANAGEMENT);
    await port.describe();
    const before = { ...counts };

    expect((await port.account(SANDBOXES[5]!))?.ouPath).toEqual([ROOT, SANDBOX_OU]);
    expect(counts).toEqual(before);

    await expect(port.account('999999999999')).resolves.toBeNull();
    expect(counts.DescribeAccount).toBe(1);
  });

  it('keeps each account for the TTL', async () => {
    const { port, counts } = portAs(MANAGEMENT);
    await port.account(ADMIN);
    await port.account(ADMIN);
    expect(counts.DescribeAccount).toBe(1);
    emulator.clock.advance(ORGANIZATION_TTL_MS);
    await port.account(ADMIN);
    expect(counts.DescribeAccount).toBe(2);
  });
});

describe('errors', () => {
  it('a caller that may not read the organization: a refusal naming the role and what to do, not transient', async () => {
    const { port } = portAs(PLAIN_MEMBER);

    const err = await rejectionOf(port.describe());

    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err).not.toBeInstanceOf(TransientAwsError);
    expect((err as unknown as AwsRequestRejectedError).awsErrorName).toBe('AccessDeniedException');
    expect(err.message).toContain(`role arn:aws:iam::${PLAIN_MEMBER}:role/eks-endpoint-guard-organizations`);
    expect(err.message).toMatch(/management account or a delegated administrator \(set ORGANIZATIONS_ROLE_ARN/);
    await expect(port.account(ADMIN)).rejects.toBeInstanceOf(AwsRequestRejectedError);
  });

  it('throttling is transient, and a failed read is not kept: the next call reads again', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'ListAccounts', times: 1 });
    const { port } = portAs(MANAGEMENT);

    const err = await rejectionOf(port.describe());
    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toMatch(/ListAccounts .*failed: TooManyRequestsException/);

    await expect(port.describe()).resolves.toMatchObject({ id: 'o-exampleorg1' });
  });

  it('a throttled ListParents on one account fails the read rather than leaving its OU path out', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'ListParents', times: 1 });
    const { port } = portAs(MANAGEMENT);
    await expect(port.describe()).rejects.toBeInstanceOf(TransientAwsError);
    const org = await port.describe();
    expect(org.accounts.every((a) => a.ouPath[0] === ROOT)).toBe(true);
  });
});

describe('organizationWiring', () => {
  const config = (extra: Record<string, string> = {}) =>
    loadConfig({ AWS_ENDPOINT_URL: emulator.url, AWS_REGION: 'eu-west-1', HOME_ACCOUNT_ID: PLAIN_MEMBER, ...extra });

  it('reads the organization through ORGANIZATIONS_ROLE_ARN, assumed from the function\'s own role', async () => {
    const counter = callCounter();
    const clients = createClientFactory({ endpoint: emulator.url, credentials: emulator.credentialsFor(caller(PLAIN_MEMBER)), homeAccount: PLAIN_MEMBER, instrument: counter.instrument, now: () => emulator.clock.now() });
    const port = organizationWiring({ clients, config: config({ ORGANIZATIONS_ROLE_ARN: `arn:aws:iam::${MANAGEMENT}:role/eks-endpoint-guard-organizations` }), now: () => emulator.clock.now() });

    expect(counter.counts).toEqual({});
    await expect(port.account(ADMIN)).resolves.toMatchObject({ ouPath: [ROOT, PROD_OU, PAYMENTS_OU] });
    expect(counter.counts).toMatchObject({ AssumeRole: 1, DescribeAccount: 1 });
  });

  it('without ORGANIZATIONS_ROLE_ARN, as the function\'s own role: a member account is refused, naming it', async () => {
    const clients = createClientFactory({ endpoint: emulator.url, credentials: emulator.credentialsFor(caller(PLAIN_MEMBER)), homeAccount: PLAIN_MEMBER, maxAttempts: 1 });
    const port = organizationWiring({ clients, config: config(), now: () => emulator.clock.now() });
    const err = await rejectionOf(port.describe());
    expect(err).toBeInstanceOf(AwsRequestRejectedError);
    expect(err.message).toContain("to the function's own role");
  });

  it.each([
    ['eu-west-1', 'us-east-1'],
    ['cn-north-1', 'cn-northwest-1'],
    ['us-gov-east-1', 'us-gov-west-1'],
  ])('in %s, Organizations is called in %s', (home, expected) => {
    expect(organizationsRegion(home)).toBe(expected);
  });
});
