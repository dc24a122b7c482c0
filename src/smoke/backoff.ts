/**
 * The pause before retry number `retry` (1 for the first retry): the interval doubling each
 * time up to the cap, so a service that needs a minute to come back is not hammered and
 * one that is back in two seconds is not waited on for long.
 */
export function backoffDelay(retry: number, intervalMs: number, capMs: number): number {
  const cap = Math.max(capMs, intervalMs);
  return Math.min(cap, intervalMs * 2 ** Math.max(0, retry - 1));
}
