import { cidrContains, parseAllowlist, parseCidr, type Cidr } from './cidr';
import type { EffectiveSettings, EndpointConfig, EndpointTarget } from './types';

/** The outcome of planning: a target, or null with the reason no automatic change is safe. */
export type Plan = { target: EndpointTarget; unsafe: null } | { target: null; unsafe: string };

/**
 * Narrows a public CIDR list to the allowlist with the least change. Each observed block is kept when an
 * allowed block contains it; otherwise it is replaced by the allowed blocks it contains (policy order);
 * otherwise dropped. CIDR blocks either nest or are disjoint, so these three cases are exhaustive.
 * Exact duplicates are removed, keeping the first. An empty or over-long result falls back to the
 * allowlist as it stands, which validation guarantees is non-empty and within the limit.
 */
export function narrowCidrs(observed: readonly string[], allowed: readonly string[], max: number): string[] {
  return narrowWith(observed, allowed, parseAllowlist(allowed), max);
}

function narrowWith(observed: readonly string[], allowed: readonly string[], allowedBlocks: readonly Cidr[], max: number): string[] {
  // Plain loops and a linear duplicate check: lists are short (EKS allows 40 blocks) and this runs for
  // every violating cluster. A longer list (an observed document is not bound by EKS's limit) switches
  // to a Set, so the check never turns quadratic.
  const unique: string[] = [];
  let seen: Set<string> | null = null;
  const keep = (text: string) => {
    if (seen !== null) {
      if (!seen.has(text)) {
        seen.add(text);
        unique.push(text);
      }
    } else if (!unique.includes(text)) {
      unique.push(text);
      if (unique.length > 32) seen = new Set(unique);
    }
  };
  for (const text of observed) {
    const block = parseCidr(text);
    // An unparsable observed entry cannot be proved safe: drop it.
    if (!block) continue;
    let inside = false;
    for (const a of allowedBlocks) {
      if (cidrContains(a, block)) {
        inside = true;
        break;
      }
    }
    if (inside) keep(text);
    else for (const a of allowedBlocks) if (cidrContains(block, a)) keep(a.text);
  }
  // The fallback is deduplicated too: a policy may repeat an allowlist entry, and a target with a
  // repeated block would change when planned again.
  return unique.length === 0 || unique.length > max ? [...new Set(allowed)] : unique;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The smallest endpoint change that complies with `settings`, starting from `observed`.
 * - `forbidden`: public access off.
 * - `restricted` with public access on: narrow the CIDRs (see `narrowCidrs`).
 * - `unrestricted` over the CIDR limit: no safe automatic choice of which blocks to drop.
 * Private access is turned on when required, when public access ends up off (EKS refuses both off), or
 * when the CIDR list was narrowed while private access was off: narrowing without private access cuts
 * off nodes whose egress addresses are not listed (the EKS user guide's own advice). Public access is
 * never turned on, so a target never admits an address that neither the observed config nor the
 * allowlist admitted. Planning the target again returns it unchanged.
 */
export function planTarget(settings: EffectiveSettings, observed: EndpointConfig): Plan {
  return planWith(settings, parseAllowlist(settings.allowedPublicCidrs), observed);
}

/** `planTarget` with the allowlist already parsed (`allowed` must be the blocks of `settings.allowedPublicCidrs`). */
export function planWith(settings: EffectiveSettings, allowed: readonly Cidr[], observed: EndpointConfig): Plan {
  let publicOn = observed.endpointPublicAccess;
  let cidrs = [...observed.publicAccessCidrs];
  let narrowedWithoutPrivate = false;

  if (settings.publicAccess === 'forbidden') {
    publicOn = false;
  } else if (settings.publicAccess === 'restricted' && publicOn) {
    cidrs = narrowWith(observed.publicAccessCidrs, settings.allowedPublicCidrs, allowed, Math.min(settings.maxPublicCidrs, 40));
    narrowedWithoutPrivate = !sameList(cidrs, observed.publicAccessCidrs) && !observed.endpointPrivateAccess;
  } else if (settings.publicAccess === 'unrestricted' && publicOn && observed.publicAccessCidrs.length > settings.maxPublicCidrs) {
    return {
      target: null,
      unsafe: `public access allows ${observed.publicAccessCidrs.length} CIDR blocks, more than the limit of ${settings.maxPublicCidrs}, and the policy (unrestricted) gives no allowlist to choose which to keep`,
    };
  }

  const privateOn = observed.endpointPrivateAccess || settings.privateAccess === 'required' || !publicOn || narrowedWithoutPrivate;
  return {
    target: publicOn
      ? { endpointPublicAccess: true, endpointPrivateAccess: privateOn, publicAccessCidrs: cidrs }
      : { endpointPublicAccess: false, endpointPrivateAccess: privateOn },
    unsafe: null,
  };
}
