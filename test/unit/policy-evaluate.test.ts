/**
 * Evaluation of an observed cluster (issue 2, items 3-5): settings that apply, violations, warnings,
 * exemptions, verdict, action and remediation target. Table-driven: a DescribeCluster fixture from
 * test/fixtures/eks (optionally changed by the row) × a policy from test/fixtures/policies/valid × the
 * expected outcome. Expected values come from the text, not from the implementation.
 */
import { readFileSync } from 'node:fs';
import {
  evaluateCluster,
  findViolations,
  parseObservedCluster,
  parsePolicy,
  type EndpointTarget,
  type Evaluation,
  type EvaluateOptions,
  type Policy,
} from '../../src/policy';

const FIXTURES = new URL('../fixtures/', import.meta.url);

type DescribeCluster = {
  cluster: {
    name: string;
    arn?: string;
    tags?: Record<string, string>;
    resourcesVpcConfig: { endpointPublicAccess?: boolean; endpointPrivateAccess?: boolean; publicAccessCidrs?: string[] };
    [key: string]: unknown;
  };
};

const clusterFixture = (file: string): DescribeCluster => JSON.parse(readFileSync(new URL(`eks/${file}.json`, FIXTURES), 'utf8'));
const policies = new Map<string, Policy>();
const policyFixture = (file: string): Policy => {
  if (!policies.has(file)) policies.set(file, parsePolicy(readFileSync(new URL(`policies/valid/${file}`, FIXTURES), 'utf8'), file));
  return policies.get(file)!;
};

/** Changes to a fixture a row may ask for. */
type Patch = {
  name?: string;
  public?: boolean;
  private?: boolean;
  /** `null` deletes the field. */
  cidrs?: string[] | null;
  tags?: Record<string, string>;
  /** Pass the `cluster` object rather than the whole response. */
  bare?: boolean;
};

function observed(file: string, patch: Patch = {}, given: { account?: string; region?: string } = {}) {
  const doc = clusterFixture(file);
  const c = doc.cluster;
  if (patch.name !== undefined) {
    c.name = patch.name;
    c.arn = c.arn!.replace(/cluster\/.*$/, `cluster/${patch.name}`);
  }
  if (patch.public !== undefined) c.resourcesVpcConfig.endpointPublicAccess = patch.public;
  if (patch.private !== undefined) c.resourcesVpcConfig.endpointPrivateAccess = patch.private;
  if (patch.cidrs === null) delete c.resourcesVpcConfig.publicAccessCidrs;
  else if (patch.cidrs !== undefined) c.resourcesVpcConfig.publicAccessCidrs = patch.cidrs;
  if (patch.tags !== undefined) c.tags = patch.tags;
  return parseObservedCluster(patch.bare ? c : doc, given);
}

const NOW = '2026-06-01T00:00:00Z';
const ALLOWED = ['203.0.113.0/24', '2001:db8::/32'];
const on = (cidrs: string[], priv = true): EndpointTarget => ({ endpointPublicAccess: true, endpointPrivateAccess: priv, publicAccessCidrs: cidrs });
const PUBLIC_OFF: EndpointTarget = { endpointPublicAccess: false, endpointPrivateAccess: true };

type Row = {
  name: string;
  cluster: string;
  patch?: Patch;
  policy: string;
  given?: { account?: string; region?: string };
  now?: string;
  forceMode?: EvaluateOptions['forceMode'];
  expect: {
    verdict: Evaluation['verdict'];
    action: Evaluation['action'];
    /** Violation codes, in any order, with multiplicity. */
    codes: string[];
    /** The `cidr` of each PUBLIC_CIDR_NOT_ALLOWED, in observed order. */
    cidrs?: string[];
    /** Warning codes, in any order; no others may appear. */
    warnings?: string[];
    target: EndpointTarget | null;
    rule?: string | null;
    mode?: string;
    exemption?: Partial<NonNullable<Evaluation['exemption']>> | null;
  };
};

