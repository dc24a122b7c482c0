import * as core from '@actions/core';
import { formatDuration } from '../../common/duration.js';
import { errorMessage } from '../../common/errors.js';
import { escapeHtml } from '../../common/html.js';
import { workloadApi } from '../../kube/client.js';
import { loadKubeconfig } from '../../kube/kubeconfig.js';
import { restartWorkloads, type RestartReport, type WorkloadResult } from '../../kube/rollout.js';
import { describeWorkload } from '../../kube/workloads.js';
import { runAction } from '../common/run.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/** `kubectl rollout restart` + `kubectl rollout status` for the runbook's "Restart Services" step, without kubectl. */
export async function run(): Promise<void> {
  // Set first so a run that stops early still leaves every output defined.
  core.setOutput(Outputs.RestartedAt, '');
  core.setOutput(Outputs.Workloads, '[]');
  await runAction(async (secrets) => {
    const inputs = getInputs();
    if (inputs.kubeconfig) secrets.add(inputs.kubeconfig);
    const kube = loadKubeconfig({ content: inputs.kubeconfig, context: inputs.context });
    secrets.add(...kube.secrets);
    const names = inputs.workloads.map(describeWorkload);
    core.info(
      `Cluster ${kube.server} (context "${kube.context}", kubeconfig from ${kube.source}); namespace ${inputs.namespace}.`,
    );
    core.info(`Restarting ${names.join(', ')}; waiting up to ${formatDuration(inputs.timeoutMs)} for the rollouts.`);

    let report: RestartReport;
    try {
      report = await core.group('Restart and track the rollouts', () =>
        restartWorkloads({
          api: workloadApi(kube.config),
          workloads: inputs.workloads,
          timeoutMs: inputs.timeoutMs,
          pollIntervalMs: inputs.pollIntervalMs,
          logger: { info: (line) => core.info(line), warning: (line) => core.warning(line) },
        }),
      );
    } catch (error) {
      // Refused before any patch (a paused deployment, a missing workload): the reviewer should see that too.
      await core.summary
        .addHeading('Restart', 2)
        .addRaw(
          `<p>❌ Namespace <code>${inputs.namespace}</code>: ${escapeHtml(secrets.scrub(errorMessage(error)))}</p>`,
          true,
        )
        .write();
      throw error;
    }

    core.setOutput(Outputs.RestartedAt, report.restartedAt);
    core.setOutput(Outputs.Workloads, JSON.stringify(report.results.map(outputEntry)));
    await writeSummary(report, inputs.namespace, kube.context);

    if (!report.passed) {
      const failed = report.results.filter((result) => result.outcome !== 'rolled-out');
      throw new Error(`Rollout not complete: ${failed.map(failureLine).join(' ')}`);
    }
    core.info(`All ${report.results.length} workload(s) rolled out.`);
  });
}

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

async function writeSummary(report: RestartReport, namespace: string, context: string): Promise<void> {
  const summary = core.summary
    .addHeading('Restart', 2)
    .addRaw(
      `Restarted at <code>${report.restartedAt}</code> in namespace <code>${namespace}</code> (context <code>${context}</code>), as <code>kubectl rollout restart</code> does; judged as <code>kubectl rollout status</code> judges.`,
      true,
    )
    .addTable([
      [
        { data: 'Workload', header: true },
        { data: 'Result', header: true },
        { data: 'Revision', header: true },
        { data: 'Ready', header: true },
        { data: 'Time', header: true },
        { data: 'Last status', header: true },
      ],
      ...report.results.map((result) => [
        result.workload,
        OUTCOME[result.outcome],
        result.previousRevision && result.previousRevision !== result.revision
          ? `${result.previousRevision} → ${result.revision}`
          : result.revision,
        `${result.readyReplicas}/${result.desiredReplicas}`,
        `${result.seconds}s`,
        escapeHtml(result.message),
      ]),
    ]);
  const failed = report.results.filter((result) => result.pods.length);
  for (const result of failed) {
    summary.addHeading(`Pods of ${result.workload} that are not ready`, 3).addTable([
      [
        { data: 'Pod', header: true },
        { data: 'Phase', header: true },
        { data: 'Why', header: true },
        { data: 'Restarts', header: true },
        { data: 'Last container message', header: true },
      ],
      ...result.pods.map((pod) => [
        pod.pod,
        pod.phase,
        escapeHtml(`${pod.reason}: ${pod.detail}`),
        String(pod.restarts),
        escapeHtml(pod.lastMessage ?? '—'),
      ]),
    ]);
  }
  await summary.write();
}
