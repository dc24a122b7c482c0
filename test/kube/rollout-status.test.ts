import type { WorkloadApi } from '../../src/kube/client.js';
import { restartWorkloads } from '../../src/kube/rollout.js';
import { judgeRollout, RolloutFailedError, type Workload } from '../../src/kube/rollout-status.js';
import { silentLogger } from '../../src/common/logger.js';
import { manualClock } from '../helpers/manual-clock.js';

// Each case is a state a controller writes, with the line `kubectl rollout status` prints for it.
const deployment = (generation: number, spec: object, status: object) => ({
  metadata: { name: 'ticket-service', generation },
  spec: { replicas: 3, ...spec },
  status,
});

describe('judgeRollout: deployments, as kubectl judges them', () => {
  it('waits until the controller has observed the new generation', () => {
    expect(
      judgeRollout(
        'Deployment',
        deployment(5, {}, { observedGeneration: 4, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      ),
    ).toEqual({
      done: false,
      message: 'Waiting for deployment spec update to be observed...',
    });
  });

  it('waits for updated, then old, then available replicas', () => {
    expect(
      judgeRollout(
        'Deployment',
        deployment(5, {}, { observedGeneration: 5, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
      ).message,
    ).toBe('Waiting for deployment "ticket-service" rollout to finish: 1 out of 3 new replicas have been updated...');
    expect(
      judgeRollout(
        'Deployment',
        deployment(5, {}, { observedGeneration: 5, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
      ).message,
    ).toBe('Waiting for deployment "ticket-service" rollout to finish: 1 old replicas are pending termination...');
    expect(
      judgeRollout(
        'Deployment',
        deployment(5, {}, { observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      ).message,
    ).toBe('Waiting for deployment "ticket-service" rollout to finish: 2 of 3 updated replicas are available...');
  });

  it('is done when every replica is updated and available and none is old', () => {
    expect(
      judgeRollout(
        'Deployment',
        deployment(5, {}, { observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
      ),
    ).toEqual({
      done: true,
      message: 'deployment "ticket-service" successfully rolled out',
    });
  });

  it('fails at once on ProgressDeadlineExceeded, but not before the new generation is observed', () => {
    const conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }];
    expect(() =>
      judgeRollout('Deployment', deployment(5, {}, { observedGeneration: 5, conditions, updatedReplicas: 1 })),
    ).toThrow(new RolloutFailedError('deployment "ticket-service" exceeded its progress deadline'));
    expect(judgeRollout('Deployment', deployment(6, {}, { observedGeneration: 5, conditions })).done).toBe(false);
  });
});

describe('judgeRollout: statefulsets', () => {
  const sts = (spec: object, status: object) => ({
    metadata: { name: 'ledger', generation: 3 },
    spec: { replicas: 3, ...spec },
    status: { observedGeneration: 3, ...status },
  });

  it('waits for ready pods, then for the partition to be updated', () => {
    const rolling = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } };
    expect(judgeRollout('StatefulSet', sts(rolling, { readyReplicas: 2 })).message).toBe(
      'Waiting for 1 pods to be ready...',
    );
    expect(judgeRollout('StatefulSet', sts(rolling, { readyReplicas: 3, updatedReplicas: 1 })).message).toBe(
      'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...',
    );
    expect(judgeRollout('StatefulSet', sts(rolling, { readyReplicas: 3, updatedReplicas: 2 }))).toEqual({
      done: true,
      message: 'partitioned roll out complete: 2 new pods have been updated...',
    });
  });

  it('compares the update and current revisions when there is no rollingUpdate block', () => {
    const rolling = { updateStrategy: { type: 'RollingUpdate' } };
    expect(
      judgeRollout(
        'StatefulSet',
        sts(rolling, { readyReplicas: 3, updatedReplicas: 2, updateRevision: 'ledger-b', currentRevision: 'ledger-a' }),
      ).done,
    ).toBe(false);
    expect(
      judgeRollout(
        'StatefulSet',
        sts(rolling, { readyReplicas: 3, currentReplicas: 3, updateRevision: 'ledger-b', currentRevision: 'ledger-b' }),
      ),
    ).toEqual({
      done: true,
      message: 'statefulset rolling update complete 3 pods at revision ledger-b...',
    });
  });

  it('waits while observedGeneration is 0 and refuses OnDelete', () => {
    expect(
      judgeRollout('StatefulSet', {
        metadata: { name: 'ledger', generation: 1 },
        spec: { updateStrategy: { type: 'RollingUpdate' } },
        status: {},
      }).message,
    ).toBe('Waiting for statefulset spec update to be observed...');
    expect(() => judgeRollout('StatefulSet', sts({ updateStrategy: { type: 'OnDelete' } }, {}))).toThrow(
      'rollout status is only available for RollingUpdate strategy type',
    );
  });
});

describe('judgeRollout: daemon sets', () => {
  const ds = (status: object) => ({
    metadata: { name: 'log-agent', generation: 2 },
    spec: { updateStrategy: { type: 'RollingUpdate' } },
    status: { observedGeneration: 2, desiredNumberScheduled: 4, ...status },
  });

  it('waits for updated, then available pods', () => {
    expect(judgeRollout('DaemonSet', ds({ updatedNumberScheduled: 1, numberAvailable: 4 })).message).toBe(
      'Waiting for daemon set "log-agent" rollout to finish: 1 out of 4 new pods have been updated...',
    );
    expect(judgeRollout('DaemonSet', ds({ updatedNumberScheduled: 4, numberAvailable: 3 })).message).toBe(
      'Waiting for daemon set "log-agent" rollout to finish: 3 of 4 updated pods are available...',
    );
    expect(judgeRollout('DaemonSet', ds({ updatedNumberScheduled: 4, numberAvailable: 4 }))).toEqual({
      done: true,
      message: 'daemon set "log-agent" successfully rolled out',
    });
  });
});

describe('restartWorkloads on the manual clock: the deadline and the polls are kept on the injected clock', () => {
  // Reads answered in-process (or never): on the manual clock a read that needs real I/O would
  // lose every race with its timeout (see test/helpers/manual-clock.ts). The protocol itself is
  // test/kube/restart.test.ts's, against the local API server.
  const minute = 60_000;
  const rolledOut = deployment(2, {}, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
  const states: Workload[] = [
    deployment(2, {}, { observedGeneration: 1, replicas: 3, updatedReplicas: 0, availableReplicas: 3 }),
    deployment(2, {}, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }),
    deployment(2, {}, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
    rolledOut,
  ];

  function api(read: () => Promise<Workload>): WorkloadApi {
    let reads = 0;
    return {
      // The first read is the one before the restart: the deployment as it runs.
      read: () => (reads++ === 0 ? Promise.resolve(deployment(1, {}, { observedGeneration: 1 })) : read()),
      patch: () => Promise.resolve(states[0]),
      listPods: () => Promise.resolve([]),
      listPodEvents: () => Promise.resolve([]),
    };
  }

  function restart(workloadApi: WorkloadApi, warnings: string[] = []) {
    const clock = manualClock();
    const report = restartWorkloads({
      api: workloadApi,
      workloads: [{ kind: 'Deployment', name: 'ticket-service', namespace: 'production' }],
      timeoutMs: 5 * minute,
      pollIntervalMs: 2000,
      logger: { ...silentLogger, warning: (line) => warnings.push(line) },
      clock,
      now: () => new Date('2026-11-29T03:04:05Z'),
    });
    return { clock, report };
  }

  it('times out at the deadline on the clock when a status read never answers, without waiting for it', async () => {
    const warnings: string[] = [];
    // The first status read after the restart hangs; the rest answer, still rolling out. Timed on
    // the wall instead of the clock, the hang would hold the test for the whole five minutes.
    let reads = 0;
    const { clock, report } = restart(
      api(() => (reads++ === 0 ? new Promise<Workload>(() => undefined) : Promise.resolve(states[1]))),
      warnings,
    );
    const [result] = (await report).results;
    expect(result).toMatchObject({ outcome: 'timed-out', seconds: 300 });
    expect(result.message).toBe(
      'timed out after 300s; last status: Waiting for deployment spec update to be observed...',
    );
    expect(clock.elapsed()).toBe(5 * minute);
    expect(warnings[0]).toBe(
      'deployment/ticket-service: could not read its status (no answer before the timeout); retrying',
    );
  });

  it('polls on the clock, and a read that answers beats its timeout without moving time', async () => {
    let next = 1;
    const { clock, report } = restart(api(() => Promise.resolve(states[Math.min(next++, states.length - 1)])));
    const [result] = (await report).results;
    expect(result).toMatchObject({ outcome: 'rolled-out', seconds: 6 });
    expect(clock.elapsed()).toBe(6000);
    expect(clock.sleeps.filter((ms) => ms === 2000)).toHaveLength(3);
  });
});
