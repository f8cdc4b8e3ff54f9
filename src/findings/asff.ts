/**
 * The endpoint control as AWS Security Finding Format (ASFF) findings: one finding per cluster, whose Id
 * is stable so that importing it again updates the same finding through its lifecycle instead of adding
 * one. Pure: `report --format asff` prints these, and the Security Hub integration imports them.
 *
 * Security Hub facts this relies on:
 * - `AwsAccountId` must be the account that calls BatchImportFindings with the default product ARN
 *   (`product/ACCOUNT/default`), so a finding names, and is imported in, the cluster's own account and region.
 * - Once a finding exists, BatchImportFindings ignores `Workflow` and `Note` (they belong to the people
 *   triaging it): set them with BatchUpdateFindings (`workflowUpdate` gives that request's entry). Security
 *   Hub itself moves NEW/NOTIFIED to RESOLVED when `Compliance.Status` becomes PASSED, and back to NEW when
 *   it becomes FAILED again, which is the lifecycle wanted for compliant and violating clusters.
 * - Severity and Types of an existing finding are changed through `FindingProviderFields`, also set here.
 * - Limits: Title 256 characters, Description 1024, Note.Text 512, Recommendation.Text 512, ProductFields
 *   50 pairs (values 2048), resource Tags values 256; a finding at most 240 KB.
 */
import { isWorldOpen, parseCidr } from '../policy/cidr';
import { partitionOf } from './arn';
import type { EndpointConfig, EndpointTarget, Evaluation, Exemption, Violation } from '../policy/types';

export const ASFF_SCHEMA_VERSION = '2018-10-08';
export const GENERATOR_ID = 'eks-endpoint-guard/endpoint-policy';
export const FINDING_TYPES = ['Software and Configuration Checks/AWS Security Best Practices/Network Reachability'] as const;
const RECOMMENDATION_URL = 'https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html';
const UPDATED_BY = 'eks-endpoint-guard';

export type SeverityLabel = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export type ComplianceStatus = 'PASSED' | 'WARNING' | 'FAILED' | 'NOT_AVAILABLE';
export type WorkflowStatus = 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';

/** What a finding says about one cluster: a report row, or an evaluation through `subjectFromEvaluation`. */
export type FindingSubject = {
  account: string;
  region: string;
  name: string;
  arn: string;
  verdict: 'compliant' | 'violation' | 'exempt' | 'error';
  status: string | null;
  rule: string | null;
  observed: EndpointConfig | null;
  tags: Record<string, string>;
  violations: Violation[];
  exemption: Exemption | null;
  /** The change that would bring the cluster inside the policy (null: none, or no safe one). */
  target: EndpointTarget | null;
  /** Why the cluster could not be judged (verdict `error`). */
  error: { code: string; message: string } | null;
};

export type FindingContext = {
  /** ISO 8601: when the cluster was judged (UpdatedAt, LastObservedAt). */
  observedAt: string;
  /** ISO 8601: when the finding was first created; default `observedAt`. */
  createdAt?: string;
  /** A link for the person reading the finding (the guard's console or execution page). */
  sourceUrl?: string;
};

export type AsffResource = {
  Type: string;
  Id: string;
  Partition: string;
  Region: string;
  Tags?: Record<string, string>;
  Details?: { AwsEksCluster: { Name: string; Arn: string; ClusterStatus?: string; ResourcesVpcConfig: { EndpointPublicAccess?: boolean } } };
};

/** The ASFF fields this product sets (a subset of AwsSecurityFinding). */
export type AsffFinding = {
  SchemaVersion: typeof ASFF_SCHEMA_VERSION;
  Id: string;
  ProductArn: string;
  GeneratorId: string;
  AwsAccountId: string;
  Region: string;
  Types: string[];
  CreatedAt: string;
  UpdatedAt: string;
  FirstObservedAt: string;
  LastObservedAt: string;
  Severity: { Label: SeverityLabel };
  Title: string;
  Description: string;
  Remediation: { Recommendation: { Text: string; Url: string } };
  SourceUrl?: string;
  ProductFields: Record<string, string>;
  Resources: AsffResource[];
  Compliance: { Status: ComplianceStatus };
  Workflow: { Status: WorkflowStatus };
  RecordState: 'ACTIVE';
  Note?: { Text: string; UpdatedBy: string; UpdatedAt: string };
  FindingProviderFields: { Severity: { Label: SeverityLabel }; Types: string[] };
};

