import * as z from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name such as us-east-1');

const hubSchema = z.strictObject({ account: accountId, region });

/**
 * The `securityHub:` section of the emulator's state file: where AWS Security Hub is enabled. Without the
 * section, or without `hubs`, it is enabled in every account and region (as the emulator's other services
 * exist everywhere); with `hubs`, only there, and calls from anywhere else are refused with
 * InvalidAccessException, as AWS refuses an account that is not subscribed. Findings are not seeded: they
 * come in through BatchImportFindings, and a state load or reset removes them.
 */
export const securityHubStateSchema = z.strictObject({
  hubs: z.array(hubSchema).optional(),
});

export type SecurityHubState = z.input<typeof securityHubStateSchema>;
export type ResolvedSecurityHubState = z.output<typeof securityHubStateSchema>;

/** Hubs declared twice, and accounts missing from `accounts` (checked by `declared`). */
export function securityHubReferenceProblems(state: ResolvedSecurityHubState, declared: (account: string, at: string) => void, at = 'securityHub'): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  (state.hubs ?? []).forEach((hub, i) => {
    declared(hub.account, `${at}.hubs[${i}].account`);
    const scoped = `${hub.account}/${hub.region}`;
    if (seen.has(scoped)) problems.push(`${at}.hubs[${i}]: Security Hub is declared twice in ${hub.account} ${hub.region}`);
    seen.add(scoped);
  });
  return problems;
}
