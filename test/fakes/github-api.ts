import { startHttpFake, type Fault, type RecordedRequest } from './http-fake.js';

/**
 * The few GitHub REST endpoints the pipeline reads, answering as api.github.com does:
 * - GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals
 * - GET /repos/{owner}/{repo}/environments/{environment_name}
 * Requests need `Authorization: token|Bearer <token>`; 401 without, 404 for an unknown
 * repository, run or environment (GitHub's answer when the token cannot see it either).
 */

export interface FakeReviewer {
  type: 'User' | 'Team';
  login: string;
}

export interface FakeEnvironment {
  name: string;
  /** Required reviewers; an empty list still makes a required_reviewers rule, as GitHub cannot (it needs at least one). */
  reviewers?: FakeReviewer[];
  preventSelfReview?: boolean;
  waitTimerMinutes?: number;
  /** null: any branch may deploy; else the policy GitHub returns. */
  deploymentBranchPolicy?: { protected_branches: boolean; custom_branch_policies: boolean } | null;
}

export interface FakeApproval {
  user: string;
  state: 'approved' | 'rejected';
  environments: string[];
  comment?: string;
}

export interface FakeJob {
  name: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  steps: Array<{
    name: string;
    number: number;
    conclusion: string | null;
    started_at: string | null;
    completed_at: string | null;
  }>;
}

export interface GitHubApiFake {
  url: string;
  token: string;
  repository: string;
  environments: Map<string, FakeEnvironment>;
  /** Reviews by run id. */
  approvals: Map<string, FakeApproval[]>;
  /** Jobs by "runId/attempt"; listed 2 a page so that pagination is exercised. */
  jobs: Map<string, FakeJob[]>;
  /** Paths (prefix) answered 403 "Resource not accessible by integration", as for a token without the permission. */
  forbidden: Set<string>;
  requests: RecordedRequest[];
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startGitHubApi(options: { token?: string; repository?: string } = {}): Promise<GitHubApiFake> {
  const token = options.token ?? 'ghs_fakeToken0123456789';
  const repository = options.repository ?? 'example/ticket-service';
  const environments = new Map<string, FakeEnvironment>();
  const approvals = new Map<string, FakeApproval[]>();
  const forbidden = new Set<string>();
  const jobs = new Map<string, FakeJob[]>();
  let ids = 1000;

  // The handler reads fake.url (for pagination links) only once the server listens.
  const fake = await startHttpFake((request) => {
    const auth = String(request.headers.authorization ?? '');
    if (auth !== `token ${token}` && auth !== `Bearer ${token}`)
      return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
    const path = request.path.split('?')[0];
    for (const prefix of forbidden) {
      if (path.startsWith(prefix))
        return {
          status: 403,
          body: {
            message: 'Resource not accessible by integration',
            documentation_url: 'https://docs.github.com/rest',
          },
        };
    }
    const notFound = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
    const prefix = `/repos/${repository}`;
    if (request.method !== 'GET' || !path.startsWith(`${prefix}/`)) return notFound;
    const rest = path.slice(prefix.length);

    const run = /^\/actions\/runs\/(\d+)\/approvals$/.exec(rest);
    if (run) {
      const list = approvals.get(run[1]) ?? [];
      return {
        status: 200,
        body: list.map((approval) => ({
          environments: approval.environments.map((name) => ({
            id: ids++,
            name,
            url: `https://api.github.com${prefix}/environments/${name}`,
          })),
          state: approval.state,
          user: { login: approval.user, id: ids++, type: 'User' },
          comment: approval.comment ?? '',
        })),
      };
    }

    const attemptJobs = /^\/actions\/runs\/(\d+)\/attempts\/(\d+)\/jobs$/.exec(rest);
    if (attemptJobs) {
      const all = jobs.get(`${attemptJobs[1]}/${attemptJobs[2]}`) ?? [];
      const query = new URL(request.path, 'http://fake').searchParams;
      const perPage = Math.min(Number(query.get('per_page') ?? 30), 2);
      const page = Number(query.get('page') ?? 1);
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < all.length) {
        headers.link = `<${fake.url}${path}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
      }
      return {
        status: 200,
        headers,
        body: {
          total_count: all.length,
          jobs: slice.map((job) => ({
            id: ids++,
            run_id: Number(attemptJobs[1]),
            status: job.conclusion ? 'completed' : 'in_progress',
            ...job,
          })),
        },
      };
    }

    const env = /^\/environments\/([^/]+)$/.exec(rest);
    if (env) {
      const environment = environments.get(decodeURIComponent(env[1]));
      if (!environment) return notFound;
      const rules: unknown[] = [];
      if (environment.waitTimerMinutes)
        rules.push({ id: ids++, node_id: 'x', type: 'wait_timer', wait_timer: environment.waitTimerMinutes });
      if (environment.reviewers) {
        rules.push({
          id: ids++,
          node_id: 'x',
          type: 'required_reviewers',
          prevent_self_review: environment.preventSelfReview ?? false,
          reviewers: environment.reviewers.map((reviewer) =>
            reviewer.type === 'User'
              ? { type: 'User', reviewer: { login: reviewer.login, id: ids++, type: 'User' } }
              : { type: 'Team', reviewer: { slug: reviewer.login, name: reviewer.login, id: ids++ } },
          ),
        });
      }
      if (environment.deploymentBranchPolicy) rules.push({ id: ids++, node_id: 'x', type: 'branch_policy' });
      return {
        status: 200,
        body: {
          id: ids++,
          name: environment.name,
          url: `https://api.github.com${prefix}/environments/${environment.name}`,
          html_url: `https://github.com/${repository}/deployments/activity_log?environments_filter=${environment.name}`,
          created_at: '2026-01-01T00:00:00Z',
          updated_at: '2026-01-01T00:00:00Z',
          can_admins_bypass: true,
          protection_rules: rules,
          deployment_branch_policy: environment.deploymentBranchPolicy ?? null,
        },
      };
    }
    return notFound;
  });
  return { ...fake, token, repository, environments, approvals, jobs, forbidden };
}
