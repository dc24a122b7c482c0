import { githubClient, httpStatus, splitRepository } from '../github/client.js';
import type { Approval } from './event.js';

/**
 * Who approved: the reviews of the run's protected environments, from
 * `GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals` (needs `actions: read`).
 * In a called (reusable) workflow GITHUB_RUN_ID and GITHUB_REPOSITORY are the caller's run,
 * which is where the gate's reviews are recorded.
 */

export interface ApprovalsRequest {
  token: string;
  apiUrl?: string;
  repository: string;
  runId: string;
  /** Keep only the reviews of these environments (the gate); all when empty. */
  environments?: string[];
}

export interface ApprovalsResult {
  approvals: Approval[];
  /** Why the approvals could not be read, for a warning; undefined when they were. */
  problem?: string;
}

interface ApprovalRow {
  state?: string;
  comment?: string | null;
  user?: { login?: string } | null;
  environments?: Array<{ name?: string }> | null;
}

export async function readApprovals(request: ApprovalsRequest): Promise<ApprovalsResult> {
  if (!request.token) return { approvals: [], problem: 'no github-token was given, so the approvers cannot be read.' };
  const runId = Number(request.runId);
  if (!Number.isInteger(runId) || runId <= 0)
    return { approvals: [], problem: `GITHUB_RUN_ID is "${request.runId}", not a run id.` };
  try {
    const { owner, repo } = splitRepository(request.repository);
    const octokit = githubClient(request.token, request.apiUrl);
    const response = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals', {
      owner,
      repo,
      run_id: runId,
    });
    const rows = response.data as ApprovalRow[];
    const wanted = new Set(request.environments ?? []);
    const approvals = rows
      .map((row) => ({
        user: row.user?.login ?? '(unknown)',
        state: row.state ?? 'unknown',
        environments: (row.environments ?? []).map((environment) => environment.name ?? '').filter(Boolean),
        ...(row.comment ? { comment: row.comment } : {}),
      }))
      .filter((approval) => wanted.size === 0 || approval.environments.some((name) => wanted.has(name)));
    return { approvals };
  } catch (error) {
    const status = httpStatus(error);
    const hint =
      status === 403 || status === 401
        ? ' Grant the job `actions: read` (and the caller must allow it) so the approvers can be named.'
        : status === 404
          ? ' The run was not found with this token: is the token for this repository?'
          : '';
    return {
      approvals: [],
      problem: `reading the run's approvals failed (${status ? `HTTP ${status}` : error instanceof Error ? error.message : String(error)}).${hint}`,
    };
  }
}
