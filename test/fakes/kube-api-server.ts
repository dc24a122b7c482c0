import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A local HTTP server that speaks enough of the Kubernetes API for `restart`, for
 * `kubectl rollout restart` and for `kubectl rollout status`: discovery (/api, /apis and
 * their resource lists), get, list (with fieldSelector metadata.name), watch and
 * strategic-merge-patch of deployments, statefulsets and daemonsets, pods listed by label
 * selector, and events by involved object.
 *
 * Patching a workload's pod template starts a simulated rollout that advances one step
 * every `stepMs` through the same status fields a controller would write, so the code
 * that judges a rollout sees what it would see on a cluster:
 * - `progresses`: new pods come up one at a time and old ones go, then the rollout completes;
 * - `stalls`: the new pod runs but its readiness probe fails; after `stallSteps` steps a
 *   deployment's Progressing condition turns False with reason ProgressDeadlineExceeded;
 * - `crash-loop`: the new pod's container exits and waits in CrashLoopBackOff, forever;
 * - `image-pull`: the new pod waits in ImagePullBackOff, forever.
 * A deployment with `paused: true` is stored paused; kubectl refuses to restart it.
 *
 * No jest globals: the demo imports it too.
 */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export type RolloutBehaviour = 'progresses' | 'stalls' | 'crash-loop' | 'image-pull';

export interface FakeWorkload {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  /** Replicas (deployments, statefulsets) or scheduled nodes (daemonsets). Default 2. */
  replicas?: number;
  behaviour?: RolloutBehaviour;
  paused?: boolean;
  /** StatefulSet rollingUpdate.partition. */
  partition?: number;
  /** StatefulSet/DaemonSet update strategy. Default RollingUpdate. */
  updateStrategy?: 'RollingUpdate' | 'OnDelete';
}

export interface KubeApiServerOptions {
  workloads?: FakeWorkload[];
  /** Milliseconds between two steps of a simulated rollout. Default 20. */
  stepMs?: number;
  /** Steps before a stalled deployment reports ProgressDeadlineExceeded. Default 3. */
  stallSteps?: number;
  /** A bearer token the server demands; none when undefined. */
  token?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
  body?: string;
}

export interface KubeApiServer {
  url: string;
  /** A kubeconfig (YAML) whose current context `fake` points at this server. */
  kubeconfig: string;
  /** Writes the kubeconfig to a file in a new temporary directory and returns its path. */
  writeKubeconfig(): string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The stored object (a deep copy); throws when the fake holds no such workload. */
  get(kind: WorkloadKind, namespace: string, name: string): WorkloadObject;
  /** The pods of a workload (deep copies). */
  pods(kind: WorkloadKind, namespace: string, name: string): PodObject[];
  close(): Promise<void>;
}

type Labels = Record<string, string>;

// The JSON the fake stores and serves: the fields of the real objects that it writes or that
// kubectl and the restart code read, so a typo in either is a type error, not an `undefined`.
export interface Container {
  name: string;
  image: string;
  readinessProbe?: { httpGet: { path: string; port: number } };
}

export interface PodTemplate {
  metadata: { labels: Labels; annotations: Labels };
  spec: { containers: Container[] };
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  creationTimestamp: string;
  labels: Labels;
  annotations: Labels;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

interface UpdateStrategy<RollingUpdate> {
  type: 'RollingUpdate' | 'OnDelete';
  rollingUpdate?: RollingUpdate;
}

export interface DeploymentObject {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: PodTemplate;
    strategy: { type: 'RollingUpdate'; rollingUpdate: { maxSurge: string; maxUnavailable: string } };
    progressDeadlineSeconds: number;
    revisionHistoryLimit: number;
    paused?: boolean;
  };
  status: {
    observedGeneration: number;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    unavailableReplicas?: number;
    conditions: Condition[];
  };
}

