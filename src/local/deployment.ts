/**
 * What deploying the guard creates, made in the emulator the way CloudFormation would make it: the
 * central stack's event bus (its policy admitting the organization), the intake rules on that bus and on
 * the home account's default bus, and, per member account, the member stack: a forwarding rule on the
 * default bus of each region it is deployed in, and the read and write roles trusting the guard's
 * functions. EventBridge calls go through the real SDK; IAM is not on the emulator's wire, so roles are
 * put into its model directly.
 *
 * A member account's CloudTrail events reach the guard only where its member stack forwards them,
 * exactly as in AWS: an account without the stack is heard by nobody, and the sweep reports it uncovered.
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateEventBusCommand, EventBridgeClient, PutPermissionCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { INTAKE_RULE_PATTERN } from '../events/rule';
import type { Emulator } from '../emulator';

export const CENTRAL_BUS_NAME = 'eks-endpoint-guard-events';
/** The deployed defaults of the stage parameters memberReadRoleName / memberWriteRoleName. */
export const MEMBER_READ_ROLE_NAME = 'eks-endpoint-guard-member-read';
export const MEMBER_WRITE_ROLE_NAME = 'eks-endpoint-guard-member-write';
export const MEMBER_FINDINGS_ROLE_NAME = 'eks-endpoint-guard-member-findings';
/** The Express update tracker's execution role, and the home account's change reader role it polls as (serverless.yml). */
export const TRACKER_ROLE_NAME = 'eks-endpoint-guard-local-track-change';
export const CHANGE_READER_ROLE_NAME = 'eks-endpoint-guard-local-change-reader';
const INTAKE_RULE_NAME = 'eks-endpoint-guard-local-eks-changes';
const FORWARD_RULE_NAME = 'eks-endpoint-guard-forward-eks-changes';
const FORWARD_ROLE_NAME = 'eks-endpoint-guard-forward-events';

/** Where a member stack is deployed: one stack instance per region (the roles once per account). */
export type MemberDeployment = { account: string; regions: string[] };

export type CentralDeployment = {
  homeAccount: string;
  homeRegion: string;
  /** The role every guard function runs as (one role locally; one per function when deployed). */
  functionRoleArn: string;
  /** The Express update tracker's role: the change reader and the member read roles trust it too. */
  trackerRoleArn: string;
  /** The organization the bus admits (aws:PrincipalOrgID); null: no organization, the member accounts are named. */
  organizationId: string | null;
};

export type Deployed = {
  /** The triage function's ARN: the target of both intake rules. */
  intakeTargetArn: string;
  centralBusArn: string;
  /** The intake's dead-letter queue (serverless.yml IntakeDeadLetterQueue): undeliverable events and the intake's failure records. */
  deadLetterQueueArn: string;
  members: MemberDeployment[];
};

/** The local stage's dead-letter queue name, as serverless.yml names it (`redrive --stage local` finds it). */
export const DEAD_LETTER_QUEUE_NAME = 'eks-endpoint-guard-local-unprocessed-events';

