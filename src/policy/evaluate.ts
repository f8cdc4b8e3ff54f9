import { cidrContains, isWorldOpen, parseAllowlist, parseCidr, type Cidr } from './cidr';
import type { ObservedCluster } from './cluster';
import type { AccountContext } from '../org/types';
import { AccountContextUnknownError, compiledPolicy, matchState, selectTemplate, settingsFrom, type CompiledPolicy, type MatchSubject } from './compile';
import { planWith } from './plan';
import { expiryInstant, type Policy } from './schema';
import type { EffectiveSettings, EndpointConfig, Evaluation, Exemption, Mode, Violation, Warning } from './types';

export type EvaluateOptions = {
  /** The instant exemptions are judged at (epoch ms or Date): time is an input, so evaluation stays pure. */
  now: number | Date;
  /** Forces alert-only mode whatever the policy says (shadow mode). */
  forceMode?: Mode;
  /**
   * Where the cluster's account stands in the organization (OU path, account tags), for matches on
   * `ous` and `accountTags`; null or absent: not known. A decision that depends on it then throws
   * AccountContextUnknownError rather than guessing.
   */
  accountContext?: AccountContext | null;
};

const DAY_MS = 24 * 60 * 60 * 1000;

const isWorldOpenText = (text: string) => {
  const block = parseCidr(text);
  return block !== null && isWorldOpen(block);
};

/**
 * Lists the violations of an endpoint configuration against the settings. CIDRs of a public endpoint
 * that is off are never judged: EKS keeps the list but it has no effect. The allowlist is parsed once
 * per settings list and remembered, not on every call.
 */
export function findViolations(settings: EffectiveSettings, config: EndpointConfig): Violation[] {
  return violationsWith(settings, parseAllowlist(settings.allowedPublicCidrs), settings.allowedPublicCidrs.join(', '), config);
}

/** True when some block of `allowed` contains `block`; a plain loop, as it runs per observed CIDR. */
function allowedContains(allowed: readonly Cidr[], block: Cidr): boolean {
  for (let i = 0; i < allowed.length; i += 1) if (cidrContains(allowed[i]!, block)) return true;
  return false;
}

