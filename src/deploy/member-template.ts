/**
 * The member stack: the CloudFormation template every governed account gets, beside the central stack
 * (serverless.yml) in the home account. `npm run package` renders it to `.serverless/member-stack.json`
 * (scripts/member-template.ts) and `npm run lint:cfn` lints it.
 *
 * It is written to be deployed as a service-managed StackSet with automatic deployment to OUs, to every
 * governed region, and as a plain stack (one per region) in the management account, which service-managed
 * StackSets skip. Nothing in it names an account or a region: everything comes from parameters and pseudo
 * parameters, so one template serves every stack instance.
 *
 * - Per account and region: a rule on the default bus matching exactly the intake's pattern
 *   (INTAKE_RULE_PATTERN, the one source the central rules and the local runner use too), targeting the
 *   central event bus through a role that may only `events:PutEvents` to that bus. CloudTrail delivers
 *   an account's events to the default bus of their own region, and only bus-to-bus targets cross both
 *   accounts and regions. Skipped in the central account's own region, where the central stack's rule on
 *   the default bus hears them already (forwarding them as well would deliver each event twice).
 * - With the rule, per account and region: its dead-letter queue and an alarm on it. EventBridge retries
 *   a refused or throttled PutEvents to the central bus for 24 hours, then drops the event unless the
 *   target has a DeadLetterConfig, and the queue must be in the rule's own account and region. So a
 *   member account keeps what the central bus would not take (14 days, the SQS maximum) and says so:
 *   the alarm fires on one visible message and notifies AlarmTopicArn when one is given.
 * - Per account, once: IAM is global, so a StackSet that deploys the same template to several regions must
 *   create a role in one of them only. The read and write roles exist where `AWS::Region` is RolesRegion
 *   (the condition CreateMemberRoles), and never in the central account, where the functions act with
 *   their own roles. The read role serves every function that reads clusters; the write role, trusted by
 *   remediateCluster's role alone, may only UpdateClusterConfig and carries the guardrail Deny
 *   (GUARDRAIL_STATEMENTS). Both trust exactly the central functions' role ARNs, and only principals of
 *   the organization (`aws:PrincipalOrgID`).
 *
 * Pure: no AWS SDK, no environment, no clock.
 */
import { INTAKE_RULE_PATTERN } from '../events/rule';
import { GUARDRAIL_STATEMENTS } from '../iam/guardrail';

/** A CloudFormation template, as far as this module writes one. */
export type CfnTemplate = {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Metadata?: Record<string, unknown>;
  Parameters: Record<string, Record<string, unknown>>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, { Condition?: string; Description?: string; Value: unknown; Export?: unknown }>;
};

/** The default role names: the central stack's MemberReadRoleName and MemberWriteRoleName defaults. */
export const DEFAULT_READ_ROLE_NAME = 'eks-endpoint-guard-member-read';
export const DEFAULT_WRITE_ROLE_NAME = 'eks-endpoint-guard-member-write';
export const DEFAULT_FINDINGS_ROLE_NAME = 'eks-endpoint-guard-member-findings';

/**
 * Every action the central functions call in a member account, and nothing else (src/aws/eks.ts,
 * src/aws/ec2.ts): what the sweep, the waits, the evaluations and the preflight check read.
 */
export const MEMBER_READ_ACTIONS = Object.freeze({
  /** On cluster ARNs (DescribeUpdate is authorized on the cluster). */
  clusters: ['eks:DescribeCluster', 'eks:DescribeUpdate'],
  /** No resource type: IAM accepts only "*". */
  list: ['eks:ListClusters'],
  /** EC2 Describe* actions support no resource-level permissions: IAM requires "*". The preflight check's VPC DNS facts. */
  ec2: ['ec2:DescribeDhcpOptions', 'ec2:DescribeVpcAttribute', 'ec2:DescribeVpcs'],
});

/**
 * The write role's one allowed action: remediateCluster reads the cluster through the read role just
 * before (src/aws/eks.ts uses `write` for UpdateClusterConfig only), so the write role needs nothing else.
 * Remediation never tags (no eks:TagResource).
 */
export const MEMBER_WRITE_ACTIONS = Object.freeze(['eks:UpdateClusterConfig']);

/** Assumed-role sessions of a chained role last one hour at most: the functions ask for exactly that. */
const MAX_SESSION_SECONDS = 3600;

const sub = (text: string) => ({ 'Fn::Sub': text });
const ref = (name: string) => ({ Ref: name });
const condition = (name: string) => ({ Condition: name });

