import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError, errorMessage } from '../../common/errors.js';
import { readRunJobs } from '../../github/run-jobs.js';
import { readApprovals } from '../../notify/approvals.js';
import { runUrl } from '../../notify/event.js';
import { recordMarkdown } from '../../report/markdown.js';
import { buildRecord, recordBaseName } from '../../report/record.js';
import { uploadToS3 } from '../../report/s3.js';
import { describeDatabaseUrl } from '../../postgres/url.js';
import type { Logger } from '../../common/logger.js';
import { defineAction } from '../common/action.js';
import { inputs, isDatabaseUrl, recordInputs } from './inputs.js';

/**
 * Writes the rollback record (JSON and Markdown) to files and the job summary, and copies it
 * to S3 when asked. The files and the summary come first: a failing S3 copy fails the step
 * (the audit copy that was asked for does not exist) but leaves the files for upload-artifact.
 */
export const action = defineAction({
  name: 'record',
  inputs,
  outputs: { 'json-path': '', 'markdown-path': '', directory: '', 's3-uris': '[]' },
  async run(given, { logger, secrets, setOutput, summary }) {
    const fields = recordInputs(given, logger);
    // A URL given as the database (its secrets masked by the contract): only host:port/database is kept.
    if (fields.database && isDatabaseUrl(fields.database)) fields.database = recordTarget(fields.database);
    const github = {
      token: fields.githubToken ?? '',
      apiUrl: process.env.GITHUB_API_URL,
      repository: process.env.GITHUB_REPOSITORY ?? '',
      runId: process.env.GITHUB_RUN_ID ?? '',
    };
    const approvals = await readApprovals({
      ...github,
      environments: fields.gateEnvironment ? [fields.gateEnvironment] : [],
    });
    if (approvals.problem) logger.warning(`Approvers not recorded: ${approvals.problem}`);
    const timeline = await readRunJobs({ ...github, attempt: process.env.GITHUB_RUN_ATTEMPT });
    if (timeline.problem) logger.warning(`Step times not recorded: ${timeline.problem}`);

    const record = buildRecord(
      { ...fields, approvals: approvals.approvals, jobs: timeline.jobs },
      {
        repository: process.env.GITHUB_REPOSITORY,
        runUrl: runUrl(process.env),
        runId: process.env.GITHUB_RUN_ID,
        runAttempt: process.env.GITHUB_RUN_ATTEMPT,
      },
    );
    // The SQL and the details came from our own jobs, but scrub anyway: a record is kept for months.
    fs.mkdirSync(fields.directory, { recursive: true });
    const base = recordBaseName(record);
    const sqlFiles = copySqlFiles(fields.sqlFile, fields.directory, base, secrets.scrub, logger);
    record.sqlFiles = sqlFiles.map((file) => file.name);
    const json = secrets.scrub(`${JSON.stringify(record, null, 2)}\n`);
    const markdown = secrets.scrub(recordMarkdown(record));

    const jsonPath = path.join(fields.directory, `${base}.json`);
    const markdownPath = path.join(fields.directory, `${base}.md`);
    fs.writeFileSync(jsonPath, json);
    fs.writeFileSync(markdownPath, markdown);
    setOutput('json-path', jsonPath);
    setOutput('markdown-path', markdownPath);
    setOutput('directory', fields.directory);
    logger.info(`Wrote ${jsonPath} and ${markdownPath}.`);
    // recordMarkdown escapes what people typed (src/report/markdown.ts), so it goes in as Markdown.
    summary.markdown(markdown);

    const s3 = fields.s3;
    if (!s3) return;
    const uris = await logger.group(`Copy the record to ${s3.uri}`, async () => {
      try {
        return await uploadToS3(
          s3.location,
          [
            { name: `${base}.json`, body: json, contentType: 'application/json' },
            { name: `${base}.md`, body: markdown, contentType: 'text/markdown; charset=utf-8' },
            ...sqlFiles.map((file) => ({
              name: file.name,
              body: file.body,
              contentType: 'application/sql; charset=utf-8',
            })),
          ],
          { region: s3.region },
        );
      } catch (error) {
        const name = (error as { name?: string }).name;
        throw new ConfigurationError(
          `Copying the record to ${s3.uri} failed (${name ? `${name}: ` : ''}${errorMessage(error)}). The record is in the job summary and the artifact; ` +
            "check that the role allows s3:PutObject on the bucket and that s3-region is the bucket's region.",
        );
      }
    });
    setOutput('s3-uris', JSON.stringify(uris));
    for (const uri of uris) logger.info(`Copied to ${uri}`);
  },
});

/**
 * The rollback's complete SQL (its sql-file outputs), copied beside the record and scrubbed, so
 * that "N more in the record" in a capped summary is true. A missing file is a warning, not a lost record.
 */
function copySqlFiles(
  paths: string[],
  directory: string,
  base: string,
  scrub: (text: string) => string,
  logger: Logger,
): Array<{ name: string; body: string }> {
  const copied: Array<{ name: string; body: string }> = [];
  for (const [index, file] of paths.entries()) {
    let body: string;
    try {
      body = scrub(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      logger.warning(
        `Input "sql-file": ${file} could not be read (${errorMessage(error)}); the record keeps the sql input only.`,
      );
      continue;
    }
    const name = `${base}${paths.length === 1 ? '' : `-${index + 1}`}.sql`;
    fs.writeFileSync(path.join(directory, name), body);
    copied.push({ name, body });
  }
  return copied;
}

/**
 * host:port/database of a URL given as the record's database. The record only names it: a URL
 * the connecting actions would refuse (a parameter they do not use, say) is still named, never quoted.
 */
function recordTarget(text: string): string {
  const described = describeDatabaseUrl(text);
  if (!described.startsWith('(')) return described;
  try {
    const url = new URL(text.trim());
    return `${url.hostname}:${url.port || '5432'}${decodeURIComponent(url.pathname) || '/postgres'}`;
  } catch {
    return described;
  }
}
