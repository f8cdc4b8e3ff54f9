/**
 * Words for what the guard saw and did: endpoint settings, the changes between two of them, the
 * problem a violation amounts to, and the AWS CLI commands a person can paste. Shared by the subject,
 * the email text and the chat notification so all three say the same thing. Pure.
 */
import type { Actor } from '../events/triage';
import type { ChangeRecord, JudgedSettings } from '../ledger/types';
import { cidrContains, isWorldOpen, parseCidr } from '../policy/cidr';
import type { ClusterRef, EffectiveSettings, EndpointConfig, EndpointTarget, Violation } from '../policy/types';
import type { PreflightProblem } from '../workflow/types';
import { bounded, oneLine, shellWord } from './format';

/** Endpoint settings as an alert shows them: a config or a target, with rule 3 of endpoint-rules.md applied. */
export type Endpoint = { publicOn: boolean; privateOn: boolean; cidrs: string[] };

/** One difference between two endpoint settings, in the terms a reader cares about. */
export type Change =
  | { kind: 'public-closed' | 'public-opened' | 'private-enabled' | 'private-disabled' }
  | { kind: 'cidrs-narrowed' | 'cidrs-changed'; cidrs: string[] };

const WORLD_V4 = '0.0.0.0/0';

/**
 * Reads an observed config or a remediation target into one shape. Public access on with no CIDRs means
 * open to all (EKS never treats an empty list as restricted), so it reads as `0.0.0.0/0`; the CIDRs of a
 * public endpoint that is off are dropped, since EKS keeps them but they admit no one.
 */
export function toEndpoint(config: EndpointConfig | EndpointTarget | null | undefined): Endpoint | null {
  if (!config) return null;
  const listed = (config.publicAccessCidrs ?? []).map((c) => oneLine(c, 64));
  const cidrs = !config.endpointPublicAccess ? [] : listed.length > 0 ? listed : [WORLD_V4];
  return { publicOn: config.endpointPublicAccess, privateOn: config.endpointPrivateAccess, cidrs };
}

/**
 * The endpoint changes from `before` to `after`, public access first. CIDR changes are called narrowed
 * when every new block lies inside an old one (what the guard's planner always produces), changed
 * otherwise, so an alert never claims a narrowing it cannot prove.
 */
