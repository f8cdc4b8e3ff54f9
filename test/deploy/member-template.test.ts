/**
 * The member stack (src/deploy/member-template.ts): what `npm run package` writes next to the central
 * template, as a service-managed StackSet deploys it to every governed account and region.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DEFAULT_READ_ROLE_NAME, DEFAULT_WRITE_ROLE_NAME, memberTemplate, renderMemberTemplate, type CfnTemplate } from '../../src/deploy/member-template';
import { INTAKE_RULE_PATTERN } from '../../src/events/rule';
import { GUARDRAIL_STATEMENTS } from '../../src/iam/guardrail';
import { cfnLint, ROOT } from './package';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown };
type Role = { AssumeRolePolicyDocument: { Statement: Statement[] }; Policies: { PolicyDocument: { Statement: Statement[] } }[]; RoleName?: unknown };

const template: CfnTemplate = memberTemplate();
const asList = (value: string | string[]) => (Array.isArray(value) ? [...value] : [value]);
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function resource(logicalId: string) {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`member template has no resource ${logicalId}`);
  return found;
}
const role = (logicalId: string) => resource(logicalId).Properties as unknown as Role;
const policyStatements = (logicalId: string) => role(logicalId).Policies.flatMap((p) => p.PolicyDocument.Statement);

const CENTRAL_BUS_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${CentralRegion}:${CentralAccountId}:event-bus/${CentralEventBusName}' };
const ORG_CONDITION = { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } };

describe('rendering', () => {
  it('is written offline by the package:member script that npm run package runs, and linted by lint:cfn', async () => {
    const scripts = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const dir = await mkdtemp(join(tmpdir(), 'eks-endpoint-guard-member-'));
    try {
      const file = join(dir, 'out', 'member-stack.json');
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'scripts/member-template.ts'), file], { cwd: dir, timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out)));
      });

      expect(await readFile(file, 'utf8')).toBe(renderMemberTemplate());
      expect(stdout).toContain(`Member stack template: ${file} (9 resources`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(scripts.package).toMatch(/sls package .*&& npm run --silent package:member$/);
    expect(scripts['package:member']).toBe('tsx scripts/member-template.ts .serverless/member-stack.json');
    expect(scripts['lint:cfn']).toContain('cfn-lint .serverless/member-stack.json');
  });

  it('passes cfn-lint with no check ignored', async () => {
    const lint = await cfnLint(JSON.parse(renderMemberTemplate()) as object, { ignoreChecks: [] });
    if (lint === null) return; // cfn-lint is a Python tool; CI runs it on its own as well.

    expect(lint.output).toBe('');
    expect(lint.exitCode).toBe(0);
  });
});

describe('forwarding', () => {
  it('forwards from the default bus exactly the events the central intake rules match (one source)', () => {
    const rule = resource('ForwardEksEventsRule');

    expect(rule.Type).toBe('AWS::Events::Rule');
    expect(rule.Condition).toBe('ForwardEvents');
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.EventPattern).toEqual(plain(INTAKE_RULE_PATTERN));
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.Name).toEqual({ 'Fn::Sub': '${CentralEventBusName}-forward' });
  });

  it('targets the central bus through the forwarding role, retrying as long as EventBridge allows', () => {
    expect(resource('ForwardEksEventsRule').Properties.Targets).toEqual([
      {
        Id: 'central-event-bus',
        Arn: CENTRAL_BUS_ARN,
        RoleArn: { 'Fn::GetAtt': ['ForwardToCentralBusRole', 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] } },
      },
    ]);
  });

  it('gives the forwarding role, trusted by this account\'s rule only, nothing but events:PutEvents on the central bus', () => {
    const forwarder = role('ForwardToCentralBusRole');

    expect(resource('ForwardToCentralBusRole').Condition).toBe('ForwardEvents');
    expect(forwarder.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${CentralEventBusName}-forward' } },
        },
      },
    ]);
    expect(policyStatements('ForwardToCentralBusRole')).toEqual([{ Sid: 'PutEventsToCentralBusOnly', Effect: 'Allow', Action: 'events:PutEvents', Resource: CENTRAL_BUS_ARN }]);
    // The rule name in the trust is the rule's own.
    expect((forwarder.AssumeRolePolicyDocument.Statement[0]!.Condition as { ArnEquals: { 'aws:SourceArn': { 'Fn::Sub': string } } }).ArnEquals['aws:SourceArn']['Fn::Sub']).toMatch(
      new RegExp(`:rule/${(resource('ForwardEksEventsRule').Properties.Name as { 'Fn::Sub': string })['Fn::Sub'].replace(/[${}]/g, '\\$&')}$`),
    );
  });
});

const RULE_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${CentralEventBusName}-forward' };
const QUEUE_ARN = { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] };

describe('forwarding dead letters', () => {
  it('dead-letters every forwarding target, to a queue of this stack, so nothing the central bus refuses is dropped', () => {
    const targets = resource('ForwardEksEventsRule').Properties.Targets as { DeadLetterConfig?: { Arn: unknown } }[];

    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(target.DeadLetterConfig).toEqual({ Arn: QUEUE_ARN });
    // EventBridge requires the dead-letter queue in the rule's own account and region: same stack, same condition.
    expect(resource('ForwardDeadLetterQueue').Condition).toBe(resource('ForwardEksEventsRule').Condition);
  });

  it('keeps dead letters 14 days (the SQS maximum), encrypted with SSE-SQS, in a queue CloudFormation names', () => {
    const queue = resource('ForwardDeadLetterQueue');

    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties).toEqual({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
    expect(queue.Properties.QueueName).toBeUndefined();
    expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
  });

  it('lets only EventBridge send, only for this stack\'s rule, and refuses every call without TLS', () => {
    const policy = resource('ForwardDeadLetterQueuePolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

    expect(policy.Type).toBe('AWS::SQS::QueuePolicy');
    expect(policy.Condition).toBe('ForwardEvents');
    expect(policy.Properties.Queues).toEqual([{ Ref: 'ForwardDeadLetterQueue' }]);
    expect(statements).toEqual([
      { Sid: 'ForwardingRuleDeadLetters', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE_ARN, Condition: { ArnEquals: { 'aws:SourceArn': RULE_ARN } } },
      { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 'sqs:*', Resource: QUEUE_ARN, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ]);
    // The rule ARN the queue admits is the rule's own, the one its forwarding role trusts too.
    const forwarderTrust = role('ForwardToCentralBusRole').AssumeRolePolicyDocument.Statement[0]!.Condition as { ArnEquals: { 'aws:SourceArn': unknown } };
    expect(forwarderTrust.ArnEquals['aws:SourceArn']).toEqual(RULE_ARN);
  });

  it('alarms on the first visible dead letter, with no data meaning none', () => {
    const alarm = resource('ForwardDeadLetterAlarm');

    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Condition).toBe('ForwardEvents');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarm.Properties.AlarmName).toBeUndefined();
  });

  it('notifies AlarmTopicArn when one is given, and nobody when it is empty (the default)', () => {
    const alarm = resource('ForwardDeadLetterAlarm');

    expect(template.Parameters.AlarmTopicArn).toMatchObject({ Type: 'String', Default: '' });
    expect(template.Conditions.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmTopicArn' }, ''] }] });
    expect(alarm.Properties.AlarmActions).toEqual({ 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] });
  });

  it.each([
    ['', true],
    ['arn:aws:sns:us-east-1:111122223333:eks-endpoint-guard-prod-operations', true],
    ['arn:aws-us-gov:sns:us-gov-west-1:111122223333:ops', true],
    ['arn:aws:sqs:us-east-1:111122223333:queue', false],
    ['arn:aws:sns:us-east-1:111122223333:a,arn:aws:sns:us-east-1:111122223333:b', false],
    ['*', false],
  ])('accepts AlarmTopicArn %j: %s', (value, accepted) => {
    expect(new RegExp(template.Parameters.AlarmTopicArn!.AllowedPattern as string).test(value)).toBe(accepted);
  });
});

/** Every EKS and EC2 operation the central adapters send (commands and paginators), as IAM actions. */
async function actionsTheAdaptersCall(): Promise<string[]> {
  const actions: string[] = [];
  for (const [file, service] of [
    ['src/aws/eks.ts', 'eks'],
    ['src/aws/ec2.ts', 'ec2'],
  ] as const) {
    const source = await readFile(join(ROOT, file), 'utf8');
    const used = new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!));
    for (const m of source.matchAll(/paginate(\w+)\(/g)) used.add(m[1]!);
    actions.push(...[...used].map((operation) => `${service}:${operation}`));
  }
  return actions.sort();
}

