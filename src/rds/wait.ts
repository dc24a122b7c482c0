// RDS waits with our own poll loop (src/common/retry.ts `poll`) instead of the SDK waiters. The
// waiters start at 30 s and back off up to 30 min, so a snapshot that completes is noticed up to
// minutes late; and waitUntilDBSnapshotAvailable keeps retrying while the snapshot does not exist,
// so one that vanished is only reported at the timeout. Here each poll is one Describe call, a
// fixed interval (default 5 s) bounds the delay in noticing completion, and the caller's check
// throws at once on `failed` or not-found.

/** The default interval: completion noticed within 5 s, one call per 5 s. */
export const DEFAULT_POLL_INTERVAL_MS = 5_000;
