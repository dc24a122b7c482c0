import { formatDuration } from '../../common/duration.js';
import { errorMessage } from '../../common/errors.js';
import { escapeHtml } from '../../common/html.js';
import { workloadApi } from '../../kube/client.js';
import { loadKubeconfig } from '../../kube/kubeconfig.js';
import { restartWorkloads, type RestartReport, type WorkloadResult } from '../../kube/rollout.js';
import { describeWorkload, parseWorkloads, validateNamespace } from '../../kube/workloads.js';
import { defineAction, type Runtime } from '../common/action.js';
import { custom, duration, lines, secret, text } from '../common/inputs.js';

/** `kubectl rollout restart` + `kubectl rollout status` for the runbook's "Restart Services" step, without kubectl. */
export const action = defineAction({
  name: 'restart',
  inputs: {
    /** The namespace every workload lives in. */
    namespace: custom('namespace', (value, name) => validateNamespace(value ?? '', name), { required: true }),
    /** `deployment/x`, `statefulset/y`, `daemonset/z` or bare deployment names, one a line. */
    workloads: lines('workloads', { required: true }),
    /** How long all rollouts together may take. */
    timeoutMs: duration('timeout', '10m', { min: 1 }),
    /** The kubeconfig file's content; empty means the default kubeconfig. */
    kubeconfig: secret('kubeconfig'),
    /** A kubeconfig context to use instead of its current-context. */
    context: text('context'),
    /** Pause between two status reads of a rollout. */
    pollIntervalMs: duration('poll-interval', '2s', { min: 1 }),
  },
  outputs: { 'restarted-at': '', workloads: '[]' },
  async run(inputs, runtime) {
    const { logger, secrets } = runtime;
    const workloads = parseWorkloads(inputs.workloads, inputs.namespace, 'workloads');
    const kube = loadKubeconfig({ content: inputs.kubeconfig, context: inputs.context });
    secrets.add(...kube.secrets);
    logger.info(
      `Cluster ${kube.server} (context "${kube.context}", kubeconfig from ${kube.source}); namespace ${inputs.namespace}.`,
    );
    logger.info(
      `Restarting ${workloads.map(describeWorkload).join(', ')}; waiting up to ${formatDuration(inputs.timeoutMs)} for the rollouts.`,
    );

    let report: RestartReport;
    try {
      report = await logger.group('Restart and track the rollouts', () =>
        restartWorkloads({
          api: workloadApi(kube.config),
          workloads,
          timeoutMs: inputs.timeoutMs,
          pollIntervalMs: inputs.pollIntervalMs,
          logger,
          clock: runtime.clock,
        }),
      );
    } catch (error) {
      // Refused before any patch (a paused deployment, a missing workload): the reviewer should see that too.
      runtime.summary
        .heading('Restart', 2)
        .html(`<p>❌ Namespace <code>${escapeHtml(inputs.namespace)}</code>: ${escapeHtml(errorMessage(error))}</p>`);
      throw error;
    }

    runtime.setOutput('restarted-at', report.restartedAt);
    runtime.setOutput('workloads', JSON.stringify(report.results.map(outputEntry)));
    writeSummary(runtime, report, inputs.namespace, kube.context);

    if (!report.passed) {
      const failed = report.results.filter((result) => result.outcome !== 'rolled-out');
      throw new Error(`Rollout not complete: ${failed.map(failureLine).join(' ')}`);
    }
    logger.info(`All ${report.results.length} workload(s) rolled out.`);
  },
});

function outputEntry(result: WorkloadResult) {
  return {
    workload: result.workload,
    namespace: result.namespace,
    outcome: result.outcome,
    revision: result.revision,
    previousRevision: result.previousRevision,
    readyReplicas: result.readyReplicas,
    desiredReplicas: result.desiredReplicas,
    seconds: result.seconds,
    message: result.message,
    notReadyPods: result.pods,
  };
}

function failureLine(result: WorkloadResult): string {
  const pods = result.pods.map(
    (pod) =>
      `${pod.pod} ${pod.reason}${pod.lastMessage ? ` (${pod.lastMessage})` : pod.detail ? ` (${pod.detail})` : ''}`,
  );
  const sentence = /[.!?]$/.test(result.message) ? result.message : `${result.message}.`;
  return `${result.workload} ${result.outcome === 'timed-out' ? 'timed out' : 'failed'}: ${sentence}${pods.length ? ` Not ready: ${pods.join('; ')}.` : ''}`;
}

const OUTCOME: Record<WorkloadResult['outcome'], string> = {
  'rolled-out': '✅ rolled out',
  failed: '❌ failed',
  'timed-out': '⏱️ timed out',
};

function writeSummary(
  { summary }: Pick<Runtime, 'summary'>,
  report: RestartReport,
  namespace: string,
  context: string,
): void {
  const code = (text: string) => `<code>${escapeHtml(text)}</code>`;
  summary
    .heading('Restart', 2)
    .html(
      `Restarted at ${code(report.restartedAt)} in namespace ${code(namespace)} (context ${code(context)}), as <code>kubectl rollout restart</code> does; judged as <code>kubectl rollout status</code> judges.`,
    )
    .table([
      ['Workload', 'Result', 'Revision', 'Ready', 'Time', 'Last status'].map((data) => ({ data, header: true })),
      ...report.results.map((result) => [
        result.workload,
        OUTCOME[result.outcome],
        result.previousRevision && result.previousRevision !== result.revision
          ? `${result.previousRevision} → ${result.revision}`
          : result.revision,
        `${result.readyReplicas}/${result.desiredReplicas}`,
        `${result.seconds}s`,
        result.message,
      ]),
    ]);
  for (const result of report.results.filter((each) => each.pods.length)) {
    summary
      .heading(`Pods of ${result.workload} that are not ready`, 3)
      .table([
        ['Pod', 'Phase', 'Why', 'Restarts', 'Last container message'].map((data) => ({ data, header: true })),
        ...result.pods.map((pod) => [
          pod.pod,
          pod.phase,
          `${pod.reason}: ${pod.detail}`,
          String(pod.restarts),
          pod.lastMessage ?? '—',
        ]),
      ]);
  }
}
