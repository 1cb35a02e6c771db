/**
 * The log line for a rate-limit store failure: at most one a minute, saying how many it left out
 * since the last (a line per failure would flood the log in an outage; one per process hid every
 * later outage). Takes answer from this process's memory meanwhile (redisBreaker.ts); a release or
 * refund that failed is tried again or stays charged.
 */
export function storeErrorLog(log: (line: string) => void, now: () => number = Date.now): (err: Error) => void {
  let windowStart = 0;
  let unlogged = 0;
  return (err) => {
    const at = now();
    if (at - windowStart < 60_000) {
      unlogged += 1;
      return;
    }
    const earlier = unlogged > 0 ? ` (and ${unlogged} more since the last such line)` : '';
    windowStart = at;
    unlogged = 0;
    log(`rate limits: a Redis command failed: ${err.message.slice(0, 200)}${earlier}`);
  };
}
