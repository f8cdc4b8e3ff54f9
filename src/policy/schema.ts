import { z } from 'zod';
import { cidrProblem, parseCidr } from './cidr';

/** The most CIDR blocks EKS accepts per cluster (a service quota that cannot be raised). */
export const EKS_MAX_PUBLIC_CIDRS = 40;
export const DEFAULT_EXEMPTION_TAG = 'eks-endpoint-guard/exempt-until';

const allowedCidr = z.string().superRefine((value, ctx) => {
  const problem = cidrProblem(value);
  // By prefix length, not by text: `0.0.0.0/00` and `1.2.3.4/0` admit the whole internet too.
  if (parseCidr(value)?.prefix === 0) {
    ctx.addIssue({ code: 'custom', message: `admits the whole internet; an allowlist entry must be narrower (use publicAccess: unrestricted to allow everything)` });
  } else if (problem?.kind === 'invalid') {
    ctx.addIssue({ code: 'custom', message: `not a valid CIDR block` });
  } else if (problem?.kind === 'host-bits') {
    ctx.addIssue({ code: 'custom', message: `not a network address (host bits are set): ${problem.suggestion} was probably meant` });
  }
});

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
/** A date (exempt through the end of that day, UTC) or an ISO date-time with an offset. */
// Policies are parsed with the YAML core schema, so a bare date arrives as text, never as a Date at midnight.
export const expiryDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'not a date (YYYY-MM-DD) or an ISO date-time (YYYY-MM-DDThh:mm:ssZ)',
});

/** The instant an expiry ends, in epoch milliseconds: a bare date lasts through the end of that day, UTC. */
export function expiryInstant(expires: string): number | null {
  if (isoDate.test(expires)) {
    // Date.parse rolls impossible days over (2027-02-30 becomes March 2): require a real calendar date.
    if (!z.iso.date().safeParse(expires).success) return null;
    const start = Date.parse(`${expires}T00:00:00Z`);
    return Number.isNaN(start) ? null : start + 24 * 60 * 60 * 1000;
  }
  if (!z.iso.datetime({ offset: true }).safeParse(expires).success) return null;
  const instant = Date.parse(expires);
  return Number.isNaN(instant) ? null : instant;
}

const nonEmptyList = (item: z.ZodString) => z.array(item).min(1, { error: 'must list at least one entry' });

export const matchSchema = z
  .strictObject({
    accounts: nonEmptyList(z.string().regex(/^\d{12}$/, { error: 'not a 12-digit AWS account id' })).optional(),
    regions: nonEmptyList(z.string().regex(/^[a-z]{2,4}(-[a-z]+)+-\d+$/, { error: 'not an AWS region name' })).optional(),
    // EKS names use letters, digits, `-` and `_`; a glob adds only `*` and `?`. Anything else (braces,
    // brackets, `!`) would be glob syntax nobody meant, or could never match.
    clusters: nonEmptyList(
      z.string().regex(/^[A-Za-z0-9_*?-]{1,100}$/, { error: 'not a cluster name glob (letters, digits, -, _, * and ?; at most 100 characters)' }),
    ).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .refine((m) => Object.keys(m).length > 0 && !(m.tags && Object.keys(m.tags).length === 0 && Object.keys(m).length === 1), {
    error: 'a match must name at least one of accounts, regions, clusters, tags',
  });

const settingFields = {
  mode: z.enum(['enforce', 'alert']),
  publicAccess: z.enum(['forbidden', 'restricted', 'unrestricted']),
  privateAccess: z.enum(['required', 'optional']),
  allowedPublicCidrs: z.array(allowedCidr),
  maxPublicCidrs: z.int().min(1).max(EKS_MAX_PUBLIC_CIDRS),
};

export const policySchema = z.strictObject({
  version: z.literal(1),
  description: z.string().optional(),
  defaults: z.strictObject({
    mode: settingFields.mode.default('enforce'),
    publicAccess: settingFields.publicAccess,
    privateAccess: settingFields.privateAccess.default('required'),
    allowedPublicCidrs: settingFields.allowedPublicCidrs.default([]),
    maxPublicCidrs: settingFields.maxPublicCidrs.default(EKS_MAX_PUBLIC_CIDRS),
  }),
  rules: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        description: z.string().optional(),
        match: matchSchema,
        mode: settingFields.mode.optional(),
        publicAccess: settingFields.publicAccess.optional(),
        privateAccess: settingFields.privateAccess.optional(),
        allowedPublicCidrs: settingFields.allowedPublicCidrs.optional(),
        maxPublicCidrs: settingFields.maxPublicCidrs.optional(),
      }),
    )
    .default([]),
  exemptions: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        match: matchSchema,
        reason: z.string().min(1),
        expires: expiryDate,
      }),
    )
    .default([]),
  exemptionTag: z.string().min(1).max(128).default(DEFAULT_EXEMPTION_TAG),
});

/** A validated policy, defaults filled in. */
export type Policy = z.output<typeof policySchema>;
export type Match = z.output<typeof matchSchema>;
export type PolicyRule = Policy['rules'][number];
export type PolicyExemption = Policy['exemptions'][number];