const rows: Row[] = [
  // --- one row per endpoint combination under the example policy ---
  {
    name: 'public-only open: private required and 0.0.0.0/0 not allowed',
    cluster: 'public-only-open',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), rule: null, mode: 'enforce' },
  },
  {
    name: 'public-only restricted inside the allowlist: only private access is wrong; nodes may lose egress',
    cluster: 'public-only-restricted',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED'], cidrs: [], warnings: ['NODE_EGRESS_RISK'], target: on(['203.0.113.0/24']) },
  },
  {
    name: 'public+private open: narrowed to the IPv4 allowed block only (IPv6 is not inside 0.0.0.0/0)',
    cluster: 'public-private-open',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']) },
  },
  {
    name: 'public+private restricted inside both allowed families: compliant',
    cluster: 'public-private-restricted',
    policy: 'issue-example.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },
  {
    name: 'private-only: the kept 0.0.0.0/0 of a disabled public endpoint is never judged',
    cluster: 'private-only',
    policy: 'issue-example.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },
  {
    name: 'public on without publicAccessCidrs means 0.0.0.0/0',
    cluster: 'public-no-cidrs-field',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']) },
  },
  {
    name: 'public on with an empty publicAccessCidrs list means 0.0.0.0/0 too',
    cluster: 'public-private-restricted',
    patch: { cidrs: [] },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']) },
  },
  {
    name: 'dual-stack 0.0.0.0/0 and ::/0: one violation each; target is both allowed blocks',
    cluster: 'dual-stack-open',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0', '::/0'], warnings: [], target: on(['203.0.113.0/24', '2001:db8::/32']) },
  },
  {
    name: '41 CIDRs, all allowed: limit exceeded; narrowing keeps 41 so the allowlist is used',
    cluster: 'too-many-cidrs',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_LIMIT_EXCEEDED'], cidrs: [], warnings: [], target: on(ALLOWED) },
  },
  {
    name: 'one PUBLIC_CIDR_NOT_ALLOWED per bad CIDR, naming it, in order',
    cluster: 'public-only-mixed',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['198.51.100.0/24', '192.0.2.0/24'], warnings: ['NODE_EGRESS_RISK'], target: on(['203.0.113.5/32']) },
  },

  // --- forbidden ---
  {
    name: 'forbidden with public on: public off, private on, no CIDR list',
    cluster: 'public-only-open',
    policy: 'strict-prod-forbidden.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_ACCESS_FORBIDDEN'], warnings: [], target: PUBLIC_OFF },
  },
  {
    name: 'forbidden with public and private on: only public is wrong',
    cluster: 'public-private-restricted',
    policy: 'strict-prod-forbidden.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_ACCESS_FORBIDDEN'], warnings: [], target: PUBLIC_OFF },
  },
  {
    name: 'forbidden: a private-only cluster complies',
    cluster: 'private-only',
    policy: 'strict-prod-forbidden.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },
  {
    name: 'forbidden: a cluster whose public endpoint is off is not judged on its 41 kept CIDRs',
    cluster: 'too-many-cidrs',
    patch: { public: false },
    policy: 'strict-prod-forbidden.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },
  {
    name: 'the example rule prod-private-only (account, region, glob, tag) forbids public access',
    cluster: 'public-private-open',
    patch: { name: 'prod-checkout', tags: { env: 'prod', team: 'shop' } },
    given: { account: '111122223333', region: 'eu-west-1' },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_ACCESS_FORBIDDEN'], warnings: [], target: PUBLIC_OFF, rule: 'prod-private-only' },
  },
  {
    name: 'the example rule does not apply in another region: defaults',
    cluster: 'public-private-open',
    patch: { name: 'prod-checkout', tags: { env: 'prod' } },
    given: { account: '111122223333', region: 'us-east-1' },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), rule: null },
  },

  // --- unrestricted ---
  {
    name: 'unrestricted within the limit: 0.0.0.0/0 is fine',
    cluster: 'public-only-open',
    policy: 'unrestricted-low-limit.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },
  {
    name: 'unrestricted over the limit: no safe remediation, target null, action alert even in enforce mode',
    cluster: 'too-many-cidrs',
    policy: 'unrestricted-low-limit.yaml',
    expect: { verdict: 'violation', action: 'alert', codes: ['PUBLIC_CIDR_LIMIT_EXCEEDED'], warnings: ['NO_SAFE_REMEDIATION'], target: null, mode: 'enforce' },
  },
  {
    name: 'unrestricted over a limit of 3 with 4 CIDRs and private off: still no safe remediation',
    cluster: 'public-only-restricted',
    patch: { cidrs: ['203.0.113.0/26', '203.0.113.64/26', '203.0.113.128/26', '203.0.113.192/26'] },
    policy: 'unrestricted-low-limit.yaml',
    expect: { verdict: 'violation', action: 'alert', codes: ['PUBLIC_CIDR_LIMIT_EXCEEDED'], warnings: ['NODE_EGRESS_RISK', 'NO_SAFE_REMEDIATION'], target: null },
  },
  {
    name: 'unrestricted at exactly the limit: compliant',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['203.0.113.0/26', '203.0.113.64/26', '203.0.113.128/26'] },
    policy: 'unrestricted-low-limit.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },
  {
    name: 'unrestricted with private required and off: private turned on, CIDRs kept as they are',
    cluster: 'public-only-open',
    patch: { cidrs: ['0.0.0.0/0', '198.51.100.0/24'] },
    policy: 'minimal-unrestricted.json',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED'], warnings: [], target: on(['0.0.0.0/0', '198.51.100.0/24']) },
  },

  // --- the planner's examples and rules (issue item 4) ---
  {
    name: 'planner: [203.0.113.5/32, 198.51.100.0/24] with allowed [203.0.113.0/24] keeps 203.0.113.5/32',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['203.0.113.5/32', '198.51.100.0/24'] },
    policy: 'restricted-optional.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['198.51.100.0/24'], warnings: [], target: on(['203.0.113.5/32']) },
  },
  {
    name: 'planner: exact duplicates removed, keeping the first',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['203.0.113.7/32', '0.0.0.0/0', '203.0.113.7/32'] },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.7/32', '203.0.113.0/24']) },
  },
  {
    name: 'planner: an allowed block reached three ways appears once',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['203.0.0.0/16', '203.0.113.0/24', '0.0.0.0/0'] },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['203.0.0.0/16', '0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']) },
  },
  {
    name: 'planner: a wide block is replaced by the allowed blocks inside it, in policy order, other families skipped',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['198.51.100.7/32', '192.0.0.0/2'] },
    policy: 'restricted-three.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['192.0.0.0/2'], warnings: [], target: on(['198.51.100.7/32', '203.0.113.0/24', '198.51.100.0/24']) },
  },
  {
    name: 'planner: a block containing an allowed block is replaced by it, in place, in policy order',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['2001:db8:5::/48', '203.0.0.0/16', '192.0.2.0/24'] },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['203.0.0.0/16', '192.0.2.0/24'], warnings: [], target: on(['2001:db8:5::/48', '203.0.113.0/24']) },
  },
  {
    name: 'planner: nothing left after narrowing falls back to the allowlist',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['198.51.100.0/24', '192.0.2.0/25'] },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['198.51.100.0/24', '192.0.2.0/25'], warnings: [], target: on(ALLOWED) },
  },
  {
    name: 'planner: narrowing longer than maxPublicCidrs falls back to the allowlist',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['203.0.113.1/32', '0.0.0.0/0'] },
    policy: 'restricted-limit-2.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24', '198.51.100.0/24']) },
  },
  {
    name: 'planner: over the limit with every CIDR allowed falls back to the allowlist',
    cluster: 'public-private-restricted',
    patch: { cidrs: ['203.0.113.1/32', '203.0.113.2/32', '198.51.100.3/32'] },
    policy: 'restricted-limit-2.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_LIMIT_EXCEEDED'], cidrs: [], warnings: [], target: on(['203.0.113.0/24', '198.51.100.0/24']) },
  },
  {
    name: 'planner: narrowing while private is off turns private on even when privateAccess is optional',
    cluster: 'public-only-open',
    policy: 'restricted-optional.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24'], true) },
  },
  {
    name: 'optional private, public restricted to allowed CIDRs, private off: compliant with an egress warning',
    cluster: 'public-only-restricted',
    policy: 'restricted-optional.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: ['NODE_EGRESS_RISK'], target: null },
  },

  // --- rule matching (rules.yaml) ---
  {
    name: 'first matching rule wins: account + glob + all tags equal',
    cluster: 'public-private-open',
    patch: { name: 'prod-payments', tags: { env: 'prod', team: 'payments', extra: 'x' } },
    policy: 'rules.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_ACCESS_FORBIDDEN'], warnings: [], target: PUBLIC_OFF, rule: 'prod-payments-strict' },
  },
  {
    name: 'one tag differs: the next matching rule applies',
    cluster: 'public-private-open',
    patch: { name: 'prod-payments', tags: { env: 'prod', team: 'billing' } },
    policy: 'rules.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null, rule: 'prod-any' },
  },
  {
    name: 'one tag missing: the next matching rule applies',
    cluster: 'public-private-open',
    patch: { name: 'prod-payments', tags: { env: 'prod' } },
    policy: 'rules.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null, rule: 'prod-any' },
  },
  {
    name: 'account from the ARN overridden: the account-bound rule no longer matches',
    cluster: 'public-private-open',
    patch: { name: 'prod-payments', tags: { env: 'prod', team: 'payments' } },
    given: { account: '999999999999' },
    policy: 'rules.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null, rule: 'prod-any' },
  },
  {
    name: 'glob ? matches exactly one character',
    cluster: 'public-private-open',
    patch: { name: 'qa-7' },
    policy: 'rules.yaml',
    expect: { verdict: 'violation', action: 'alert', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), rule: 'qa-single-char', mode: 'alert' },
  },
  {
    name: 'glob ? does not match two characters',
    cluster: 'public-private-open',
    patch: { name: 'qa-17' },
    policy: 'rules.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), rule: null, mode: 'enforce' },
  },
  {
    name: 'glob * needs its prefix: xprod-a is not prod-*',
    cluster: 'public-private-open',
    patch: { name: 'xprod-a' },
    policy: 'rules.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), rule: null },
  },
  {
    name: 'region from the ARN selects the regional rule (its own allowlist)',
    cluster: 'public-no-cidrs-field',
    patch: { cidrs: ['198.51.100.0/25', '203.0.113.0/24'], private: false },
    policy: 'rules.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['203.0.113.0/24'], warnings: ['NODE_EGRESS_RISK'], target: on(['198.51.100.0/25'], true), rule: 'frankfurt' },
  },
  {
    name: 'region overridden: the regional rule no longer matches',
    cluster: 'public-no-cidrs-field',
    patch: { cidrs: ['203.0.113.0/24'] },
    given: { region: 'us-east-1' },
    policy: 'rules.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null, rule: null },
  },
  {
    name: 'any entry of an accounts list may match',
    cluster: 'public-private-restricted',
    given: { account: '444455556666' },
    policy: 'rules.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_ACCESS_FORBIDDEN'], warnings: [], target: PUBLIC_OFF, rule: 'other-account' },
  },
  {
    name: 'the bare cluster object is accepted as well as the whole response',
    cluster: 'public-private-open',
    patch: { bare: true },
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']) },
  },

  // --- mode ---
  {
    name: 'alert mode: action alert, the target is still shown',
    cluster: 'public-only-open',
    policy: 'alert-mode.yaml',
    expect: { verdict: 'violation', action: 'alert', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24'], true), mode: 'alert' },
  },
  {
    name: 'forceMode alert overrides an enforce policy',
    cluster: 'public-only-open',
    policy: 'issue-example.yaml',
    forceMode: 'alert',
    expect: { verdict: 'violation', action: 'alert', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), mode: 'alert' },
  },
  {
    name: 'forceMode alert on a compliant cluster: nothing to do',
    cluster: 'public-private-restricted',
    policy: 'issue-example.yaml',
    forceMode: 'alert',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: [], target: null },
  },

  // --- exemptions by policy entry: a date lasts through the end of that day, UTC ---
  {
    name: 'policy exemption: last millisecond of the expiry day is exempt; violations still listed',
    cluster: 'public-only-open',
    patch: { name: 'legacy-billing' },
    given: { account: '444455556666' },
    policy: 'issue-example.yaml',
    now: '2027-03-31T23:59:59.999Z',
    expect: {
      verdict: 'exempt', action: 'none', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: null,
      exemption: { source: 'policy', name: 'legacy-vpn', reason: 'vendor VPN migration, ticket OPS-1234', expires: '2027-03-31' },
    },
  },
  {
    name: 'policy exemption: from midnight after the expiry day it has expired',
    cluster: 'public-only-open',
    patch: { name: 'legacy-billing' },
    given: { account: '444455556666' },
    policy: 'issue-example.yaml',
    now: '2027-04-01T00:00:00.000Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: ['EXEMPTION_EXPIRED'], target: on(['203.0.113.0/24']), exemption: null },
  },
  {
    name: 'policy exemption: the start of the expiry day is still exempt',
    cluster: 'public-only-open',
    patch: { name: 'legacy-billing' },
    given: { account: '444455556666' },
    policy: 'exemptions.yaml',
    now: '2027-03-31T00:00:00.000Z',
    expect: { verdict: 'exempt', action: 'none', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: null, exemption: { source: 'policy', name: 'legacy-vpn' } },
  },
  {
    name: 'policy exemption: every match key must hold (wrong account)',
    cluster: 'public-only-open',
    patch: { name: 'legacy-billing' },
    policy: 'issue-example.yaml',
    now: '2027-01-01T00:00:00Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: on(['203.0.113.0/24']), exemption: null },
  },
  {
    name: 'policy exemption with an offset date-time: just before 10:00Z is exempt',
    cluster: 'public-private-open',
    patch: { name: 'cutover-east' },
    policy: 'exemptions.yaml',
    now: '2027-03-31T09:59:59.999Z',
    expect: { verdict: 'exempt', action: 'none', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: null, exemption: { source: 'policy', name: 'noon-cutover' } },
  },
  {
    name: 'policy exemption with an offset date-time: at 10:00Z it has expired',
    cluster: 'public-private-open',
    patch: { name: 'cutover-east' },
    policy: 'exemptions.yaml',
    now: '2027-03-31T10:00:00.000Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: ['EXEMPTION_EXPIRED'], target: on(['203.0.113.0/24']), exemption: null },
  },
  {
    name: 'an exemption on a compliant cluster still gives verdict exempt',
    cluster: 'public-private-restricted',
    patch: { name: 'cutover-west', cidrs: ['203.0.113.64/26'] },
    policy: 'exemptions.yaml',
    now: '2027-01-01T00:00:00Z',
    expect: { verdict: 'exempt', action: 'none', codes: [], warnings: [], target: null, exemption: { name: 'noon-cutover' } },
  },
  {
    name: 'an expired exemption warns EXEMPTION_EXPIRED but does not change a compliant verdict',
    cluster: 'private-only',
    patch: { name: 'old-ledger' },
    policy: 'exemptions.yaml',
    expect: { verdict: 'compliant', action: 'none', codes: [], warnings: ['EXEMPTION_EXPIRED'], target: null, exemption: null },
  },
  {
    name: 'exempt over the unrestricted limit: action none and target null',
    cluster: 'too-many-cidrs',
    // Within the default 30-day cap on tag exemptions (NOW is 2026-06-01).
    patch: { tags: { 'eks-endpoint-guard/exempt-until': '2026-06-20' } },
    policy: 'unrestricted-low-limit.yaml',
    expect: { verdict: 'exempt', action: 'none', codes: ['PUBLIC_CIDR_LIMIT_EXCEEDED'], target: null, exemption: { source: 'tag' } },
  },

  // --- exemptions by tag ---
  {
    name: 'tag exemption: the last millisecond of the tag date is exempt',
    cluster: 'exempt-by-tag',
    policy: 'issue-example.yaml',
    now: '2027-03-31T23:59:59.999Z',
    expect: {
      verdict: 'exempt', action: 'none', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: null,
      exemption: { source: 'tag', expires: '2027-03-31' },
    },
  },
  {
    name: 'tag exemption: midnight after the tag date has expired',
    cluster: 'exempt-by-tag',
    policy: 'issue-example.yaml',
    now: '2027-04-01T00:00:00.000Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: ['EXEMPTION_EXPIRED'], target: on(['203.0.113.0/24']), exemption: null },
  },
  {
    name: 'tag exemption with a UTC date-time: one millisecond before is exempt',
    cluster: 'exempt-by-tag',
    patch: { tags: { 'eks-endpoint-guard/exempt-until': '2027-03-31T12:00:00Z' } },
    policy: 'issue-example.yaml',
    now: '2027-03-31T11:59:59.999Z',
    expect: { verdict: 'exempt', action: 'none', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], warnings: [], target: null, exemption: { source: 'tag' } },
  },
  {
    name: 'tag exemption with a UTC date-time: at that instant it has expired',
    cluster: 'exempt-by-tag',
    patch: { tags: { 'eks-endpoint-guard/exempt-until': '2027-03-31T12:00:00Z' } },
    policy: 'issue-example.yaml',
    now: '2027-03-31T12:00:00.000Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], warnings: ['EXEMPTION_EXPIRED'], target: on(['203.0.113.0/24']) },
  },
  {
    name: 'tag exemption in alert mode: exempt wins, action none',
    cluster: 'exempt-by-tag',
    policy: 'alert-mode.yaml',
    // The fixture's tag ends 2027-03-31: judged within the 30-day cap on tag exemptions.
    now: '2027-03-15T00:00:00Z',
    expect: { verdict: 'exempt', action: 'none', codes: ['PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: [], target: null, exemption: { source: 'tag' } },
  },
  {
    name: 'an invalid tag value warns EXEMPTION_TAG_INVALID and does not exempt',
    cluster: 'bad-exemption-tag',
    policy: 'issue-example.yaml',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], cidrs: ['0.0.0.0/0'], warnings: ['EXEMPTION_TAG_INVALID'], target: on(['203.0.113.0/24']), exemption: null },
  },
  ...['2027-02-30', '2027-13-01', '31/03/2027', 'never', ''].map((value): Row => ({
    name: `a tag value that is not a real date (${JSON.stringify(value)}) is EXEMPTION_TAG_INVALID`,
    cluster: 'exempt-by-tag',
    patch: { tags: { 'eks-endpoint-guard/exempt-until': value } },
    policy: 'issue-example.yaml',
    now: '2027-01-01T00:00:00Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], warnings: ['EXEMPTION_TAG_INVALID'], target: on(['203.0.113.0/24']), exemption: null },
  })),
  {
    name: 'a policy with its own exemptionTag ignores the default tag key',
    cluster: 'exempt-by-tag',
    policy: 'custom-exemption-tag.yaml',
    now: '2027-01-01T00:00:00Z',
    expect: { verdict: 'violation', action: 'remediate', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], warnings: [], target: on(['203.0.113.0/24']), exemption: null },
  },
  {
    name: 'a policy with its own exemptionTag honours that tag',
    cluster: 'exempt-by-tag',
    patch: { tags: { 'acme.example/guard-exempt-until': '2027-03-31' } },
    policy: 'custom-exemption-tag.yaml',
    now: '2027-03-15T00:00:00Z',
    expect: { verdict: 'exempt', action: 'none', codes: ['PRIVATE_ACCESS_REQUIRED', 'PUBLIC_CIDR_NOT_ALLOWED'], warnings: [], target: null, exemption: { source: 'tag', expires: '2027-03-31' } },
  },
];

