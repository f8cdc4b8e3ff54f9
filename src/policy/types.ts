/** Shared shapes of the domain: endpoint settings, clusters, findings and the evaluation result. */

/** The three endpoint settings of a cluster, as observed (CIDRs always present, defaults applied). */
export type EndpointConfig = {
  endpointPublicAccess: boolean;
  endpointPrivateAccess: boolean;
  publicAccessCidrs: string[];
};

/** A remediation target: `publicAccessCidrs` is present only when public access is on. */
export type EndpointTarget = {
  endpointPublicAccess: boolean;
  endpointPrivateAccess: boolean;
  publicAccessCidrs?: string[];
};

export type ClusterRef = { name: string; account: string; region: string };

export type PublicAccessLevel = 'forbidden' | 'restricted' | 'unrestricted';
export type PrivateAccessLevel = 'required' | 'optional';
export type Mode = 'enforce' | 'alert';

/** The settings that apply to one cluster once defaults and the first matching rule are combined. */
export type EffectiveSettings = {
  rule: string | null;
  mode: Mode;
  publicAccess: PublicAccessLevel;
  privateAccess: PrivateAccessLevel;
  allowedPublicCidrs: string[];
  maxPublicCidrs: number;
  /** The furthest ahead, in days of 24 hours from the evaluation instant, a cluster tag may exempt it; 0: never. */
  maxTagExemptionDays: number;
  /** Escalate once the guard has reverted a cluster `reverts` times within `withinMinutes` (the workflow decides). */
  escalation: EscalationSettings;
};

export type EscalationSettings = { reverts: number; withinMinutes: number };

export type ViolationCode =
  | 'PRIVATE_ACCESS_REQUIRED'
  | 'PUBLIC_ACCESS_FORBIDDEN'
  | 'PUBLIC_CIDR_NOT_ALLOWED'
  | 'PUBLIC_CIDR_LIMIT_EXCEEDED';

export type WarningCode =
  | 'NODE_EGRESS_RISK'
  | 'EXEMPTION_EXPIRED'
  | 'EXEMPTION_TAG_INVALID'
  | 'EXEMPTION_TAG_TOO_LONG'
  | 'EXEMPTION_TAG_NOT_ALLOWED'
  | 'NO_SAFE_REMEDIATION';

export type Violation = { code: ViolationCode; message: string; cidr?: string };
export type Warning = { code: WarningCode; message: string };

export type Verdict = 'compliant' | 'violation' | 'exempt';
export type Action = 'none' | 'remediate' | 'alert';

export type Exemption = {
  source: 'policy' | 'tag';
  /** The policy exemption's name, or the tag key. */
  name: string;
  reason: string;
  expires: string;
};

/** The decision for one cluster: the contract of `eks-endpoint-guard check --json`. */
export type Evaluation = {
  cluster: { name: string; account: string | null; region: string | null; arn: string | null };
  settings: EffectiveSettings;
  observed: EndpointConfig & { status: string | null; vpcId: string | null; tags: Record<string, string> };
  verdict: Verdict;
  action: Action;
  violations: Violation[];
  warnings: Warning[];
  target: EndpointTarget | null;
  exemption: Exemption | null;
};

/** Findings about a valid policy that `validate` reports without failing it. */
export type PolicyWarningCode = 'EXEMPTION_EXPIRED' | 'EXEMPTION_EXPIRING' | 'RULE_MATCHES_TAGS_ONLY';
export type PolicyWarning = { code: PolicyWarningCode; message: string };
