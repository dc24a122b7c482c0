import fs from 'node:fs';
import path from 'node:path';
import { runBundle } from '../helpers/run-bundle.js';
import { startKubeApiServer, type KubeApiServer } from '../fakes/kube-api-server.js';

// dist/restart/index.js run as the runner runs it, against the local Kubernetes API server.
let server: KubeApiServer;

beforeAll(async () => {
  server = await startKubeApiServer({
    stepMs: 10,
    token: 'cluster-token-7f3a9c',
    workloads: [
      { kind: 'Deployment', name: 'ticket-service', namespace: 'production', replicas: 3 },
      { kind: 'StatefulSet', name: 'ledger', namespace: 'production' },
      { kind: 'Deployment', name: 'crashing', namespace: 'production', behaviour: 'crash-loop' },
      { kind: 'Deployment', name: 'stalled', namespace: 'production', behaviour: 'stalls' },
      { kind: 'Deployment', name: 'paused', namespace: 'production', paused: true },
    ],
  });
});

afterAll(async () => {
  await server.close();
});

const patchesOf = (name: string) =>
  server.requests.filter((request) => request.method === 'PATCH' && request.path.includes(`/${name}?`));
const visible = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

function restart(inputs: Record<string, string>) {
  return runBundle('restart', {
    inputs: { namespace: 'production', kubeconfig: server.kubeconfig, 'poll-interval': '10ms', ...inputs },
  });
}

describe('restart bundle', () => {
  it('restarts two workloads, waits for both and reports them', async () => {
    const run = await restart({ workloads: 'deployment/ticket-service\nstatefulset/ledger' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs['restarted-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const workloads = JSON.parse(run.outputs.workloads) as Array<{ seconds: unknown }>;
    expect(workloads).toEqual([
      expect.objectContaining({
        workload: 'deployment/ticket-service',
        outcome: 'rolled-out',
        previousRevision: '1',
        revision: '2',
        readyReplicas: 3,
        desiredReplicas: 3,
        notReadyPods: [],
      }),
      expect.objectContaining({ workload: 'statefulset/ledger', outcome: 'rolled-out', readyReplicas: 2 }),
    ]);
    expect(typeof workloads[0].seconds).toBe('number');
    expect(
      server.get('Deployment', 'production', 'ticket-service').spec.template.metadata.annotations[
        'kubectl.kubernetes.io/restartedAt'
      ],
    ).toBe(run.outputs['restarted-at']);
    expect(run.summary).toContain('deployment/ticket-service');
    expect(run.summary).toContain('✅ rolled out');
    expect(run.stdout).toContain('deployment "ticket-service" successfully rolled out');
    // The kubeconfig's token is masked and never printed.
    expect(run.stdout).toContain('::add-mask::');
    expect(visible(run.everything)).not.toContain('cluster-token-7f3a9c');
  });

  it('uses the default kubeconfig and the context input when no kubeconfig is given', async () => {
    const file = server.writeKubeconfig();
    fs.writeFileSync(file, server.kubeconfig.replace(/current-context: fake/, 'current-context: missing'));
    try {
      const run = await runBundle('restart', {
        inputs: { namespace: 'production', workloads: 'ticket-service', context: 'fake', 'poll-interval': '10ms' },
        env: { KUBECONFIG: file },
      });
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`context "fake", kubeconfig from ${file}`);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('times out on a crash loop and names the pod, its reason and its last message', async () => {
    const run = await restart({ workloads: 'deployment/crashing', timeout: '1s' });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Rollout not complete: deployment\/crashing timed out: timed out after 1s; last status: .*\. Not ready: crashing-\w+-\w+ CrashLoopBackOff \(Error: relation "idempotency_keys" does not exist/,
    );
    const [entry] = JSON.parse(run.outputs.workloads) as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({
      outcome: 'timed-out',
      notReadyPods: [expect.objectContaining({ reason: 'CrashLoopBackOff' })],
    });
    expect(run.summary).toContain('Pods of deployment/crashing that are not ready');
    expect(run.summary).toContain('relation "idempotency_keys" does not exist');
  });

  it('fails at once when the progress deadline is exceeded', async () => {
    const run = await restart({ workloads: 'deployment/stalled', timeout: '10m' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(
      /deployment\/stalled failed: deployment "stalled" exceeded its progress deadline\. Not ready: stalled-\S+ ReadinessProbeFailing \(Readiness probe failed: HTTP probe failed with statuscode: 503\)/,
    );
    expect((JSON.parse(run.outputs.workloads) as Array<{ outcome: string }>)[0].outcome).toBe('failed');
  });

  it('reports a paused deployment and patches nothing', async () => {
    const run = await restart({ workloads: 'deployment/ticket-service\ndeployment/paused' });
    expect(run.code).toBe(1);
    expect(run.errors[0]).toMatch(/^Nothing was restarted\. deployment\/paused is paused \(spec\.paused: true\)/);
    expect(run.outputs).toMatchObject({ 'restarted-at': '', workloads: '[]' });
    expect(patchesOf('paused')).toEqual([]);
    expect(run.summary).toContain(
      '❌ Namespace <code>production</code>: Nothing was restarted. deployment/paused is paused',
    );
  });

  it.each([
    [
      'a workload of an unknown kind',
      { workloads: 'cronjob/nightly' },
      /^Input "workloads" has "cronjob\/nightly" of an unknown kind "cronjob"\. Valid values are: \[deployment, statefulset, daemonset\]/,
    ],
    ['an empty list', { workloads: '\n# nothing\n' }, /^Input "workloads" is empty/],
    [
      'a malformed kubeconfig',
      { workloads: 'ticket-service', kubeconfig: 'clusters: [ {' },
      /^Input "kubeconfig" is not a valid kubeconfig/,
    ],
    [
      'a timeout that is not a duration',
      { workloads: 'ticket-service', timeout: 'ten minutes' },
      /^Input "timeout" is "ten minutes": it must be a duration/,
    ],
  ])('refuses %s before any request', async (_label, inputs, message) => {
    const before = server.requests.length;
    const run = await restart(inputs);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(message)]);
    expect(run.outputs).toMatchObject({ 'restarted-at': '', workloads: '[]' });
    expect(server.requests.length).toBe(before);
  });
});