describe('member roles', () => {
  it('lets the read role do every read the central functions make, and nothing else', async () => {
    const allowed = policyStatements('MemberReadRole').filter((s) => s.Effect === 'Allow').flatMap((s) => asList(s.Action));
    const called = await actionsTheAdaptersCall();

    expect([...allowed].sort()).toEqual(called.filter((a) => a !== 'eks:UpdateClusterConfig'));
    expect(policyStatements('MemberReadRole').every((s) => s.Effect === 'Allow')).toBe(true);
    // Cluster actions on this account's clusters; "*" only where IAM supports no resource type.
    for (const statement of policyStatements('MemberReadRole')) {
      const clusterScoped = asList(statement.Action).some((a) => a === 'eks:DescribeCluster' || a === 'eks:DescribeUpdate');
      expect(statement.Resource).toEqual(clusterScoped ? { 'Fn::Sub': 'arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*' } : '*');
    }
  });

  it('lets the write role only UpdateClusterConfig, under the guardrail Deny', async () => {
    const statements = policyStatements('MemberWriteRole');

    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      { Sid: 'UpdateEndpointAccess', Effect: 'Allow', Action: ['eks:UpdateClusterConfig'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/*' } },
    ]);
    expect((await actionsTheAdaptersCall()).includes('eks:UpdateClusterConfig')).toBe(true);
    expect(statements.filter((s) => s.Effect === 'Deny')).toEqual(plain(GUARDRAIL_STATEMENTS));
    expect(JSON.stringify(statements)).not.toContain('IfExists');
  });

  it.each([
    ['MemberReadRole', 'ReadRoleName', { Ref: 'CentralReadRoleArns' }],
    ['MemberWriteRole', 'WriteRoleName', { Ref: 'CentralWriteRoleArn' }],
  ])('%s trusts exactly the central role ARNs given, as principals of the organization', (logicalId, nameParameter, principals) => {
    const r = role(logicalId);

    expect(r.RoleName).toEqual({ Ref: nameParameter });
    expect(r.AssumeRolePolicyDocument.Statement).toEqual([
      { Sid: 'CentralFunctionsOfTheOrganization', Effect: 'Allow', Principal: { AWS: principals }, Action: 'sts:AssumeRole', Condition: ORG_CONDITION },
    ]);
    // Chained role sessions last an hour at most; the functions ask for exactly that.
    expect(resource(logicalId).Properties.MaxSessionDuration).toBe(3600);
  });

  it('takes the central roles as parameters: a list for the readers, one ARN for the writer', () => {
    expect(template.Parameters.CentralReadRoleArns!.Type).toBe('CommaDelimitedList');
    const writer = new RegExp(template.Parameters.CentralWriteRoleArn!.AllowedPattern as string);
    expect(writer.test('arn:aws:iam::111122223333:role/eks-endpoint-guard/eks-endpoint-guard-prod-RemediateClusterRole-AbC123')).toBe(true);
    expect(writer.test('arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:role/b')).toBe(false);
    expect(writer.test('*')).toBe(false);
  });

  it('defaults the role names to the central stack\'s defaults', () => {
    expect(template.Parameters.ReadRoleName!.Default).toBe(DEFAULT_READ_ROLE_NAME);
    expect(template.Parameters.WriteRoleName!.Default).toBe(DEFAULT_WRITE_ROLE_NAME);
    expect(DEFAULT_READ_ROLE_NAME).not.toBe(DEFAULT_WRITE_ROLE_NAME);
  });

  it('grants no sts: action and no action wildcard anywhere', () => {
    const policies = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Role')
      .flatMap((r) => (r.Properties as unknown as Role).Policies.flatMap((p) => p.PolicyDocument.Statement));

    for (const action of policies.flatMap((s) => asList(s.Action))) {
      expect(action.startsWith('sts:')).toBe(false);
      expect(action).not.toContain('*');
    }
  });
});

// ------------------------------------------------------------------ StackSet compatibility

type Instance = { account: string; region: string };
type Deployment = { central: Instance; rolesRegion: string };

/** A template value as CloudFormation resolves it for one stack instance. */
function valueOf(value: unknown, instance: Instance, deployment: Deployment): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string }).Ref;
  const refs: Record<string, string> = {
    'AWS::AccountId': instance.account,
    'AWS::Region': instance.region,
    CentralAccountId: deployment.central.account,
    CentralRegion: deployment.central.region,
    RolesRegion: deployment.rolesRegion,
    // Security Hub findings on: the central stack's findings roles are given.
    CentralFindingsRoleArns: 'arn:aws:iam::111122223333:role/eks-endpoint-guard/notifyOutcome',
  };
  if (ref !== undefined && ref in refs) return refs[ref]!;
  throw new Error(`the test cannot resolve ${JSON.stringify(value)}`);
}

/** A condition of the template as CloudFormation evaluates it for one stack instance. */
function holds(name: string, instance: Instance, deployment: Deployment): boolean {
  const evaluate = (c: unknown): boolean => {
    const node = c as Record<string, unknown[] | string>;
    if (typeof node.Condition === 'string') return holds(node.Condition, instance, deployment);
    if (node['Fn::Equals']) return valueOf(node['Fn::Equals'][0], instance, deployment) === valueOf(node['Fn::Equals'][1], instance, deployment);
    if (node['Fn::And']) return (node['Fn::And'] as unknown[]).every(evaluate);
    if (node['Fn::Or']) return (node['Fn::Or'] as unknown[]).some(evaluate);
    if (node['Fn::Not']) return !evaluate((node['Fn::Not'] as unknown[])[0]);
    throw new Error(`the test cannot evaluate ${JSON.stringify(c)}`);
  };
  const condition = template.Conditions[name];
  if (condition === undefined) throw new Error(`no condition ${name}`);
  return evaluate(condition);
}

/** The resources a stack instance creates. */
const created = (instance: Instance, deployment: Deployment) =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Condition === undefined || holds(r.Condition, instance, deployment))
    .map(([id]) => id);

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'sa-east-1'];
const account = fc.stringMatching(/^\d{12}$/);

describe('StackSet compatibility', () => {
  it('names no account and no region: every instance is told them by parameters and pseudo parameters', () => {
    // Parameter descriptions and patterns may show examples; what is deployed may not hold any.
    const deployed = JSON.stringify({ Conditions: template.Conditions, Resources: template.Resources, Outputs: template.Outputs });

    expect(deployed.match(/\d{12}/g)).toBeNull();
    expect(deployed.match(/\b[a-z]{2}-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d\b/g)).toBeNull();
    expect(deployed).not.toMatch(/arn:aws:/);
    for (const name of ['OrganizationId', 'CentralAccountId', 'CentralRegion', 'CentralEventBusName', 'CentralReadRoleArns', 'CentralWriteRoleArn', 'RolesRegion']) {
      expect([name, template.Parameters[name]?.Default]).toEqual([name, undefined]);
    }
  });

  it('gives every role with a fixed (global) name the roles-region condition; the others are named by CloudFormation', () => {
    const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');

    expect(roles.map(([id]) => id).sort()).toEqual(['ForwardToCentralBusRole', 'MemberFindingsRole', 'MemberReadRole', 'MemberWriteRole']);
    for (const [id, r] of roles) {
      // CreateFindingsRole is CreateMemberRoles and findings turned on.
      if (r.Properties.RoleName !== undefined) expect([id, r.Condition]).toEqual([id, id === 'MemberFindingsRole' ? 'CreateFindingsRole' : 'CreateMemberRoles']);
    }
    expect(JSON.stringify(template.Conditions.CreateMemberRoles)).toContain('IsRolesRegion');
    expect(template.Conditions.IsRolesRegion).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RolesRegion' }] });
  });

  it('gives no regional resource a fixed name beyond its own account and region (queues and alarms are named by CloudFormation)', () => {
    for (const [id, r] of Object.entries(template.Resources)) {
      for (const key of ['QueueName', 'AlarmName', 'TopicName']) expect([id, key, r.Properties[key]]).toEqual([id, key, undefined]);
    }
  });

  it('exports nothing (StackSet instances in one region of an account would collide) and uses no transform', () => {
    for (const output of Object.values(template.Outputs)) expect(output.Export).toBeUndefined();
    expect((template as Record<string, unknown>).Transform).toBeUndefined();
  });

  it('creates the member roles exactly once per member account and never in the central account, and forwards from every region but the central one', () => {
    fc.assert(
      fc.property(
        account,
        account,
        fc.subarray(REGIONS, { minLength: 1 }),
        fc.nat(),
        fc.nat(),
        (centralAccount, member, regions, rolesAt, centralAt) => {
          const deployment: Deployment = { central: { account: centralAccount, region: REGIONS[centralAt % REGIONS.length]! }, rolesRegion: regions[rolesAt % regions.length]! };
          for (const acct of [member, centralAccount]) {
            const instances = regions.map((region) => ({ region, made: created({ account: acct, region }, deployment) }));
            const withRoles = instances.filter((i) => i.made.includes('MemberReadRole'));
            const isCentral = acct === centralAccount;

            // IAM is global: one instance per account creates the named roles (none in the central account).
            expect(withRoles.map((i) => i.region)).toEqual(isCentral ? [] : [deployment.rolesRegion]);
            for (const i of instances) {
              expect(i.made.includes('MemberWriteRole')).toBe(i.made.includes('MemberReadRole'));
              expect(i.made.includes('MemberFindingsRole')).toBe(i.made.includes('MemberReadRole'));
              const forwards = !(isCentral && i.region === deployment.central.region);
              expect(i.made.includes('ForwardEksEventsRule')).toBe(forwards);
              expect(i.made.includes('ForwardToCentralBusRole')).toBe(forwards);
              // Every forwarding instance keeps its own dead letters and alarms on them.
              for (const id of ['ForwardDeadLetterQueue', 'ForwardDeadLetterQueuePolicy', 'ForwardDeadLetterAlarm']) expect([id, i.made.includes(id)]).toEqual([id, forwards]);
            }
          }
        },
      ),
    );
  });

  it('leaves no instance without a resource (CloudFormation refuses an empty stack)', () => {
    const deployment: Deployment = { central: { account: '111122223333', region: 'us-east-1' }, rolesRegion: 'us-east-1' };

    expect(created(deployment.central, deployment)).toEqual(['MemberStackPresence']);
  });

  it('outputs each resource only where the instance creates it', () => {
    for (const [name, output] of Object.entries(template.Outputs)) {
      const value = output.Value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
      const target = value['Fn::GetAtt']?.[0] ?? value.Ref!;
      expect([name, output.Condition]).toEqual([name, resource(target).Condition]);
    }
  });
});
