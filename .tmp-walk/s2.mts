import { emulator, guard, dlq, redrive, realFailure, dump, q, invokedIds, done, withId } from './h.mts';
const which = process.argv[2]!;
const base = await realFailure();
// drop the real failure record; keep a clean queue
const drain = async () => { const r = await redrive(['--apply', '--json']); await emulator.flushEvents(); return r; };
await drain();
guard.invoked().length = 0;
const cheap = (i: number) => { const e = withId(base, `cheap-${String(i).padStart(3, '0')}`); e.detail = { ...e.detail, errorCode: 'AccessDenied' }; return e; };
const put = (ev: unknown, attrs?: Record<string, string>) => emulator.sendToQueue(dlq, { body: JSON.stringify(ev), attributes: attrs ?? { ERROR_CODE: 'SDK_CLIENT_ERROR', ERROR_MESSAGE: 'Unable to invoke Lambda' } }).messageId;
const fill = (n: number) => { for (let i = 0; i < n; i++) put(cheap(i)); };
const count = () => { const s: Record<string, number> = {}; for (const m of q()) s[m.state] = (s[m.state] ?? 0) + 1; return s; };
const sends = () => { const c: Record<string, number> = {}; for (const id of invokedIds()) c[id] = (c[id] ?? 0) + 1; return Object.entries(c).filter(([, n]) => n > 1); };
const short = (r: { code: number; out: string; err: string }) => ({ code: r.code, head: r.out.split('\n')[0], tail: r.out.trim().split('\n').slice(-3), err: r.err.slice(0, 600) });

