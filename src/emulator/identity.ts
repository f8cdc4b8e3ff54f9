import { randomKeyId, randomSecret, stableId } from './ids';
import type { ResolvedEmulatorState } from './state';

/** Who makes a call; mirrors the CloudTrail userIdentity types the product sees. */
export type Principal =
  | { type: 'IAMUser'; account: string; arn: string; principalId: string; userName: string }
  | {
      type: 'AssumedRole';
      account: string;
      arn: string;
      principalId: string;
      sessionName: string;
      role: { name: string; arn: string; principalId: string };
      createdMs: number;
    };

export type AccessKey = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  principal: Principal;
  /** Overrides of what CloudTrail records, for rehearsing calls "from" elsewhere. */
  sourceIp?: string;
  userAgent?: string;
  expiresMs?: number;
};

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export const FALLBACK_ACCOUNT = '123456789012';
export const FALLBACK_USER = 'local-user';
/** Session name given to calls made "as a role" through credentialsFor with a role ARN. */
export const DEFAULT_SESSION_NAME = 'local-session';

const ARN = /^arn:aws:(?:iam::(\d{12}):(user|role)\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)|sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+))$/;

export function iamUser(account: string, userName: string, path = ''): Principal {
  const arn = `arn:aws:iam::${account}:user/${path}${userName}`;
  return { type: 'IAMUser', account, arn, userName, principalId: stableId('AIDA', arn, 17, true) };
}

export function assumedRole(account: string, roleName: string, sessionName: string, createdMs: number, rolePath = ''): Principal {
  const roleArn = `arn:aws:iam::${account}:role/${rolePath}${roleName}`;
  const roleId = stableId('AROA', roleArn, 17, true);
  return {
    type: 'AssumedRole',
    account,
    // Assumed-role ARNs drop the role's path, as STS does.
    arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
    principalId: `${roleId}:${sessionName}`,
    sessionName,
    role: { name: roleName, arn: roleArn, principalId: roleId },
    createdMs,
  };
}

/** Parses a user, role or assumed-role ARN into a principal; a bare role acts as a `local-session` session. */
export function principalFromArn(arn: string, nowMs: number): Principal {
  const m = ARN.exec(arn);
  if (!m) {
    throw new RangeError(
      `not a principal ARN: ${arn} (expected arn:aws:iam::ACCOUNT:user/NAME, arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)`,
    );
  }
  const [, account, kind, path, name, stsAccount, roleName, session] = m;
  if (stsAccount && roleName && session) return assumedRole(stsAccount, roleName, session, nowMs);
  return kind === 'user' ? iamUser(account!, name!, path) : assumedRole(account!, name!, DEFAULT_SESSION_NAME, nowMs, path);
}

/**
 * The access key table. Signatures are not verified, so a key id alone decides who calls: keys from the
 * state file and from credentialsFor/AssumeRole act as their principal; any other key acts as
 * `local-user` in the account the key id names when it is 12 digits, else in the default account.
 */
export class Identities {
  private readonly stateKeys = new Map<string, AccessKey>();
  private readonly issuedKeys = new Map<string, AccessKey>();
  private readonly issuedByPrincipal = new Map<string, AccessKey>();
  private defaultAccount = FALLBACK_ACCOUNT;

  load(state: ResolvedEmulatorState, nowMs: number): void {
    this.stateKeys.clear();
    this.defaultAccount = state.defaultAccount ?? FALLBACK_ACCOUNT;
    for (const account of state.accounts) {
      for (const key of account.accessKeys) {
        const principal = key.principalArn ? principalFromArn(key.principalArn, nowMs) : iamUser(account.id, key.user ?? FALLBACK_USER);
        this.stateKeys.set(key.accessKeyId, { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey ?? 'local', principal });
      }
    }
  }

  get fallbackAccount(): string {
    return this.defaultAccount;
  }

  resolve(accessKeyId: string | undefined): AccessKey {
    const known = accessKeyId ? (this.issuedKeys.get(accessKeyId) ?? this.stateKeys.get(accessKeyId)) : undefined;
    if (known) return known;
    const account = accessKeyId && /^\d{12}$/.test(accessKeyId) ? accessKeyId : this.defaultAccount;
    return { accessKeyId: accessKeyId ?? '', secretAccessKey: 'local', principal: iamUser(account, FALLBACK_USER) };
  }

  /** Registers (or reuses, for the same principal and overrides) a key that acts as `principalArn`. */
  credentialsFor(principalArn: string, opts: { sourceIp?: string; userAgent?: string }, nowMs: number): AccessKey {
    const reuseKey = JSON.stringify([principalArn, opts.sourceIp ?? null, opts.userAgent ?? null]);
    const existing = this.issuedByPrincipal.get(reuseKey);
    if (existing) return existing;
    const principal = principalFromArn(principalArn, nowMs);
    const key = this.issue(principal, opts);
    this.issuedByPrincipal.set(reuseKey, key);
    return key;
  }

  /** Issues temporary credentials for a role session, as STS AssumeRole does. */
  assumeRole(roleArn: string, sessionName: string, nowMs: number, expiresMs: number): AccessKey {
    const m = /^arn:aws:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]+)$/.exec(roleArn);
    if (!m) throw new RangeError(`not a role ARN: ${roleArn}`);
    return this.issue(assumedRole(m[1]!, m[3]!, sessionName, nowMs, m[2]), {}, expiresMs);
  }

  private issue(principal: Principal, opts: { sourceIp?: string; userAgent?: string }, expiresMs?: number): AccessKey {
    const temporary = principal.type === 'AssumedRole';
    const key: AccessKey = {
      accessKeyId: randomKeyId(temporary ? 'ASIA' : 'AKIA'),
      secretAccessKey: randomSecret(),
      ...(temporary ? { sessionToken: randomSecret(96) } : {}),
      principal,
      ...(opts.sourceIp ? { sourceIp: opts.sourceIp } : {}),
      ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
      ...(expiresMs !== undefined ? { expiresMs } : {}),
    };
    this.issuedKeys.set(key.accessKeyId, key);
    return key;
  }
}
