import { z } from 'zod';
import { InputError } from './errors';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');
const list = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));

const envSchema = z.object({
  /** The policy bundled with the function, relative to the working directory (the Lambda task root). */
  POLICY_FILE: z.string().min(1).default('policy.yaml'),
  /** Alert-only everywhere, whatever the policy's modes say. */
  SHADOW_MODE: bool,
  /** Publish an info alert for changes found compliant too (off by default: on-call needs no news of good news). */
  NOTIFY_COMPLIANT: bool,
  ALERT_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, { error: 'not an SNS topic ARN' }).optional(),
  STATE_MACHINE_ARN: z.string().regex(/^arn:aws[a-z-]*:states:/, { error: 'not a Step Functions state machine ARN' }).optional(),
  /** The guard's own role ARNs: changes made through them are its own only when the ledger recorded the update. */
  SELF_ROLE_ARNS: list,
  /** A role of this name in another account is assumed to act on that account's clusters (never in the home account). */
  CROSS_ACCOUNT_ROLE_NAME: z.string().optional(),
  /** The account the functions run in (CloudFormation `AWS::AccountId`). */
  HOME_ACCOUNT_ID: z.string().regex(/^\d{12}$/, { error: 'not a 12-digit AWS account id' }).optional(),
  /** Accounts the scheduled sweep covers besides the home account (needs CROSS_ACCOUNT_ROLE_NAME). */
  SWEEP_ACCOUNTS: list,
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