/** Shortens text to `max` characters, marking the cut. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The finding Id of a cluster's endpoint control: the same for every import, whatever the verdict. */
export function findingId(clusterArn: string): string {
  return `${clusterArn}/eks-endpoint-guard/endpoint`;
}

/** The default product ARN of an account and region: findings of one's own account are imported under it. */
export function productArn(account: string, region: string): string {
  return `arn:${partitionOf(region)}:securityhub:${region}:${account}:product/${account}/default`;
}

const worldOpen = (config: EndpointConfig | null) =>
  config !== null && config.endpointPublicAccess && config.publicAccessCidrs.some((c) => {
    const block = parseCidr(c);
    return block !== null && isWorldOpen(block);
  });

/**
 * Severity from what is at stake: HIGH for an API server the whole internet can reach, MEDIUM for any
 * other violation (a CIDR outside the allowlist, private access off where required, too many CIDRs),
 * LOW for a cluster that could not be judged (a blind spot, not a known exposure), INFORMATIONAL when it
 * complies. An exempt cluster keeps the severity of its violations, so it reads the same the day the
 * exemption ends.
 */
export function severityOf(subject: Pick<FindingSubject, 'verdict' | 'violations' | 'observed'>): SeverityLabel {
  if (subject.verdict === 'error') return 'LOW';
  if (subject.violations.length === 0) return 'INFORMATIONAL';
  return worldOpen(subject.observed) ? 'HIGH' : 'MEDIUM';
}

/**
 * Compliance.Status: FAILED while the endpoint breaks the policy (an exempt cluster too: the exemption
 * suppresses the finding, it does not make the settings compliant), PASSED otherwise, NOT_AVAILABLE when
 * the cluster could not be judged.
 */
export function complianceOf(subject: Pick<FindingSubject, 'verdict' | 'violations'>): ComplianceStatus {
  if (subject.verdict === 'error') return 'NOT_AVAILABLE';
  return subject.violations.length > 0 ? 'FAILED' : 'PASSED';
}

/** Workflow.Status: NEW for a violation (or a cluster that could not be judged), RESOLVED when compliant, SUPPRESSED while exempt. */
export function workflowOf(subject: Pick<FindingSubject, 'verdict'>): WorkflowStatus {
  if (subject.verdict === 'compliant') return 'RESOLVED';
  if (subject.verdict === 'exempt') return 'SUPPRESSED';
  return 'NEW';
}

function describeEndpoint(config: EndpointConfig): string {
  const pub = config.endpointPublicAccess ? `public access on (${config.publicAccessCidrs.join(', ')})` : 'public access off';
  return `${pub}, private access ${config.endpointPrivateAccess ? 'on' : 'off'}`;
}

function recommendation(s: FindingSubject): string {
  if (s.verdict === 'error') return `Let the guard read the cluster (${s.error?.code ?? 'error'}): check that the member role exists in account ${s.account} and may call eks:ListClusters and eks:DescribeCluster in ${s.region}.`;
  if (s.violations.length === 0) return 'No change needed: the API endpoint is inside the endpoint policy.';
  const t = s.target;
  if (t) {
    const fields = [`endpointPublicAccess=${t.endpointPublicAccess}`, `endpointPrivateAccess=${t.endpointPrivateAccess}`];
    const cidrs = t.publicAccessCidrs ? ` and publicAccessCidrs ${t.publicAccessCidrs.join(',')}` : '';
    return `Set ${fields.join(', ')}${cidrs}: aws eks update-cluster-config --region ${s.region} --name ${s.name} --resources-vpc-config ${fields.join(',')}${t.publicAccessCidrs ? `,publicAccessCidrs=${t.publicAccessCidrs.join(',')}` : ''}`;
  }
  return 'Turn public access off, or limit publicAccessCidrs to the allowed ranges, and turn private access on where the policy requires it.';
}

function title(s: FindingSubject): string {
  const phrase = {
    compliant: 'complies with the endpoint policy',
    violation: 'violates the endpoint policy',
    exempt: 'violates the endpoint policy (exempt)',
    error: 'could not be checked against the endpoint policy',
  }[s.verdict];
  return clip(`EKS cluster ${s.name}: API endpoint ${s.verdict === 'exempt' && s.violations.length === 0 ? 'is exempt from the endpoint policy' : phrase}`, 256);
}