const sorted = (xs: string[]) => [...xs].sort();

describe.each(rows)('evaluateCluster: $name', (row) => {
  let result: Evaluation;
  beforeAll(() => {
    const cluster = observed(row.cluster, row.patch, row.given);
    result = evaluateCluster(policyFixture(row.policy), cluster, { now: Date.parse(row.now ?? NOW), forceMode: row.forceMode });
  });

  it(`verdict ${row.expect.verdict}, action ${row.expect.action}`, () => {
    expect({ verdict: result.verdict, action: result.action }).toEqual({ verdict: row.expect.verdict, action: row.expect.action });
  });

  it(`violations [${row.expect.codes.join(', ')}]`, () => {
    expect(sorted(result.violations.map((v) => v.code))).toEqual(sorted(row.expect.codes));
    for (const v of result.violations) expect(v.message).toEqual(expect.any(String));
    if (row.expect.cidrs) {
      const notAllowed = result.violations.filter((v) => v.code === 'PUBLIC_CIDR_NOT_ALLOWED');
      expect(notAllowed.map((v) => v.cidr)).toEqual(row.expect.cidrs);
      for (const v of notAllowed) expect(v.message).toContain(v.cidr);
    }
  });

  if (row.expect.warnings) {
    it(`warnings [${row.expect.warnings.join(', ')}]`, () => {
      expect(sorted(result.warnings.map((w) => w.code))).toEqual(sorted(row.expect.warnings!));
    });
  }

  it('target', () => {
    // toStrictEqual: a target with public access off must not carry a publicAccessCidrs key at all.
    expect(result.target).toStrictEqual(row.expect.target);
  });

  if (row.expect.rule !== undefined || row.expect.mode !== undefined) {
    it('settings', () => {
      if (row.expect.rule !== undefined) expect(result.settings.rule).toBe(row.expect.rule);
      if (row.expect.mode !== undefined) expect(result.settings.mode).toBe(row.expect.mode);
    });
  }

  if (row.expect.exemption !== undefined) {
    it('exemption', () => {
      if (row.expect.exemption === null) expect(result.exemption).toBeNull();
      else expect(result.exemption).toMatchObject(row.expect.exemption!);
    });
  }
});

