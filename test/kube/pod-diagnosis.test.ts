import { diagnosePod, labelSelector } from '../../src/kube/pod-diagnosis.js';

describe('diagnosePod', () => {
  it('names a crash loop with the last message the container left', () => {
    const diagnosis = diagnosePod({
      metadata: { name: 'ticket-service-7d9f-abcde' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'app',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' } },
            lastState: {
              terminated: {
                exitCode: 1,
                reason: 'Error',
                message: 'Error: relation "tickets" does not exist\n  at Parser',
              },
            },
          },
        ],
      },
    });
    expect(diagnosis).toEqual({
      pod: 'ticket-service-7d9f-abcde',
      phase: 'Running',
      reason: 'CrashLoopBackOff',
      detail: 'back-off 40s restarting failed container=app',
      container: 'app',
      restarts: 4,
      lastMessage: 'Error: relation "tickets" does not exist | at Parser [exit code 1 (Error)]',
    });
  });

  it('names an image pull failure', () => {
    const diagnosis = diagnosePod({
      metadata: { name: 'p' },
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'app', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x:9"' } } },
        ],
      },
    });
    expect(diagnosis).toMatchObject({ reason: 'ImagePullBackOff', detail: 'Back-off pulling image "x:9"' });
  });

  it('explains a running pod that is not ready by its failing readiness probe, from its events', () => {
    const pod = {
      metadata: { name: 'p' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [{ name: 'app', ready: false, state: { running: {} } }],
      },
    };
    expect(
      diagnosePod(pod, [
        { reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' },
      ]),
    ).toMatchObject({
      reason: 'ReadinessProbeFailing',
      detail: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
    });
    expect(diagnosePod(pod).detail).toBe('container app is running but its readiness probe has not passed');
  });

  it('names an unschedulable pod', () => {
    const diagnosis = diagnosePod({
      metadata: { name: 'p' },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient memory.',
          },
        ],
      },
    });
    expect(diagnosis).toMatchObject({
      reason: 'Unschedulable',
      detail: '0/3 nodes are available: 3 Insufficient memory.',
    });
  });
});

describe('labelSelector', () => {
  it('writes matchLabels and matchExpressions as a label selector', () => {
    expect(
      labelSelector({
        matchLabels: { app: 'ticket-service', tier: 'api' },
        matchExpressions: [{ key: 'track', operator: 'In', values: ['stable', 'canary'] }],
      }),
    ).toBe('app=ticket-service,tier=api,track in (stable,canary)');
  });
});