const CLUSTER_ARNS = sub('arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*');
const CENTRAL_BUS_ARN = sub('arn:${AWS::Partition}:events:${CentralRegion}:${CentralAccountId}:event-bus/${CentralEventBusName}');
const RULE_NAME = sub('${CentralEventBusName}-forward');
const RULE_ARN = sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${CentralEventBusName}-forward');
/** SQS keeps a message 14 days at most: the longest time anyone has to notice and redrive. */
export const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/** A trust policy admitting exactly `principals`, and only as principals of the organization. */
function trustCentralRoles(principals: unknown) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'CentralFunctionsOfTheOrganization',
        Effect: 'Allow',
        Principal: { AWS: principals },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ref('OrganizationId') } },
      },
    ],
  };
}

/** The member stack's CloudFormation template (see the module comment). */
export function memberTemplate(): CfnTemplate {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'eks-endpoint-guard member stack: forwards EKS CloudTrail events to the central bus (dead-lettered and alarmed) and holds the member read and write roles (generated by npm run package from src/deploy/member-template.ts; do not edit)',
    Metadata: {
      'AWS::CloudFormation::Interface': {
        ParameterGroups: [
          { Label: { default: 'The central stack (its outputs)' }, Parameters: ['CentralAccountId', 'CentralRegion', 'CentralEventBusName', 'CentralReadRoleArns', 'CentralWriteRoleArn'] },
          { Label: { default: 'The organization' }, Parameters: ['OrganizationId', 'RolesRegion', 'ReadRoleName', 'WriteRoleName', 'FindingsRoleName', 'CentralFindingsRoleArns'] },
          { Label: { default: 'Operations' }, Parameters: ['AlarmTopicArn'] },
        ],
      },
    },
    Parameters: {
      OrganizationId: {
        Type: 'String',
        AllowedPattern: '^o-[a-z0-9]{10,32}$',
        ConstraintDescription: 'an AWS Organizations id such as o-a1b2c3d4e5',
        Description: 'The organization: the member roles trust its principals only (aws:PrincipalOrgID); the central stack\'s OrganizationId',
      },
      CentralAccountId: {
        Type: 'String',
        AllowedPattern: '^\\d{12}$',
        ConstraintDescription: 'a 12-digit AWS account id',
        Description: 'The account of the central stack (the home account)',
      },
      CentralRegion: {
        Type: 'String',
        AllowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
        ConstraintDescription: 'a region name such as us-east-1',
        Description: 'The region of the central stack',
      },
      CentralEventBusName: {
        Type: 'String',
        AllowedPattern: '^[\\w.-]{1,56}$',
        ConstraintDescription: 'an event bus name (the central stack output CentralEventBusName)',
        Description: 'The central event bus (central stack output CentralEventBusName, e.g. eks-endpoint-guard-prod-events)',
      },
      CentralReadRoleArns: {
        Type: 'CommaDelimitedList',
        Description: 'The central roles the read role trusts: the reading functions and the update tracker (central stack output MemberReadTrustedRoleArns)',
      },
      CentralWriteRoleArn: {
        Type: 'String',
        AllowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$',
        ConstraintDescription: 'an IAM role ARN (the central stack output MemberWriteTrustedRoleArn)',
        Description: 'The central role the write role trusts, remediateCluster\'s (central stack output MemberWriteTrustedRoleArn)',
      },
      CentralFindingsRoleArns: {
        Type: 'String',
        Default: '',
        Description: 'The central roles the findings role trusts, comma-separated (central stack output MemberFindingsTrustedRoleArns); empty: no findings role (Security Hub findings off)',
      },
      FindingsRoleName: {
        Type: 'String',
        Default: DEFAULT_FINDINGS_ROLE_NAME,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description: 'The member findings role (the central stack\'s MemberFindingsRoleName)',
      },
      RolesRegion: {
        Type: 'String',
        AllowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
        ConstraintDescription: 'a region name such as us-east-1',
        Description: 'IAM is global: the member roles are created only by the stack instance in this region (one of the regions the stack set deploys to)',
      },
      ReadRoleName: {
        Type: 'String',
        Default: DEFAULT_READ_ROLE_NAME,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description: 'The member read role (the central stack\'s MemberReadRoleName)',
      },
      WriteRoleName: {
        Type: 'String',
        Default: DEFAULT_WRITE_ROLE_NAME,
        AllowedPattern: '^[\\w+=,.@-]{1,64}$',
        Description: 'The member write role (the central stack\'s MemberWriteRoleName)',
      },
      AlarmTopicArn: {
        Type: 'String',
        Default: '',
        // A topic of any account: its policy must let cloudwatch.amazonaws.com publish (from the member accounts).
        AllowedPattern: '^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[\\w-]{1,256})?$',
        ConstraintDescription: 'empty, or an SNS topic ARN',
        Description: 'The SNS topic the forwarding dead-letter alarm notifies (empty: the alarm changes state but notifies nobody)',
      },
    },
    Conditions: {
      IsRolesRegion: { 'Fn::Equals': [ref('AWS::Region'), ref('RolesRegion')] },
      IsCentralAccount: { 'Fn::Equals': [ref('AWS::AccountId'), ref('CentralAccountId')] },
      IsCentralRegion: { 'Fn::Equals': [ref('AWS::Region'), ref('CentralRegion')] },
      // Once per account, and not in the central account: the functions act there with their own roles.
      CreateMemberRoles: { 'Fn::And': [condition('IsRolesRegion'), { 'Fn::Not': [condition('IsCentralAccount')] }] },
      CreateFindingsRole: { 'Fn::And': [condition('CreateMemberRoles'), { 'Fn::Not': [{ 'Fn::Equals': [ref('CentralFindingsRoleArns'), ''] }] }] },
      // Everywhere but the central account's own region, whose default bus the central stack listens to.
      ForwardEvents: { 'Fn::Not': [{ 'Fn::And': [condition('IsCentralAccount'), condition('IsCentralRegion')] }] },
      HasAlarmTopic: { 'Fn::Not': [{ 'Fn::Equals': [ref('AlarmTopicArn'), ''] }] },
    },
    Resources: {
      // The one resource every instance creates: in the central account's own region all the others are
      // conditioned out, and CloudFormation refuses a stack left with no resource at all.
      MemberStackPresence: {
        Type: 'AWS::CloudFormation::WaitConditionHandle',
        Properties: {},
      },
      ForwardToCentralBusRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'ForwardEvents',
        // No RoleName: one role per region, so the instances in several regions never collide (IAM is global).
        Properties: {
          Description: 'eks-endpoint-guard: EventBridge forwards EKS CloudTrail events to the central bus',
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sts:AssumeRole',
                // Only this account's forwarding rule may use the role (confused deputy).
                Condition: {
                  StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
                  ArnEquals: { 'aws:SourceArn': RULE_ARN },
                },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'put-events-to-central-bus',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Sid: 'PutEventsToCentralBusOnly', Effect: 'Allow', Action: 'events:PutEvents', Resource: CENTRAL_BUS_ARN }],
              },
            },
          ],
        },
      },
      ForwardEksEventsRule: {
        Type: 'AWS::Events::Rule',
        Condition: 'ForwardEvents',
        Properties: {
          Name: RULE_NAME,
          Description: 'eks-endpoint-guard: EKS CloudTrail events the guard judges, forwarded to the central bus',
          // The default bus, where CloudTrail delivers this account's events of this region.
          EventPattern: JSON.parse(JSON.stringify(INTAKE_RULE_PATTERN)),
          State: 'ENABLED',
          Targets: [
            {
              Id: 'central-event-bus',
              Arn: CENTRAL_BUS_ARN,
              RoleArn: { 'Fn::GetAtt': ['ForwardToCentralBusRole', 'Arn'] },
              // Keep trying for as long as EventBridge allows: a lost event waits for the next sweep.
              RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
              // What is still refused after that is kept here instead of dropped.
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] } },
            },
          ],
        },
      },
      ForwardDeadLetterQueue: {
        Type: 'AWS::SQS::Queue',
        Condition: 'ForwardEvents',
        // No QueueName: CloudFormation names it per stack instance. SSE-SQS, not KMS: EventBridge can write a
        // dead letter to a KMS-encrypted queue only with a customer managed key it is granted.
        Properties: {
          MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS,
          SqsManagedSseEnabled: true,
        },
      },
      ForwardDeadLetterQueuePolicy: {
        Type: 'AWS::SQS::QueuePolicy',
        Condition: 'ForwardEvents',
        Properties: {
          Queues: [ref('ForwardDeadLetterQueue')],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'ForwardingRuleDeadLetters',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] },
                // This stack's rule only (confused deputy): another rule's dead letters are not ours to keep.
                Condition: { ArnEquals: { 'aws:SourceArn': RULE_ARN } },
              },
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: '*',
                Action: 'sqs:*',
                Resource: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] },
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          },
        },
      },
      ForwardDeadLetterAlarm: {
        Type: 'AWS::CloudWatch::Alarm',
        Condition: 'ForwardEvents',
        // No AlarmName: names are per account and region already, but CloudFormation's keep two stacks apart too.
        Properties: {
          AlarmDescription: sub(
            'eks-endpoint-guard: EKS events of ${AWS::AccountId} in ${AWS::Region} the central bus ${CentralEventBusName} refused for 24 hours are waiting in the dead-letter queue; fix the cause (the forwarding role, the central bus policy), then send them to the central bus again',
          ),
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'QueueName'] } }],
          Statistic: 'Maximum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          // SQS publishes no datapoint for an idle queue: no data is no dead letter.
          TreatMissingData: 'notBreaching',
          AlarmActions: { 'Fn::If': ['HasAlarmTopic', [ref('AlarmTopicArn')], ref('AWS::NoValue')] },
        },
      },
      MemberReadRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'CreateMemberRoles',
        Properties: {
          // The central functions build the ARN from the name alone (path /).
          RoleName: ref('ReadRoleName'),
          Description: 'eks-endpoint-guard: the central functions read EKS clusters and their VPC DNS settings',
          MaxSessionDuration: MAX_SESSION_SECONDS,
          AssumeRolePolicyDocument: trustCentralRoles(ref('CentralReadRoleArns')),
          Policies: [
            {
              PolicyName: 'read-clusters',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Sid: 'ReadClusters', Effect: 'Allow', Action: [...MEMBER_READ_ACTIONS.clusters], Resource: CLUSTER_ARNS },
                  { Sid: 'ListClusters', Effect: 'Allow', Action: [...MEMBER_READ_ACTIONS.list], Resource: '*' },
                  { Sid: 'ReadVpcDnsSettings', Effect: 'Allow', Action: [...MEMBER_READ_ACTIONS.ec2], Resource: '*' },
                ],
              },
            },
          ],
        },
      },
      MemberWriteRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'CreateMemberRoles',
        Properties: {
          RoleName: ref('WriteRoleName'),
          Description: 'eks-endpoint-guard: remediateCluster narrows EKS endpoint access; it can never widen it (guardrail)',
          MaxSessionDuration: MAX_SESSION_SECONDS,
          AssumeRolePolicyDocument: trustCentralRoles(ref('CentralWriteRoleArn')),
          Policies: [
            {
              PolicyName: 'narrow-endpoint-access',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Sid: 'UpdateEndpointAccess', Effect: 'Allow', Action: [...MEMBER_WRITE_ACTIONS], Resource: CLUSTER_ARNS },
                  // Whatever the central code asks, this role cannot turn public access on or private access
                  // off (Bool, never BoolIfExists: see src/iam/guardrail.ts).
                  ...JSON.parse(JSON.stringify(GUARDRAIL_STATEMENTS)),
                ],
              },
            },
          ],
        },
      },
      // Security Hub findings (opt-in): imported in the account's own hub, since a finding's AwsAccountId must
      // be the caller's. A role of its own, so the functions that post findings never hold one that can
      // change a cluster; it may import and update findings of this account only.
      MemberFindingsRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'CreateFindingsRole',
        Properties: {
          RoleName: ref('FindingsRoleName'),
          Description: 'eks-endpoint-guard: imports this account\'s EKS endpoint findings into Security Hub, nothing else',
          MaxSessionDuration: MAX_SESSION_SECONDS,
          AssumeRolePolicyDocument: trustCentralRoles({ 'Fn::Split': [',', ref('CentralFindingsRoleArns')] }),
          Policies: [
            {
              PolicyName: 'import-endpoint-findings',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Sid: 'ImportOwnFindings', Effect: 'Allow', Action: ['securityhub:BatchImportFindings'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default' } },
                  { Sid: 'UpdateOwnFindings', Effect: 'Allow', Action: ['securityhub:BatchUpdateFindings'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default' } },
                ],
              },
            },
          ],
        },
      },
    },
    Outputs: {
      ForwardingRuleArn: {
        Condition: 'ForwardEvents',
        Description: 'The rule forwarding this region\'s EKS CloudTrail events to the central bus',
        Value: { 'Fn::GetAtt': ['ForwardEksEventsRule', 'Arn'] },
      },
      ForwardDeadLetterQueueUrl: {
        Condition: 'ForwardEvents',
        Description: 'The forwarding rule\'s dead-letter queue: events the central bus refused for 24 hours',
        Value: ref('ForwardDeadLetterQueue'),
      },
      ReadRoleArn: {
        Condition: 'CreateMemberRoles',
        Description: 'The member read role (created in RolesRegion only)',
        Value: { 'Fn::GetAtt': ['MemberReadRole', 'Arn'] },
      },
      WriteRoleArn: {
        Condition: 'CreateMemberRoles',
        Description: 'The member write role (created in RolesRegion only)',
        Value: { 'Fn::GetAtt': ['MemberWriteRole', 'Arn'] },
      },
    },
  };
}

/** The template as the file `npm run package` writes (JSON, as the central template). */
export function renderMemberTemplate(): string {
  return `${JSON.stringify(memberTemplate(), null, 2)}\n`;
}