describe('evaluateCluster: cluster identity', () => {
  const policy = () => policyFixture('issue-example.yaml');

  it('takes account and region from the ARN', () => {
    const result = evaluateCluster(policy(), observed('dual-stack-open'), { now: Date.parse(NOW) });
    expect(result.cluster).toEqual({
      name: 'ipv6-svc',
      account: '123456789012',
      region: 'us-west-2',
      arn: 'arn:aws:eks:us-west-2:123456789012:cluster/ipv6-svc',
    });
  });

  it('uses the account and region it is given over the ARN', () => {
    const result = evaluateCluster(policy(), observed('dual-stack-open', {}, { account: '444455556666', region: 'ap-southeast-2' }), { now: Date.parse(NOW) });
    expect(result.cluster).toMatchObject({ name: 'ipv6-svc', account: '444455556666', region: 'ap-southeast-2' });
  });

  it('reads a partition other than aws from the ARN', () => {
    const doc = clusterFixture('public-private-restricted');
    doc.cluster.arn = 'arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/shared-tools';
    const result = evaluateCluster(policy(), parseObservedCluster(doc), { now: Date.parse(NOW) });
    expect(result.cluster).toMatchObject({ account: '123456789012', region: 'us-gov-west-1' });
  });

  it('reports the observed settings, with 0.0.0.0/0 filled in for a missing CIDR list', () => {
    const result = evaluateCluster(policy(), observed('public-no-cidrs-field'), { now: Date.parse(NOW) });
    expect(result.observed).toMatchObject({ endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0'] });
  });

  it('accepts now as a Date as well as epoch milliseconds', () => {
    const cluster = observed('exempt-by-tag');
    expect(evaluateCluster(policy(), cluster, { now: new Date('2027-03-31T23:00:00Z') }).verdict).toBe('exempt');
    expect(evaluateCluster(policy(), cluster, { now: new Date('2027-04-01T01:00:00Z') }).verdict).toBe('violation');
  });

  it('is pure: the same input gives the same result and the inputs are not changed', () => {
    const cluster = observed('public-only-mixed');
    const before = JSON.stringify(cluster);
    const policyBefore = JSON.stringify(policy());
    const a = evaluateCluster(policy(), cluster, { now: Date.parse(NOW) });
    const b = evaluateCluster(policy(), cluster, { now: Date.parse(NOW) });
    expect(b).toEqual(a);
    expect(JSON.stringify(cluster)).toBe(before);
    expect(JSON.stringify(policy())).toBe(policyBefore);
  });
});

describe('findViolations on the settings directly', () => {
  const settings = {
    rule: null,
    mode: 'enforce' as const,
    publicAccess: 'restricted' as const,
    privateAccess: 'optional' as const,
    allowedPublicCidrs: ['203.0.113.0/24', '2001:db8::/32'],
    maxPublicCidrs: 40,
    maxTagExemptionDays: 30,
    escalation: { reverts: 3, withinMinutes: 60 },
  };

  it('does not judge the CIDRs of a public endpoint that is off, not even against the limit', () => {
    const cidrs = Array.from({ length: 45 }, (_, i) => `198.51.100.${i}/32`);
    expect(findViolations({ ...settings, maxPublicCidrs: 2 }, { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: cidrs })).toEqual([]);
  });

  it('requires private access whatever public access is, even with both off (a state EKS refuses, judged anyway)', () => {
    const bothOff = { endpointPublicAccess: false, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] };
    expect(findViolations({ ...settings, privateAccess: 'required' }, bothOff).map((v) => v.code)).toEqual(['PRIVATE_ACCESS_REQUIRED']);
    expect(findViolations(settings, bothOff)).toEqual([]);
  });

  it('judges IPv6 blocks by containment: inside 2001:db8::/32 is allowed, 2001:db9::/32 is not', () => {
    const v = findViolations(settings, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['2001:db8:ffff::/48', '2001:db9::/32', '2001:db8::/31'] });
    expect(v.map((x) => x.cidr)).toEqual(['2001:db9::/32', '2001:db8::/31']);
  });

  it('counts the limit on public CIDRs for unrestricted too', () => {
    const v = findViolations({ ...settings, publicAccess: 'unrestricted', maxPublicCidrs: 1 }, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['0.0.0.0/0', '::/0'] });
    expect(v.map((x) => x.code)).toEqual(['PUBLIC_CIDR_LIMIT_EXCEEDED']);
  });

  it('reports ::/0 as not allowed even when an IPv6 block is allowed', () => {
    const v = findViolations(settings, { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['::/0'] });
    expect(v).toEqual([expect.objectContaining({ code: 'PUBLIC_CIDR_NOT_ALLOWED', cidr: '::/0' })]);
  });
});
