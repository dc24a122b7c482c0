import { checkGate, GateCheckError } from '../../src/github/environment-gate.js';
import { runBundle } from '../helpers/run-bundle.js';
import { startGitHubApi, type GitHubApiFake } from '../fakes/github-api.js';

describe('the approval gate check against a local GitHub API', () => {
  let github: GitHubApiFake;
  beforeAll(async () => {
    github = await startGitHubApi();
    github.environments.set('production-rollback', {
      name: 'production-rollback',
      reviewers: [
        { type: 'User', login: 'bob' },
        { type: 'Team', login: 'dba' },
      ],
      preventSelfReview: true,
      deploymentBranchPolicy: { protected_branches: true, custom_branch_policies: false },
    });
    github.environments.set('staging-rollback', { name: 'staging-rollback', waitTimerMinutes: 5 });
    github.environments.set('qa-rollback', { name: 'qa-rollback', reviewers: [{ type: 'User', login: 'carol' }] });
  });
  afterAll(async () => {
    await github.close();
  });
  const request = (environment: string) => ({
    token: github.token,
    apiUrl: github.url,
    repository: github.repository,
    environment,
  });

  it('passes an environment with required reviewers, self-review prevented and branches restricted', async () => {
    const report = await checkGate(request('production-rollback'));
    expect(report).toMatchObject({
      exists: true,
      problems: [],
      warnings: [],
      preventSelfReview: true,
      reviewers: [
        { type: 'User', name: 'bob' },
        { type: 'Team', name: 'dba' },
      ],
    });
  });

  it('fails an environment that does not exist, because GitHub would create it unprotected', async () => {
    const report = await checkGate(request('prod-rollback'));
    expect(report.exists).toBe(false);
    expect(report.problems[0]).toMatch(/"prod-rollback" does not exist in example\/ticket-service.*unapproved/);
  });

  it('fails an environment whose only rule is a wait timer', async () => {
    const report = await checkGate(request('staging-rollback'));
    expect(report.problems[0]).toMatch(/no required reviewers/);
    expect(report.waitTimerMinutes).toBe(5);
  });

  it('warns about self-review and open deployment branches without failing', async () => {
    const report = await checkGate(request('qa-rollback'));
    expect(report.problems).toEqual([]);
    expect(report.warnings.join('\n')).toMatch(/Prevent self-review[\s\S]*deployment branches/);
  });

  it('cannot be fooled by a token that may not read environments', async () => {
    github.forbidden.add('/repos/example/ticket-service/environments/');
    await expect(checkGate(request('production-rollback'))).rejects.toThrow(GateCheckError);
    await expect(checkGate(request('production-rollback'))).rejects.toThrow(/HTTP 403.*actions: read/);
    github.forbidden.clear();
  });

  describe('dist/check-gate', () => {
    const env = () => ({ GITHUB_API_URL: github.url });

    it('passes and sets its outputs', async () => {
      const run = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'production-rollback', 'github-token': github.token },
      });
      expect(run.code).toBe(0);
      expect(run.outputs).toEqual({
        passed: 'true',
        exists: 'true',
        reviewers: '["bob","team:dba"]',
        'prevent-self-review': 'true',
      });
      expect(run.summary).toContain('protected');
    });

    it('fails the job for a missing environment, naming it and the settings page', async () => {
      const run = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'prod-rollback', 'github-token': github.token },
      });
      expect(run.code).toBe(1);
      expect(run.errors.join('\n')).toMatch(
        /Environment "prod-rollback" does not exist.*https:\/\/github.com\/example\/ticket-service\/settings\/environments/,
      );
      expect(run.outputs).toMatchObject({ passed: 'false', exists: 'false' });
    });

    it('fails the job for an environment without required reviewers', async () => {
      const run = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'staging-rollback', 'github-token': github.token },
      });
      expect(run.code).toBe(1);
      expect(run.errors.join('\n')).toMatch(/no required reviewers/);
      expect(run.outputs.exists).toBe('true');
    });

    it('turns the self-review warning into a failure when asked to', async () => {
      const lenient = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'qa-rollback', 'github-token': github.token },
      });
      expect(lenient.code).toBe(0);
      expect(lenient.stdout).toMatch(/::warning::.*Prevent self-review/);
      const strict = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'qa-rollback', 'github-token': github.token, 'require-prevent-self-review': 'true' },
      });
      expect(strict.code).toBe(1);
      expect(strict.errors.join('\n')).toMatch(/Prevent self-review/);
    });

    it('fails when the token is refused, without printing it', async () => {
      const run = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'production-rollback', 'github-token': 'ghs_wrongToken987654' },
      });
      expect(run.code).toBe(1);
      expect(run.errors.join('\n')).toMatch(/HTTP 401/);
      expect(
        run.everything
          .split('\n')
          .filter((line) => !line.startsWith('::add-mask::'))
          .join('\n'),
      ).not.toContain('ghs_wrongToken987654');
    });

    it('refuses a malformed repository input before calling the API', async () => {
      const before = github.requests.length;
      const run = await runBundle('check-gate', {
        env: env(),
        inputs: { environment: 'production-rollback', 'github-token': github.token, repository: 'not-a-repo' },
      });
      expect(run.code).toBe(1);
      expect(run.errors.join('\n')).toMatch(/Input "repository" is "not-a-repo": it must be owner\/repository/);
      expect(github.requests.length).toBe(before);
    });
  });
});
