import { githubClient, httpStatus, splitRepository } from './client.js';

/**
 * The run's jobs and their steps with outcomes and times, from
 * `GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs`
 * (needs `actions: read`): the timeline a record keeps, which no expression context offers.
 */

export interface TimedStep {
  name: string;
  /** success, failure, cancelled, skipped; null while running. */
  conclusion: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface TimedJob extends TimedStep {
  steps: TimedStep[];
}

export interface RunJobsRequest {
  token: string;
  apiUrl?: string;
  repository: string;
  runId: string;
  attempt?: string;
}

interface JobRow {
  name?: string;
  conclusion?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  steps?: Array<{
    name?: string;
    conclusion?: string | null;
    started_at?: string | null;
    completed_at?: string | null;
  }>;
}

export async function readRunJobs(request: RunJobsRequest): Promise<{ jobs: TimedJob[]; problem?: string }> {
  if (!request.token) return { jobs: [], problem: 'no github-token was given.' };
  const runId = Number(request.runId);
  const attempt = Number(request.attempt || '1');
  if (!Number.isInteger(runId) || runId <= 0)
    return { jobs: [], problem: `GITHUB_RUN_ID is "${request.runId}", not a run id.` };
  try {
    const { owner, repo } = splitRepository(request.repository);
    const octokit = githubClient(request.token, request.apiUrl);
    const rows = (await octokit.paginate(
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs',
      {
        owner,
        repo,
        run_id: runId,
        attempt_number: Number.isInteger(attempt) && attempt > 0 ? attempt : 1,
        per_page: 100,
      },
    )) as JobRow[];
    const step = (row: {
      name?: string;
      conclusion?: string | null;
      started_at?: string | null;
      completed_at?: string | null;
    }): TimedStep => ({
      name: row.name ?? '(unnamed)',
      conclusion: row.conclusion ?? null,
      startedAt: row.started_at ?? null,
      completedAt: row.completed_at ?? null,
    });
    return { jobs: rows.map((row) => ({ ...step(row), steps: (row.steps ?? []).map(step) })) };
  } catch (error) {
    const status = httpStatus(error);
    return {
      jobs: [],
      problem: `reading the run's jobs failed (${status ? `HTTP ${status}` : error instanceof Error ? error.message : String(error)}).${status === 403 ? ' Grant the job `actions: read`.' : ''}`,
    };
  }
}
