import { expect } from '@jest/globals';
import { silentLogger } from '../../src/common/logger.js';
import { ConfigurationError } from '../../src/common/errors.js';
import { workloadApi } from '../../src/kube/client.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { RESTARTED_AT_ANNOTATION } from '../../src/kube/restart.js';
import { restartWorkloads, type RestartOptions } from '../../src/kube/rollout.js';
import { parseWorkloads } from '../../src/kube/workloads.js';
import { startKubeApiServer, type FakeWorkload, type KubeApiServer } from '../fakes/kube-api-server.js';

// The real @kubernetes/client-node, through a generated kubeconfig, against the local API server.
const ns = 'production';
let server: KubeApiServer;

async function start(workloads: Array<Omit<FakeWorkload, 'namespace'>>, options: { stallSteps?: number } = {}) {
  server = await startKubeApiServer({
    workloads: workloads.map((workload) => ({ namespace: ns, ...workload })),
    stepMs: 10,
    ...options,
  });
  return workloadApi(loadKubeconfig({ content: server.kubeconfig }).config);
}

function restart(api: RestartOptions['api'], lines: string[], extra: Partial<RestartOptions> = {}) {
  const lines_: string[] = [];
  const logger = {
    ...silentLogger,
    info: (line: string) => lines_.push(line),
    warning: (line: string) => lines_.push(`WARN ${line}`),
  };
  const report = restartWorkloads({
    api,
    workloads: parseWorkloads(lines, ns),
    timeoutMs: 30_000,
    pollIntervalMs: 5,
    logger,
    now: () => new Date('2026-11-29T03:04:05.678Z'),
    ...extra,
  });
  return { report, log: lines_ };
}

const patches = () => server.requests.filter((request) => request.method === 'PATCH');

afterEach(async () => {
  await server?.close();
});

