import { getOctokit } from '@actions/github';

/**
 * An Octokit for the REST API at `apiUrl`. @actions/github reads GITHUB_API_URL once when
 * it is first imported; passing the URL explicitly keeps GitHub Enterprise Server (and the
 * local fake in the tests) right whenever the client is made.
 */
export type GitHubClient = ReturnType<typeof getOctokit>;

export function githubClient(
  token: string,
  apiUrl: string = process.env.GITHUB_API_URL || 'https://api.github.com',
): GitHubClient {
  return getOctokit(token, { baseUrl: apiUrl.replace(/\/$/, '') });
}

/** `owner/repo` split, with a message naming where it came from when it is malformed. */
export function splitRepository(repository: string, source = 'GITHUB_REPOSITORY'): { owner: string; repo: string } {
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length) throw new Error(`${source} is "${repository}": expected owner/repository.`);
  return { owner, repo };
}

/** The HTTP status of an Octokit RequestError, or undefined for anything else. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
