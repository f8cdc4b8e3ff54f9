/**
 * Runs `work` over `items` with at most `concurrency` in flight, keeping the order of results. The SDK's
 * adaptive retry already paces calls per client; this bounds how many DescribeCluster calls one unit
 * has open at once, so one large account cannot take every socket of the Lambda. Pure.
 */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
