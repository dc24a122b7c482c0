import { judgeRollout, RolloutFailedError } from '../../src/kube/rollout-status.js';

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
