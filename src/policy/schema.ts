import { z } from 'zod';
import { OU_ID_PATTERN, ROOT_ID_PATTERN } from '../org/types';
import { cidrProblem, familiesCovered, parseCidr, type Cidr } from './cidr';
import { ownRecord } from '../records';

/** The most CIDR blocks EKS accepts per cluster (a service quota that cannot be raised). */
export const EKS_MAX_PUBLIC_CIDRS = 40;
export const DEFAULT_EXEMPTION_TAG = 'eks-endpoint-guard/exempt-until';
/** How far ahead a cluster tag may exempt a cluster, unless the policy says otherwise. */
export const DEFAULT_MAX_TAG_EXEMPTION_DAYS = 30;
/** Escalate after this many reverts of one cluster within this many minutes, unless the policy says otherwise. */
export const DEFAULT_ESCALATION = Object.freeze({ reverts: 3, withinMinutes: 60 });
/** How often on-call is reminded of a violation that stays open (alert mode, manual action, a refused revert). */
export const DEFAULT_REMINDER_HOURS = 24;

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

const FAMILY_WORLD = { ipv4: '0.0.0.0/0', ipv6: '::/0' } as const;

/**
 * An allowlist whose entries together cover a whole family admits the whole internet as surely as
 * `0.0.0.0/0` would (`0.0.0.0/1` + `128.0.0.0/1`, or four /2s). Entries that are world-open by
 * themselves are left out: each already has its own error, and they must not be reported twice.
 */
const allowlist = z.array(allowedCidr).superRefine((texts, ctx) => {
  const blocks = texts
    .filter((t) => typeof t === 'string' && cidrProblem(t) === null)
    .map((t) => parseCidr(t))
    .filter((b): b is Cidr => b !== null && b.prefix > 0);
  for (const kind of familiesCovered(blocks)) {
    const named = blocks.filter((b) => b.kind === kind).map((b) => b.text);
    ctx.addIssue({
      code: 'custom',
      message: `${named.join(', ')} together admit the whole internet (${FAMILY_WORLD[kind]}); an allowlist must leave addresses out (use publicAccess: unrestricted to allow everything)`,
    });
  }
});

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
/** A date (exempt through the end of that day, UTC) or an ISO date-time with an offset. */
// Policies are parsed with the YAML core schema, so a bare date arrives as text, never as a Date at midnight.
export const expiryDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'not a date (YYYY-MM-DD) or an ISO date-time (YYYY-MM-DDThh:mm:ssZ)',
});

const calendarDate = z.iso.date();
const offsetDateTime = z.iso.datetime({ offset: true });

/** The instant an expiry ends, in epoch milliseconds: a bare date lasts through the end of that day, UTC. */
export function expiryInstant(expires: string): number | null {
  if (isoDate.test(expires)) {
    // Date.parse rolls impossible days over (2027-02-30 becomes March 2): require a real calendar date.
    if (!calendarDate.safeParse(expires).success) return null;
    const start = Date.parse(`${expires}T00:00:00Z`);
    return Number.isNaN(start) ? null : start + 24 * 60 * 60 * 1000;
  }
  if (!offsetDateTime.safeParse(expires).success) return null;
  const instant = Date.parse(expires);
  return Number.isNaN(instant) ? null : instant;
}

/** The keys of a `match` block, in the order messages list them. */
export const MATCH_KEYS = ['accounts', 'regions', 'clusters', 'tags', 'ous', 'accountTags'] as const;
/** Match keys judged on the account's place in the organization, not on the cluster. */
export const ORGANIZATION_MATCH_KEYS = ['ous', 'accountTags'] as const;

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
    tags: ownRecord(z.string(), z.string()).optional(),
    // Organizations ids, never names: OU names are not unique and can be renamed by anyone who may
    // administer the organization, ids cannot. A root id covers the whole organization.
    ous: nonEmptyList(
      z.string().regex(new RegExp(`${OU_ID_PATTERN.source}|${ROOT_ID_PATTERN.source}`), { error: 'not an organizational unit id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)' }),
    ).optional(),
    // The account's tags in AWS Organizations: set in the management account, not by cluster owners.
    accountTags: ownRecord(z.string(), z.string()).optional(),
  })
  // `tags: {}` or `accountTags: {}` alone names nothing: such a block would match every cluster.
  .refine((m) => Object.values(m).some((v) => v !== undefined && (Array.isArray(v) || Object.keys(v).length > 0)), {
    error: `a match must name at least one of ${MATCH_KEYS.join(', ')}`,
  });

const settingFields = {
  mode: z.enum(['enforce', 'alert']),
  publicAccess: z.enum(['forbidden', 'restricted', 'unrestricted']),
  privateAccess: z.enum(['required', 'optional']),
  allowedPublicCidrs: allowlist,
  maxPublicCidrs: z.int().min(1).max(EKS_MAX_PUBLIC_CIDRS),
  maxTagExemptionDays: z.int().min(0).max(365),
  reverts: z.int().min(1).max(100),
  withinMinutes: z.int().min(1).max(10080),
  // At most 30 days: a reminder less often than monthly is no reminder.
  reminderHours: z.int().min(1).max(720),
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
    maxTagExemptionDays: settingFields.maxTagExemptionDays.default(DEFAULT_MAX_TAG_EXEMPTION_DAYS),
    escalation: z
      .strictObject({
        reverts: settingFields.reverts.default(DEFAULT_ESCALATION.reverts),
        withinMinutes: settingFields.withinMinutes.default(DEFAULT_ESCALATION.withinMinutes),
      })
      .default(() => ({ ...DEFAULT_ESCALATION })),
    reminderHours: settingFields.reminderHours.default(DEFAULT_REMINDER_HOURS),
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
        maxTagExemptionDays: settingFields.maxTagExemptionDays.optional(),
        // Either half may be given alone; the other comes from the defaults.
        escalation: z
          .strictObject({ reverts: settingFields.reverts.optional(), withinMinutes: settingFields.withinMinutes.optional() })
          .optional(),
        reminderHours: settingFields.reminderHours.optional(),
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
