import ipaddr from 'ipaddr.js';

/** A parsed CIDR block: its family, network address and prefix length. */
export type Cidr = { text: string; kind: 'ipv4' | 'ipv6'; network: ipaddr.IPv4 | ipaddr.IPv6; prefix: number };

export type CidrProblem = { kind: 'invalid' } | { kind: 'host-bits'; suggestion: string };

// Parsing is pure, and the same few texts (0.0.0.0/0, an organisation's office ranges) recur on almost
// every cluster, so results are remembered. The bound keeps a stream of unusual inputs from growing
// memory without limit; clearing all at once is crude but keeps a hit a single Map lookup.
const PARSE_CACHE_LIMIT = 4096;
const parsed = new Map<string, Cidr | null>();

/**
 * Parses a CIDR block strictly: IPv4 must be dotted four-part decimal (ipaddr.js otherwise accepts
 * forms such as `10.1/8` or octal that AWS refuses) and the prefix is mandatory. Results are frozen
 * and may be shared between callers, since the same text always gives the same block.
 */
export function parseCidr(text: string): Cidr | null {
  if (typeof text !== 'string') return null;
  const known = parsed.get(text);
  if (known !== undefined) return known;
  const cidr = parseUncached(text);
  if (parsed.size >= PARSE_CACHE_LIMIT) parsed.clear();
  parsed.set(text, cidr);
  return cidr;
}

function parseUncached(text: string): Cidr | null {
  if (!text.includes('/')) return null;
  const isV4 = ipaddr.IPv4.isValidCIDRFourPartDecimal(text);
  if (!isV4 && !(ipaddr.IPv6.isValidCIDR(text) && !text.includes('%'))) return null;
  const [address, prefix] = isV4 ? ipaddr.IPv4.parseCIDR(text) : ipaddr.IPv6.parseCIDR(text);
  const network = isV4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  void address;
  return Object.freeze({ text, kind: isV4 ? 'ipv4' : 'ipv6', network, prefix });
}

/** The canonical text of a block (`10.0.0.0/24`, `2001:db8::/32`). */
export function canonicalCidr(cidr: Cidr): string {
  const addr = cidr.kind === 'ipv6' ? (cidr.network as ipaddr.IPv6).toRFC5952String() : cidr.network.toString();
  return `${addr}/${cidr.prefix}`;
}

/**
 * Says why a string is not an acceptable CIDR block for an allowlist, or null when it is: not a CIDR
 * at all, or an address with host bits set (`10.0.0.1/24`), for which the network address is suggested.
 */
export function cidrProblem(text: string): CidrProblem | null {
  const cidr = parseCidr(text);
  if (!cidr) return { kind: 'invalid' };
  const [address] = cidr.kind === 'ipv4' ? ipaddr.IPv4.parseCIDR(text) : ipaddr.IPv6.parseCIDR(text);
  if (address.toNormalizedString() !== cidr.network.toNormalizedString()) {
    return { kind: 'host-bits', suggestion: canonicalCidr(cidr) };
  }
  return null;
}

/** True for a block that admits every address of its family (`0.0.0.0/0`, `::/0`). */
export function isWorldOpen(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

/**
 * True when every address of `inner` lies in `outer`. Blocks of different families never contain each
 * other: EKS treats `0.0.0.0/0` and `::/0` as separate entries.
 */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.kind !== inner.kind || inner.prefix < outer.prefix) return false;
  return inner.network.match([outer.network, outer.prefix] as [ipaddr.IPv4, number]);
}

/** Parses a list of blocks, keeping only the valid ones (callers report invalid entries separately). */
export function parseCidrs(texts: readonly string[]): Cidr[] {
  return texts.map(parseCidr).filter((c): c is Cidr => c !== null);
}

/** The block's two halves (one bit longer prefix each), or null for a single address. */
function halves(block: Cidr): [Cidr, Cidr] | null {
  const family = block.kind === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  if (block.prefix >= (block.kind === 'ipv4' ? 32 : 128)) return null;
  const prefix = block.prefix + 1;
  // The upper half is the one holding the block's last address; ipaddr.js finds both network addresses.
  const last = family.broadcastAddressFromCIDR(`${block.network.toString()}/${block.prefix}`);
  const half = (address: ipaddr.IPv4 | ipaddr.IPv6): Cidr => {
    const network = family.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
    return { text: `${network.toString()}/${prefix}`, kind: block.kind, network, prefix };
  };
  return [half(block.network), half(last)];
}

/** True when the union of `blocks` holds every address of `target`. */
function unionCovers(blocks: readonly Cidr[], target: Cidr): boolean {
  if (blocks.some((b) => cidrContains(b, target))) return true;
  // Only blocks strictly inside the target can still cover it, piece by piece; splitting the target
  // in two and recursing visits at most (blocks × prefix length) pieces, as a piece is split only
  // when some block lies strictly inside it.
  const inside = blocks.filter((b) => b.prefix > target.prefix && cidrContains(target, b));
  if (inside.length === 0) return false;
  const split = halves(target);
  return split !== null && unionCovers(inside, split[0]) && unionCovers(inside, split[1]);
}

const WHOLE_FAMILY: Record<Cidr['kind'], Cidr> = {
  ipv4: parseCidr('0.0.0.0/0')!,
  ipv6: parseCidr('::/0')!,
};

/**
 * The address families (`ipv4`, `ipv6`) whose every address lies in the union of `blocks`: a list such
 * as `0.0.0.0/1, 128.0.0.0/1` admits the whole internet just as `0.0.0.0/0` does. Blocks of the other
 * family never help cover a family.
 */
export function familiesCovered(blocks: readonly Cidr[]): Cidr['kind'][] {
  return (['ipv4', 'ipv6'] as const).filter((kind) => {
    const own = blocks.filter((b) => b.kind === kind);
    return own.length > 0 && unionCovers(own, WHOLE_FAMILY[kind]);
  });
}

const allowlists = new WeakMap<readonly string[], { texts: string[]; blocks: readonly Cidr[] }>();

/**
 * The valid blocks of an allowlist, parsed once per list: settings objects are judged many times, so
 * the parse is remembered per list object. The remembered copy of the texts is compared entry by entry
 * on each use (far cheaper than parsing), so a list changed in place is parsed again, never judged stale.
 */
export function parseAllowlist(texts: readonly string[]): readonly Cidr[] {
  const known = allowlists.get(texts);
  if (known && known.texts.length === texts.length && known.texts.every((t, i) => t === texts[i])) return known.blocks;
  const blocks = Object.freeze(parseCidrs(texts));
  allowlists.set(texts, { texts: [...texts], blocks });
  return blocks;
}
