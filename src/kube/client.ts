import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { ConfigurationError, errorMessage } from '../common/errors.js';
import type { EventLike, PodLike } from './pod-diagnosis.js';
import type { Workload } from './rollout-status.js';
import { describeWorkload, type WorkloadRef } from './workloads.js';

/**
 * The few Kubernetes calls a restart makes, over @kubernetes/client-node. Everything
 * else in src/kube/ works on plain objects through this interface, so it reads the same
 * whether the objects come from a cluster or from the fake API server in the tests.
 */
export interface WorkloadApi {
  read(ref: WorkloadRef): Promise<Workload>;
  /** A strategic merge patch of the workload, exactly what kubectl sends. */
  patch(ref: WorkloadRef, body: object): Promise<Workload>;
  listPods(namespace: string, labelSelector: string): Promise<PodLike[]>;
  /** The events of one pod; empty when they cannot be read (events are a nicety, not a need). */
  listPodEvents(namespace: string, pod: string): Promise<EventLike[]>;
}

/** Names this tool in managedFields, as kubectl names itself `kubectl-rollout`. */
export const FIELD_MANAGER = 'db-rollback-actions';

export function workloadApi(config: KubeConfig): WorkloadApi {
  const apps = config.makeApiClient(AppsV1Api);
  const core = config.makeApiClient(CoreV1Api);
  // The generated client would pick JSON Patch; the restart is a strategic merge patch, as kubectl's is.
  const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  return {
    async read(ref) {
      const params = { name: ref.name, namespace: ref.namespace };
      try {
        if (ref.kind === 'Deployment') return await apps.readNamespacedDeployment(params);
        if (ref.kind === 'StatefulSet') return await apps.readNamespacedStatefulSet(params);
        return await apps.readNamespacedDaemonSet(params);
      } catch (error) {
        throw explainApiError(error, `read ${describeWorkload(ref)} in namespace ${ref.namespace}`, ref);
      }
    },
    async patch(ref, body) {
      const params = { name: ref.name, namespace: ref.namespace, body, fieldManager: FIELD_MANAGER };
      try {
        if (ref.kind === 'Deployment') return await apps.patchNamespacedDeployment(params, strategic);
        if (ref.kind === 'StatefulSet') return await apps.patchNamespacedStatefulSet(params, strategic);
        return await apps.patchNamespacedDaemonSet(params, strategic);
      } catch (error) {
        throw explainApiError(error, `patch ${describeWorkload(ref)} in namespace ${ref.namespace}`, ref);
      }
    },
    async listPods(namespace, labelSelector) {
      try {
        return (await core.listNamespacedPod({ namespace, labelSelector })).items;
      } catch (error) {
        throw explainApiError(error, `list pods (${labelSelector}) in namespace ${namespace}`);
      }
    },
    async listPodEvents(namespace, pod) {
      try {
        const list = await core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}`,
        });
        return list.items;
      } catch {
        return [];
      }
    },
  };
}

/** HTTP status of an ApiException from the generated client, if it is one. */
export function apiStatusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Turns the client's exception (whose message holds the whole response, headers and all)
 * into one line that says what failed and what to do: a missing object or a missing
 * permission is the user's to fix; anything else keeps the API server's own message.
 */
export function explainApiError(error: unknown, action: string, ref?: WorkloadRef): Error {
  const code = apiStatusCode(error);
  const body = (error as { body?: unknown })?.body;
  let message: string | undefined;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = body.slice(0, 300);
    }
  } else if (body && typeof body === 'object') {
    message = (body as { message?: string }).message;
  }
  if (code === 404 && ref) {
    return new ConfigurationError(
      `${describeWorkload(ref)} was not found in namespace "${ref.namespace}" (${message ?? 'not found'}). Check the "workloads" and "namespace" inputs.`,
    );
  }
  if (code === 401)
    return new ConfigurationError(
      `Could not ${action}: the API server rejected the credentials (401 Unauthorized). Check the kubeconfig's user.`,
    );
  if (code === 403) {
    return new ConfigurationError(
      `Could not ${action}: forbidden (${message ?? '403'}). The restart needs get, list, watch and patch on the workloads and get, list on pods; see the README's Role.`,
    );
  }
  if (code !== undefined)
    return new Error(`Could not ${action}: the API server answered ${code}${message ? `: ${message}` : ''}.`);
  return new Error(`Could not ${action}: ${errorMessage(error).split('\n')[0]}`);
}
