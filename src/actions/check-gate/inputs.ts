import { ConfigurationError } from '../../common/errors.js';
import { getBoolean, getRequired, getSecret, getString } from '../common/inputs.js';
import { Inputs } from './constants.js';

export interface CheckGateInputs {
  /** The gate environment, e.g. production-rollback. */
  environment: string;
  /** Token that reads the repository's environments (`actions: read`). */
  githubToken: string;
  /** owner/repo whose environment is checked: the caller's repository in a called workflow. */
  repository: string;
  /** Fail, not warn, when the person who started the run may approve it. */
  requirePreventSelfReview: boolean;
  /** Fail, not warn, when any branch may run against the environment. */
  requireBranchPolicy: boolean;
}

export function getInputs(): CheckGateInputs {
  const environment = getRequired(Inputs.Environment);
  // GitHub's rules for environment names: up to 255 characters, no slash-free path tricks needed,
  // but a name with a newline or control character cannot be one.
  if (environment.length > 255 || /[\u0000-\u001f]/.test(environment)) {
    throw new ConfigurationError(
      `Input "${Inputs.Environment}" is not an environment name: at most 255 characters, no control characters.`,
    );
  }
  const githubToken = getSecret(Inputs.GitHubToken);
  if (!githubToken)
    throw new ConfigurationError(
      `Input "${Inputs.GitHubToken}" is empty: the environment cannot be read without a token (the default is github.token).`,
    );
  const repository = getString(Inputs.Repository) ?? process.env.GITHUB_REPOSITORY ?? '';
  if (!/^[^/\s]+\/[^/\s]+$/.test(repository))
    throw new ConfigurationError(`Input "${Inputs.Repository}" is "${repository}": it must be owner/repository.`);
  return {
    environment,
    githubToken,
    repository,
    requirePreventSelfReview: getBoolean(Inputs.RequirePreventSelfReview, false),
    requireBranchPolicy: getBoolean(Inputs.RequireBranchPolicy, false),
  };
}