switch (which) {
  case 'receive-throttle-mid': {
    fill(25);
    emulator.setFault({ kind: 'rateLimit', service: 'sqs', operation: 'ReceiveMessage', perSecond: 0.0001, burst: 1 } as any);
    console.log(short(await redrive(['--apply'])));
    emulator.clearFaults(); await emulator.flushEvents();
    console.log('queue', count(), 'invoked', invokedIds().length);
    const again = await redrive(['--apply']); await emulator.flushEvents();
    console.log('rerun', short(again), 'queue', count(), 'invoked', invokedIds().length);
    break;
  }
  case 'receive-throttle-once': {
    fill(25);
    emulator.setFault({ kind: 'throttle', service: 'sqs', operation: 'ReceiveMessage', times: 2 });
    const r = await redrive(['--apply']); await emulator.flushEvents();
    console.log(short(r), 'queue', count(), 'invoked', invokedIds().length);
    break;
  }
  case 'delete-fails': {
    fill(3);
    emulator.setFault({ kind: 'server-error', service: 'sqs', operation: 'DeleteMessageBatch', times: 3 });
    const r = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r); console.log('queue', count(), 'invoked', invokedIds());
    const r2 = await redrive(['--apply']); await emulator.flushEvents();
    console.log('rerun', short(r2), 'queue', count(), 'dups', sends());
    break;
  }
  case 'release-fails-end': {
    fill(3); emulator.sendToQueue(dlq, { body: 'junk' });
    emulator.setFault({ kind: 'server-error', service: 'sqs', operation: 'ChangeMessageVisibilityBatch', times: 3 });
    const r = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r); console.log('queue', q(), 'invoked', invokedIds().length);
    break;
  }
  case 'release-fails-dry': {
    fill(3);
    emulator.setFault({ kind: 'throttle', service: 'sqs', operation: 'ChangeMessageVisibilityBatch', times: 3 });
    const r = await redrive([]);
    dump('dry', r); console.log('queue', q());
    emulator.clearFaults();
    console.log('dry right after', short(await redrive([])));
    break;
  }
  case 'invoke-one-fails': {
    fill(4);
    emulator.setFault({ kind: 'server-error', service: 'lambda', operation: 'Invoke', times: 3 });
    const r = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r); console.log('queue', q(), 'invoked', invokedIds());
    break;
  }
  case 'invoke-throttle-all': {
    fill(2);
    emulator.setFault({ kind: 'throttle', service: 'lambda', operation: 'Invoke' });
    const r = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r); console.log('queue', q());
    break;
  }
  case 'two-runs': {
    fill(40);
    const [a, b] = await Promise.all([redrive(['--apply']), redrive(['--apply'])]); await emulator.flushEvents();
    console.log('A', short(a), 'B', short(b), 'queue', count(), 'invoked', invokedIds().length, 'dups', sends());
    break;
  }
  case 'two-runs-dry-apply': {
    fill(40);
    const [a, b] = await Promise.all([redrive([]), redrive(['--apply'])]); await emulator.flushEvents();
    console.log('dry', short(a), 'apply', short(b), 'queue', count(), 'invoked', invokedIds().length);
    break;
  }
  case 'max': {
    fill(25);
    const r = await redrive(['--apply', '--max', '10']); await emulator.flushEvents();
    console.log(short(r), 'queue', count(), 'invoked', invokedIds().length);
    const r2 = await redrive(['--max', '12']);
    console.log(short(r2));
    break;
  }
  case 'both-formats': {
    const ev = withId(base, 'dup-0001');
    put(ev);
    emulator.sendToQueue(dlq, { body: JSON.stringify({ version: '1.0', requestContext: { functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:eks-endpoint-guard-local-triageEvent:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 }, requestPayload: ev, responseContext: { functionError: 'Unhandled' }, responsePayload: { errorType: 'X', errorMessage: 'y' } }) });
    const r = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r); console.log('queue', q(), 'invoked', invokedIds(), guard.runner.executions.map((e: any) => [e.name, e.outcome]));
    break;
  }
  case 'gone-cluster': {
    const ev = withId(base, 'gone-0001');
    ev.detail = { ...ev.detail, requestParameters: { ...ev.detail.requestParameters, name: 'deleted-cluster' }, responseElements: JSON.parse(JSON.stringify(ev.detail.responseElements ?? {}).replaceAll('prod-api', 'deleted-cluster')) };
    put(ev);
    const r = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r); console.log('queue', q(), 'invoked', guard.invoked().map((d: any) => [d.triage?.eventId, d.error, d.executions?.map((e: any) => [e.name, e.outcome, e.error])]));
    console.log('alerts', guard.alerts().slice(-1).map((a: any) => a.subject));
    break;
  }
  case 'other-source': {
    put({ version: '0', id: 'ec2-1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', account: '111122223333', region: 'us-east-1', time: '2026-05-01T00:00:00Z', resources: [], detail: { eventVersion: '1.08', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', eventID: 'ec2-evt-1', eventTime: '2026-05-01T00:00:00Z', awsRegion: 'us-east-1', requestParameters: {} } });
    put({ version: '0', id: 'sched-1', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '111122223333', region: 'us-east-1', time: '2026-05-01T06:00:00Z', resources: ['arn:aws:events:us-east-1:111122223333:rule/eks-endpoint-guard-local-sweep-organization'], detail: {} }, { ERROR_CODE: 'NO_PERMISSIONS', ERROR_MESSAGE: 'Not authorized to StartExecution', RULE_ARN: 'arn:aws:events:us-east-1:111122223333:rule/eks-endpoint-guard-local-sweep-organization', TARGET_ARN: 'arn:aws:states:us-east-1:111122223333:stateMachine:eks-endpoint-guard-local-sweep-organization' });
    put({ version: '0', id: 'eks-state', 'detail-type': 'EKS Cluster State Change', source: 'aws.eks', account: '111122223333', region: 'us-east-1', time: '2026-05-01T00:00:00Z', resources: [], detail: { status: 'ACTIVE' } });
    const bare = { ...base.detail, eventID: 'bare-0001' }; put(bare);
    const r = await redrive([]);
    dump('dry', r);
    const r2 = await redrive(['--apply']); await emulator.flushEvents();
    dump('apply', r2); console.log('queue', q(), 'invoked', guard.invoked().map((d: any) => [d.triage?.eventId, d.triage?.decision, d.triage?.reason, d.error]));
    break;
  }
  case 'wrong-stage': {
    fill(2);
    dump('stage dev', await redrive(['--stage', 'dev']));
    const url = `${emulator.url}/111122223333/eks-endpoint-guard-local-unprocessed-events`;
    dump('queue-url w/o stage', await redrive(['--stage', 'dev', '--queue-url', url, '--apply']));
    await emulator.flushEvents(); console.log('queue', q());
    dump('bad stage chars', await redrive(['--stage', 'prod_1', '--max', '0', '--function-name', 'a b']));
    dump('no region', await redrive([], { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }));
    dump('wrong region', await redrive(['--region', 'eu-west-1']));
    dump('no endpoint (real AWS, offline)', await redrive([], { AWS_ENDPOINT_URL: undefined, AWS_EC2_METADATA_DISABLED: 'true', HTTPS_PROXY: 'http://127.0.0.1:9' }));
    break;
  }
}
await done();