export interface StatefulSetObject {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    serviceName: string;
    selector: { matchLabels: Labels };
    template: PodTemplate;
    updateStrategy: UpdateStrategy<{ partition: number }>;
  };
  status: {
    observedGeneration: number;
    replicas: number;
    readyReplicas: number;
    availableReplicas: number;
    currentReplicas: number;
    updatedReplicas: number;
    currentRevision: string;
    updateRevision: string;
  };
}

export interface DaemonSetObject {
  apiVersion: 'apps/v1';
  kind: 'DaemonSet';
  metadata: ObjectMeta;
  spec: {
    selector: { matchLabels: Labels };
    template: PodTemplate;
    updateStrategy: UpdateStrategy<{ maxUnavailable: number; maxSurge: number }>;
  };
  status: {
    observedGeneration: number;
    desiredNumberScheduled: number;
    currentNumberScheduled: number;
    updatedNumberScheduled: number;
    numberReady: number;
    numberAvailable: number;
    numberMisscheduled: number;
    numberUnavailable?: number;
  };
}

export type WorkloadObject = DeploymentObject | StatefulSetObject | DaemonSetObject;

export interface ContainerState {
  running?: { startedAt: string };
  waiting?: { reason: string; message?: string };
  terminated?: { exitCode: number; reason: string; message: string; finishedAt: string };
}

export interface ContainerStatus {
  name: string;
  image: string;
  restartCount: number;
  started: boolean;
  ready: boolean;
  state: ContainerState;
  lastState?: ContainerState;
}

export interface PodObject {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels: Labels;
    annotations: Labels;
    creationTimestamp: string;
  };
  spec: { containers: Container[]; nodeName: string };
  status: { phase: 'Pending' | 'Running'; conditions: Condition[]; containerStatuses: ContainerStatus[] };
}

const RESOURCES: Record<WorkloadKind, { plural: string; singular: string; shortNames: string[] }> = {
  Deployment: { plural: 'deployments', singular: 'deployment', shortNames: ['deploy'] },
  StatefulSet: { plural: 'statefulsets', singular: 'statefulset', shortNames: ['sts'] },
  DaemonSet: { plural: 'daemonsets', singular: 'daemonset', shortNames: ['ds'] },
};
const KIND_BY_PLURAL = Object.fromEntries(
  Object.entries(RESOURCES).map(([kind, r]) => [r.plural, kind as WorkloadKind]),
);
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface Entry {
  spec: FakeWorkload;
  object: WorkloadObject;
  pods: PodObject[];
  timer?: NodeJS.Timeout;
  step: number;
  /** Pod template hash of the revision being rolled out. */
  newHash: string;
  oldHash: string;
}

