import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { repoRoot } from '../helpers/run-bundle.js';
import { evaluate } from './expressions.js';

// What the reviewer and the record are told about the target: the rollback action's database
// output (host:port/database) carried through the pipeline, and the plan job's decision summary,
// its script run with bash as the runner runs it.
interface Step {
  id?: string;
  name?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Job {
  outputs?: Record<string, string>;
  steps: Step[];
}

const pipeline = YAML.parse(
  fs.readFileSync(path.join(repoRoot, '.github/workflows/migration-rollback.yml'), 'utf8'),
) as {
  jobs: Record<string, Job>;
};
const { plan, execute, record } = pipeline.jobs;
const ADDRESS = 'db.internal.example:5432/tickets';

describe('the database the pipeline ran against, as host:port/database', () => {
  it("exposes the rollback action's database output from the plan and execute jobs", () => {
    expect(plan.outputs?.database).toBe('${{ steps.plan.outputs.database }}');
    expect(execute.outputs?.database).toBe('${{ steps.rollback.outputs.database }}');
  });

  it("gives record the identifier and the execute job's host:port/database, else the plan's", () => {
    const given = record.steps.find((step) => step.id === 'record')!.with!.database;
    const database = (instance: string, executed: string, planned: string) =>
      evaluate(given, {
        inputs: { 'db-instance-identifier': instance, 'db-cluster-identifier': '' },
        needs: { execute: { outputs: { database: executed } }, plan: { outputs: { database: planned } } },
      });
    expect(database('tickettoken-production', ADDRESS, 'other:5432/x')).toBe(`tickettoken-production (${ADDRESS})`);
    // The execute job was refused or never approved: the plan job's connection names it.
    expect(database('tickettoken-production', '', ADDRESS)).toBe(`tickettoken-production (${ADDRESS})`);
    expect(database('', ADDRESS, '')).toBe(ADDRESS);
    // method pitr connects to no database.
    expect(database('tickettoken-production', '', '')).toBe('tickettoken-production');
  });

  describe("the plan job's decision summary", () => {
    const decision = plan.steps.find((step) => step.name === 'The decision, for the reviewer')!;
    let work: string;
    beforeEach(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'decision-'));
    });
    afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

    function runDecision(env: Record<string, string>): { code: number | null; stdout: string; summary: string } {
      const summary = path.join(work, 'summary');
      fs.writeFileSync(summary, '');
      const run = spawnSync('bash', ['-e', '-c', decision.run!], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          GITHUB_STEP_SUMMARY: summary,
          ENVIRONMENT: 'production',
          METHOD: 'rollback',
          REASON: 'bad migration',
          REF: 'main',
          REQUESTED_BY: 'on-call',
          SHA: '0123456789abcdef0123456789abcdef01234567',
          ON_DEFAULT_BRANCH: 'yes',
          GATE: 'production-rollback',
          DATABASE: 'tickettoken-production',
          DATABASE_ADDRESS: ADDRESS,
          PLAN: '[{"name":"007.ts"}]',
          SCRATCH_PLAN: '[{"name":"007.ts"}]',
          ...env,
        },
      });
      return { code: run.status, stdout: run.stdout, summary: fs.readFileSync(summary, 'utf8') };
    }

    it('takes the database from the plan step, and names the environment, the commit and the target', () => {
      expect(decision.env).toMatchObject({
        DATABASE_ADDRESS: '${{ steps.plan.outputs.database }}',
        SHA: '${{ steps.ref.outputs.sha }}',
      });
      const { code, summary } = runDecision({});
      expect(code).toBe(0);
      expect(summary).toContain('## Rollback requested: production');
      expect(summary).toContain(`| Database | tickettoken-production (\`${ADDRESS}\`) |`);
      expect(summary).toContain(
        '| Commit | `0123456789abcdef0123456789abcdef01234567` (the execute job checks out exactly this commit) |',
      );
      expect(summary).toContain('| Approval | required reviewers of environment `production-rollback` |');
      // The dry run's row counts are the scratch database's, not production's.
      expect(summary.replace(/\n/g, ' ')).toContain(
        `Row counts in the dry run ("— 7 rows") are the scratch database's, which has production's schema but not its data`,
      );
    });

    it('fails when the scratch dry run planned something else than production', () => {
      const { code, stdout } = runDecision({ SCRATCH_PLAN: '[]' });
      expect(code).toBe(1);
      expect(stdout).toContain('::error::The dry run on the scratch database planned [] but production plans');
    });
  });
});
