import { z } from 'zod';
import { regionNameProblem } from './policy/region';
import { InputError } from './errors';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');
const list = z
  .string()
  .default('')
  .transform(splitList);

/** Splits a comma-separated setting, trimming blanks around entries and dropping empty ones. */
function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * A comma list whose every entry must match `pattern`; undefined when the variable is unset. CloudFormation
 * cannot leave a variable out when a list parameter is empty, so an empty value reads as an empty list.
 */
function optionalList(pattern: RegExp, message: string) {
  return z
    .string()
    .transform(splitList)
    .pipe(z.array(z.string().regex(pattern, { error: message })))
    .optional();
}

/** An optional setting for which an empty value means unset (CloudFormation passes empty parameters as ''). */
function unsetWhenEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
}

const roleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, { error: 'not an IAM role name (1-64 of A-Z a-z 0-9 +=,.@_-)' });
const account = z.string().regex(/^\d{12}$/, { error: 'not a 12-digit AWS account id' });

const envSchema = z.object({
  /** The policy bundled with the function, relative to the working directory (the Lambda task root). */
  POLICY_FILE: z.string().min(1).default('policy.yaml'),
  /** Alert-only everywhere, whatever the policy's modes say. */
  SHADOW_MODE: bool,
  /** Publish an info alert for changes found compliant too (off by default: on-call needs no news of good news). */
  NOTIFY_COMPLIANT: bool,
  /** Put one EventBridge event per outcome on OUTCOME_EVENT_BUS (on by default: an event nobody routes costs nothing). */
  OUTCOME_EVENTS: z
    .enum(['true', 'false', '1', '0', ''])
    .default('true')
    .transform((v) => v !== 'false' && v !== '0'),
  /** The home account's bus outcome events go to: a name or an ARN in the functions' region (default: the default bus). */
  OUTCOME_EVENT_BUS: unsetWhenEmpty(z.string().regex(/^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[/.\-_A-Za-z0-9]{1,256}$/, { error: 'not an event bus name or ARN' })),
  ALERT_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, { error: 'not an SNS topic ARN' }).optional(),
  STATE_MACHINE_ARN: z.string().regex(/^arn:aws[a-z-]*:states:/, { error: 'not a Step Functions state machine ARN' }).optional(),
  /** The guard's own role ARNs: changes made through them are its own only when the ledger recorded the update. */
  SELF_ROLE_ARNS: list,
  /**
   * The member read role: assumed in every other account of the organization for the calls that only read
   * (DescribeCluster, ListClusters, DescribeUpdate, the EC2 describes). Never assumed in the home account.
   */
  MEMBER_READ_ROLE_NAME: unsetWhenEmpty(roleName),
  /** The member write role: assumed in other accounts for UpdateClusterConfig only (remediateCluster). */
  MEMBER_WRITE_ROLE_NAME: unsetWhenEmpty(roleName),
  /**
   * The stack's change reader role (eks:DescribeUpdate and eks:DescribeCluster only): the Express update
   * tracker polls the home account's clusters as this role (Task `Credentials`). Unset: through pollChange.
   */
  CHANGE_READER_ROLE_ARN: unsetWhenEmpty(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: 'not an IAM role ARN' })),
  /** The member findings role: assumed in other accounts for Security Hub BatchImportFindings/BatchUpdateFindings only. */
  MEMBER_FINDINGS_ROLE_NAME: unsetWhenEmpty(roleName),
  /** Import one Security Hub finding per cluster, updated through its lifecycle (the stack parameter SecurityHubFindings). */
  SECURITY_HUB_FINDINGS: bool,
  /**
   * The single cross-account role of deployments before the read/write split (and of the local runner):
   * stands in for whichever of MEMBER_READ_ROLE_NAME / MEMBER_WRITE_ROLE_NAME is unset.
   */
  CROSS_ACCOUNT_ROLE_NAME: z.string().optional(),
  /** The account the functions run in (CloudFormation `AWS::AccountId`). */
  HOME_ACCOUNT_ID: account.optional(),
  /** Organization sweep: DescribeCluster calls one unit (account × region) has in flight at once. */
  SWEEP_DESCRIBE_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(10),
  /**
   * Organization sweep: seconds of a SweepUnit invocation kept free at its end. It stops starting calls
   * this long before the Lambda timeout and returns its continuation; longer than one call's SDK retries.
   */
  SWEEP_TIME_MARGIN_SECONDS: z.coerce.number().min(0).max(600).default(30),
  /** The organization governed (`o-…`): the value the member roles and the event bus check `aws:PrincipalOrgID` against. */
  ORGANIZATION_ID: unsetWhenEmpty(z.string().regex(/^o-[a-z0-9]{10,32}$/, { error: 'not an AWS Organizations id (o-…)' })),
  /** OUs (or the root) whose accounts, at any depth, are governed; unset or empty: the whole organization. */
  GOVERNED_OUS: optionalList(/^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/, 'not an OU id (ou-…) or root id (r-…)'),
  /** Accounts never governed, even inside GOVERNED_OUS (reported as excluded). */
  EXCLUDED_ACCOUNTS: optionalList(/^\d{12}$/, 'not a 12-digit AWS account id'),
  /** The regions governed, in every governed account; unset or empty: the functions' own region only. */
  GOVERNED_REGIONS: optionalList(/^[a-z]{2}(-[a-z]+)+-\d$/, 'not an AWS region name such as eu-west-1').superRefine((regions, ctx) => {
    for (const [i, region] of (regions ?? []).entries()) {
      // A value that is not even region-shaped has its message from the pattern already.
      const problem = /^[a-z]{2}(-[a-z]+)+-\d$/.test(region) ? regionNameProblem(region) : null;
      if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem });
    }
  }),
  /**
   * A role in the management account (or a delegated administrator) allowed to read AWS Organizations;
   * unset when the home account is the delegated administrator itself (the functions' own role reads it).
   */
  ORGANIZATIONS_ROLE_ARN: unsetWhenEmpty(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: 'not an IAM role ARN' })),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /**
   * Give up waiting for an update (or a busy cluster) after this long, and alert. Kept below the state
   * machine's TimeoutSeconds (86400) with room for a last poll, so the budget always ends in an alert.
   */
  MAX_WAIT_SECONDS: z.coerce.number().int().min(60).max(14000).default(3600),
  /** The cluster ledger (DynamoDB table name): leases, the guard's own updates, reverts, changes seen, re-checks. */
  LEDGER_TABLE: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, { error: 'not a DynamoDB table name' }).optional(),
  /** Point every AWS client at another endpoint (the local emulator). */
  AWS_ENDPOINT_URL: z.string().url().optional(),
});

export type Config = Readonly<z.output<typeof envSchema>>;

/** Reads the configuration from the environment once, reporting every bad or missing key at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new InputError(parsed.error.issues.map((i) => `environment ${i.path.join('.')}: ${i.message} (value: ${JSON.stringify(env[String(i.path[0])])})`));
  }
  return Object.freeze(parsed.data);
}

/** Fails fast when a function needs a key that is optional for others. */
export function requireConfig<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new InputError([`environment ${String(key)}: required by this function but missing`]);
  return value as NonNullable<Config[K]>;
}
