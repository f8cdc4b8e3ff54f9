import { createHash, randomBytes } from 'node:crypto';

/** A stable id derived from a seed, so the same state file always yields the same VPC, NAT and principal ids. */
export function stableId(prefix: string, seed: string, length = 17, upper = false): string {
  const hex = createHash('sha256').update(seed).digest('hex').slice(0, length);
  return prefix + (upper ? hex.toUpperCase() : hex);
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A random id in the style of AWS access keys: a four-letter prefix and 16 upper-case characters. */
export function randomKeyId(prefix: string): string {
  return prefix + Array.from(randomBytes(16), (b) => KEY_ALPHABET[b % 32]).join('');
}

export function randomSecret(bytes = 30): string {
  return randomBytes(bytes).toString('base64');
}
