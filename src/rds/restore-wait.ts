// Waiting for a restore: the new instance, or the Aurora cluster and its writer instance, polled
// until every part can take connections; a part that fails or vanishes ends the wait at once.
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Clock } from '../common/clock.js';
import { formatDuration } from '../common/duration.js';
import type { Logger } from '../common/logger.js';
import { poll, type PollSchedule } from '../common/retry.js';
import { eventsText } from './snapshot.js';
import { recentEvents } from './snapshots.js';
import { describeTarget, findExisting, type DbTarget } from './source.js';

/** How often and how long to poll, and where to say so: the restore request's. */
export interface WaitOptions {
  schedule: PollSchedule;
  clock?: Clock;
  log: Logger;
}

const RESTORE_FAILED = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'inaccessible-encryption-credentials',
  'restore-error',
  'storage-full',
  'deleting',
]);

/** Polls the new instance (and an Aurora writer) until every part is available; fails at once when one fails or vanishes. */
export async function waitUntilAvailable(
  client: RDSClient,
  request: WaitOptions,
  target: DbTarget,
  writerIdentifier: string | undefined,
  reused: boolean,
) {
  const { log } = request;
  return poll(
    async () => {
      const state = await currentState(client, target, writerIdentifier);
      for (const [what, status, sourceType, identifier] of state.parts) {
        if (status === 'missing')
          throw new Error(`${what} disappeared while being restored: RDS says it does not exist (deleted?).`);
        if (RESTORE_FAILED.has(status)) {
          const events = await recentEvents(client, sourceType, identifier);
          throw new Error(`${what} is "${status}": the restore failed.${eventsText(events)}`);
        }
      }
      if (state.parts.every(([, status]) => status === 'available')) return { done: true, value: state };
      return { done: false, progress: state.parts.map(([what, status]) => `${what}: ${status}`).join(', ') };
    },
    {
      what: writerIdentifier
        ? `cluster "${target.identifier}" and writer "${writerIdentifier}" to become available`
        : `instance "${target.identifier}" to become available`,
      ...request.schedule,
      checkFirst: reused,
      clock: request.clock,
      onPoll: (progress, elapsedMs) => log.info(`${progress} after ${formatDuration(elapsedMs)}`),
    },
  );
}

type Part = [what: string, status: string, sourceType: 'db-instance' | 'db-cluster', identifier: string];

export async function currentState(client: RDSClient, target: DbTarget, writerIdentifier: string | undefined) {
  const main = await findExisting(client, target);
  const parts: Part[] = [
    [
      describeTarget(target),
      main?.status ?? 'missing',
      target.kind === 'instance' ? 'db-instance' : 'db-cluster',
      target.identifier,
    ],
  ];
  let endpointAddress: string | undefined;
  let endpointPort: number | undefined;
  if (target.kind === 'instance') {
    endpointAddress = main?.instance?.Endpoint?.Address;
    endpointPort = main?.instance?.Endpoint?.Port;
  } else {
    // Connections go to the cluster (writer) endpoint, not to the instance's own.
    endpointAddress = main?.cluster?.Endpoint;
    endpointPort = main?.cluster?.Port;
    if (writerIdentifier) {
      const writer = await findExisting(client, { kind: 'instance', identifier: writerIdentifier });
      parts.push([
        `writer instance "${writerIdentifier}"`,
        writer?.status ?? 'missing',
        'db-instance',
        writerIdentifier,
      ]);
    }
  }
  const statuses = parts.map(([, status]) => status);
  const status = statuses.every((s) => s === 'available')
    ? 'available'
    : (statuses.find((s) => s !== 'available') ?? 'unknown');
  return { parts, status, endpointAddress, endpointPort };
}
