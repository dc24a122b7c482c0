import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { node24, repoRoot } from '../helpers/run-bundle.js';

// The parser lives in a child process (see src/sql/parser-process.ts). What can go wrong is
// its lifetime: a caller that never exits because the child keeps it alive, or one that
// exits before the answer arrives because nothing keeps it alive. Jest's own process hides
// both, so a plain Node 24 process runs the classifier here, as the actions do.
function runScript(source: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parser-process-'));
  const script = path.join(dir, 'classify.mjs');
  fs.writeFileSync(script, source);
  return new Promise((resolve) => {
    const child = spawn(
      node24,
      ['--import', pathToFileURL(path.join(repoRoot, 'scripts/register-ts.mjs')).href, script],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

const classifyUrl = pathToFileURL(path.join(repoRoot, 'src/sql/classify.ts')).href;

describe('the parser process', () => {
  it('answers every call of a caller that then exits on its own, with nothing left to wait for', async () => {
    const result = await runScript(`
      import { classifyStatements } from ${JSON.stringify(classifyUrl)};
      const downs = Array.from({ length: 300 }, (_, i) => 'ALTER TABLE t' + i + ' DROP COLUMN c; DROP INDEX i' + i);
      const first = await classifyStatements(downs.slice(0, 150));
      // A pause with nothing outstanding: the idle child must not keep this process alive, and
      // the next call must still be answered.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await classifyStatements(downs.slice(150));
      console.log(JSON.stringify({ count: first.length + second.length, risks: [...new Set([...first, ...second].map((r) => r.risk))].sort() }));
    `);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ count: 600, risks: ['destructive', 'warning'] });
  });

  it('can be started ahead of the first call without keeping an idle caller alive', async () => {
    const result = await runScript(`
      import { classifyStatements, warmUpClassifier } from ${JSON.stringify(classifyUrl)};
      warmUpClassifier();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [verdict] = await classifyStatements(['DROP POLICY p ON tickets']);
      console.log(verdict.risk);
    `);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('security');
  });

  it('does not let the caller exit while an answer is still on its way', async () => {
    // Top-level await on the reply only: if the pipes were unref'd while waiting, Node would
    // exit early with "unsettled top-level await" (code 13) and print nothing.
    const result = await runScript(`
      import { classifyStatements } from ${JSON.stringify(classifyUrl)};
      const [verdict] = await classifyStatements(['DROP TABLE tickets']);
      console.log(verdict.risk);
    `);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('destructive');
  });
});
