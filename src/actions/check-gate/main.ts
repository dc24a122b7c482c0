import { ConfigurationError } from '../../common/errors.js';
import { checkGate, GateCheckError, type GateReport } from '../../github/environment-gate.js';
import { defineAction } from '../common/action.js';
import { custom, flag, text } from '../common/inputs.js';

/**
 * Fails the plan job when the approval gate would not stop anything: the environment is
 * missing (GitHub would create it unprotected) or has no required reviewers.
 */
export const action = defineAction({
  name: 'check-gate',
  inputs: {
    /** The gate environment, e.g. production-rollback. */
    environment: custom('environment', environmentName, { required: true }),
    /** Token that reads the repository's environments (`actions: read`). */
    githubToken: custom('github-token', token, { secret: true, default: '${{ github.token }}' }),
    /** owner/repo whose environment is checked: the caller's repository in a called workflow. */
    repository: text('repository'),
    /** Fail, not warn, when the person who started the run may approve it. */
    requirePreventSelfReview: flag('require-prevent-self-review', false),
    /** Fail, not warn, when any branch may run against the environment. */
    requireBranchPolicy: flag('require-branch-policy', false),
  },
  outputs: { passed: 'false', exists: 'false', reviewers: '[]', 'prevent-self-review': 'false' },
  async run(inputs, { logger, setOutput, summary }) {
    const repository = inputs.repository ?? process.env.GITHUB_REPOSITORY ?? '';
    if (!/^[^/\s]+\/[^/\s]+$/.test(repository))
      throw new ConfigurationError(`Input "repository" is "${repository}": it must be owner/repository.`);
    let report: GateReport;
    try {
      report = await checkGate(
        { token: inputs.githubToken, apiUrl: process.env.GITHUB_API_URL, repository, environment: inputs.environment },
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
    for (const warning of warnings) logger.warning(warning);

    setOutput('exists', String(report.exists));
    const reviewers = report.reviewers.map((reviewer) =>
      reviewer.type === 'Team' ? `team:${reviewer.name}` : reviewer.name,
    );
    setOutput('reviewers', JSON.stringify(reviewers));
    setOutput('prevent-self-review', String(report.preventSelfReview));
    setOutput('passed', String(problems.length === 0));

    const reviewerText =
      report.reviewers
        .map((reviewer) => (reviewer.type === 'Team' ? `team ${reviewer.name}` : reviewer.name))
        .join(', ') || '(none)';
    const branches = report.deploymentBranchPolicy
      ? report.deploymentBranchPolicy.protectedBranches
        ? 'protected branches only'
        : 'selected branches and tags'
      : 'any branch';
    summary
      .heading(`Approval gate: ${inputs.environment} ${problems.length ? '— NOT protected' : '— protected'}`, 3)
      .table([
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
      .list([...problems.map((problem) => `❌ ${problem}`), ...warnings.map((warning) => `⚠️ ${warning}`)]);

    if (problems.length) throw new ConfigurationError(problems.join('\n'));
    logger.info(`Environment "${inputs.environment}" requires approval by ${reviewerText}.`);
  },
});

/** GitHub's environment names: up to 255 characters; a name with a newline or control character cannot be one. */
function environmentName(value: string | undefined, name: string): string {
  if (value === undefined) throw new ConfigurationError(`Input "${name}" is required and was not given.`);
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (value.length > 255 || /[\u0000-\u001f]/.test(value)) {
    throw new ConfigurationError(
      `Input "${name}" is not an environment name: at most 255 characters, no control characters.`,
    );
  }
  return value;
}

function token(value: string | undefined, name: string): string {
  if (!value)
    throw new ConfigurationError(
      `Input "${name}" is empty: the environment cannot be read without a token (the default is github.token).`,
    );
  return value;
}