describe('restartWorkloads against the Kubernetes API', () => {
  it('restarts a deployment as kubectl does and waits until it has rolled out', async () => {
    const api = await start([{ kind: 'Deployment', name: 'ticket-service', replicas: 3 }]);
    const { report, log } = restart(api, ['deployment/ticket-service']);
    const result = await report;

    expect(result.passed).toBe(true);
    expect(result.restartedAt).toBe('2026-11-29T03:04:05Z');
    expect(result.results[0]).toMatchObject({
      workload: 'deployment/ticket-service',
      outcome: 'rolled-out',
      previousRevision: '1',
      revision: '2',
      readyReplicas: 3,
      desiredReplicas: 3,
      pods: [],
    });
    // The same request kubectl sends: a strategic merge patch of the pod-template annotation.
    expect(patches()).toEqual([
      expect.objectContaining({
        contentType: 'application/strategic-merge-patch+json',
        body: JSON.stringify({
          spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: '2026-11-29T03:04:05Z' } } } },
        }),
      }),
    ]);
    const stored = server.get('Deployment', ns, 'ticket-service');
    expect(stored.spec.template.metadata.annotations[RESTARTED_AT_ANNOTATION]).toBe('2026-11-29T03:04:05Z');
    expect(
      server
        .pods('Deployment', ns, 'ticket-service')
        .every((pod) => pod.metadata.annotations[RESTARTED_AT_ANNOTATION] === '2026-11-29T03:04:05Z'),
    ).toBe(true);
    // It walked through kubectl's own progress lines on the way.
    expect(log).toContain('deployment/ticket-service: Waiting for deployment spec update to be observed...');
    expect(log).toContain('deployment/ticket-service: deployment "ticket-service" successfully rolled out');
  });

  it('restarts a deployment, a statefulset and a daemon set together and tracks them in parallel', async () => {
    const api = await start([
      { kind: 'Deployment', name: 'ticket-service', replicas: 2 },
      { kind: 'StatefulSet', name: 'ledger', replicas: 3 },
      { kind: 'DaemonSet', name: 'log-agent', replicas: 2 },
    ]);
    const { report } = restart(api, ['deployment/ticket-service', 'statefulset/ledger', 'daemonset/log-agent']);
    const result = await report;
    expect(result.passed).toBe(true);
    expect(result.results.map((r) => [r.workload, r.outcome, r.readyReplicas])).toEqual([
      ['deployment/ticket-service', 'rolled-out', 2],
      ['statefulset/ledger', 'rolled-out', 3],
      ['daemonset/log-agent', 'rolled-out', 2],
    ]);
    expect(result.results[1].revision).toMatch(/^ledger-/);
    expect(result.results[1].revision).not.toBe(result.results[1].previousRevision);
    // All three were patched before any rollout finished: the patches come first in the log.
    const firstPoll = server.requests.findIndex(
      (request, index) => request.method === 'GET' && index > server.requests.findIndex((r) => r.method === 'PATCH'),
    );
    expect(server.requests.slice(0, firstPoll).filter((request) => request.method === 'PATCH')).toHaveLength(3);
  });

  it('fails at once on ProgressDeadlineExceeded and names the pod whose readiness probe fails', async () => {
    const api = await start([{ kind: 'Deployment', name: 'ticket-service', behaviour: 'stalls' }], { stallSteps: 3 });
    const result = await restart(api, ['ticket-service']).report;
    expect(result.passed).toBe(false);
    const [stalled] = result.results;
    expect(stalled).toMatchObject({
      outcome: 'failed',
      message: 'deployment "ticket-service" exceeded its progress deadline',
    });
    expect(stalled.pods).toEqual([
      expect.objectContaining({
        reason: 'ReadinessProbeFailing',
        detail: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
        phase: 'Running',
      }),
    ]);
    expect(stalled.pods[0].pod).toMatch(/^ticket-service-/);
  });

  it('times out on a crash-looping pod and gives its last container message', async () => {
    const api = await start([{ kind: 'Deployment', name: 'ticket-service', behaviour: 'crash-loop' }]);
    const result = await restart(api, ['ticket-service'], { timeoutMs: 1000 }).report;
    const [crashing] = result.results;
    expect(crashing.outcome).toBe('timed-out');
    expect(crashing.message).toMatch(
      /^timed out after 1s; last status: Waiting for deployment "ticket-service" rollout to finish: 1 out of 2 new replicas have been updated\.\.\.$/,
    );
    expect(crashing.pods).toHaveLength(1);
    expect(crashing.pods[0]).toMatchObject({
      reason: 'CrashLoopBackOff',
      container: 'ticket-service',
      lastMessage: expect.stringContaining('Error: relation "idempotency_keys" does not exist'),
    });
    expect(crashing.pods[0].restarts).toBeGreaterThan(0);
  });

  it('names an image that cannot be pulled on a statefulset', async () => {
    const api = await start([{ kind: 'StatefulSet', name: 'ledger', behaviour: 'image-pull' }]);
    const result = await restart(api, ['sts/ledger'], { timeoutMs: 1000 }).report;
    expect(result.results[0].outcome).toBe('timed-out');
    expect(result.results[0].pods).toEqual([
      expect.objectContaining({
        pod: 'ledger-1',
        reason: 'ImagePullBackOff',
        detail: 'Back-off pulling image "registry.example.com/ledger:1.4.2"',
      }),
    ]);
  });

  it('reports a paused deployment and restarts nothing, not even the other workloads', async () => {
    const api = await start([
      { kind: 'Deployment', name: 'ticket-service' },
      { kind: 'Deployment', name: 'worker', paused: true },
    ]);
    const attempt = restart(api, ['ticket-service', 'worker']).report;
    await expect(attempt).rejects.toThrow(ConfigurationError);
    await expect(attempt).rejects.toThrow(
      /deployment\/worker is paused \(spec\.paused: true\).*kubectl rollout resume deployment\/worker -n production/,
    );
    expect(patches()).toEqual([]);
  });

  it('reports a workload that does not exist before changing anything', async () => {
    const api = await start([{ kind: 'Deployment', name: 'ticket-service' }]);
    const attempt = restart(api, ['ticket-service', 'daemonset/missing']).report;
    await expect(attempt).rejects.toThrow(
      'Nothing was restarted. daemonset/missing was not found in namespace "production" (daemonsets.apps "missing" not found). Check the "workloads" and "namespace" inputs.',
    );
    expect(patches()).toEqual([]);
  });

  it("reports rejected credentials as the user's to fix", async () => {
    server = await startKubeApiServer({
      workloads: [{ kind: 'Deployment', name: 'ticket-service', namespace: ns }],
      token: 'right-token',
    });
    const api = workloadApi(
      loadKubeconfig({
        content: server.kubeconfig.replace('user: { token: right-token }', 'user: { token: wrong-token }'),
      }).config,
    );
    await expect(restart(api, ['ticket-service']).report).rejects.toThrow(/401 Unauthorized/);
  });
});
