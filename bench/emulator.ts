/**
 * DescribeCluster throughput of the local emulator through the real SDK v3 client.
 * Usage: npm run bench:emulator [-- REQUESTS_PER_ROUND ROUNDS]
 * Each concurrency level runs one warm-up round, then ROUNDS measured rounds of REQUESTS_PER_ROUND calls;
 * it reports the median requests/second over the rounds and p50/p99 latency over every measured call.
 */
import { Agent } from 'node:http';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { manualClock, startEmulator } from '../src/emulator';

const REQUESTS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const LEVELS = [1, 8, 32, 128];
const ACCOUNT = '111122223333';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

async function round(client: EKSClient, concurrency: number, latencies: number[] | undefined): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < REQUESTS) {
      next += 1;
      const t0 = performance.now();
      await client.send(new DescribeClusterCommand({ name: 'bench' }));
      latencies?.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return REQUESTS / ((performance.now() - started) / 1000);
}

const emulator = await startEmulator({
  clock: manualClock(),
  state: { accounts: [{ id: ACCOUNT }], clusters: [{ name: 'bench', account: ACCOUNT, region: 'us-east-1', endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] }] },
});
// The SDK's default pool (50 sockets) would cap the higher levels; give it room so the emulator is what is measured.
const httpAgent = new Agent({ keepAlive: true, maxSockets: Math.max(...LEVELS) });
const client = new EKSClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: ACCOUNT, secretAccessKey: 'x' }, requestHandler: { httpAgent } });

console.log(`DescribeCluster via @aws-sdk/client-eks, Node ${process.version}, ${REQUESTS} requests per round, ${ROUNDS} rounds (+1 warm-up)`);
console.log('concurrency  req/s (median)  p50 ms  p99 ms');
try {
  for (const concurrency of LEVELS) {
    await round(client, concurrency, undefined);
    const latencies: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < ROUNDS; i++) rates.push(await round(client, concurrency, latencies));
    latencies.sort((a, b) => a - b);
    console.log(
      `${String(concurrency).padStart(11)}  ${median(rates).toFixed(0).padStart(14)}  ${percentile(latencies, 50).toFixed(2).padStart(6)}  ${percentile(latencies, 99).toFixed(2).padStart(6)}`,
    );
  }
} finally {
  client.destroy();
  httpAgent.destroy();
  await emulator.close();
}