function client(emulator: Emulator, account: string, region: string, who: string): EventBridgeClient {
  return new EventBridgeClient({ region, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${account}:role/${who}`), maxAttempts: 1 });
}

/** The central bus's resource policy: every account of the organization may put events, nobody else. */
function busPolicy(deployment: CentralDeployment, busArn: string, members: MemberDeployment[]): string {
  const statement = deployment.organizationId
    ? { Sid: 'OrganizationPutEvents', Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: busArn, Condition: { StringEquals: { 'aws:PrincipalOrgID': deployment.organizationId } } }
    : { Sid: 'MemberPutEvents', Effect: 'Allow', Principal: { AWS: [...new Set(members.map((m) => m.account))].map((a) => `arn:aws:iam::${a}:root`) }, Action: 'events:PutEvents', Resource: busArn };
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
}

/** Deploys the central stack's event routing and the member stacks, as serverless.yml and the member template declare them. */
export async function deployGuard(emulator: Emulator, central: CentralDeployment, members: MemberDeployment[]): Promise<Deployed> {
  const { homeAccount, homeRegion } = central;
  const intakeTargetArn = `arn:aws:lambda:${homeRegion}:${homeAccount}:function:eks-endpoint-guard-local-triageEvent`;
  const centralBusArn = `arn:aws:events:${homeRegion}:${homeAccount}:event-bus/${CENTRAL_BUS_NAME}`;
  const pattern = JSON.stringify(INTAKE_RULE_PATTERN);
  const deadLetterQueueArn = `arn:aws:sqs:${homeRegion}:${homeAccount}:${DEAD_LETTER_QUEUE_NAME}`;
  const sqs = new SQSClient({ region: homeRegion, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${homeAccount}:role/cloudformation-deploy`), maxAttempts: 1 });
  try {
    await sqs.send(new CreateQueueCommand({ QueueName: DEAD_LETTER_QUEUE_NAME, Attributes: { MessageRetentionPeriod: '1209600' } }));
  } finally {
    sqs.destroy();
  }

  const home = client(emulator, homeAccount, homeRegion, 'cloudformation-deploy');
  try {
    await home.send(new CreateEventBusCommand({ Name: CENTRAL_BUS_NAME }));
    const others = members.filter((m) => m.account !== homeAccount);
    if (central.organizationId || others.length > 0) {
      await home.send(new PutPermissionCommand({ EventBusName: CENTRAL_BUS_NAME, Policy: busPolicy(central, centralBusArn, others) }));
    }
    // The home account's own events arrive on its default bus; the members' on the central bus.
    for (const bus of ['default', CENTRAL_BUS_NAME]) {
      await home.send(new PutRuleCommand({ Name: INTAKE_RULE_NAME, EventBusName: bus, EventPattern: pattern, State: 'ENABLED' }));
      await home.send(
        new PutTargetsCommand({
          Rule: INTAKE_RULE_NAME,
          EventBusName: bus,
          Targets: [{ Id: 'triageEvent', Arn: intakeTargetArn, DeadLetterConfig: { Arn: deadLetterQueueArn }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }],
        }),
      );
    }
  } finally {
    home.destroy();
  }

  // The change reader: the tracker polls the home account's clusters as this role (Task Credentials).
  emulator.putRole({ account: homeAccount, name: CHANGE_READER_ROLE_NAME, trust: [central.trackerRoleArn] });
  for (const member of members) {
    deployMemberRoles(emulator, member.account, central);
    for (const region of member.regions) {
      // The central account's own region is heard by the central default-bus rule: forwarding it too would deliver every event twice.
      if (member.account === homeAccount && region === homeRegion) continue;
      const roleArn = `arn:aws:iam::${member.account}:role/${FORWARD_ROLE_NAME}-${region}`;
      emulator.putRole({ account: member.account, name: `${FORWARD_ROLE_NAME}-${region}`, trust: [] });
      const eb = client(emulator, member.account, region, 'stackset-execution');
      try {
        await eb.send(new PutRuleCommand({ Name: FORWARD_RULE_NAME, EventPattern: pattern, State: 'ENABLED' }));
        await eb.send(new PutTargetsCommand({ Rule: FORWARD_RULE_NAME, Targets: [{ Id: 'centralBus', Arn: centralBusArn, RoleArn: roleArn }] }));
      } finally {
        eb.destroy();
      }
    }
  }
  return { intakeTargetArn, centralBusArn, deadLetterQueueArn, members };
}

/**
 * The member stack's roles (created once per account): read for every function and the update tracker, write for remediation
 * only, findings for Security Hub imports only, all trusting exactly the guard's function role (and, in an organization, only from inside it).
 * The home account needs none: the functions act there with their own role.
 */
function deployMemberRoles(emulator: Emulator, account: string, central: CentralDeployment): void {
  if (account === central.homeAccount) return;
  const orgCondition = central.organizationId !== null;
  // The read role also trusts the update tracker (its SDK tasks poll DescribeUpdate as this role).
  emulator.putRole({ account, name: MEMBER_READ_ROLE_NAME, trust: [central.functionRoleArn, central.trackerRoleArn], orgCondition });
  for (const name of [MEMBER_WRITE_ROLE_NAME, MEMBER_FINDINGS_ROLE_NAME]) emulator.putRole({ account, name, trust: [central.functionRoleArn], orgCondition });
}