/** `allowed` and `allowedText` are the parsed blocks of `settings.allowedPublicCidrs` and their `, `-joined text. */
function violationsWith(settings: EffectiveSettings, allowed: readonly Cidr[], allowedText: string, config: EndpointConfig): Violation[] {
  const violations: Violation[] = [];
  if (settings.privateAccess === 'required' && !config.endpointPrivateAccess) {
    violations.push({ code: 'PRIVATE_ACCESS_REQUIRED', message: 'private endpoint access is off, but the policy requires it' });
  }
  if (!config.endpointPublicAccess) return violations;
  if (settings.publicAccess === 'forbidden') {
    violations.push({ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public endpoint access is on, but the policy forbids it' });
  }
  if (settings.publicAccess === 'restricted') {
    for (const text of config.publicAccessCidrs) {
      const block = parseCidr(text);
      if (block && allowedContains(allowed, block)) continue;
      const what = !block ? 'is not a valid CIDR block' : isWorldOpen(block) ? 'admits the whole internet' : 'is not inside any allowed CIDR';
      violations.push({
        code: 'PUBLIC_CIDR_NOT_ALLOWED',
        cidr: text,
        message: `public endpoint CIDR ${text} ${what} (allowed: ${allowedText})`,
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

// Tag values are free text set by cluster owners; the same few recur across a fleet, and parsing one
// runs two schema checks, so the end instants are remembered (bounded, like the CIDR cache).
const TAG_CACHE_LIMIT = 1024;
const tagInstants = new Map<string, number | null>();
function tagInstant(value: string): number | null {
  const known = tagInstants.get(value);
  if (known !== undefined) return known;
  const instant = expiryInstant(value.trim());
  if (tagInstants.size >= TAG_CACHE_LIMIT) tagInstants.clear();
  tagInstants.set(value, instant);
  return instant;
}

function findExemption(policy: CompiledPolicy, settings: EffectiveSettings, cluster: ObservedCluster, subject: MatchSubject, now: number, warnings: Warning[]): Exemption | null {
  const exemptions = policy.exemptions;
  for (let index = 0; index < exemptions.length; index += 1) {
    const { entry: e, match, until } = exemptions[index]!;
    const state = matchState(match, subject);
    if (state === 'no-match') continue;
    if (state === 'unknown') {
      // An expired exemption exempts nothing whether it matches or not; only a live one decides.
      if (until !== null && now < until) throw new AccountContextUnknownError(subject, { kind: 'exemption', index, name: e.name });
      continue;
    }
    if (until !== null && now < until) return { source: 'policy', name: e.name, reason: e.reason, expires: e.expires };
    warnings.push({ code: 'EXEMPTION_EXPIRED', message: `exemption ${e.name} matched but expired at ${e.expires}` });
  }
  const tag = policy.exemptionTag;
  const tagValue = cluster.tags[tag];
  if (typeof tagValue !== 'string') return null;
  const capDays = settings.maxTagExemptionDays;
  const capOwner = settings.rule === null ? 'the defaults' : `rule ${settings.rule}`;
  if (capDays === 0) {
    // Checked before the value: with tag exemptions switched off, what the tag says does not matter.
    warnings.push({
      code: 'EXEMPTION_TAG_NOT_ALLOWED',
      message: `tag ${tag}=${JSON.stringify(tagValue)} is ignored: maxTagExemptionDays is 0 in ${capOwner}, so tags never exempt; the cluster is not exempt`,
    });
    return null;
  }
  const until = tagInstant(tagValue);
  if (until === null) {
    warnings.push({
      code: 'EXEMPTION_TAG_INVALID',
      message: `tag ${tag}=${JSON.stringify(tagValue)} is not a date (YYYY-MM-DD) or an ISO date-time; the cluster is not exempt`,
    });
    return null;
  }
  if (now >= until) {
    warnings.push({ code: 'EXEMPTION_EXPIRED', message: `tag ${tag}=${tagValue} expired` });
    return null;
  }
  // Anyone who may tag a cluster may exempt it, so how far ahead a tag reaches is capped; the cap is
  // judged from the evaluation instant, as a tag can be set or changed at any time.
  if (until - now > capDays * DAY_MS) {
    warnings.push({
      code: 'EXEMPTION_TAG_TOO_LONG',
      message: `tag ${tag}=${tagValue} ends more than ${capDays} days from now (maxTagExemptionDays ${capDays} in ${capOwner}); the cluster is not exempt`,
    });
    return null;
  }
  return { source: 'tag', name: tag, reason: `cluster tag ${tag}=${tagValue}`, expires: tagValue.trim() };
}

/**
 * Judges one observed cluster against the policy: the settings that apply (defaults overlaid by the
 * first matching rule), the violations, warnings, exemption, verdict, action and, when there are
 * violations, the remediation target (shown in alert mode too, as what would be done). An unexpired
 * exemption makes the verdict `exempt` with no action and no target, but still lists the violations.
 * A tag exemption counts only while its end is within `maxTagExemptionDays` of `now`. Uses the
 * policy's compiled form, so nothing of the policy is parsed or compiled per call. When the rule or a
 * live exemption that decides depends on `ous`/`accountTags` and `options.accountContext` is not
 * given, throws AccountContextUnknownError: an unknown organization never yields a verdict that the
 * known one could contradict.
 */
export function evaluateCluster(policy: Policy, cluster: ObservedCluster, options: EvaluateOptions): Evaluation {
  const now = typeof options.now === 'number' ? options.now : options.now.getTime();
  const compiled = compiledPolicy(policy);
  // The cluster itself is the subject (no copy per call) unless an account context comes with it.
  const subject: MatchSubject =
    options.accountContext === undefined ? cluster : { name: cluster.name, account: cluster.account, region: cluster.region, tags: cluster.tags, accountContext: options.accountContext };
  const chosen = selectTemplate(compiled, subject);
  const settings = settingsFrom(chosen);
  if (options.forceMode) settings.mode = options.forceMode;
  const config = cluster.config;
  const violations = violationsWith(settings, chosen.allowed, chosen.allowedText, config);
  const warnings: Warning[] = [];

  if (config.endpointPublicAccess && !config.endpointPrivateAccess && !config.publicAccessCidrs.some(isWorldOpenText)) {
    warnings.push({
      code: 'NODE_EGRESS_RISK',
      message: 'public access is limited to specific CIDRs while private access is off: nodes and Fargate pods reach the API server only if their egress (NAT gateway) IPs are listed',
    });
  }
  const exemption = findExemption(compiled, settings, cluster, subject, now, warnings);

  let target = null;
  let action: Evaluation['action'] = 'none';
  // An exempt cluster gets no plan at all (and so no NO_SAFE_REMEDIATION warning): nothing will be done.
  if (violations.length > 0 && !exemption) {
    const plan = planWith(settings, chosen.allowed, config);
    if (plan.unsafe !== null) warnings.push({ code: 'NO_SAFE_REMEDIATION', message: `no safe automatic change: ${plan.unsafe}` });
    target = plan.target;
    action = plan.target === null || settings.mode === 'alert' ? 'alert' : 'remediate';
  }
  const verdict = exemption ? 'exempt' : violations.length > 0 ? 'violation' : 'compliant';
  return {
    cluster: { name: cluster.name, account: cluster.account, region: cluster.region, arn: cluster.arn },
    settings,
    observed: {
      endpointPublicAccess: config.endpointPublicAccess,
      endpointPrivateAccess: config.endpointPrivateAccess,
      publicAccessCidrs: config.publicAccessCidrs,
      status: cluster.status,
      vpcId: cluster.vpcId,
      tags: cluster.tags,
    },
    verdict,
    action,
    violations,
    warnings,
    target,
    exemption,
  };
}
