import type { Policy } from '../policy';
import type { AlertPort, Ec2Port, EksPort, ExecutionPort } from './ports';

/** The structured logger the use cases write to (Powertools Logger satisfies it). */
export type Log = {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
};

export type WorkflowSettings = {
  shadowMode: boolean;
  notifyCompliant: boolean;
  maxWaitSeconds: number;
  maxBusyAttempts: number;
};

/** What the state machine's steps are given: ports, the policy, settings and a clock. */
export type WorkflowDeps = {
  eks: EksPort;
  ec2: Ec2Port;
  alerts: AlertPort;
  policy: Policy;
  settings: WorkflowSettings;
  now: () => number;
  log: Log;
};

/** What the intake and the sweep are given. */
export type IntakeDeps = {
  executions: ExecutionPort;
  eks: EksPort;
  policy: Policy;
  settings: WorkflowSettings;
  /** The guard's own role ARNs for an event in `account` (see triage's SELF_REMEDIATION). */
  selfRoleArnsFor: (account: string | null) => string[];
  now: () => number;
  log: Log;
};