export function endpointChanges(before: Endpoint, after: Endpoint): Change[] {
  const changes: Change[] = [];
  if (before.publicOn && !after.publicOn) changes.push({ kind: 'public-closed' });
  if (!before.publicOn && after.publicOn) changes.push({ kind: 'public-opened' });
  if (before.publicOn && after.publicOn && !sameSet(before.cidrs, after.cidrs)) {
    changes.push({ kind: isNarrowing(before.cidrs, after.cidrs) ? 'cidrs-narrowed' : 'cidrs-changed', cidrs: after.cidrs });
  }
  if (!before.privateOn && after.privateOn) changes.push({ kind: 'private-enabled' });
  if (before.privateOn && !after.privateOn) changes.push({ kind: 'private-disabled' });
  return changes;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function isNarrowing(before: readonly string[], after: readonly string[]): boolean {
  const old = before.map(parseCidr).filter((c) => c !== null);
  return after.every((text) => {
    const block = parseCidr(text);
    return block !== null && old.some((o) => cidrContains(o, block));
  });
}

/**
 * One change in words, as done (`public endpoint closed`) or as planned, to follow "would"
 * (`close public endpoint`).
 */
export function changePhrase(change: Change, tense: 'done' | 'planned'): string {
  const done = tense === 'done';
  switch (change.kind) {
    case 'public-closed':
      return done ? 'public endpoint closed' : 'close public endpoint';
    case 'public-opened':
      return done ? 'public endpoint opened' : 'open public endpoint';
    case 'private-enabled':
      return done ? 'private access enabled' : 'enable private access';
    case 'private-disabled':
      return done ? 'private access disabled' : 'disable private access';
    case 'cidrs-narrowed':
      return done ? `public CIDRs narrowed to ${cidrSummary(change.cidrs)}` : `narrow public CIDRs to ${cidrSummary(change.cidrs)}`;
    case 'cidrs-changed':
      return done ? `public CIDRs changed to ${cidrSummary(change.cidrs)}` : `change public CIDRs to ${cidrSummary(change.cidrs)}`;
  }
}

/**
 * The changes for a one-line summary. Enabling private access is left out when the public endpoint is
 * closed: EKS refuses both off, so it goes without saying, and the subject has little room.
 */
export function changesSummary(changes: readonly Change[], tense: 'done' | 'planned'): string {
  const closes = changes.some((c) => c.kind === 'public-closed');
  const shown = changes.filter((c) => !(closes && c.kind === 'private-enabled'));
  return shown.map((c) => changePhrase(c, tense)).join(' and ');
}

/** A short CIDR list: up to two blocks, then how many more. */
export function cidrSummary(cidrs: readonly string[]): string {
  if (cidrs.length === 0) return 'none';
  if (cidrs.length <= 2) return cidrs.join(', ');
  return `${cidrs.slice(0, 2).join(', ')} and ${cidrs.length - 2} more`;
}

/** `public on (203.0.113.0/24), private off`: one endpoint setting on one line. */
export function endpointSummary(e: Endpoint): string {
  const pub = e.publicOn ? `public on (${cidrSummary(e.cidrs)})` : 'public off';
  return `${pub}, private ${e.privateOn ? 'on' : 'off'}`;
}

/** `public 203.0.113.0/24, private on`: the shortest form, for a subject. */
export function endpointBrief(e: Endpoint): string {
  return `public ${e.publicOn ? cidrSummary(e.cidrs) : 'off'}, private ${e.privateOn ? 'on' : 'off'}`;
}

/**
 * What is wrong, in the fewest words, for a subject: the worst violation wins. A world-open CIDR is named
 * as such because that is what makes on-call people act fastest.
 */
export function problemPhrase(before: Endpoint | null, violations: readonly Violation[], settings: EffectiveSettings | null): string {
  const has = (code: Violation['code']) => violations.some((v) => v.code === code);
  const publicProblem = has('PUBLIC_ACCESS_FORBIDDEN') || has('PUBLIC_CIDR_NOT_ALLOWED');
  const world = before?.publicOn ? before.cidrs.filter((c) => isWorld(c)) : [];
  if (publicProblem && world.length > 0) return `open to ${world.slice(0, 2).join(' and ')}`;
  if (has('PUBLIC_ACCESS_FORBIDDEN')) return 'public endpoint on';
  const notAllowed = violations.filter((v) => v.code === 'PUBLIC_CIDR_NOT_ALLOWED');
  if (notAllowed.length === 1) return `public CIDR ${oneLine(notAllowed[0]?.cidr ?? '', 64) || 'not allowed'} not allowed`;
  if (notAllowed.length > 1) return `${notAllowed.length} public CIDRs not allowed`;
  if (has('PUBLIC_CIDR_LIMIT_EXCEEDED')) {
    const count = before?.cidrs.length;
    return count && settings ? `${count} public CIDRs, limit ${settings.maxPublicCidrs}` : 'too many public CIDRs';
  }
  if (has('PRIVATE_ACCESS_REQUIRED')) return 'private access off';
  return 'endpoint breaks policy';
}

function isWorld(text: string): boolean {
  const block = parseCidr(text);
  return block !== null && isWorldOpen(block);
}

const CHECK_WORDS: Record<PreflightProblem['check'], string> = {
  enableDnsSupport: 'DNS support',
  enableDnsHostnames: 'DNS hostnames',
  AmazonProvidedDNS: 'AmazonProvidedDNS',
};

/** `VPC lacks DNS hostnames`: the preflight problems for a subject. */
export function preflightPhrase(problems: readonly PreflightProblem[]): string {
  const attributes = problems.filter((p) => p.check !== 'AmazonProvidedDNS').map((p) => CHECK_WORDS[p.check]);
  const parts: string[] = [];
  if (attributes.length > 0) parts.push(`VPC lacks ${[...new Set(attributes)].join(' and ')}`);
  if (problems.some((p) => p.check === 'AmazonProvidedDNS')) parts.push('VPC DHCP options lack AmazonProvidedDNS');
  return parts.length > 0 ? parts.join(', ') : 'fix not safe for the VPC';
}

/**
 * The AWS CLI command that fixes a preflight problem, for when the preflight step gave none. The region
 * is spelled out because the reader's CLI default region is often not the cluster's.
 */
export function preflightFix(check: PreflightProblem['check'], vpcId: string | null, region: string): string {
  const vpc = shellWord(vpcId ?? 'VPC_ID');
  const r = shellWord(region);
  switch (check) {
    case 'enableDnsSupport':
      return `aws ec2 modify-vpc-attribute --region ${r} --vpc-id ${vpc} --enable-dns-support '{"Value":true}'`;
    case 'enableDnsHostnames':
      return `aws ec2 modify-vpc-attribute --region ${r} --vpc-id ${vpc} --enable-dns-hostnames '{"Value":true}'`;
    case 'AmazonProvidedDNS':
      return `associate a DHCP options set whose domain-name-servers include AmazonProvidedDNS: aws ec2 create-dhcp-options --region ${r} --dhcp-configurations 'Key=domain-name-servers,Values=AmazonProvidedDNS', then aws ec2 associate-dhcp-options --region ${r} --vpc-id ${vpc} --dhcp-options-id DOPT_ID`;
  }
}

// A command is only useful whole; a target this long is not something the planner produces (EKS allows 40).
const MAX_CIDRS_IN_COMMAND = 50;

/**
 * The `aws eks update-cluster-config` command that applies a target by hand, with only the endpoint
 * fields (EKS accepts one update type per call). JSON rather than CLI shorthand, whose list syntax
 * inside a structure is easy to get wrong. Null when the target is too long to print whole.
 */
export function updateCommand(cluster: ClusterRef, target: EndpointTarget): string | null {
  if ((target.publicAccessCidrs?.length ?? 0) > MAX_CIDRS_IN_COMMAND) return null;
  const config: Record<string, unknown> = {
    endpointPublicAccess: target.endpointPublicAccess,
    endpointPrivateAccess: target.endpointPrivateAccess,
  };
  if (target.endpointPublicAccess && target.publicAccessCidrs) config.publicAccessCidrs = target.publicAccessCidrs.map((c) => oneLine(c, 64));
  const json = JSON.stringify(config);
  return `aws eks update-cluster-config --region ${shellWord(oneLine(cluster.region, 32))} --name ${shellWord(oneLine(cluster.name, 100))} --resources-vpc-config '${json.replace(/'/g, `'\\''`)}'`;
}

/** The AWS partition of a region, for ARNs and console hosts outside the commercial partition. */
function partitionOf(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const CONSOLE_HOSTS = {
  aws: 'https://console.aws.amazon.com',
  'aws-cn': 'https://console.amazonaws.cn',
  'aws-us-gov': 'https://console.amazonaws-us-gov.com',
} as const;

/**
 * The EKS console page of the cluster. Without a configured base URL the host follows the region's
 * partition, because the commercial console cannot open a China or GovCloud cluster.
 */
export function consoleUrl(cluster: ClusterRef, baseUrl?: string): string {
  const region = oneLine(cluster.region, 32);
  const base = (baseUrl ? oneLine(baseUrl, 200) : CONSOLE_HOSTS[partitionOf(region)]).replace(/\/+$/, '');
  return `${base}/eks/home?region=${encodeURIComponent(region)}#/clusters/${encodeURIComponent(oneLine(cluster.name, 100))}`;
}

/** The cluster ARN as EKS builds it, for commands when DescribeCluster's ARN is not at hand. */
export function derivedClusterArn(cluster: ClusterRef): string {
  const region = oneLine(cluster.region, 32);
  return `arn:${partitionOf(region)}:eks:${region}:${oneLine(cluster.account, 32)}:cluster/${oneLine(cluster.name, 100)}`;
}

// A request lists at most what EKS accepts (40 CIDRs), a tag change at most 50 tags; more is not real input.
const MAX_LISTED = 50;

/**
 * What one change asked for, on one line: the endpoint fields of an UpdateClusterConfig or CreateCluster,
 * or the tags a TagResource set and an UntagResource removed.
 */
export function requestText(change: Pick<ChangeRecord, 'requested' | 'tags'>): string {
  const parts: string[] = [];
  const r = change.requested;
  if (r?.endpointPublicAccess !== undefined) parts.push(`public ${r.endpointPublicAccess ? 'on' : 'off'}`);
  if (r?.endpointPrivateAccess !== undefined) parts.push(`private ${r.endpointPrivateAccess ? 'on' : 'off'}`);
  if (r?.publicAccessCidrs) parts.push(`CIDRs ${bounded(r.publicAccessCidrs.map((x) => oneLine(x, 64)), MAX_LISTED).join(', ') || 'none'}`);
  const tags = change.tags;
  if (tags && Object.keys(tags.set).length > 0) parts.push(`tags set ${tagList(tags.set).join(', ')}`);
  if (tags && tags.removed.length > 0) parts.push(`tags removed ${bounded(tags.removed.map((k) => oneLine(k, 128)), MAX_LISTED).join(', ')}`);
  return parts.join(', ') || (tags ? 'no tags' : 'no endpoint fields');
}

/** `key=value` for each tag, bounded. */
export function tagList(tags: Record<string, string>): string[] {
  return bounded(
    Object.entries(tags).map(([k, v]) => `${oneLine(k, 128)}=${oneLine(v, 256)}`),
    MAX_LISTED,
  );
}

// Which tool a user agent belongs to. Only a hint for the reader of a tug-of-war alert, who has to find
// the pipeline or controller that keeps re-applying a setting; the user agent itself is always shown.
const TOOL_HINTS: ReadonlyArray<[RegExp, string]> = [
  [/opentofu/i, 'OpenTofu'],
  [/terraform/i, 'Terraform'],
  [/pulumi/i, 'Pulumi'],
  [/crossplane|upbound/i, 'Crossplane'],
  [/aws-controllers-k8s|ack-eks-controller/i, 'AWS Controllers for Kubernetes (ACK)'],
  [/eksctl/i, 'eksctl'],
  [/cloudformation/i, 'CloudFormation (or the CDK)'],
  [/aws-cli/i, 'the AWS CLI (a person or a script)'],
  [/console\.amazonaws|signin\.amazonaws/i, 'the AWS console (a person)'],
];

/** The tool a user agent most likely belongs to, or null when it is not one the guard recognises. */
export function toolHint(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  return TOOL_HINTS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null;
}

/** Actors by ARN and user agent, first seen first: one entry per distinct person, pipeline or controller. */
export function distinctActors(actors: ReadonlyArray<Actor | null>): Actor[] {
  const seen = new Set<string>();
  return actors.filter((a): a is Actor => {
    if (!a) return false;
    const key = `${a.arn}|${a.userAgent}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One row of the before/after comparison of the settings a cluster is judged under. */
export type SettingRow = { label: string; before: string; after: string };

/** The settings a cluster was judged under, before and after a tag change, row by row. */
export function judgedRows(before: JudgedSettings | null, after: JudgedSettings): SettingRow[] {
  const cell = (s: JudgedSettings | null, f: (s: JudgedSettings) => string) => (s ? f(s) : 'unknown');
  const rows: Array<[string, (s: JudgedSettings) => string]> = [
    ['Rule', (s) => (s.rule ? oneLine(s.rule, 100) : 'defaults')],
    ['Mode', (s) => s.mode],
    ['Public access', (s) => s.publicAccess],
    ['Private access', (s) => s.privateAccess],
    ['Allowed CIDRs', (s) => cidrSummary(s.allowedPublicCidrs.map((c) => oneLine(c, 64)))],
    ['CIDR limit', (s) => String(s.maxPublicCidrs)],
    ['Exempt', (s) => (s.exempt ? 'yes' : 'no')],
  ];
  return rows.map(([label, f]) => ({ label, before: cell(before, f), after: f(after) }));
}

/**
 * Every difference from `before` to `after`, in words (`rule prod-private-only -> sandbox-open`,
 * `mode enforce -> alert`), stricter ones included so the reader sees the whole change; with no earlier
 * judgement to compare with, what the cluster is under now.
 */
export function judgedChanges(before: JudgedSettings | null, after: JudgedSettings): string[] {
  const rule = (s: JudgedSettings) => (s.rule ? oneLine(s.rule, 100) : 'the defaults');
  if (!before) return [after.exempt ? 'now exempt' : `now under ${after.rule ? `rule ${rule(after)}` : 'the defaults'}`];
  const changes: string[] = [];
  if (after.exempt && !before.exempt) changes.push('now exempt');
  if (!after.exempt && before.exempt) changes.push('no longer exempt');
  if (after.rule !== before.rule) changes.push(`rule ${rule(before)} -> ${rule(after)}`);
  if (after.mode !== before.mode) changes.push(`mode ${before.mode} -> ${after.mode}`);
  if (after.publicAccess !== before.publicAccess) changes.push(`public access ${before.publicAccess} -> ${after.publicAccess}`);
  if (after.privateAccess !== before.privateAccess) changes.push(`private access ${before.privateAccess} -> ${after.privateAccess}`);
  const added = after.allowedPublicCidrs.filter((c) => !before.allowedPublicCidrs.includes(c)).map((c) => oneLine(c, 64));
  if (added.length > 0) changes.push(`now allows ${cidrSummary(added)}`);
  if (after.maxPublicCidrs !== before.maxPublicCidrs) changes.push(`CIDR limit ${before.maxPublicCidrs} -> ${after.maxPublicCidrs}`);
  return changes.length > 0 ? changes : ['settings re-read, no difference'];
}
