import fs from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { ConfigurationError } from '../../common/errors.js';
import { runAction } from '../common/run.js';
import { readRunJobs } from '../../github/run-jobs.js';
import { readApprovals } from '../../notify/approvals.js';
import { runUrl } from '../../notify/event.js';
import { recordMarkdown } from '../../report/markdown.js';
import { buildRecord, recordBaseName } from '../../report/record.js';
import { uploadToS3 } from '../../report/s3.js';
import { Outputs } from './constants.js';
import { getInputs } from './inputs.js';

/**
 * Writes the rollback record (JSON and Markdown) to files and the job summary, and copies it
 * to S3 when asked. The files and the summary come first: a failing S3 copy fails the step
 * (the audit copy that was asked for does not exist) but leaves the files for upload-artifact.
 */
export async function run(): Promise<void> {
  await runAction(async (secrets) => {
    core.setOutput(Outputs.JsonPath, '');
    core.setOutput(Outputs.MarkdownPath, '');
    core.setOutput(Outputs.Directory, '');
    core.setOutput(Outputs.S3Uris, '[]');

    const inputs = getInputs();
    if (inputs.githubToken) secrets.add(inputs.githubToken);

    const approvals = await readApprovals({
      token: inputs.githubToken ?? '',
      apiUrl: process.env.GITHUB_API_URL,
      repository: process.env.GITHUB_REPOSITORY ?? '',
      runId: process.env.GITHUB_RUN_ID ?? '',
      environments: inputs.gateEnvironment ? [inputs.gateEnvironment] : [],
    });
    if (approvals.problem) core.warning(`Approvers not recorded: ${approvals.problem}`);
    const timeline = await readRunJobs({
      token: inputs.githubToken ?? '',
      apiUrl: process.env.GITHUB_API_URL,
      repository: process.env.GITHUB_REPOSITORY ?? '',
      runId: process.env.GITHUB_RUN_ID ?? '',
      attempt: process.env.GITHUB_RUN_ATTEMPT,
    });
    if (timeline.problem) core.warning(`Step times not recorded: ${timeline.problem}`);

    const record = buildRecord(
      { ...inputs, approvals: approvals.approvals, jobs: timeline.jobs },
      {
        repository: process.env.GITHUB_REPOSITORY,
        runUrl: runUrl(process.env),
        runId: process.env.GITHUB_RUN_ID,
        runAttempt: process.env.GITHUB_RUN_ATTEMPT,
      },
    );
    // The SQL and the details came from our own jobs, but scrub anyway: a record is kept for months.
    const json = secrets.scrub(`${JSON.stringify(record, null, 2)}\n`);
    const markdown = secrets.scrub(recordMarkdown(record));

    fs.mkdirSync(inputs.directory, { recursive: true });
    const base = recordBaseName(record);
    const jsonPath = path.join(inputs.directory, `${base}.json`);
    const markdownPath = path.join(inputs.directory, `${base}.md`);
    fs.writeFileSync(jsonPath, json);
    fs.writeFileSync(markdownPath, markdown);
    core.setOutput(Outputs.JsonPath, jsonPath);
    core.setOutput(Outputs.MarkdownPath, markdownPath);
    core.setOutput(Outputs.Directory, inputs.directory);
    core.info(`Wrote ${jsonPath} and ${markdownPath}.`);

    await core.summary.addRaw(markdown, true).write();

    if (inputs.s3) {
      const s3 = inputs.s3;
      const uris = await core.group(`Copy the record to ${s3.uri}`, async () => {
        try {
          return await uploadToS3(
            s3.location,
            [
              { name: `${base}.json`, body: json, contentType: 'application/json' },
              { name: `${base}.md`, body: markdown, contentType: 'text/markdown; charset=utf-8' },
            ],
            { region: s3.region },
          );
        } catch (error) {
          const name = (error as { name?: string }).name;
          const message = error instanceof Error ? error.message : String(error);
          throw new ConfigurationError(
            `Copying the record to ${s3.uri} failed (${name ? `${name}: ` : ''}${message}). The record is in the job summary and the artifact; ` +
              "check that the role allows s3:PutObject on the bucket and that s3-region is the bucket's region.",
          );
        }
      });
      core.setOutput(Outputs.S3Uris, JSON.stringify(uris));
      for (const uri of uris) core.info(`Copied to ${uri}`);
    }
  });
}
