/**
 * The deployable product: `sls package` of serverless.yml, offline and without credentials, and the
 * CloudFormation template it produces. Packaging runs once per configuration, in parallel, in beforeAll.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTAKE_RULE_PATTERN } from '../../src/events/rule';
import { DEFAULT_READ_ROLE_NAME, DEFAULT_WRITE_ROLE_NAME, memberTemplate } from '../../src/deploy/member-template';
import { GUARDRAIL_STATEMENTS } from '../../src/iam/guardrail';
import { OUTCOMES } from '../../src/local/expect';
import { METRIC_NAMES, METRICS_NAMESPACE, OUTCOME_DIMENSION, SERVICE_NAME } from '../../src/observability/metrics';
import { cfnLint, packageService, ROOT, type PackageRun, type Template } from './package';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type Conditional = { 'Fn::If': [string, Statement, unknown] };

// The ledger is written with compare-and-set (GetItem, then PutItem conditioned on `version`).
const READ_WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/**
 * Every function: its handler, its role, exactly the actions its role may use besides logging, and,
 * among them, its DynamoDB actions on the ledger (none: no LEDGER_TABLE either); `member`: the member
 * roles it may assume in other accounts of the organization; `organizations`: it reads AWS Organizations
 * (a policy rule matching on ous or accountTags).
 */
const FUNCTIONS = {
  triageEvent: { file: 'triage-event', actions: ['states:StartExecution', 'sqs:SendMessage'], ledger: ['dynamodb:GetItem', 'dynamodb:PutItem'], member: [] },
  // The organization sweep (statemachine/sweep-organization.asl.yml): the plan reads the organization and
  // no cluster; each unit reads clusters (member read role) and starts executions, nothing else; the
  // coverage record is written (never read back) and warned on.
  listSweepUnits: { file: 'list-sweep-units', actions: [], ledger: [], member: [], organizations: true },
  sweepUnit: { file: 'sweep-unit', actions: ['eks:ListClusters', 'eks:DescribeCluster', 'states:StartExecution'], ledger: [], member: ['read'] },
  recordCoverage: { file: 'record-coverage', actions: ['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt'], ledger: ['dynamodb:PutItem'], member: [] },
  acquireLease: { file: 'acquire-lease', actions: [], ledger: ['dynamodb:GetItem', 'dynamodb:PutItem'], member: [] },
  waitForChange: { file: 'wait-for-change', actions: ['eks:DescribeUpdate', 'eks:DescribeCluster'], ledger: READ_WRITE, member: ['read'] },
  evaluateCluster: { file: 'evaluate-cluster', actions: ['eks:DescribeCluster'], ledger: READ_WRITE, member: ['read'], organizations: true },
  preflightCheck: { file: 'preflight-check', actions: ['ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute', 'ec2:DescribeDhcpOptions'], ledger: [], member: ['read'] },
  remediateCluster: { file: 'remediate-cluster', actions: ['eks:UpdateClusterConfig', 'eks:DescribeCluster'], ledger: READ_WRITE, member: ['read', 'write'] },
  waitForRevert: { file: 'wait-for-revert', actions: ['eks:DescribeUpdate', 'eks:DescribeCluster'], ledger: READ_WRITE, member: ['read'] },
  // Inside the Express tracker, for clusters in another region than the stack's (SDK integrations reach their own only).
  pollChange: { file: 'poll-change', actions: ['eks:DescribeUpdate', 'eks:DescribeCluster'], ledger: [], member: ['read'] },
  verifyRemediation: { file: 'verify-remediation', actions: ['eks:DescribeCluster'], ledger: READ_WRITE, member: ['read'], organizations: true },
  recordOutcome: { file: 'record-outcome', actions: [], ledger: READ_WRITE, member: [] },
  // A chat notice and an event before the revert.
  notifyDetection: { file: 'notify-detection', actions: ['events:PutEvents', 'sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt', 'securityhub:BatchImportFindings', 'securityhub:BatchUpdateFindings'], ledger: ['dynamodb:GetItem'], member: ['findings'] },
  // The Security Hub finding after the outcome.
  updateFinding: { file: 'update-finding', actions: ['securityhub:BatchImportFindings', 'securityhub:BatchUpdateFindings'], ledger: [], member: ['findings'] },
  // The outcome event on the home default bus, then the alert.
  notifyOutcome: { file: 'notify-outcome', actions: ['events:PutEvents', 'sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt'], ledger: READ_WRITE, member: [] },
} as const;
type FunctionName = keyof typeof FUNCTIONS;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** Task state → the function it invokes. */
const TASKS: Record<string, FunctionName> = {
  WaitForChange: 'waitForChange',
  AcquireLease: 'acquireLease',
  EvaluateCluster: 'evaluateCluster',
  PreflightCheck: 'preflightCheck',
  RemediateCluster: 'remediateCluster',
  WaitForRevert: 'waitForRevert',
  VerifyRemediation: 'verifyRemediation',
  RecordOutcome: 'recordOutcome',
  NotifyDetection: 'notifyDetection',
  UpdateFinding: 'updateFinding',
  NotifyOutcome: 'notifyOutcome',
};

const STATE_MACHINE_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:eks-endpoint-guard-dev-enforce-endpoint' };
const LEDGER_ARN = { 'Fn::GetAtt': ['LedgerTable', 'Arn'] };
/** The Express tracker's role in this account for its SDK tasks (by name: a GetAtt would be circular). */
const CHANGE_READER_ARN = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/eks-endpoint-guard/eks-endpoint-guard-dev-change-reader-${AWS::Region}';
const CHANGE_READER = /^arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:role\/eks-endpoint-guard\/eks-endpoint-guard-[a-z0-9]+-change-reader-\$\{AWS::Region\}$/;

