// The same CIDR reading as the policy's, so the emulator and the guard never disagree on what a block is.
import { cidrContains, cidrProblem, parseCidr, parseCidrs } from '../policy/cidr';

/**
 * EKS does not document which blocks it refuses in publicAccessCidrs ("may not contain reserved
 * addresses"). The emulator refuses blocks that lie wholly inside these ranges, none of which a public
 * endpoint can ever see as a source address. The documentation ranges (192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24) stay accepted on purpose: examples and tests use them as stand-ins for public addresses.
 */
export const REFUSED_PUBLIC_CIDRS: readonly string[] = [
  '0.0.0.0/8', // "this network"; 0.0.0.0/0 itself is the default and stays valid
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

const refused = parseCidrs(REFUSED_PUBLIC_CIDRS);

/** True when `cidr` is a syntactically valid block written in canonical form (no host bits set). */
export function isCanonicalCidr(cidr: string): boolean {
  return cidrProblem(cidr) === null;
}

/**
 * Why EKS would refuse `cidr` as a public access block, or null when it is acceptable. IPv6 blocks
 * are accepted only on IPv6 (dual-stack) clusters.
 */
export function publicCidrProblem(cidr: string, ipv6Cluster: boolean): string | null {
  const block = cidrProblem(cidr) === null ? parseCidr(cidr) : null;
  if (!block) return 'not a valid CIDR block';
  if (block.kind === 'ipv6' && !ipv6Cluster) return 'IPv6 blocks need an IPv6 cluster';
  if (block.prefix === 0) return null;
  return refused.some((r) => cidrContains(r, block)) ? 'reserved address range' : null;
}
