import { githubClient, httpStatus, splitRepository } from './client.js';

/**
 * Is the approval gate really a gate? GitHub creates an environment that a job names but
 * that does not exist, on first use, with no protection rules: the job then runs at once,
 * unapproved. So the plan job reads the environment through
 * `GET /repos/{owner}/{repo}/environments/{environment_name}` and refuses unless it exists
 * and has a `required_reviewers` rule with at least one reviewer.
 */

export interface GateRequest {
  token: string;
  apiUrl?: string;
  repository: string;
  environment: string;
}

export interface GateReviewer {
  /** `User` or `Team` (GitHub may add kinds: kept as given). */
  type: string;
  /** Login for a user, slug for a team. */
  name: string;
}

export interface GateReport {
  environment: string;
  exists: boolean;
  reviewers: GateReviewer[];
  preventSelfReview: boolean;
  waitTimerMinutes: number;
  /** null: any branch may deploy to the environment. */
  deploymentBranchPolicy: { protectedBranches: boolean; customBranchPolicies: boolean } | null;
  /** Why the gate does not hold; empty when it does. */
  problems: string[];
  /** Weaker settings worth fixing that do not open the gate by themselves. */
  warnings: string[];
  settingsUrl: string;
}

interface ProtectionRule {
  type?: string;
  prevent_self_review?: boolean;
  wait_timer?: number;
  reviewers?: Array<{ type?: string; reviewer?: { login?: string; slug?: string; name?: string } | null }>;
}

interface EnvironmentBody {
  protection_rules?: ProtectionRule[];
  deployment_branch_policy?: { protected_branches?: boolean; custom_branch_policies?: boolean } | null;
}

/** Thrown when the API cannot answer at all (token, permission): the check cannot be made. */
export class GateCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GateCheckError';
  }
}

export function environmentSettingsUrl(repository: string, serverUrl = 'https://github.com'): string {
  return `${serverUrl.replace(/\/$/, '')}/${repository}/settings/environments`;
}

export async function checkGate(request: GateRequest, serverUrl?: string): Promise<GateReport> {
  const { owner, repo } = splitRepository(request.repository);
  const settingsUrl = environmentSettingsUrl(request.repository, serverUrl);
  const octokit = githubClient(request.token, request.apiUrl);
  let body: EnvironmentBody;
  try {
    const response = await octokit.request('GET /repos/{owner}/{repo}/environments/{environment_name}', {
      owner,
      repo,
      environment_name: request.environment,
    });
    body = response.data as EnvironmentBody;
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404) {
      return {
        environment: request.environment,
        exists: false,
        reviewers: [],
        preventSelfReview: false,
        waitTimerMinutes: 0,
        deploymentBranchPolicy: null,
        problems: [
          `Environment "${request.environment}" does not exist in ${request.repository}. GitHub would create it on first use with no protection, and the rollback would run unapproved. Create it with required reviewers at ${settingsUrl}.`,
        ],
        warnings: [],
        settingsUrl,
      };
    }
    const hint =
      status === 401 || status === 403
        ? " Give the job `actions: read` (the caller must grant it too) or a token that can read the repository's environments."
        : '';
    throw new GateCheckError(
      `Could not read environment "${request.environment}" of ${request.repository} (${status ? `HTTP ${status}` : error instanceof Error ? error.message : String(error)}).${hint}`,
    );
  }
  return assessEnvironment(request.environment, body, settingsUrl);
}

/** The decision, apart from the HTTP, so it reads like the rule it enforces. */
export function assessEnvironment(environment: string, body: EnvironmentBody, settingsUrl: string): GateReport {
  const rules = body.protection_rules ?? [];
  const reviewersRule = rules.find((rule) => rule.type === 'required_reviewers');
  const reviewers: GateReviewer[] = (reviewersRule?.reviewers ?? []).map((entry) => ({
    type: entry.type ?? 'User',
    name: entry.reviewer?.login ?? entry.reviewer?.slug ?? entry.reviewer?.name ?? '(unknown)',
  }));
  const waitTimerMinutes = rules.find((rule) => rule.type === 'wait_timer')?.wait_timer ?? 0;
  const policy = body.deployment_branch_policy
    ? {
        protectedBranches: Boolean(body.deployment_branch_policy.protected_branches),
        customBranchPolicies: Boolean(body.deployment_branch_policy.custom_branch_policies),
      }
    : null;
  const preventSelfReview = Boolean(reviewersRule?.prevent_self_review);
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!reviewersRule || reviewers.length === 0) {
    problems.push(
      `Environment "${environment}" has no required reviewers, so nobody approves the rollback before it changes the database. Add required reviewers at ${settingsUrl} (for a private or internal repository required reviewers need GitHub Enterprise; on Free, Pro and Team they exist for public repositories only).`,
    );
  }
  if (reviewersRule && !preventSelfReview) {
    warnings.push(
      `Environment "${environment}" lets the person who started the run approve it: turn on "Prevent self-review" so a second engineer always looks.`,
    );
  }
  if (!policy) {
    warnings.push(
      `Environment "${environment}" accepts runs from any branch: restrict its deployment branches to the default branch, so nobody runs down() code from an unreviewed branch.`,
    );
  }
  return {
    environment,
    exists: true,
    reviewers,
    preventSelfReview,
    waitTimerMinutes,
    deploymentBranchPolicy: policy,
    problems,
    warnings,
    settingsUrl,
  };
}