const CLUSTER_ARNS = { 'Fn::Sub': 'arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*' };
const ORGANIZATION = 'o-zz9y8x7w6v';
/** The central stack's own parameters: what varies per deployment, none of it frozen at package time. */
const STACK_PARAMETERS = ['OrganizationId', 'GovernedOus', 'ExcludedAccounts', 'Regions', 'MemberReadRoleName', 'MemberWriteRoleName', 'MemberFindingsRoleName', 'SecurityHubFindings', 'OrganizationsRoleArn'];
/** sts:AssumeRole on a member role, as every function reaching member accounts has it. */
const MEMBER_ROLE = { read: 'Read', write: 'Write', findings: 'Findings' } as const;
const assumeMember = (access: 'read' | 'write' | 'findings') => ({
  Sid: `AssumeMember${MEMBER_ROLE[access]}RoleInOrganization`,
  Effect: 'Allow',
  Action: 'sts:AssumeRole',
  Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/\${Member${MEMBER_ROLE[access]}RoleName}` },
  Condition: { StringEquals: { 'aws:ResourceOrgID': { Ref: 'OrganizationId' } } },
});
const capitalized = (name: string) => name[0]!.toUpperCase() + name.slice(1);
// A copy: tests sort what they get, and must not reorder the template other tests read.
const asList = (value: string | string[]) => (Array.isArray(value) ? [...value] : [value]);

function resource(template: Template, logicalId: string) {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`template has no resource ${logicalId}`);
  return found;
}

function ofType(template: Template, type: string) {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Every resource of a template as CloudFormation stores it (DeletionPolicy and friends sit beside Properties). */
type RawResource = Template['Resources'][string] & { DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** A role's statements; conditional ones (Fn::If) are taken as if their condition held. */
function statementsOf(role: Template['Resources'][string]): { statement: Statement; condition: string | null }[] {
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: (Statement | Conditional)[] } }[];
  return policies.flatMap((p) =>
    p.PolicyDocument.Statement.map((s) => ('Fn::If' in s ? { statement: s['Fn::If'][1], condition: s['Fn::If'][0] } : { statement: s, condition: null })),
  );
}

function fn(template: Template, name: FunctionName) {
  return resource(template, `${capitalized(name)}LambdaFunction`).Properties as {
    Handler: string;
    Runtime: string;
    Architectures: string[];
    Role: unknown;
    Environment: { Variables: Record<string, unknown> };
  };
}

/** The state machine definition with each Task's Resource resolved to what CloudFormation substitutes. */
function definition(template: Template) {
  const [text, substitutions] = (resource(template, 'EnforceEndpointStateMachine').Properties.DefinitionString as { 'Fn::Sub': [string, Record<string, unknown>] })['Fn::Sub'];
  const parsed = JSON.parse(text) as {
    TimeoutSeconds: number;
    States: Record<string, { Type: string; Resource?: string; Parameters?: Record<string, unknown>; Retry?: { ErrorEquals: string[] }[] }>;
  };
  for (const state of Object.values(parsed.States)) {
    const placeholder = state.Resource && /^\$\{(\w+)\}$/.exec(state.Resource)?.[1];
    if (placeholder) (state as { resolved?: unknown }).resolved = substitutions[placeholder];
  }
  return parsed as typeof parsed & { States: Record<string, { resolved?: unknown }> };
}

let dev: PackageRun;
let prod: PackageRun;
let badPolicy: PackageRun;
let missingPolicy: PackageRun;

beforeAll(async () => {
  [dev, prod, badPolicy, missingPolicy] = await Promise.all([
    packageService({ stage: 'dev' }),
    packageService({
      stage: 'prod',
      params: {
        policyFile: 'test/deploy/fixtures/strict-policy.yaml',
        alertEmails: 'oncall@example.com, sre@example.com,ONCALL@example.com',
        organizationId: ORGANIZATION,
        governedOus: 'ou-ab12-cdef3456,r-ab12',
        excludedAccounts: '444455556666',
        regions: 'us-east-1, ap-southeast-2',
        memberReadRoleName: 'guard-read',
        memberWriteRoleName: 'guard-write',
        organizationsRoleArn: 'arn:aws:iam::999988887777:role/org-reader',
        shadowMode: 'true',
        sweepRate: 'rate(1 hour)',
      },
    }),
    packageService({
      params: {
        policyFile: 'test/deploy/fixtures/bad-policy.yaml',
        shadowMode: 'maybe',
        maxWaitSeconds: '20000',
        organizationId: 'org-1',
        governedOus: 'ou-ab12-cdef3456,Sandbox',
        excludedAccounts: '4444',
        regions: 'us-east-1,mars-1',
        memberWriteRoleName: 'eks-endpoint-guard-member-read',
        organizationsRoleArn: 'org-reader',
      },
    }),
    packageService({ params: { policyFile: 'test/deploy/fixtures/no-such-policy.yaml' } }),
  ]);
}, 300_000);

describe('packaging', () => {
  it('succeeds offline with no AWS credentials', () => {
    expect(dev.output).toContain('Policy policy.yaml: valid');
    expect(dev.exitCode).toBe(0);
    expect(prod.exitCode).toBe(0);
    // Informational: how long one packaging takes on this machine.
    process.stdout.write(`sls package took ${dev.seconds.toFixed(1)} s (dev) and ${prod.seconds.toFixed(1)} s (prod)\n`);
  });

  it('uses no serverless variable that needs AWS', () => {
    expect(JSON.stringify(dev.template)).not.toMatch(/\$\{(aws|ssm|cf|s3):/);
  });

  it('packages each function on its own: one ESM handler bundle with its SDK clients inside, and the policy at policy.yaml', () => {
    const files = [...dev.artifact!.keys()];

    for (const name of FUNCTION_NAMES) {
      expect(files).toContain(`handlers/${FUNCTIONS[name].file}.mjs`);
      expect(dev.artifacts![name]!.files.has(`handlers/${FUNCTIONS[name].file}.mjs`)).toBe(true);
    }
    expect(files.some((f) => f.includes('node_modules'))).toBe(false);
    const bundle = dev.artifact!.get('handlers/remediate-cluster.mjs')!.toString('utf8');
    // The SDK is bundled (tree-shaken), not imported from the runtime: serverless.yml says why.
    expect(bundle).not.toMatch(/from "@aws-sdk\//);
    expect(bundle.startsWith("import { createRequire as __cr } from 'node:module'")).toBe(true);
    expect(dev.artifact!.get('policy.yaml')!.toString('utf8')).toBe(readFileSync(join(ROOT, 'policy.yaml'), 'utf8'));
  });

  it('bundles the policy chosen by the policyFile parameter under the fixed name policy.yaml', () => {
    expect(prod.artifact!.get('policy.yaml')!.toString('utf8')).toBe(readFileSync(join(ROOT, 'test/deploy/fixtures/strict-policy.yaml'), 'utf8'));
    expect([...prod.artifact!.keys()].filter((f) => f.endsWith('.yaml'))).toEqual(['policy.yaml']);
  });

  it('fails on a bad policy and bad parameters, listing every problem, and packages nothing', () => {
    expect(badPolicy.exitCode).not.toBe(0);
    expect(badPolicy.template).toBeUndefined();
    for (const problem of [
      'test/deploy/fixtures/bad-policy.yaml:7:24: defaults.allowedPublicCidrs[0]: not a valid CIDR block (got "203.0.113.0/33")',
      'test/deploy/fixtures/bad-policy.yaml:11:5: rules[0].publicAccess: must be one of forbidden, restricted, unrestricted (got "sometimes")',
      'test/deploy/fixtures/bad-policy.yaml:13:1: unknownSetting: unknown key (got true)',
      'stage parameter shadowMode: expected true or false (value: "maybe")',
      'stage parameter maxWaitSeconds: expected a whole number of seconds from 60 to 14000 (value: "20000")',
      'stage parameter organizationId: expected an AWS Organizations id such as o-a1b2c3d4e5 (value: "org-1")',
      'stage parameter governedOus: not an OU id (ou-...) or the root id (r-...) (value: "Sandbox")',
      'stage parameter excludedAccounts: not a 12-digit AWS account id (value: "4444")',
      'stage parameter regions: not an AWS region name such as eu-west-1 (value: "mars-1")',
      'stage parameters memberReadRoleName and memberWriteRoleName: must differ (value: "eks-endpoint-guard-member-read")',
      'stage parameter organizationsRoleArn: expected an IAM role ARN, or empty (value: "org-reader")',
    ]) {
      expect(badPolicy.output).toContain(problem);
    }
  });

  it('fails on a policy file that does not exist', () => {
    expect(missingPolicy.exitCode).not.toBe(0);
    expect(missingPolicy.output).toContain('policy file test/deploy/fixtures/no-such-policy.yaml: no such file');
  });

  it('passes cfn-lint without errors or warnings (but osls\'s redundant DependsOn, W3005)', async () => {
    for (const run of [dev, prod]) {
      const lint = await cfnLint(run.template!);
      if (lint === null) return; // cfn-lint is a Python tool; CI runs it on its own as well.
      expect(lint.output).toBe('');
      expect(lint.exitCode).toBe(0);
    }
  });
});

/** The intake's two rules: the default bus (the home account's own events), the central bus (forwarded ones). */
const INTAKE_RULES = {
  default: 'EksendpointguarddevtriageEventrule1EventBridgeRule',
  central: 'EksendpointguarddevtriageEventrule2EventBridgeRule',
} as const;

describe('events', () => {
  it('matches successful CreateCluster, UpdateClusterConfig and (watched) tag change CloudTrail events only', () => {
    const rule = resource(dev.template!, INTAKE_RULES.default).Properties;

    expect(rule.EventPattern).toEqual({
      source: ['aws.eks'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['eks.amazonaws.com'],
        eventName: ['CreateCluster', 'UpdateClusterConfig', 'TagResource', 'UntagResource'],
        errorCode: [{ exists: false }],
      },
    });
    // The local runner filters events with the same pattern: the two must never drift apart.
    expect(rule.EventPattern).toEqual(JSON.parse(JSON.stringify(INTAKE_RULE_PATTERN)));
    expect(rule.State).toBe('ENABLED');
    expect(rule.EventBusName).toBeUndefined();
  });

  it('hears the forwarded events on the central bus with exactly the same pattern, into the same function', () => {
    const central = resource(dev.template!, INTAKE_RULES.central).Properties;
    const home = resource(dev.template!, INTAKE_RULES.default).Properties;

    expect(central.EventBusName).toEqual({ 'Fn::GetAtt': ['CentralEventBus', 'Name'] });
    expect(central.EventPattern).toEqual(JSON.parse(JSON.stringify(INTAKE_RULE_PATTERN)));
    expect(central.State).toBe('ENABLED');
    const [target] = central.Targets as Record<string, unknown>[];
    expect(target).toEqual({ ...(home.Targets as Record<string, unknown>[])[0], Id: target!.Id });
    // Lambda lets exactly this rule (its ARN names the bus) invoke the function.
    const permission = Object.values(dev.template!.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.SourceArn).includes('eks-endpoint-guard-dev-member-eks-changes'),
    )!;
    expect(JSON.stringify(permission.Properties.SourceArn)).toContain('{"Fn::GetAtt":["CentralEventBus","Name"]}');
  });

  it('runs a central bus that admits events:PutEvents from principals of the organization only', () => {
    const bus = resource(dev.template!, 'CentralEventBus');
    const policy = bus.Properties.Policy as { Version: string; Statement: (Statement & { Principal: unknown })[] };

    expect(bus.Type).toBe('AWS::Events::EventBus');
    expect(bus.Properties.Name).toBe('eks-endpoint-guard-dev-events');
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement).toEqual([
      {
        Sid: 'OrganizationPutsEvents',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/eks-endpoint-guard-dev-events' },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } },
      },
    ]);
    expect(dev.template!.Outputs?.CentralEventBusName).toMatchObject({ Value: { 'Fn::GetAtt': ['CentralEventBus', 'Name'] } });
  });

  it.each(Object.values(INTAKE_RULES))('gives the event target of %s a retry policy and a dead-letter queue, and the function a failure destination', (logicalId) => {
    const rule = resource(dev.template!, logicalId).Properties;
    const [target] = rule.Targets as Record<string, unknown>[];

    expect(target).toMatchObject({
      Arn: { 'Fn::GetAtt': ['TriageEventLambdaFunction', 'Arn'] },
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } },
    });
    expect(resource(dev.template!, 'TriageEventLambdaEvConf').Properties).toMatchObject({
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } } },
      MaximumRetryAttempts: 2,
    });
  });

  it('lets only the guard\'s own rules write to the encrypted dead-letter queue', () => {
    expect(resource(dev.template!, 'IntakeDeadLetterQueue').Properties.SqsManagedSseEnabled).toBe(true);
    // The rules whose targets park undeliverable events here. A rule on a custom bus has the bus in its
    // ARN: rule/BUS/NAME.
    const usesQueue = (r: Template['Resources'][string]) =>
      (r.Properties.Targets as { DeadLetterConfig?: unknown }[]).some((t) => JSON.stringify(t.DeadLetterConfig) === JSON.stringify({ Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } }));
    const ruleArns = ofType(dev.template!, 'AWS::Events::Rule').filter(([, r]) => usesQueue(r)).map(([, r]) => {
      const bus = r.Properties.EventBusName ? `${resource(dev.template!, (r.Properties.EventBusName as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]).Properties.Name as string}/` : '';
      return `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${bus}${r.Properties.Name as string}`;
    });
    const policy = resource(dev.template!, 'IntakeDeadLetterQueuePolicy').Properties.PolicyDocument as { Statement: Statement[] };
    const allow = policy.Statement.find((s) => s.Effect === 'Allow')!;

    expect(allow).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    const sources = (allow.Condition as { ArnEquals: { 'aws:SourceArn': { 'Fn::Sub': string }[] } }).ArnEquals['aws:SourceArn'].map((s) => s['Fn::Sub']);
    // The intake's two rules and the sweep's schedule (below).
    expect(ruleArns).toHaveLength(3);
    expect(sources.sort()).toEqual(ruleArns.sort());
  });

  it('sweeps on the sweepRate schedule by starting the organization sweep state machine, and nothing else', () => {
    const schedules = (run: PackageRun) => ofType(run.template!, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);
    const [found, ...others] = schedules(dev);

    expect(others).toEqual([]);
    const sweep = found![1];
    expect(sweep.Properties.ScheduleExpression).toBe('rate(6 hours)');
    expect(schedules(prod).map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(1 hour)']);
    // No Input: the execution gets the scheduled event, whose `time` names the executions it starts.
    const [target, ...more] = sweep.Properties.Targets as Record<string, unknown>[];
    expect(more).toEqual([]);
    expect(target).toMatchObject({ Arn: { Ref: 'SweepOrganizationStateMachine' } });
    expect(target!.Input).toBeUndefined();
    // A schedule EventBridge cannot deliver is retried for one sweep period, then kept in the dead-letter queue.
    expect(target).toMatchObject({ RetryPolicy: { MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 185 }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] } } });
    expect(sweep.Properties.Name).toBe('eks-endpoint-guard-dev-sweep-organization');
    // The single-Lambda sweep is gone: it would have swept every account a second time.
    expect(Object.keys(dev.template!.Resources).filter((id) => /SweepClusters/.test(id))).toEqual([]);
  });
});

describe('functions', () => {
  it.each(FUNCTION_NAMES)('%s runs its own handler on nodejs22.x arm64 with its own role', (name) => {
    const f = fn(dev.template!, name);

    expect(f.Handler).toBe(`handlers/${FUNCTIONS[name].file}.handler`);
    expect(f.Runtime).toBe('nodejs22.x');
    expect(f.Architectures).toEqual(['arm64']);
    expect(f.Role).toEqual({ 'Fn::GetAtt': [`${capitalized(name)}Role`, 'Arn'] });
  });

  it.each(FUNCTION_NAMES)('%s gets the configuration its handlers read', (name) => {
    const env = fn(dev.template!, name).Environment.Variables;

    expect(env).toMatchObject({
      POLICY_FILE: 'policy.yaml',
      SHADOW_MODE: 'false',
      NOTIFY_COMPLIANT: 'false',
      ALERT_TOPIC_ARN: { Ref: 'AlertTopic' },
      SELF_ROLE_ARNS: { 'Fn::GetAtt': ['RemediateClusterRole', 'Arn'] },
      HOME_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
      ORGANIZATION_ID: { Ref: 'OrganizationId' },
      GOVERNED_OUS: { Ref: 'GovernedOus' },
      EXCLUDED_ACCOUNTS: { Ref: 'ExcludedAccounts' },
      GOVERNED_REGIONS: { Ref: 'Regions' },
      MEMBER_READ_ROLE_NAME: { Ref: 'MemberReadRoleName' },
      MEMBER_WRITE_ROLE_NAME: { Ref: 'MemberWriteRoleName' },
      ORGANIZATIONS_ROLE_ARN: { 'Fn::If': ['HasOrganizationsRole', { Ref: 'OrganizationsRoleArn' }, { Ref: 'AWS::NoValue' }] },
      MAX_WAIT_SECONDS: '3600',
      POWERTOOLS_SERVICE_NAME: 'eks-endpoint-guard',
      LOG_LEVEL: 'INFO',
    });
    // The functions that start enforcement executions: the intake and the sweep's units.
    if (name === 'triageEvent' || name === 'sweepUnit') expect(env.STATE_MACHINE_ARN).toEqual({ Ref: 'EnforceEndpointStateMachine' });
    else expect(env.STATE_MACHINE_ARN).toBeUndefined();
    // The ledger's name goes to exactly the functions whose role may use the table.
    if (FUNCTIONS[name].ledger.length > 0) expect(env.LEDGER_TABLE).toEqual({ Ref: 'LedgerTable' });
    else expect(env.LEDGER_TABLE).toBeUndefined();
  });

  it('turns stage parameters into the functions\' settings', () => {
    const env = fn(prod.template!, 'evaluateCluster').Environment.Variables;

    expect(env).toMatchObject({ SHADOW_MODE: 'true' });
    // The single cross-account role and the fixed sweep list are gone: member roles, the organization.
    expect(env.CROSS_ACCOUNT_ROLE_NAME).toBeUndefined();
    expect(env.SWEEP_ACCOUNTS).toBeUndefined();
  });

  it('passes the organization\'s stage parameters as stack parameters at deploy time, not into the template', () => {
    expect(prod.stackParameters).toEqual({
      OrganizationId: ORGANIZATION,
      GovernedOus: 'ou-ab12-cdef3456,r-ab12',
      ExcludedAccounts: '444455556666',
      Regions: 'us-east-1, ap-southeast-2',
      MemberReadRoleName: 'guard-read',
      MemberWriteRoleName: 'guard-write',
      MemberFindingsRoleName: 'eks-endpoint-guard-member-findings',
      SecurityHubFindings: 'false',
      OrganizationsRoleArn: 'arn:aws:iam::999988887777:role/org-reader',
    });
    // The same template whatever the organization: no value of prod's appears in it.
    expect(Object.keys(prod.template!.Parameters!)).toEqual(STACK_PARAMETERS);
    expect(prod.template!.Parameters).toEqual(dev.template!.Parameters);
    const text = JSON.stringify(prod.template);
    expect([ORGANIZATION, 'ou-ab12-cdef3456', '444455556666', 'ap-southeast-2', 'guard-read', 'guard-write', '999988887777'].filter((value) => text.includes(value))).toEqual([]);
  });

  it('declares the stack parameters with no organization\'s defaults and patterns that refuse malformed values', () => {
    const parameters = dev.template!.Parameters as Record<string, { Type: string; Default?: string; AllowedPattern: string }>;
    const accepts = (name: string, value: string) => new RegExp(parameters[name]!.AllowedPattern).test(value);

    expect(parameters.OrganizationId!.Default).toBeUndefined();
    expect(Object.fromEntries(Object.entries(parameters).map(([k, p]) => [k, p.Default]))).toEqual({
      OrganizationId: undefined,
      GovernedOus: '',
      ExcludedAccounts: '',
      Regions: '',
      MemberReadRoleName: 'eks-endpoint-guard-member-read',
      MemberWriteRoleName: 'eks-endpoint-guard-member-write',
      MemberFindingsRoleName: 'eks-endpoint-guard-member-findings',
      SecurityHubFindings: 'false',
      OrganizationsRoleArn: '',
    });
    for (const [name, good, bad] of [
      ['OrganizationId', ['o-a1b2c3d4e5'], ['', 'o-short', 'r-a1b2']],
      ['GovernedOus', ['', 'ou-ab12-cdef3456', 'r-ab12,ou-ab12-cdef3456', 'ou-ab12-cdef3456 , ou-ab12-0000ffff'], ['Sandbox', 'ou-ab12-cdef3456,', ',']],
      ['ExcludedAccounts', ['', '111122223333', '111122223333,444455556666'], ['1111', '111122223333;444455556666']],
      ['Regions', ['', 'us-east-1', 'us-east-1, eu-west-1', 'us-gov-west-1'], ['mars-1', 'us-east-1,,eu-west-1', 'US-EAST-1']],
      ['OrganizationsRoleArn', ['', 'arn:aws:iam::999988887777:role/org-reader', 'arn:aws:iam::999988887777:role/path/reader'], ['org-reader', 'arn:aws:iam::9999:role/x']],
    ] as [string, string[], string[]][]) {
      for (const value of good) expect([name, value, accepts(name, value)]).toEqual([name, value, true]);
      for (const value of bad) expect([name, value, accepts(name, value)]).toEqual([name, value, false]);
    }
  });
});

describe('IAM', () => {
  it('has no action wildcard in any role', () => {
    const roles = [...ofType(dev.template!, 'AWS::IAM::Role'), ...ofType(prod.template!, 'AWS::IAM::Role')];
    expect(roles.length).toBeGreaterThanOrEqual(10);
    expect(ofType(dev.template!, 'AWS::IAM::Policy')).toEqual([]);

    for (const [, role] of roles) {
      for (const { statement } of statementsOf(role)) {
        for (const action of asList(statement.Action)) expect(action).not.toContain('*');
      }
    }
  });

  it.each(FUNCTION_NAMES)('allows %s exactly the actions it calls, and log writing to its own log group only', (name) => {
    const statements = statementsOf(resource(dev.template!, `${capitalized(name)}Role`));
    const unconditional = statements.filter((s) => s.condition === null && s.statement.Effect === 'Allow').map((s) => s.statement);
    // sts:AssumeRole on the member roles: the next tests.
    const actions = unconditional.flatMap((s) => asList(s.Action)).filter((a) => a !== 'sts:AssumeRole');

    expect(actions.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', ...FUNCTIONS[name].actions, ...FUNCTIONS[name].ledger].sort());
    const logs = unconditional.find((s) => asList(s.Action).includes('logs:PutLogEvents'))!;
    expect(logs.Resource).toEqual({ 'Fn::GetAtt': [`${capitalized(name)}LogGroup`, 'Arn'] });
  });

  it('scopes allowed EKS actions to this account\'s cluster ARNs (ListClusters has no resource type)', () => {
    for (const name of FUNCTION_NAMES) {
      for (const { statement } of statementsOf(resource(dev.template!, `${capitalized(name)}Role`))) {
        if (statement.Effect !== 'Allow') continue;
        const eks = asList(statement.Action).filter((a) => a.startsWith('eks:'));
        if (eks.length === 0) continue;
        if (eks.includes('eks:ListClusters')) {
          expect(eks).toEqual(['eks:ListClusters']);
          expect(statement.Resource).toBe('*');
        } else {
          expect(statement.Resource).toEqual(CLUSTER_ARNS);
        }
      }
    }
  });

  it('scopes the other resources to the guard\'s own topic, key, queue and state machine', () => {
    const byAction = (name: FunctionName, action: string) =>
      statementsOf(resource(dev.template!, `${capitalized(name)}Role`)).find((s) => asList(s.statement.Action).includes(action))!.statement.Resource;

    expect(byAction('notifyOutcome', 'sns:Publish')).toEqual({ Ref: 'AlertTopic' });
    expect(byAction('notifyOutcome', 'kms:GenerateDataKey')).toEqual({ 'Fn::GetAtt': ['AlertTopicKey', 'Arn'] });
    // The default bus of the home account and region only: not the organization bus, not another region's.
    expect(byAction('notifyOutcome', 'events:PutEvents')).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' });
    expect(byAction('triageEvent', 'states:StartExecution')).toEqual({ Ref: 'EnforceEndpointStateMachine' });
    expect(byAction('sweepUnit', 'states:StartExecution')).toEqual({ Ref: 'EnforceEndpointStateMachine' });
    expect(byAction('recordCoverage', 'sns:Publish')).toEqual({ Ref: 'AlertTopic' });
    expect(byAction('recordCoverage', 'kms:GenerateDataKey')).toEqual({ 'Fn::GetAtt': ['AlertTopicKey', 'Arn'] });
    expect(byAction('triageEvent', 'sqs:SendMessage')).toEqual({ 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'Arn'] });
  });

  it.each(FUNCTION_NAMES)('gives %s exactly its DynamoDB actions, on the ledger table only, in one statement', (name) => {
    const statements = statementsOf(resource(dev.template!, `${capitalized(name)}Role`)).map((s) => s.statement);
    const ledger = statements.filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')));

    if (FUNCTIONS[name].ledger.length === 0) {
      expect(ledger).toEqual([]);
      return;
    }
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.Effect).toBe('Allow');
    expect(asList(ledger[0]!.Action).sort()).toEqual([...FUNCTIONS[name].ledger].sort());
    expect(ledger[0]!.Resource).toEqual(LEDGER_ARN);
    expect(ledger[0]!.Condition).toBeUndefined();
  });

  it('never grants ConditionCheckItem, batch, query, scan or table-management DynamoDB actions', () => {
    const granted = new Set(
      ofType(dev.template!, 'AWS::IAM::Role').flatMap(([, role]) => statementsOf(role).flatMap((s) => asList(s.statement.Action).filter((a) => a.startsWith('dynamodb:')))),
    );

    expect([...granted].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('denies the remediation role, the only one allowed UpdateClusterConfig, every widening the condition keys express', () => {
    const writers = FUNCTION_NAMES.filter((name) =>
      statementsOf(resource(dev.template!, `${capitalized(name)}Role`)).some((s) => s.statement.Effect === 'Allow' && asList(s.statement.Action).includes('eks:UpdateClusterConfig')),
    );
    const denies = statementsOf(resource(dev.template!, 'RemediateClusterRole'))
      .map((s) => s.statement)
      .filter((s) => s.Effect === 'Deny');

    expect(writers).toEqual(['remediateCluster']);
    // The template's statements are the data src/iam/guardrail.ts evaluates and tests.
    expect(denies).toEqual(JSON.parse(JSON.stringify(GUARDRAIL_STATEMENTS)));
    expect(denies.map((s) => s.Condition)).toEqual([{ Bool: { 'eks:endpointPublicAccess': 'true' } }, { Bool: { 'eks:endpointPrivateAccess': 'false' } }]);
    expect(JSON.stringify(denies)).not.toContain('IfExists');
    // The guardrail does not depend on the cross-account condition: it is there in every configuration.
    expect(statementsOf(resource(prod.template!, 'RemediateClusterRole')).filter((s) => s.statement.Effect === 'Deny').map((s) => s.statement)).toEqual(denies);
  });

  it.each(FUNCTION_NAMES)('lets %s assume exactly its member roles, in accounts of the organization only', (name) => {
    const assumes = statementsOf(resource(dev.template!, `${capitalized(name)}Role`))
      .filter((s) => s.condition === null)
      .map((s) => s.statement)
      .filter((s) => asList(s.Action).includes('sts:AssumeRole'));

    expect(assumes).toEqual(FUNCTIONS[name].member.map((access) => assumeMember(access)));
  });

  it.each(FUNCTION_NAMES)('lets %s read AWS Organizations only if its policy evaluation does: through OrganizationsRoleArn, or directly without one', (name) => {
    const policies = resource(dev.template!, `${capitalized(name)}Role`).Properties.Policies as { PolicyDocument: { Statement: (Statement | Conditional)[] } }[];
    const conditional = policies.flatMap((p) => p.PolicyDocument.Statement.filter((s): s is Conditional => 'Fn::If' in s).map((s) => s['Fn::If']));

    if (!('organizations' in FUNCTIONS[name])) {
      expect(conditional).toEqual([]);
      return;
    }
    expect(conditional).toEqual([
      [
        'HasOrganizationsRole',
        { Sid: 'AssumeOrganizationsRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: { Ref: 'OrganizationsRoleArn' } },
        {
          Sid: 'ReadOrganization',
          Effect: 'Allow',
          Action: [
            'organizations:DescribeOrganization',
            'organizations:DescribeAccount',
            'organizations:ListAccounts',
            'organizations:ListAccountsForParent',
            'organizations:ListChildren',
            'organizations:ListOrganizationalUnitsForParent',
            'organizations:ListParents',
            'organizations:ListRoots',
            'organizations:ListTagsForResource',
          ],
          Resource: '*',
        },
      ],
    ]);
    expect(dev.template!.Conditions?.HasOrganizationsRole).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OrganizationsRoleArn' }, ''] }] });
  });

  it('never allows sts:AssumeRole on a wildcard account without aws:ResourceOrgID, in any role', () => {
    const assumes = [dev, prod].flatMap((run) =>
      ofType(run.template!, 'AWS::IAM::Role').flatMap(([, role]) => statementsOf(role).map((s) => s.statement).filter((s) => asList(s.Action).some((a) => a.startsWith('sts:')))),
    );

    expect(assumes.length).toBeGreaterThanOrEqual(20);
    for (const statement of assumes) {
      expect(statement.Action).toBe('sts:AssumeRole');
      // The Organizations reader is one exact role ARN (a parameter); any wildcard account needs the org condition.
      if (JSON.stringify(statement.Resource) === '{"Ref":"OrganizationsRoleArn"}') continue;
      // The tracker's change reader: one role of this account, by name.
      if (CHANGE_READER.test((statement.Resource as { 'Fn::Sub'?: string })['Fn::Sub'] ?? '')) continue;
      expect(JSON.stringify(statement.Resource)).toContain('iam::*');
      if (JSON.stringify(statement.Resource).includes('iam::*')) {
        expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': { Ref: 'OrganizationId' } } });
      }
    }
  });

  it('hands the member stack exactly the roles that assume each member role (outputs)', () => {
    const joined = (dev.template!.Outputs!.MemberReadTrustedRoleArns as { Value: { 'Fn::Join': [string, { 'Fn::GetAtt': [string, string] }[]] } }).Value['Fn::Join'];
    // Every function that reads in member accounts, and the Express tracker (its SDK tasks' Credentials).
    const readers = [...FUNCTION_NAMES.filter((name) => (FUNCTIONS[name].member as readonly string[]).includes('read')), 'trackChangeStateMachine'];
    const writers = FUNCTION_NAMES.filter((name) => (FUNCTIONS[name].member as readonly string[]).includes('write'));

    expect(joined[0]).toBe(',');
    expect(joined[1].map((v) => v['Fn::GetAtt']).sort()).toEqual(readers.map((name) => [`${capitalized(name)}Role`, 'Arn']).sort());
    expect(writers).toEqual(['remediateCluster']);
    expect(dev.template!.Outputs!.MemberWriteTrustedRoleArn).toMatchObject({ Value: { 'Fn::GetAtt': ['RemediateClusterRole', 'Arn'] } });
    // Whatever functions the template has (not only those listed here): every role allowed to assume a
    // member role is one the member role trusts, or its calls there would be refused.
    const assuming = (sid: string) =>
      ofType(dev.template!, 'AWS::IAM::Role')
        .filter(([, role]) => statementsOf(role).some((s) => s.statement.Sid === sid))
        .map(([id]) => id)
        .sort();
    expect(assuming('AssumeMemberReadRoleInOrganization')).toEqual(joined[1].map((v) => v['Fn::GetAtt'][0]).sort());
    expect(assuming('AssumeMemberWriteRoleInOrganization')).toEqual(['RemediateClusterRole']);
    const orgReaders = (dev.template!.Outputs!.OrganizationsReaderTrustedRoleArns as { Value: { 'Fn::Join': [string, { 'Fn::GetAtt': [string, string] }[]] } }).Value['Fn::Join'];
    expect(assuming('AssumeOrganizationsRole')).toEqual(orgReaders[1].map((v) => v['Fn::GetAtt'][0]).sort());
    expect(assuming('AssumeOrganizationsRole').length).toBeGreaterThan(0);
  });

  it('lets exactly evaluateCluster, verifyRemediation and listSweepUnits read AWS Organizations, and hands their roles to the management account', () => {
    // Both branches of every conditional statement (statementsOf takes the first only).
    const everyStatement = (role: Template['Resources'][string]) =>
      (role.Properties.Policies as { PolicyDocument: { Statement: (Statement | Conditional)[] } }[]).flatMap((p) =>
        p.PolicyDocument.Statement.flatMap((s) => ('Fn::If' in s ? [s['Fn::If'][1], s['Fn::If'][2] as Statement] : [s])),
      );
    const orgReaders = (run: PackageRun, sid: string) =>
      ofType(run.template!, 'AWS::IAM::Role')
        .filter(([, role]) => everyStatement(role).some((s) => s.Sid === sid || (sid === 'ReadOrganization' && asList(s.Action).some((x) => x.startsWith('organizations:')))))
        .map(([id]) => id)
        .sort();
    const expected = ['EvaluateClusterRole', 'ListSweepUnitsRole', 'VerifyRemediationRole'];
    const output = (dev.template!.Outputs!.OrganizationsReaderTrustedRoleArns as { Value: { 'Fn::Join': [string, { 'Fn::GetAtt': [string, string] }[]] } }).Value['Fn::Join'];

    // Both branches of *readOrganization: through OrganizationsRoleArn, or directly (delegated administrator).
    expect(orgReaders(dev, 'AssumeOrganizationsRole')).toEqual(expected);
    expect(orgReaders(prod, 'AssumeOrganizationsRole')).toEqual(expected);
    expect(orgReaders(dev, 'ReadOrganization')).toEqual(expected);
    expect(FUNCTION_NAMES.filter((name) => 'organizations' in FUNCTIONS[name]).map((name) => `${capitalized(name)}Role`).sort()).toEqual(expected);
    expect(output[0]).toBe(',');
    expect(output[1].map((v) => v['Fn::GetAtt']).sort()).toEqual(expected.map((id) => [id, 'Arn']));
  });

  it('lets the state machine invoke exactly the functions its Task states name, and nothing else', () => {
    const statements = statementsOf(resource(dev.template!, 'EnforceEndpointStateMachineRole')).map((s) => s.statement);
    const invoke = statements.filter((s) => asList(s.Action).includes('lambda:InvokeFunction'));
    const { States } = definition(dev.template!);
    const lambdaTasks = Object.values(States).flatMap((s) => {
      const getAtt = (s.resolved as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
      return getAtt ? [getAtt[0]] : [];
    });

    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Action).toBe('lambda:InvokeFunction');
    const targets = (invoke[0]!.Resource as { 'Fn::GetAtt': [string, string] }[]).map((r) => r['Fn::GetAtt'][0]);
    expect([...targets].sort()).toEqual([...new Set(lambdaTasks)].sort());
    expect([...targets].sort()).toEqual([...new Set(Object.values(TASKS))].map((n) => `${capitalized(n)}LambdaFunction`).sort());
  });

  it('lets the state machine start executions of itself only (ScheduleRecheck), with no wildcard', () => {
    const role = resource(dev.template!, 'EnforceEndpointStateMachineRole');
    const statements = statementsOf(role).map((s) => s.statement);
    const { States } = definition(dev.template!);
    const startTasks = Object.entries(States).filter(([, s]) => s.Resource === 'arn:aws:states:::states:startExecution');

    expect(startTasks.map(([name, s]) => [name, s.Parameters?.['StateMachineArn.$']])).toEqual([['ScheduleRecheck', '$$.StateMachine.Id']]);
    // And the Express tracker, waited for (.sync:2): its executions, and the rule Step Functions waits through.
    const syncTasks = Object.entries(States).filter(([, s]) => s.Resource === 'arn:aws:states:::states:startExecution.sync:2');
    expect(syncTasks.map(([name]) => name).sort()).toEqual(['TrackBusyCluster', 'TrackChange', 'TrackRevert']);
    expect(statements.filter((s) => asList(s.Action).some((a) => a.startsWith('states:')))).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: STATE_MACHINE_ARN },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'TrackChangeStateMachine' } },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:eks-endpoint-guard-dev-track-change:*' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:express:eks-endpoint-guard-dev-track-change:*' },
        ],
      },
    ]);
    expect(statements.filter((s) => asList(s.Action).some((a) => a.startsWith('events:')))).toEqual([
      { Effect: 'Allow', Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule' } },
    ]);
    // Its own ARN, built from the state machine's name: the same name the resource gets.
    expect(resource(dev.template!, 'EnforceEndpointStateMachine').Properties.RoleArn).toEqual({ 'Fn::GetAtt': ['EnforceEndpointStateMachineRole', 'Arn'] });
    expect(STATE_MACHINE_ARN['Fn::Sub']).toMatch(new RegExp(`:stateMachine:${resource(dev.template!, 'EnforceEndpointStateMachine').Properties.StateMachineName as string}$`));
    // Resource "*" only for the log-delivery actions, which have no resource-level permissions (and the
    // tracker's own executions, whose names Step Functions makes up).
    const wildcard = statements.filter((s) => JSON.stringify(s.Resource).includes('*') && !JSON.stringify(s.Resource).includes('eks-endpoint-guard-dev-track-change:*'));
    expect(wildcard.flatMap((s) => asList(s.Action)).every((a) => a.startsWith('logs:') && /Deliver|ResourcePolic|DescribeLogGroups/.test(a))).toBe(true);
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
    });
  });
});

describe('the member stack, beside this one', () => {
  const member = memberTemplate();

  it('is told by this stack\'s outputs what its parameters name', () => {
    const named = Object.entries(member.Parameters).flatMap(([name, p]) => {
      const output = /central stack output (\w+)/.exec(String(p.Description))?.[1];
      return output ? [[name, output]] : [];
    });

    expect(named).toEqual([
      ['CentralEventBusName', 'CentralEventBusName'],
      ['CentralReadRoleArns', 'MemberReadTrustedRoleArns'],
      ['CentralWriteRoleArn', 'MemberWriteTrustedRoleArn'],
      ['CentralFindingsRoleArns', 'MemberFindingsTrustedRoleArns'],
    ]);
    for (const [, output] of named) expect(dev.template!.Outputs?.[output!]).toBeDefined();
  });

  it('defaults to the role names this stack assumes, and fits its rule name in EventBridge\'s 64 characters', () => {
    const parameters = dev.template!.Parameters as Record<string, { Default?: string }>;

    expect([parameters.MemberReadRoleName!.Default, parameters.MemberWriteRoleName!.Default]).toEqual([DEFAULT_READ_ROLE_NAME, DEFAULT_WRITE_ROLE_NAME]);
    expect([member.Parameters.ReadRoleName!.Default, member.Parameters.WriteRoleName!.Default]).toEqual([DEFAULT_READ_ROLE_NAME, DEFAULT_WRITE_ROLE_NAME]);
    const busName = resource(prod.template!, 'CentralEventBus').Properties.Name as string;
    expect(new RegExp(member.Parameters.CentralEventBusName!.AllowedPattern as string).test(busName)).toBe(true);
    expect(`${busName}-forward`.length).toBeLessThanOrEqual(64);
  });

  it('takes the organization id in the same form', () => {
    expect(member.Parameters.OrganizationId!.AllowedPattern).toBe((dev.template!.Parameters!.OrganizationId as { AllowedPattern: string }).AllowedPattern);
  });
});

describe('state machine', () => {
  it('is a Standard workflow with error logging, without execution data', () => {
    const sm = resource(dev.template!, 'EnforceEndpointStateMachine').Properties;

    expect(sm.StateMachineType).toBe('STANDARD');
    expect(sm.StateMachineName).toBe('eks-endpoint-guard-dev-enforce-endpoint');
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  });

  it('has every step, each Task resolved to its function\'s ARN', () => {
    const { States } = definition(dev.template!);

    for (const [state, name] of Object.entries(TASKS)) {
      expect(States[state]?.Type).toBe('Task');
      expect(States[state]?.resolved).toEqual({ 'Fn::GetAtt': [`${capitalized(name)}LambdaFunction`, 'Arn'] });
    }
  });

  it('never retries States.TaskFailed or States.ALL; Lambda tasks retry only transient errors', () => {
    const { States } = definition(dev.template!);

    for (const state of Object.values(States)) {
      for (const retry of state.Retry ?? []) {
        expect(retry.ErrorEquals).not.toContain('States.TaskFailed');
        expect(retry.ErrorEquals).not.toContain('States.ALL');
        if (state.resolved) expect(retry.ErrorEquals).toContain('TransientAwsError');
      }
    }
  });
});

describe('the Express update tracker', () => {
  const states = () => (JSON.parse((resource(dev.template!, 'TrackChangeStateMachine').Properties.DefinitionString as { 'Fn::Sub': [string, unknown] })['Fn::Sub'][0]) as { States: Record<string, { Resource?: string; Credentials?: Record<string, string> }> }).States;

  it('is an Express workflow with error logging, without execution data, run by its own role', () => {
    const sm = resource(dev.template!, 'TrackChangeStateMachine').Properties;

    expect(sm.StateMachineType).toBe('EXPRESS');
    expect(sm.StateMachineName).toBe('eks-endpoint-guard-dev-track-change');
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    expect(sm.RoleArn).toEqual({ 'Fn::GetAtt': ['TrackChangeStateMachineRole', 'Arn'] });
  });

  it('polls EKS only through SDK tasks whose Credentials come from the input, and pollChange', () => {
    const sdk = Object.entries(states()).filter(([, s]) => s.Resource?.startsWith('arn:aws:states:::aws-sdk:'));

    expect(sdk.map(([n, s]) => [n, s.Resource]).sort()).toEqual([
      ['DescribeCluster', 'arn:aws:states:::aws-sdk:eks:describeCluster'],
      ['DescribeUpdate', 'arn:aws:states:::aws-sdk:eks:describeUpdate'],
    ]);
    for (const [, s] of sdk) expect(s.Credentials).toEqual({ 'RoleArn.$': '$.track.roleArn' });
  });

  it('may assume only the change reader and the member read roles (in the organization), and invoke only pollChange', () => {
    const statements = statementsOf(resource(dev.template!, 'TrackChangeStateMachineRole')).map((s) => s.statement);
    const nonLog = statements.filter((s) => !asList(s.Action).every((a) => a.startsWith('logs:')));

    expect(nonLog).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: { 'Fn::Sub': CHANGE_READER_ARN } },
      assumeMember('read'),
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': ['PollChangeLambdaFunction', 'Arn'] } },
    ]);
    // Step Functions may use the role for the tracker alone, not for another state machine of the account.
    expect(resource(dev.template!, 'TrackChangeStateMachineRole').Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:eks-endpoint-guard-dev-track-change' } },
          },
        },
      ],
    });
  });

  it('pages the operations topic when the tracker keeps failing (three failed runs within an hour)', () => {
    const alarm = resource(dev.template!, 'TrackerFailingAlarm').Properties;

    expect(alarm).toMatchObject({ Namespace: 'EksEndpointGuard', MetricName: 'TrackerFailures', Dimensions: [{ Name: 'service', Value: 'eks-endpoint-guard' }], Statistic: 'Sum', Period: 3600, Threshold: 3, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(alarm.AlarmActions).toEqual([{ Ref: 'OperationsTopic' }]);
  });

  it('polls this account\'s clusters as a change reader that can describe them in this region and do nothing else, trusting only the tracker', () => {
    const role = resource(dev.template!, 'ChangeReaderRole').Properties;

    expect(role.RoleName).toEqual({ 'Fn::Sub': 'eks-endpoint-guard-dev-change-reader-${AWS::Region}' });
    expect(role.Path).toBe('/eks-endpoint-guard/');
    expect(role.AssumeRolePolicyDocument).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': ['TrackChangeStateMachineRole', 'Arn'] } }, Action: 'sts:AssumeRole' }] });
    expect(statementsOf(resource(dev.template!, 'ChangeReaderRole')).map((s) => s.statement)).toEqual([
      { Effect: 'Allow', Action: ['eks:DescribeUpdate', 'eks:DescribeCluster'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*' } },
    ]);
    for (const name of ['waitForChange', 'waitForRevert'] as const) expect(fn(dev.template!, name).Environment.Variables.CHANGE_READER_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['ChangeReaderRole', 'Arn'] });
  });
});

describe('alerts and alarms', () => {
  it('encrypts the alert topic with a rotated customer managed key CloudWatch alarms may use', () => {
    const key = resource(dev.template!, 'AlertTopicKey').Properties as { EnableKeyRotation: boolean; KeyPolicy: { Statement: (Statement & { Principal: unknown })[] } };

    expect(resource(dev.template!, 'AlertTopic').Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertTopicKey' });
    expect(key.EnableKeyRotation).toBe(true);
    const cloudwatch = key.KeyPolicy.Statement.find((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'))!;
    expect(asList(cloudwatch.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('gives the operations topic a rotated customer managed key of its own, with the same CloudWatch grant', () => {
    const alertKey = resource(dev.template!, 'AlertTopicKey').Properties;
    const key = resource(dev.template!, 'OperationsTopicKey').Properties as { EnableKeyRotation: boolean; KeyPolicy: { Statement: (Statement & { Principal: unknown })[] } };

    expect(resource(dev.template!, 'OperationsTopic').Properties.KmsMasterKeyId).toEqual({ Ref: 'OperationsTopicKey' });
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy).toEqual(alertKey.KeyPolicy);
    const cloudwatch = key.KeyPolicy.Statement.find((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'))!;
    expect(asList(cloudwatch.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(cloudwatch.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
    expect(dev.template!.Outputs?.OperationsTopicArn).toMatchObject({ Value: { Ref: 'OperationsTopic' } });
  });

  it('alarms on dead letters, failed, timed-out and aborted executions and alert publish failures, all to the operations topic', () => {
    const alarms = Object.fromEntries(ofType(dev.template!, 'AWS::CloudWatch::Alarm').map(([, a]) => [`${a.Properties.Namespace as string} ${a.Properties.MetricName as string}`, a.Properties]));

    const enforcement = [
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/States ExecutionsAborted',
      'AWS/States ExecutionsFailed',
      'AWS/States ExecutionsTimedOut',
      'eks-endpoint-guard/dev AlertPublishFailures',
    ];
    // The organization sweep's alarms (serverless.yml, beside its state machine) are checked with it.
    expect(Object.keys(alarms)).toEqual(expect.arrayContaining(enforcement));
    // Not the alert topic: these alarms must still reach someone when the alert path is what broke.
    for (const alarm of enforcement.map((key) => alarms[key]!)) {
      expect(alarm.AlarmActions).toEqual([{ Ref: 'OperationsTopic' }]);
      expect(alarm).toMatchObject({ Statistic: expect.stringMatching(/^(Sum|Maximum)$/), Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    }
    expect(alarms['AWS/SQS ApproximateNumberOfMessagesVisible']!.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['IntakeDeadLetterQueue', 'QueueName'] } }]);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      expect(alarms[`AWS/States ${metric}`]!.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: 'EnforceEndpointStateMachine' } }]);
    }
  });

  it('counts notifyOutcome\'s "alert publish failed" log lines into the metric the publish alarm watches', () => {
    const filters = ofType(dev.template!, 'AWS::Logs::MetricFilter')
      .map(([, f]) => f.Properties)
      .filter((f) => JSON.stringify(f.LogGroupName) === '{"Ref":"NotifyOutcomeLogGroup"}');
    const alarm = resource(dev.template!, 'AlertPublishFailedAlarm').Properties;

    expect(filters).toEqual([
      {
        LogGroupName: { Ref: 'NotifyOutcomeLogGroup' },
        FilterPattern: '{ $.message = "alert publish failed" }',
        MetricTransformations: [{ MetricNamespace: 'eks-endpoint-guard/dev', MetricName: 'AlertPublishFailures', MetricValue: '1', Unit: 'Count' }],
      },
    ]);
    expect(alarm).toMatchObject({ Namespace: 'eks-endpoint-guard/dev', MetricName: 'AlertPublishFailures', Statistic: 'Sum' });
    expect(alarm.Dimensions).toBeUndefined();
    expect(resource(dev.template!, 'NotifyOutcomeLogGroup').Properties.LogGroupName).toBe('/aws/lambda/eks-endpoint-guard-dev-notifyOutcome');
  });

  it('subscribes no e-mail address by default', () => {
    expect(ofType(dev.template!, 'AWS::SNS::Subscription')).toEqual([]);
  });

  it('subscribes each distinct alertEmails address once to each topic, under ids that never collide', () => {
    const subscriptions = Object.fromEntries(ofType(prod.template!, 'AWS::SNS::Subscription').map(([id, s]) => [id, s.Properties]));
    const ids = Object.keys(subscriptions);

    // Detection notices (attribute kind=detection) go to chat only; messages without `kind` still arrive.
    const detectionSkipped = { FilterPolicyScope: 'MessageAttributes', FilterPolicy: { kind: [{ 'anything-but': ['detection'] }, { exists: false }] } };
    expect(Object.values(subscriptions)).toEqual([
      { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com', ...detectionSkipped },
      { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'sre@example.com', ...detectionSkipped },
      { TopicArn: { Ref: 'OperationsTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' },
      { TopicArn: { Ref: 'OperationsTopic' }, Protocol: 'email', Endpoint: 'sre@example.com' },
    ]);
    // The alert topic keeps the ids it had before there was an operations topic (no re-confirmation);
    // both topics key an address by the same hash, behind a prefix of their own.
    const [oncall, sre] = ids.slice(0, 2).map((id) => id.replace(/^AlertEmailSubscription/, ''));
    expect(ids).toEqual([`AlertEmailSubscription${oncall}`, `AlertEmailSubscription${sre}`, `OperationsEmailSubscription${oncall}`, `OperationsEmailSubscription${sre}`]);
    expect(oncall).toMatch(/^[0-9a-f]{10}$/);
  });
});

describe('ledger', () => {
  it('is an on-demand table keyed by pk, with point-in-time recovery, KMS encryption and expiresAt as TTL', () => {
    const table = resource(dev.template!, 'LedgerTable') as RawResource;

    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toEqual({
      TableName: 'eks-endpoint-guard-dev-ledger',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('survives stack deletion and replacement', () => {
    const table = resource(dev.template!, 'LedgerTable') as RawResource;

    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('dashboard', () => {
  type Line = (string | Record<string, unknown>)[];
  type Widget = { properties: { title: string; metrics: Line[] } };
  /** The dashboard's widgets, and each metric line as namespace, name, dimensions and options. */
  function dashboard(template: Template) {
    const body = (resource(template, 'Dashboard').Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const widgets = (JSON.parse(body) as { widgets: Widget[] }).widgets;
    const lines = widgets.flatMap((w) =>
      w.properties.metrics.map((line) => {
        const [namespace, name, ...rest] = line as string[];
        const options = typeof rest.at(-1) === 'object' ? (rest.pop() as unknown as Record<string, unknown>) : {};
        const dimensions: Record<string, string> = {};
        for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]!] = rest[i + 1]!;
        return { widget: w.properties.title, namespace, name, dimensions, options };
      }),
    );
    return { body, widgets, lines };
  }

  it('is named after the stage and charts every metric the functions emit, with the service dimension Powertools adds', () => {
    const { lines } = dashboard(dev.template!);
    const own = lines.filter((l) => l.namespace === METRICS_NAMESPACE);

    expect(resource(dev.template!, 'Dashboard').Properties.DashboardName).toBe('eks-endpoint-guard-dev');
    expect([...new Set(own.map((l) => l.name))].sort()).toEqual(Object.values(METRIC_NAMES).sort());
    for (const line of own) expect(line.dimensions.service).toBe(SERVICE_NAME);
    const outcomes = own.filter((l) => l.name === METRIC_NAMES.outcomes);
    expect(outcomes.map((l) => l.dimensions)).toEqual(OUTCOMES.map((o) => ({ service: SERVICE_NAME, [OUTCOME_DIMENSION]: o })));
    for (const name of [METRIC_NAMES.timeToFix, METRIC_NAMES.exposure]) {
      expect(own.filter((l) => l.name === name).map((l) => l.options.stat)).toEqual(['p50', 'p95', 'Maximum']);
    }
  });

  it('charts the state machines\' failed and timed-out executions, every function\'s errors and the dead-letter queue', () => {
    const { body, lines } = dashboard(dev.template!);
    const of = (namespace: string, name: string) => lines.filter((l) => l.namespace === namespace && l.name === name).map((l) => l.dimensions);

    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(of('AWS/States', metric)).toEqual([{ StateMachineArn: '${EnforceEndpointStateMachine}' }, { StateMachineArn: '${SweepOrganizationStateMachine}' }, { StateMachineArn: '${TrackChangeStateMachine}' }]);
    }
    expect(of('AWS/Lambda', 'Errors').map((d) => d.FunctionName).sort()).toEqual(FUNCTION_NAMES.map((name) => `\${${capitalized(name)}LambdaFunction}`).sort());
    expect(of('AWS/SQS', 'ApproximateNumberOfMessagesVisible')).toEqual([{ QueueName: '${IntakeDeadLetterQueue.QueueName}' }]);
    // Every substitution names a pseudo parameter or a resource of this template (and an attribute it has).
    for (const [, ref] of body.matchAll(/\$\{([^}]+)\}/g)) {
      if (!ref!.startsWith('AWS::')) expect(Object.keys(dev.template!.Resources)).toContain(ref!.split('.')[0]);
    }
  });
});
