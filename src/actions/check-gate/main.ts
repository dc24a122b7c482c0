import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { runAction } from '../common/run.js';
import { checkGate, GateCheckError } from '../../github/environment-gate.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/**
 * Fails the plan job when the approval gate would not stop anything: the environment is
 * missing (GitHub would create it unprotected) or has no required reviewers.
 */
export async function run(): Promise<void> {
  await runAction(async (secrets) => {
    core.setOutput(Outputs.Passed, 'false');
    core.setOutput(Outputs.Exists, 'false');
    core.setOutput(Outputs.Reviewers, '[]');
    core.setOutput(Outputs.PreventSelfReview, 'false');

    const inputs = getInputs();
    secrets.add(inputs.githubToken);
    let report;
    try {
      report = await checkGate(
        {
          token: inputs.githubToken,
          apiUrl: process.env.GITHUB_API_URL,
          repository: inputs.repository,
          environment: inputs.environment,
        },
        process.env.GITHUB_SERVER_URL,
      );
    } catch (error) {
      // A check that cannot be made is a failed check: an unverified gate is no gate.
      if (error instanceof GateCheckError) throw new ConfigurationError(error.message);
      throw error;
    }
    const problems = [...report.problems];
    const warnings: string[] = [];
    for (const warning of report.warnings) {
      const strict =
        (inputs.requirePreventSelfReview && /Prevent self-review/.test(warning)) ||
        (inputs.requireBranchPolicy && /deployment branches/.test(warning));
      (strict ? problems : warnings).push(warning);
    }
    for (const warning of warnings) core.warning(warning);

    core.setOutput(Outputs.Exists, String(report.exists));
    core.setOutput(
      Outputs.Reviewers,
      JSON.stringify(
        report.reviewers.map((reviewer) => (reviewer.type === 'Team' ? `team:${reviewer.name}` : reviewer.name)),
      ),
    );
    core.setOutput(Outputs.PreventSelfReview, String(report.preventSelfReview));
    core.setOutput(Outputs.Passed, String(problems.length === 0));

    const reviewerText =
      report.reviewers
        .map((reviewer) => (reviewer.type === 'Team' ? `team ${reviewer.name}` : reviewer.name))
        .join(', ') || '(none)';
    const branches = report.deploymentBranchPolicy
      ? report.deploymentBranchPolicy.protectedBranches
        ? 'protected branches only'
        : 'selected branches and tags'
      : 'any branch';
    await core.summary
      .addHeading(`Approval gate: ${inputs.environment} ${problems.length ? '— NOT protected' : '— protected'}`, 3)
      .addTable([
        [
          { data: 'Setting', header: true },
          { data: 'Value', header: true },
        ],
        ['Environment exists', report.exists ? 'yes' : 'no'],
        ['Required reviewers', reviewerText],
        ['Prevent self-review', report.preventSelfReview ? 'on' : 'off'],
        ['Wait timer', report.waitTimerMinutes ? `${report.waitTimerMinutes} min` : 'none'],
        ['Deployment branches', branches],
      ])
      .addList([...problems.map((problem) => `❌ ${problem}`), ...warnings.map((warning) => `⚠️ ${warning}`)])
      .write();

    if (problems.length) throw new ConfigurationError(problems.join('\n'));
    core.info(`Environment "${inputs.environment}" requires approval by ${reviewerText}.`);
  });
}
