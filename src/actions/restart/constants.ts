export enum Inputs {
  Namespace = 'namespace',
  Workloads = 'workloads',
  Timeout = 'timeout',
  Kubeconfig = 'kubeconfig',
  Context = 'context',
  PollInterval = 'poll-interval',
}

export enum Outputs {
  RestartedAt = 'restarted-at',
  Workloads = 'workloads',
}