interface Watcher {
  kind: WorkloadKind;
  namespace: string;
  name?: string;
  response: http.ServerResponse;
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const stepMs = options.stepMs ?? 20;
  const stallSteps = options.stallSteps ?? 3;
  const entries = new Map<string, Entry>();
  const watchers = new Set<Watcher>();
  const requests: RecordedRequest[] = [];
  let resourceVersion = 1000;
  const key = (kind: WorkloadKind, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

  for (const workload of options.workloads ?? []) {
    const entry = createEntry(workload);
    entries.set(key(workload.kind, workload.namespace, workload.name), entry);
  }

  function createEntry(workload: FakeWorkload): Entry {
    const replicas = workload.replicas ?? 2;
    const labels = { app: workload.name };
    const template: PodTemplate = {
      metadata: { labels: { ...labels }, annotations: {} },
      spec: {
        containers: [
          {
            name: workload.name,
            image: `registry.example.com/${workload.name}:1.4.2`,
            readinessProbe: { httpGet: { path: '/health/ready', port: 8080 } },
          },
        ],
      },
    };
    const metadata: ObjectMeta = {
      name: workload.name,
      namespace: workload.namespace,
      uid: crypto.randomUUID(),
      generation: 1,
      resourceVersion: String(++resourceVersion),
      creationTimestamp: '2026-01-05T10:00:00Z',
      labels: { ...labels },
      annotations: {},
    };
    const hash = templateHash(template);
    let object: WorkloadObject;
    if (workload.kind === 'Deployment') {
      metadata.annotations['deployment.kubernetes.io/revision'] = '1';
      object = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata,
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          progressDeadlineSeconds: 600,
          revisionHistoryLimit: 10,
          ...(workload.paused ? { paused: true } : {}),
        },
        status: {
          observedGeneration: 1,
          replicas,
          updatedReplicas: replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          conditions: [
            condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
            condition(
              'Progressing',
              'True',
              'NewReplicaSetAvailable',
              `ReplicaSet "${workload.name}-${hash}" has successfully progressed.`,
            ),
          ],
        },
      };
    } else if (workload.kind === 'StatefulSet') {
      object = {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata,
        spec: {
          replicas,
          serviceName: workload.name,
          selector: { matchLabels: labels },
          template,
          updateStrategy:
            (workload.updateStrategy ?? 'RollingUpdate') === 'RollingUpdate'
              ? { type: 'RollingUpdate', rollingUpdate: { partition: workload.partition ?? 0 } }
              : { type: 'OnDelete' },
        },
        status: {
          observedGeneration: 1,
          replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          currentReplicas: replicas,
          updatedReplicas: replicas,
          currentRevision: `${workload.name}-${hash}`,
          updateRevision: `${workload.name}-${hash}`,
        },
      };
    } else {
      object = {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata,
        spec: {
          selector: { matchLabels: labels },
          template,
          updateStrategy:
            (workload.updateStrategy ?? 'RollingUpdate') === 'RollingUpdate'
              ? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }
              : { type: 'OnDelete' },
        },
        status: {
          observedGeneration: 1,
          desiredNumberScheduled: replicas,
          currentNumberScheduled: replicas,
          updatedNumberScheduled: replicas,
          numberReady: replicas,
          numberAvailable: replicas,
          numberMisscheduled: 0,
        },
      };
    }
    const entry: Entry = { spec: workload, object, pods: [], step: 0, newHash: hash, oldHash: hash };
    for (let i = 0; i < replicas; i++) entry.pods.push(makePod(entry, hash, i, 'ready'));
    return entry;
  }

  function makePod(
    entry: Entry,
    hash: string,
    index: number,
    state: 'ready' | 'starting' | RolloutBehaviour,
  ): PodObject {
    const { kind, name, namespace } = entry.spec;
    const hashLabel: Labels =
      kind === 'Deployment' ? { 'pod-template-hash': hash } : { 'controller-revision-hash': `${name}-${hash}` };
    const podName =
      kind === 'StatefulSet'
        ? `${name}-${index}`
        : `${name}-${kind === 'Deployment' ? `${hash}-` : ''}${crypto.randomBytes(3).toString('hex').slice(0, 5)}`;
    const container = entry.object.spec.template.spec.containers[0];
    const ready = state === 'ready' || state === 'progresses';
    const pod: PodObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        uid: crypto.randomUUID(),
        labels: { ...entry.object.spec.template.metadata.labels, ...hashLabel },
        annotations: { ...(entry.object.spec.template.metadata.annotations ?? {}) },
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      spec: { containers: [container], nodeName: `node-${index + 1}` },
      status: {
        phase: state === 'image-pull' || state === 'starting' ? 'Pending' : 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          {
            type: 'Ready',
            status: ready ? 'True' : 'False',
            ...(ready
              ? {}
              : { reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]` }),
          },
        ],
        containerStatuses: [containerStatus(container, state)],
      },
    };
    return pod;
  }

  function containerStatus(
    container: Container,
    state: 'ready' | 'starting' | RolloutBehaviour,
    restarts = 0,
  ): ContainerStatus {
    const base = { name: container.name, image: container.image, restartCount: restarts, started: false, ready: false };
    switch (state) {
      case 'ready':
      case 'progresses':
        return { ...base, ready: true, started: true, state: { running: { startedAt: '2026-01-05T10:00:05Z' } } };
      case 'starting':
        return { ...base, state: { waiting: { reason: 'ContainerCreating' } } };
      case 'stalls':
        return { ...base, started: true, state: { running: { startedAt: '2026-01-05T10:00:05Z' } } };
      case 'crash-loop':
        return {
          ...base,
          restartCount: Math.max(restarts, 1),
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off 10s restarting failed container=${container.name} pod=${container.name}`,
            },
          },
          lastState: {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              message:
                'Error: relation "idempotency_keys" does not exist\n    at Parser.parseErrorMessage (node_modules/pg-protocol/dist/parser.js:285:98)',
              finishedAt: '2026-01-05T10:00:09Z',
            },
          },
        };
      case 'image-pull':
        return {
          ...base,
          state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } },
        };
    }
  }

  function bump(entry: Entry): void {
    entry.object.metadata.resourceVersion = String(++resourceVersion);
    notify(entry, 'MODIFIED');
  }

  function notify(entry: Entry, type: string): void {
    const { kind, namespace, name } = entry.spec;
    for (const watcher of watchers) {
      if (watcher.kind !== kind || watcher.namespace !== namespace) continue;
      if (watcher.name && watcher.name !== name) continue;
      watcher.response.write(JSON.stringify({ type, object: entry.object }) + '\n');
    }
  }

  /** Starts (or restarts) the simulated rollout of a changed template. */
  function startRollout(entry: Entry): void {
    if (entry.timer) clearInterval(entry.timer);
    entry.oldHash = entry.newHash;
    entry.newHash = templateHash(entry.object.spec.template);
    entry.step = 0;
    const object = entry.object;
    if (object.kind === 'Deployment') {
      const annotations = object.metadata.annotations;
      annotations['deployment.kubernetes.io/revision'] = String(
        Number(annotations['deployment.kubernetes.io/revision'] ?? '0') + 1,
      );
      // A paused deployment records the change but its controller does not act on it.
      if (object.spec.paused) return;
    }
    if (object.kind !== 'Deployment' && object.spec.updateStrategy?.type === 'OnDelete') {
      object.status.observedGeneration = object.metadata.generation;
      return;
    }
    entry.timer = setInterval(() => advance(entry), stepMs);
    entry.timer.unref();
  }

  function advance(entry: Entry): void {
    entry.step += 1;
    const object = entry.object;
    const done =
      object.kind === 'Deployment'
        ? advanceDeployment(entry, object)
        : object.kind === 'StatefulSet'
          ? advanceStatefulSet(entry, object)
          : advanceDaemonSet(entry, object);
    bump(entry);
    if (done && entry.timer) {
      clearInterval(entry.timer);
      entry.timer = undefined;
    }
  }

  const behaviourOf = (entry: Entry): RolloutBehaviour => entry.spec.behaviour ?? 'progresses';
  const newPods = (entry: Entry) => entry.pods.filter((pod) => podHash(pod) === entry.newHash);
  const oldPods = (entry: Entry) => entry.pods.filter((pod) => podHash(pod) !== entry.newHash);
  function podHash(pod: PodObject): string {
    const labels = pod.metadata.labels;
    // A controller revision is named <workload>-<hash>.
    const revision = String(labels['controller-revision-hash']);
    return labels['pod-template-hash'] ?? revision.slice(revision.lastIndexOf('-') + 1);
  }

  /** Touches the failing pods so a crash loop counts its restarts. */
  function ageFailingPods(entry: Entry): void {
    for (const pod of newPods(entry)) {
      const status = pod.status.containerStatuses[0];
      // The kubelet's back-off doubles; one restart every few steps is close enough.
      if (status.state.waiting?.reason === 'CrashLoopBackOff' && entry.step % 5 === 0) status.restartCount += 1;
    }
  }

  /**
   * One step of a deployment rollout. Odd steps surge one new pod (ready when the rollout
   * progresses), even steps retire one old pod, so `kubectl rollout status` walks through
   * "n out of m new replicas have been updated", "old replicas are pending termination"
   * and "of m updated replicas are available" as it does on a cluster.
   */
  function advanceDeployment(entry: Entry, deployment: DeploymentObject): boolean {
    const status = deployment.status;
    const replicas = deployment.spec.replicas;
    const behaviour = behaviourOf(entry);
    const rsName = `${deployment.metadata.name}-${entry.newHash}`;
    status.observedGeneration = deployment.metadata.generation;
    if (entry.step === 1) {
      setCondition(
        status,
        condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
      );
    }
    if (behaviour !== 'progresses') {
      if (newPods(entry).length === 0) entry.pods.push(makePod(entry, entry.newHash, entry.pods.length, behaviour));
      ageFailingPods(entry);
      countDeployment(entry, deployment);
      if (behaviour === 'stalls' && entry.step >= stallSteps) {
        setCondition(
          status,
          condition(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            `ReplicaSet "${rsName}" has timed out progressing.`,
          ),
        );
        return true;
      }
      return false;
    }
    const fresh = newPods(entry);
    const old = oldPods(entry);
    if (entry.step % 2 === 1 && fresh.length < replicas) {
      // The new pod is first created not ready; it turns ready on the next step.
      entry.pods.push(makePod(entry, entry.newHash, entry.pods.length, 'starting'));
    } else {
      for (const pod of fresh) markReady(pod);
      if (old.length) entry.pods.splice(entry.pods.indexOf(old[0]), 1);
    }
    countDeployment(entry, deployment);
    if (newPods(entry).length === replicas && oldPods(entry).length === 0 && status.availableReplicas === replicas) {
      setCondition(
        status,
        condition(
          'Progressing',
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${rsName}" has successfully progressed.`,
        ),
      );
      return true;
    }
    return false;
  }

  function countDeployment(entry: Entry, deployment: DeploymentObject): void {
    const status = deployment.status;
    const ready = entry.pods.filter(isReady).length;
    status.replicas = entry.pods.length;
    status.updatedReplicas = newPods(entry).length;
    status.readyReplicas = ready;
    status.availableReplicas = ready;
    status.unavailableReplicas = Math.max(0, deployment.spec.replicas - ready);
  }

  /** StatefulSet: pods are replaced one at a time from the highest ordinal down to the partition. */
  function advanceStatefulSet(entry: Entry, sts: StatefulSetObject): boolean {
    const status = sts.status;
    const replicas = sts.spec.replicas;
    const partition = sts.spec.updateStrategy.rollingUpdate?.partition ?? 0;
    const behaviour = behaviourOf(entry);
    status.observedGeneration = sts.metadata.generation;
    status.updateRevision = `${sts.metadata.name}-${entry.newHash}`;
    const ordinal = replicas - entry.step;
    // Like the controller, a pod that never turns ready halts the rollout there.
    const halted = behaviour !== 'progresses' && newPods(entry).length > 0;
    if (!halted && ordinal >= partition && ordinal >= 0) {
      const at = entry.pods.findIndex((pod) => pod.metadata.name === `${sts.metadata.name}-${ordinal}`);
      const pod = makePod(entry, entry.newHash, ordinal, behaviour);
      if (at >= 0) entry.pods[at] = pod;
      else entry.pods.push(pod);
    }
    ageFailingPods(entry);
    const updated = newPods(entry);
    status.updatedReplicas = updated.length;
    status.readyReplicas = entry.pods.filter(isReady).length;
    status.availableReplicas = status.readyReplicas;
    status.currentReplicas = replicas - updated.length;
    if (behaviour !== 'progresses') return false;
    if (updated.length === replicas) {
      status.currentRevision = status.updateRevision;
      status.currentReplicas = replicas;
      return true;
    }
    return ordinal <= partition;
  }

  /** DaemonSet: one node's pod at a time. */
  function advanceDaemonSet(entry: Entry, ds: DaemonSetObject): boolean {
    const status = ds.status;
    const behaviour = behaviourOf(entry);
    status.observedGeneration = ds.metadata.generation;
    const old = oldPods(entry);
    const halted = behaviour !== 'progresses' && newPods(entry).length > 0;
    if (old.length && !halted) {
      const index = entry.pods.indexOf(old[0]);
      entry.pods[index] = makePod(entry, entry.newHash, index, behaviour);
    }
    ageFailingPods(entry);
    status.updatedNumberScheduled = newPods(entry).length;
    status.numberReady = entry.pods.filter(isReady).length;
    status.numberAvailable = status.numberReady;
    status.numberUnavailable = status.desiredNumberScheduled - status.numberAvailable;
    return behaviour === 'progresses' && oldPods(entry).length === 0;
  }

  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        contentType: request.headers['content-type'],
        body: body || undefined,
      });
      try {
        if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
          return send(response, 401, statusObject(401, 'Unauthorized', 'Unauthorized'));
        }
        route(request, response, body);
      } catch (error) {
        send(response, 500, statusObject(500, 'InternalError', error instanceof Error ? error.message : String(error)));
      }
    });
  });

  function route(request: http.IncomingMessage, response: http.ServerResponse, body: string): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    const method = request.method ?? 'GET';

    // Discovery, in the legacy (unaggregated) form every client falls back to.
    if (url.pathname === '/api')
      return send(response, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
      });
    if (url.pathname === '/apis') {
      return send(response, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
        ],
      });
    }
    if (url.pathname === '/api/v1') {
      return send(response, 200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: VERBS, shortNames: ['po'] },
          { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: VERBS, shortNames: ['ev'] },
          {
            name: 'namespaces',
            singularName: 'namespace',
            namespaced: false,
            kind: 'Namespace',
            verbs: VERBS,
            shortNames: ['ns'],
          },
        ],
      });
    }
    if (url.pathname === '/apis/apps/v1') {
      return send(response, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'apps/v1',
        resources: Object.entries(RESOURCES).flatMap(([kind, r]) => [
          {
            name: r.plural,
            singularName: r.singular,
            namespaced: true,
            kind,
            verbs: VERBS,
            shortNames: r.shortNames,
            categories: ['all'],
          },
          { name: `${r.plural}/status`, singularName: '', namespaced: true, kind, verbs: ['get', 'patch', 'update'] },
        ]),
      });
    }
    if (url.pathname === '/version')
      return send(response, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-fake', platform: 'linux/amd64' });

    // /apis/apps/v1/namespaces/{ns}/{plural}[/{name}]
    if (
      parts[0] === 'apis' &&
      parts[1] === 'apps' &&
      parts[2] === 'v1' &&
      parts[3] === 'namespaces' &&
      parts.length >= 6
    ) {
      const namespace = parts[4];
      const kind = KIND_BY_PLURAL[parts[5]];
      if (!kind) return notFound(response, parts[5], parts[6] ?? '');
      const name = parts[6];
      if (parts.length === 8 && parts[7] === 'status' && method === 'GET') {
        const entry = entries.get(key(kind, namespace, name));
        return entry ? send(response, 200, entry.object) : notFound(response, RESOURCES[kind].plural, name);
      }
      if (parts.length > 7) return notFound(response, parts[5], name);
      if (!name) {
        if (method !== 'GET') return send(response, 405, statusObject(405, 'MethodNotAllowed', 'method not allowed'));
        const fieldName = fieldSelectorName(url.searchParams.get('fieldSelector'));
        if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
          return startWatch(request, response, kind, namespace, fieldName);
        }
        const items = [...entries.values()]
          .filter(
            (entry) =>
              entry.spec.kind === kind &&
              entry.spec.namespace === namespace &&
              (!fieldName || entry.spec.name === fieldName),
          )
          .map((entry) => entry.object);
        return send(response, 200, {
          kind: `${kind}List`,
          apiVersion: 'apps/v1',
          metadata: { resourceVersion: String(resourceVersion) },
          items,
        });
      }
      const entry = entries.get(key(kind, namespace, name));
      if (!entry) return notFound(response, RESOURCES[kind].plural, name);
      if (method === 'GET') return send(response, 200, entry.object);
      if (method === 'PATCH') return patch(request, response, entry, body);
      return send(response, 405, statusObject(405, 'MethodNotAllowed', 'method not allowed'));
    }

    // /api/v1/namespaces/{ns}/pods and /api/v1/namespaces/{ns}/events
    if (
      parts[0] === 'api' &&
      parts[1] === 'v1' &&
      parts[2] === 'namespaces' &&
      parts.length === 5 &&
      method === 'GET'
    ) {
      const namespace = parts[3];
      if (parts[4] === 'pods') {
        const selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
        const items = [...entries.values()]
          .filter((entry) => entry.spec.namespace === namespace)
          .flatMap((entry) => entry.pods)
          .filter((pod) => selector.every(([label, value]) => pod.metadata.labels[label] === value));
        return send(response, 200, {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(resourceVersion) },
          items,
        });
      }
      if (parts[4] === 'events') {
        const fields = Object.fromEntries(
          (url.searchParams.get('fieldSelector') ?? '')
            .split(',')
            .filter(Boolean)
            .map((term) => term.split('=') as [string, string]),
        );
        const items = [...entries.values()]
          .filter((entry) => entry.spec.namespace === namespace)
          .flatMap((entry) => entry.pods)
          .filter((pod) => !fields['involvedObject.name'] || pod.metadata.name === fields['involvedObject.name'])
          .flatMap((pod) => podEvents(pod));
        return send(response, 200, {
          kind: 'EventList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(resourceVersion) },
          items,
        });
      }
    }
    return send(response, 404, statusObject(404, 'NotFound', 'the server could not find the requested resource'));
  }

  /** Events a kubelet would record for a pod whose readiness probe fails. */
  function podEvents(pod: PodObject) {
    const status = pod.status.containerStatuses[0];
    if (status.ready || !status.state.running) return [];
    return [
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${pod.metadata.name}.readiness`, namespace: pod.metadata.namespace },
        involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace },
        reason: 'Unhealthy',
        type: 'Warning',
        message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
        count: 7,
        lastTimestamp: '2026-01-05T10:01:00Z',
      },
    ];
  }

  function patch(request: http.IncomingMessage, response: http.ServerResponse, entry: Entry, body: string): void {
    const contentType = String(request.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    if (contentType !== 'application/strategic-merge-patch+json' && contentType !== 'application/merge-patch+json') {
      return send(
        response,
        415,
        statusObject(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/strategic-merge-patch+json, application/merge-patch+json (this fake does not implement ${contentType || 'no content type'})`,
        ),
      );
    }
    let patchBody: unknown;
    try {
      patchBody = JSON.parse(body);
    } catch (error) {
      return send(
        response,
        400,
        statusObject(
          400,
          'BadRequest',
          `error decoding patch: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
    const before = JSON.stringify(entry.object.spec);
    const templateBefore = JSON.stringify(entry.object.spec.template);
    const { status: _ignored, ...patchable } = (patchBody ?? {}) as Record<string, unknown>;
    // What a client patches is its business, as on a cluster: the result is taken as the object.
    entry.object = mergePatch(entry.object, patchable) as WorkloadObject;
    if (JSON.stringify(entry.object.spec) !== before) entry.object.metadata.generation += 1;
    if (JSON.stringify(entry.object.spec.template) !== templateBefore) startRollout(entry);
    bump(entry);
    send(response, 200, entry.object);
  }

  function startWatch(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    kind: WorkloadKind,
    namespace: string,
    name?: string,
  ): void {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    const watcher: Watcher = { kind, namespace, name, response };
    watchers.add(watcher);
    const since = Number(new URL(request.url ?? '/', 'http://localhost').searchParams.get('resourceVersion') ?? '0');
    // Events the client missed between its list and its watch.
    for (const entry of entries.values()) {
      if (
        entry.spec.kind === kind &&
        entry.spec.namespace === namespace &&
        (!name || entry.spec.name === name) &&
        Number(entry.object.metadata.resourceVersion) > since
      ) {
        response.write(JSON.stringify({ type: 'MODIFIED', object: entry.object }) + '\n');
      }
    }
    // The response's close, not the request's: a request closes once its (empty) body is read.
    response.on('close', () => watchers.delete(watcher));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: fake',
    '    cluster:',
    `      server: ${url}`,
    // The real client refuses plain http unless TLS verification is explicitly off.
    '      insecure-skip-tls-verify: true',
    'users:',
    '  - name: fake',
    `    user: ${options.token ? `{ token: ${options.token} }` : '{}'}`,
    'contexts:',
    '  - name: fake',
    '    context: { cluster: fake, user: fake, namespace: default }',
    'current-context: fake',
    '',
  ].join('\n');

  return {
    url,
    kubeconfig,
    requests,
    writeKubeconfig() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-kubeconfig-'));
      const file = path.join(dir, 'config');
      fs.writeFileSync(file, kubeconfig);
      return file;
    },
    get(kind, namespace, name) {
      const entry = entries.get(key(kind, namespace, name));
      if (!entry) throw new Error(`The fake Kubernetes API holds no ${kind} ${namespace}/${name}.`);
      return structuredClone(entry.object);
    },
    pods(kind, namespace, name) {
      return structuredClone(entries.get(key(kind, namespace, name))?.pods ?? []);
    },
    async close() {
      for (const entry of entries.values()) if (entry.timer) clearInterval(entry.timer);
      for (const watcher of watchers) watcher.response.end();
      watchers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function condition(type: string, status: string, reason: string, message: string) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

function setCondition(status: { conditions: Condition[] }, next: Condition): void {
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== next.type), next];
}

function isReady(pod: PodObject): boolean {
  return pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function markReady(pod: PodObject): void {
  const container = pod.spec.containers[0];
  pod.status.phase = 'Running';
  pod.status.conditions = [
    { type: 'PodScheduled', status: 'True' },
    { type: 'Ready', status: 'True' },
  ];
  pod.status.containerStatuses = [
    {
      name: container.name,
      image: container.image,
      restartCount: 0,
      started: true,
      ready: true,
      state: { running: { startedAt: '2026-01-05T10:00:05Z' } },
    },
  ];
}

function templateHash(template: unknown): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = crypto.createHash('sha256').update(JSON.stringify(template)).digest();
  return [...digest.subarray(0, 10)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * Strategic merge patch as far as these resources need it: maps merge key by key, null
 * deletes a key, lists are replaced (the container list is merged by name, its patch key).
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const result: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [field, value] of Object.entries(patch)) {
    const existing = result[field];
    if (value === null) delete result[field];
    else if (field === 'containers' && Array.isArray(value) && Array.isArray(existing)) {
      const merged = [...(existing as unknown[])];
      for (const item of value as unknown[]) {
        const at = merged.findIndex((container) => nameOf(container) === nameOf(item));
        if (at >= 0) merged[at] = mergePatch(merged[at], item);
        else merged.push(item);
      }
      result[field] = merged;
    } else result[field] = mergePatch(existing, value);
  }
  return result;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nameOf(item: unknown): unknown {
  return isMap(item) ? item.name : undefined;
}

function fieldSelectorName(selector: string | null): string | undefined {
  if (!selector) return undefined;
  const match = /(?:^|,)metadata\.name==?([^,]+)/.exec(selector);
  return match?.[1];
}

function parseLabelSelector(selector: string): Array<[string, string]> {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .map((term) => {
      const [label, value] = term.split(/==?/);
      return [label.trim(), (value ?? '').trim()] as [string, string];
    });
}

function statusObject(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notFound(response: http.ServerResponse, plural: string, name: string): void {
  const group = plural === 'pods' ? '' : '.apps';
  send(response, 404, {
    ...statusObject(404, 'NotFound', `${plural}${group} "${name}" not found`),
    details: { name, group: 'apps', kind: plural },
  });
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
