import ipaddr from 'ipaddr.js';

/** A parsed CIDR block: its family, network address and prefix length. */
export type Cidr = { text: string; kind: 'ipv4' | 'ipv6'; network: ipaddr.IPv4 | ipaddr.IPv6; prefix: number };

export type CidrProblem = { kind: 'invalid' } | { kind: 'host-bits'; suggestion: string };

/**
 * Parses a CIDR block strictly: IPv4 must be dotted four-part decimal (ipaddr.js otherwise accepts
 * forms such as `10.1/8` or octal that AWS refuses) and the prefix is mandatory.
 */
export function parseCidr(text: string): Cidr | null {
  if (typeof text !== 'string' || !text.includes('/')) return null;
  const isV4 = ipaddr.IPv4.isValidCIDRFourPartDecimal(text);
  if (!isV4 && !(ipaddr.IPv6.isValidCIDR(text) && !text.includes('%'))) return null;
  const [address, prefix] = isV4 ? ipaddr.IPv4.parseCIDR(text) : ipaddr.IPv6.parseCIDR(text);
  const network = isV4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  void address;
  return { text, kind: isV4 ? 'ipv4' : 'ipv6', network, prefix };
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
