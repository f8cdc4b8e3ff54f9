import { cidrContains, isWorldOpen, parseCidr, parseCidrs } from './cidr';
import type { ObservedCluster } from './cluster';
import { matches, resolveSettings } from './match';
import { planTarget } from './plan';
import { expiryInstant, type Policy } from './schema';
import type { EffectiveSettings, EndpointConfig, Evaluation, Exemption, Mode, Violation, Warning } from './types';

export type EvaluateOptions = {
  /** The instant exemptions are judged at (epoch ms or Date): time is an input, so evaluation stays pure. */
  now: number | Date;
  /** Forces alert-only mode whatever the policy says (shadow mode). */
  forceMode?: Mode;
};

/**
 * Lists the violations of an endpoint configuration against the settings. CIDRs of a public endpoint
 * that is off are never judged: EKS keeps the list but it has no effect.
 */
export function findViolations(settings: EffectiveSettings, config: EndpointConfig): Violation[] {
  const violations: Violation[] = [];
  if (settings.privateAccess === 'required' && !config.endpointPrivateAccess) {
    violations.push({ code: 'PRIVATE_ACCESS_REQUIRED', message: 'private endpoint access is off, but the policy requires it' });
  }
  if (!config.endpointPublicAccess) return violations;
  if (settings.publicAccess === 'forbidden') {
    violations.push({ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public endpoint access is on, but the policy forbids it' });
  }
  if (settings.publicAccess === 'restricted') {
    const allowed = parseCidrs(settings.allowedPublicCidrs);
    for (const text of config.publicAccessCidrs) {
      const block = parseCidr(text);
      if (block && allowed.some((a) => cidrContains(a, block))) continue;
      const what = !block ? 'is not a valid CIDR block' : isWorldOpen(block) ? 'admits the whole internet' : 'is not inside any allowed CIDR';
      violations.push({
        code: 'PUBLIC_CIDR_NOT_ALLOWED',
        cidr: text,
        message: `public endpoint CIDR ${text} ${what} (allowed: ${settings.allowedPublicCidrs.join(', ')})`,
      });
    }
  }
  if (config.publicAccessCidrs.length > settings.maxPublicCidrs) {
    violations.push({
      code: 'PUBLIC_CIDR_LIMIT_EXCEEDED',
      message: `public endpoint allows ${config.publicAccessCidrs.length} CIDR blocks, more than the limit of ${settings.maxPublicCidrs}`,
    });
  }
  return violations;
}

function findExemption(policy: Policy, cluster: ObservedCluster, now: number, warnings: Warning[]): Exemption | null {
  for (const e of policy.exemptions) {
    if (!matches(e.match, cluster)) continue;
    const until = expiryInstant(e.expires);
    if (until !== null && now < until) return { source: 'policy', name: e.name, reason: e.reason, expires: e.expires };
    warnings.push({ code: 'EXEMPTION_EXPIRED', message: `exemption ${e.name} matched but expired at ${e.expires}` });
  }
  const tagValue = cluster.tags[policy.exemptionTag];
  if (tagValue === undefined) return null;
  const until = expiryInstant(tagValue.trim());
  if (until === null) {
    warnings.push({
      code: 'EXEMPTION_TAG_INVALID',
      message: `tag ${policy.exemptionTag}=${JSON.stringify(tagValue)} is not a date (YYYY-MM-DD) or an ISO date-time; the cluster is not exempt`,
    });
    return null;
  }
  if (now >= until) {
    warnings.push({ code: 'EXEMPTION_EXPIRED', message: `tag ${policy.exemptionTag}=${tagValue} expired` });
    return null;
  }
  return { source: 'tag', name: policy.exemptionTag, reason: `cluster tag ${policy.exemptionTag}=${tagValue}`, expires: tagValue.trim() };
}

/**
 * Judges one observed cluster against the policy: the settings that apply (defaults overlaid by the
 * first matching rule), the violations, warnings, exemption, verdict, action and, when there are
 * violations, the remediation target (shown in alert mode too, as what would be done). An unexpired
 * exemption makes the verdict `exempt` with no action and no target, but still lists the violations.
 */
export function evaluateCluster(policy: Policy, cluster: ObservedCluster, options: EvaluateOptions): Evaluation {
  const now = typeof options.now === 'number' ? options.now : options.now.getTime();
  const resolved = resolveSettings(policy, cluster);
  const settings: EffectiveSettings = options.forceMode ? { ...resolved, mode: options.forceMode } : resolved;
  const config = cluster.config;
  const violations = findViolations(settings, config);
  const warnings: Warning[] = [];

  if (config.endpointPublicAccess && !config.endpointPrivateAccess && !parseCidrs(config.publicAccessCidrs).some(isWorldOpen)) {
    warnings.push({
      code: 'NODE_EGRESS_RISK',
      message: 'public access is limited to specific CIDRs while private access is off: nodes and Fargate pods reach the API server only if their egress (NAT gateway) IPs are listed',
    });
  }
  const exemption = findExemption(policy, cluster, now, warnings);

  let target = null;
  let action: Evaluation['action'] = 'none';
  // An exempt cluster gets no plan at all (and so no NO_SAFE_REMEDIATION warning): nothing will be done.
  if (violations.length > 0 && !exemption) {
    const plan = planTarget(settings, config);
    if (plan.unsafe !== null) warnings.push({ code: 'NO_SAFE_REMEDIATION', message: `no safe automatic change: ${plan.unsafe}` });
    target = plan.target;
    action = plan.target === null || settings.mode === 'alert' ? 'alert' : 'remediate';
  }
  const verdict = exemption ? 'exempt' : violations.length > 0 ? 'violation' : 'compliant';
  return {
    cluster: { name: cluster.name, account: cluster.account, region: cluster.region, arn: cluster.arn },
    settings,
    observed: { ...config, status: cluster.status, vpcId: cluster.vpcId, tags: cluster.tags },
    verdict,
    action,
    violations,
    warnings,
    target,
    exemption,
  };
}
