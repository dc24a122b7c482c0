import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigurationError, errorMessage } from '../common/errors.js';

export interface KubeconfigOptions {
  /** The kubeconfig file's content (the `kubeconfig` input); the default kubeconfig when undefined. */
  content?: string;
  /** A context to use instead of the file's current-context. */
  context?: string;
  /** The environment to look for KUBECONFIG and HOME in (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface LoadedKubeconfig {
  config: KubeConfig;
  /** Where it came from, for the log: `input "kubeconfig"`, a file path or `in-cluster`. */
  source: string;
  context: string;
  server: string;
  /** Credentials inside it (tokens, passwords, key data) that must never be printed. */
  secrets: string[];
}

/**
 * Loads the kubeconfig the restart talks through: the `kubeconfig` input's content, or
 * the default one (KUBECONFIG, then ~/.kube/config, then the in-cluster service account):
 * what `aws eks update-kubeconfig` or azure/k8s-set-context leave behind. Every way it
 * can be unusable is reported as the user's to fix, before anything is changed.
 */
export function loadKubeconfig(options: KubeconfigOptions = {}): LoadedKubeconfig {
  const env = options.env ?? process.env;
  const config = new KubeConfig();
  let source: string;
  if (options.content !== undefined) {
    source = 'input "kubeconfig"';
    try {
      config.loadFromString(options.content);
    } catch (error) {
      throw new ConfigurationError(
        `Input "kubeconfig" is not a valid kubeconfig (${firstLine(errorMessage(error))}). Pass the content of a kubeconfig file (YAML with clusters, users, contexts and current-context), not its path.`,
      );
    }
  } else {
    const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
    const home = path.join(env.HOME ?? os.homedir(), '.kube', 'config');
    const existing = files.length ? files.filter((file) => fs.existsSync(file)) : fs.existsSync(home) ? [home] : [];
    const inCluster =
      Boolean(env.KUBERNETES_SERVICE_HOST) && fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
    if (existing.length === 0 && !inCluster) {
      throw new ConfigurationError(
        `No kubeconfig found (looked at ${files.length ? `KUBECONFIG=${files.join(path.delimiter)}` : home}). Set up cluster access in an earlier step (aws eks update-kubeconfig, azure/k8s-set-context) or pass the file's content in the "kubeconfig" input.`,
      );
    }
    source = existing.length ? existing.join(path.delimiter) : 'in-cluster service account';
    try {
      if (existing.length) {
        // Several files merge as kubectl merges them: the first one to set a value wins.
        config.loadFromFile(existing[0]);
        for (const file of existing.slice(1)) {
          const next = new KubeConfig();
          next.loadFromFile(file);
          config.mergeConfig(next, true);
        }
      } else {
        config.loadFromCluster();
      }
    } catch (error) {
      throw new ConfigurationError(`The kubeconfig at ${source} is not valid (${firstLine(errorMessage(error))}).`);
    }
  }

  const contexts = config.getContexts().map((context) => context.name);
  if (options.context !== undefined) {
    if (!contexts.includes(options.context)) {
      throw new ConfigurationError(
        `Input "context" is "${options.context}", which the kubeconfig does not have. Valid values are: [${contexts.join(', ')}].`,
      );
    }
    config.setCurrentContext(options.context);
  }
  if (contexts.length === 0 && options.content !== undefined) {
    throw new ConfigurationError(
      'Input "kubeconfig" is not a valid kubeconfig: it has no contexts. Pass the content of a kubeconfig file (YAML with clusters, users, contexts and current-context), not its path.',
    );
  }
  const current = config.getCurrentContext();
  if (!current || !config.getContextObject(current)) {
    throw new ConfigurationError(
      `The kubeconfig from ${source} has no usable current-context${contexts.length ? `; set the "context" input to one of: [${contexts.join(', ')}]` : ' and no contexts at all'}.`,
    );
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    throw new ConfigurationError(
      `The kubeconfig from ${source}: context "${current}" names a cluster that has no server address.`,
    );
  }
  if (!/^https?:\/\//.test(cluster.server)) {
    throw new ConfigurationError(
      `The kubeconfig from ${source}: cluster "${cluster.name}" has server "${cluster.server}", which is not an http(s) URL.`,
    );
  }
  const user = config.getCurrentUser();
  const secrets = [user?.token, user?.password, user?.keyData].filter((value): value is string => Boolean(value));
  return { config, source, context: current, server: cluster.server, secrets };
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}