function description(s: FindingSubject): string {
  if (s.verdict === 'error') return clip(`The cluster could not be judged: ${s.error?.message ?? 'unknown error'}`, 1024);
  const where = `${s.observed ? describeEndpoint(s.observed) : 'endpoint settings unknown'}; rule ${s.rule ?? '(defaults)'}.`;
  const what = s.violations.length > 0 ? ` Violations: ${s.violations.map((v) => v.message).join('; ')}.` : ' No violations.';
  const exempt = s.exemption ? ` Exempt by ${s.exemption.source === 'tag' ? 'tag' : 'policy exemption'} ${s.exemption.name} until ${s.exemption.expires}.` : '';
  return clip(`${where}${what}${exempt}`, 1024);
}

function exemptionNote(e: Exemption, at: string): AsffFinding['Note'] {
  const by = e.source === 'tag' ? `tag ${e.name}` : `policy exemption ${e.name}`;
  return { Text: clip(`Exempt by ${by} until ${e.expires}: ${e.reason}`, 512), UpdatedBy: UPDATED_BY, UpdatedAt: at };
}

function resourceTags(tags: Record<string, string>): Record<string, string> | undefined {
  const entries = Object.entries(tags).slice(0, 50).map(([k, v]) => [clip(k, 128), clip(v, 256)] as const);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/**
 * The finding for one cluster: stable Id (`<cluster ARN>/eks-endpoint-guard/endpoint`), in the cluster's
 * account and region, its severity, compliance and workflow status from the verdict, the exemption's
 * name, reason and expiry in the Note of a suppressed finding, the remediation from the planned target.
 */
export function toAsffFinding(subject: FindingSubject, context: FindingContext): AsffFinding {
  const partition = partitionOf(subject.region);
  const severity = severityOf(subject);
  const createdAt = context.createdAt ?? context.observedAt;
  const productFields: Record<string, string> = {
    'eks-endpoint-guard/Verdict': subject.verdict.toUpperCase(),
    'eks-endpoint-guard/Rule': clip(subject.rule ?? '(defaults)', 2048),
    ...(subject.observed
      ? {
          'eks-endpoint-guard/EndpointPublicAccess': String(subject.observed.endpointPublicAccess),
          'eks-endpoint-guard/EndpointPrivateAccess': String(subject.observed.endpointPrivateAccess),
          'eks-endpoint-guard/PublicAccessCidrs': clip(subject.observed.publicAccessCidrs.join(','), 2048),
        }
      : {}),
    ...(subject.violations.length > 0 ? { 'eks-endpoint-guard/Violations': clip([...new Set(subject.violations.map((v) => v.code))].join(','), 2048) } : {}),
    ...(subject.error ? { 'eks-endpoint-guard/Error': clip(subject.error.code, 2048) } : {}),
  };
  const tags = resourceTags(subject.tags);
  const finding: AsffFinding = {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: findingId(subject.arn),
    ProductArn: productArn(subject.account, subject.region),
    GeneratorId: GENERATOR_ID,
    AwsAccountId: subject.account,
    Region: subject.region,
    Types: [...FINDING_TYPES],
    CreatedAt: createdAt,
    UpdatedAt: context.observedAt,
    FirstObservedAt: createdAt,
    LastObservedAt: context.observedAt,
    Severity: { Label: severity },
    Title: title(subject),
    Description: description(subject),
    Remediation: { Recommendation: { Text: clip(recommendation(subject), 512), Url: RECOMMENDATION_URL } },
    ...(context.sourceUrl ? { SourceUrl: context.sourceUrl } : {}),
    ProductFields: productFields,
    Resources: [
      {
        Type: 'AwsEksCluster',
        Id: subject.arn,
        Partition: partition,
        Region: subject.region,
        ...(tags ? { Tags: tags } : {}),
        Details: {
          AwsEksCluster: {
            Name: subject.name,
            Arn: subject.arn,
            // ASFF names the cluster's status ClusterStatus; the SDK drops any other name without a word.
            ...(subject.status ? { ClusterStatus: subject.status } : {}),
            // ASFF's AwsEksCluster models only EndpointPublicAccess of the endpoint settings: the private
            // flag and the CIDRs are in ProductFields.
            ResourcesVpcConfig: subject.observed ? { EndpointPublicAccess: subject.observed.endpointPublicAccess } : {},
          },
        },
      },
    ],
    Compliance: { Status: complianceOf(subject) },
    Workflow: { Status: workflowOf(subject) },
    RecordState: 'ACTIVE',
    ...(subject.verdict === 'exempt' && subject.exemption ? { Note: exemptionNote(subject.exemption, context.observedAt) } : {}),
    FindingProviderFields: { Severity: { Label: severity }, Types: [...FINDING_TYPES] },
  };
  return finding;
}

/**
 * A finding for an account and region whose clusters could not even be listed (the member role could not
 * be assumed, ListClusters was refused), on the account as a resource: such a blind spot is reported,
 * never left out. Its Id is stable per account and region.
 */
export function toAsffScopeErrorFinding(scope: { account: string; region: string; error: { code: string; message: string } }, context: FindingContext): AsffFinding {
  const partition = partitionOf(scope.region);
  const createdAt = context.createdAt ?? context.observedAt;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: `arn:${partition}:eks:${scope.region}:${scope.account}:eks-endpoint-guard/read-clusters`,
    ProductArn: productArn(scope.account, scope.region),
    GeneratorId: GENERATOR_ID,
    AwsAccountId: scope.account,
    Region: scope.region,
    Types: [...FINDING_TYPES],
    CreatedAt: createdAt,
    UpdatedAt: context.observedAt,
    FirstObservedAt: createdAt,
    LastObservedAt: context.observedAt,
    Severity: { Label: 'LOW' },
    Title: clip(`EKS clusters of account ${scope.account} in ${scope.region} could not be listed`, 256),
    Description: clip(`No cluster of this account and region was checked against the endpoint policy: ${scope.error.message}`, 1024),
    Remediation: {
      Recommendation: {
        Text: clip(`Let the guard read the account (${scope.error.code}): check that the member role exists in account ${scope.account}, trusts the caller, and may call eks:ListClusters and eks:DescribeCluster in ${scope.region}.`, 512),
        Url: RECOMMENDATION_URL,
      },
    },
    ...(context.sourceUrl ? { SourceUrl: context.sourceUrl } : {}),
    ProductFields: { 'eks-endpoint-guard/Verdict': 'ERROR', 'eks-endpoint-guard/Error': clip(scope.error.code, 2048) },
    Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${scope.account}`, Partition: partition, Region: scope.region }],
    Compliance: { Status: 'NOT_AVAILABLE' },
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    FindingProviderFields: { Severity: { Label: 'LOW' }, Types: [...FINDING_TYPES] },
  };
}

/**
 * The BatchUpdateFindings entry that applies a finding's Workflow.Status (and Note) to an existing
 * finding: BatchImportFindings sets them only when it creates the finding.
 */
export function workflowUpdate(finding: AsffFinding): { FindingIdentifiers: { Id: string; ProductArn: string }[]; Workflow: { Status: WorkflowStatus }; Note?: { Text: string; UpdatedBy: string } } {
  return {
    FindingIdentifiers: [{ Id: finding.Id, ProductArn: finding.ProductArn }],
    Workflow: finding.Workflow,
    ...(finding.Note ? { Note: { Text: finding.Note.Text, UpdatedBy: finding.Note.UpdatedBy } } : {}),
  };
}

/** The finding subject of an evaluation (the guard's workflow judges clusters one by one). */
export function subjectFromEvaluation(e: Evaluation, place: { account: string; region: string; arn: string }): FindingSubject {
  return {
    account: place.account,
    region: place.region,
    name: e.cluster.name,
    arn: place.arn,
    verdict: e.verdict,
    status: e.observed.status,
    rule: e.settings.rule,
    observed: { endpointPublicAccess: e.observed.endpointPublicAccess, endpointPrivateAccess: e.observed.endpointPrivateAccess, publicAccessCidrs: e.observed.publicAccessCidrs },
    tags: e.observed.tags,
    violations: e.violations,
    exemption: e.exemption,
    target: e.target,
    error: null,
  };
}
