import { ConfigurationError } from '../common/errors.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** One workload to restart, as named in the `workloads` input. */
export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
  namespace: string;
}

/** The spellings kubectl accepts for the three kinds it can restart (resource, plural, short name, group-qualified). */
const KIND_ALIASES: Record<string, WorkloadKind> = {
  deployment: 'Deployment',
  deployments: 'Deployment',
  deploy: 'Deployment',
  'deployment.apps': 'Deployment',
  'deployments.apps': 'Deployment',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  sts: 'StatefulSet',
  'statefulset.apps': 'StatefulSet',
  'statefulsets.apps': 'StatefulSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
  ds: 'DaemonSet',
  'daemonset.apps': 'DaemonSet',
  'daemonsets.apps': 'DaemonSet',
};

/** A DNS-1123 subdomain: what the API server accepts as the name of these objects. */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A DNS-1123 label: what a namespace name must be. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateNamespace(namespace: string, input = 'namespace'): string {
  if (!NAMESPACE.test(namespace) || namespace.length > 63) {
    throw new ConfigurationError(
      `Input "${input}" is "${namespace}": a namespace is lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters.`,
    );
  }
  return namespace;
}

/**
 * Parses `deployment/ticket-service`, `statefulset/x`, `daemonset/y` lines (kubectl's
 * own spellings, so a runbook line can be pasted); a bare name means a deployment.
 * Duplicates are dropped, because restarting twice would start two rollouts.
 */
export function parseWorkloads(lines: readonly string[], namespace: string, input = 'workloads'): WorkloadRef[] {
  if (lines.length === 0) {
    throw new ConfigurationError(
      `Input "${input}" is empty: give one workload a line, such as deployment/ticket-service, statefulset/x or daemonset/y.`,
    );
  }
  const seen = new Set<string>();
  const refs: WorkloadRef[] = [];
  for (const line of lines) {
    const slash = line.indexOf('/');
    const kindText = slash === -1 ? 'deployment' : line.slice(0, slash).trim().toLowerCase();
    const name = (slash === -1 ? line : line.slice(slash + 1)).trim();
    const kind = KIND_ALIASES[kindText];
    if (!kind) {
      throw new ConfigurationError(
        `Input "${input}" has "${line}" of an unknown kind "${kindText}". Valid values are: [deployment, statefulset, daemonset] (kubectl rollout restart supports only these).`,
      );
    }
    if (!NAME.test(name) || name.length > 253) {
      throw new ConfigurationError(
        `Input "${input}" has "${line}": "${name}" is not a valid object name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit).`,
      );
    }
    const key = `${kind}/${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    refs.push({ kind, name, namespace });
  }
  return refs;
}

/** `deployment/ticket-service`: how kubectl and the summary name a workload. */
export function describeWorkload(ref: Pick<WorkloadRef, 'kind' | 'name'>): string {
  return `${ref.kind.toLowerCase()}/${ref.name}`;
}
