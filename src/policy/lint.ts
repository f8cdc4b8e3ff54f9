import { expiryInstant, type Policy } from './schema';
import type { PolicyWarning } from './types';

/** An exemption ending within this many days of the check is reported as expiring soon. */
export const EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * What is legal in a policy but probably not meant, judged at the instant `now` (epoch ms):
 * exemptions that have expired (`EXEMPTION_EXPIRED`) or end within 14 days (`EXEMPTION_EXPIRING`),
 * and rules that match on `tags` alone (`RULE_MATCHES_TAGS_ONLY`): tags are set by whoever may tag
 * the cluster, so such a rule lets cluster owners choose their own rule. In policy order: exemptions
 * first, then rules. Pure; an empty list when nothing applies.
 */
export function policyWarnings(policy: Policy, now: number): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  policy.exemptions.forEach((e, i) => {
    const until = expiryInstant(e.expires);
    // The schema admits only expiries that have an instant; a null here would be a hand-built policy.
    if (until === null) return;
    if (until <= now) {
      warnings.push({ code: 'EXEMPTION_EXPIRED', message: `exemptions[${i}] ${e.name}: expired at ${e.expires}; it exempts nothing and can be removed` });
    } else if (until - now <= EXPIRY_WARNING_DAYS * DAY_MS) {
      const days = Math.ceil((until - now) / DAY_MS);
      warnings.push({
        code: 'EXEMPTION_EXPIRING',
        message: `exemptions[${i}] ${e.name}: expires at ${e.expires}, within ${EXPIRY_WARNING_DAYS} days (${days} day${days === 1 ? '' : 's'} left)`,
      });
    }
  });
  policy.rules.forEach((r, i) => {
    const keys = Object.entries(r.match).filter(([, v]) => v !== undefined).map(([k]) => k);
    if (keys.length === 1 && keys[0] === 'tags') {
      warnings.push({
        code: 'RULE_MATCHES_TAGS_ONLY',
        message: `rules[${i}] ${r.name}: matches on tags alone, so cluster owners choose their own rule: anyone who can tag a cluster can move it into this rule (add accounts, regions or clusters to the match)`,
      });
    }
  });
  return warnings;
}
