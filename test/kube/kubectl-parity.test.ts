import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workloadApi } from '../../src/kube/client.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { judgeRollout } from '../../src/kube/rollout-status.js';
import { restartWorkloads } from '../../src/kube/rollout.js';
import { parseWorkloads } from '../../src/kube/workloads.js';
import { startKubeApiServer, type KubeApiServer } from '../fakes/kube-api-server.js';

/**
 * Keeps the fake API server honest: the real kubectl must behave against it as against a
 * cluster. kubectl is /usr/bin/kubectl here; CI installs Debian's kubernetes-client.
 */
const kubectlPath = [
  process.env.KUBECTL,
  ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'kubectl')),
].find((candidate): candidate is string => Boolean(candidate) && fs.existsSync(candidate as string));

const ns = 'production';
let server: KubeApiServer;
let home: string;

beforeAll(() => {
  if (!kubectlPath)
    throw new Error(
      'kubectl is not installed: install it (Debian/Ubuntu: apt-get install kubernetes-client) or set KUBECTL to its path.',
    );
});

beforeEach(async () => {
  server = await startKubeApiServer({
    stepMs: 15,
    workloads: [
      { kind: 'Deployment', name: 'ticket-service', namespace: ns, replicas: 3 },
      { kind: 'Deployment', name: 'stalled', namespace: ns, behaviour: 'stalls' },
      { kind: 'Deployment', name: 'crashing', namespace: ns, behaviour: 'crash-loop' },
      { kind: 'Deployment', name: 'paused', namespace: ns, paused: true },
      { kind: 'StatefulSet', name: 'ledger', namespace: ns, replicas: 3 },
      { kind: 'DaemonSet', name: 'log-agent', namespace: ns, replicas: 2 },
    ],
  });
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-home-'));
});

afterEach(async () => {
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

/** Runs kubectl asynchronously: the fake answers from this same process. */
function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const kubeconfig = path.join(home, 'config');
  fs.writeFileSync(kubeconfig, server.kubeconfig);
  return new Promise((resolve) => {
    execFile(
      kubectlPath!,
      [...args, '-n', ns],
      { env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('the fake Kubernetes API server, checked against kubectl', () => {
  it('takes `kubectl rollout restart` as a cluster does, with the same patch this action sends', async () => {
    const restarted = await kubectl('rollout', 'restart', 'deployment/ticket-service');
    expect(restarted).toMatchObject({ code: 0, stdout: 'deployment.apps/ticket-service restarted\n' });
    const [kubectlPatch] = server.requests.filter((request) => request.method === 'PATCH');
    expect(kubectlPatch.contentType).toBe('application/strategic-merge-patch+json');
    const kubectlBody = JSON.parse(kubectlPatch.body!) as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    };
    const stamp = kubectlBody.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'];
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);

    const status = await kubectl('rollout', 'status', 'deployment/ticket-service', '--timeout=60s');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('deployment "ticket-service" successfully rolled out');
    // And our judgement of the final object agrees with kubectl's.
    expect(judgeRollout('Deployment', server.get('Deployment', ns, 'ticket-service'))).toEqual({
      done: true,
      message: 'deployment "ticket-service" successfully rolled out',
    });
  });

  it('sends the same strategic merge patch as kubectl does', async () => {
    await kubectl('rollout', 'restart', 'deployment/ticket-service');
    const api = workloadApi(loadKubeconfig({ content: server.kubeconfig }).config);
    await restartWorkloads({
      api,
      workloads: parseWorkloads(['statefulset/ledger'], ns),
      timeoutMs: 30_000,
      pollIntervalMs: 5,
    });
    const [fromKubectl, fromUs] = server.requests.filter((request) => request.method === 'PATCH');
    expect(fromUs.contentType).toBe(fromKubectl.contentType);
    const shape = (body: string) =>
      JSON.stringify(JSON.parse(body), (key, value: unknown) =>
        key === 'kubectl.kubernetes.io/restartedAt' ? 'T' : value,
      );
    expect(shape(fromUs.body!)).toBe(shape(fromKubectl.body!));
  });

  it('makes `kubectl rollout status` fail on ProgressDeadlineExceeded', async () => {
    expect((await kubectl('rollout', 'restart', 'deployment/stalled')).code).toBe(0);
    const status = await kubectl('rollout', 'status', 'deployment/stalled', '--timeout=60s');
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('error: deployment "stalled" exceeded its progress deadline');
  });

  it('keeps `kubectl rollout status` waiting on a crash-looping pod until its timeout', async () => {
    expect((await kubectl('rollout', 'restart', 'deployment/crashing')).code).toBe(0);
    const status = await kubectl('rollout', 'status', 'deployment/crashing', '--timeout=3s');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(
      'Waiting for deployment "crashing" rollout to finish: 1 out of 2 new replicas have been updated...',
    );
    expect(status.stderr).toContain('timed out waiting for the condition');
  });

  it('makes `kubectl rollout restart` refuse a paused deployment', async () => {
    const restarted = await kubectl('rollout', 'restart', 'deployment/paused');
    expect(restarted.code).toBe(1);
    expect(restarted.stderr).toContain("can't restart paused deployment (run rollout resume first)");
    expect(server.requests.filter((request) => request.method === 'PATCH')).toEqual([]);
  });

  it('rolls out a statefulset and a daemon set as kubectl sees them', async () => {
    expect((await kubectl('rollout', 'restart', 'statefulset/ledger', 'daemonset/log-agent')).stdout).toBe(
      'statefulset.apps/ledger restarted\ndaemonset.apps/log-agent restarted\n',
    );
    const sts = await kubectl('rollout', 'status', 'statefulset/ledger', '--timeout=60s');
    expect(sts).toMatchObject({ code: 0 });
    expect(sts.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
    const ds = await kubectl('rollout', 'status', 'daemonset/log-agent', '--timeout=60s');
    expect(ds).toMatchObject({ code: 0 });
    expect(ds.stdout).toContain('daemon set "log-agent" successfully rolled out');
  });
});
