import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/run-bundle.js';

/** One `owner/repo[/path]@<sha>` reference, as a caller would write it in a `uses:`. */
interface Pin {
  where: string;
  path: string | undefined;
  sha: string;
  /** The version comment after it (`# v1.2.3`), if any. */
  version: string | undefined;
}

const PIN = /[\w.-]+\/[\w.-]+((?:\/[\w./-]+)?)@([0-9a-f]{40})\b(?:\s*#\s*(v\d+\.\d+\.\d+))?/g;

function findPins(file: string, text: string): Pin[] {
  const pins: Pin[] = [];
  text.split('\n').forEach((line, index) => {
    for (const match of line.matchAll(PIN)) {
      pins.push({
        where: `${file}:${index + 1}`,
        path: match[1] ? match[1].slice(1) : undefined,
        sha: match[2],
        version: match[3],
      });
    }
  });
  return pins;
}

function git(args: string[]): { code: number | null; stdout: string } {
  const result = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout.trim() };
}

/** What is wrong with a pin: the commit does not exist here, lacks the path, or its version tag names another commit. */
function checkPin(pin: Pin): string[] {
  const problems: string[] = [];
  if (git(['cat-file', '-e', `${pin.sha}^{commit}`]).code !== 0) {
    return [`${pin.where}: @${pin.sha} is not a commit of this repository`];
  }
  // An action reference points at a directory holding action.yml; a workflow at the file itself.
  const target = pin.path && !/\.ya?ml$/.test(pin.path) ? `${pin.path}/action.yml` : pin.path;
  if (target && git(['cat-file', '-e', `${pin.sha}:${target}`]).code !== 0) {
    problems.push(`${pin.where}: commit ${pin.sha} has no ${target}`);
  }
  if (pin.version) {
    const tagged = git(['rev-parse', '--verify', '--quiet', `refs/tags/${pin.version}^{commit}`]);
    if (tagged.code === 0 && tagged.stdout !== pin.sha) {
      problems.push(`${pin.where}: the comment says ${pin.version}, but ${pin.version} is ${tagged.stdout}`);
    }
  }
  return problems;
}

function documents(): string[] {
  const examples = fs
    .readdirSync(path.join(repoRoot, 'examples'))
    .filter((name) => /\.(ya?ml|md)$/.test(name))
    .map((name) => `examples/${name}`);
  return ['README.md', ...examples];
}

describe('pinned references in the README and examples/', () => {
  const pins = documents().flatMap((file) => findPins(file, fs.readFileSync(path.join(repoRoot, file), 'utf8')));

  it('every @<sha> is a commit of this repository that holds what it points at', () => {
    expect(pins.flatMap(checkPin)).toEqual([]);
  });

  it('the examples follow the major version, @v1', () => {
    const examples = documents().filter((file) => file.startsWith('examples/'));
    const text = examples.map((file) => fs.readFileSync(path.join(repoRoot, file), 'utf8')).join('\n');
    // Not the comments that show the SHA form.
    const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*[\w.-]+\/db-rollback-actions\/\S+@(\S+)/gm)].map(
      (match) => match[1],
    );
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter((ref) => ref !== 'v1')).toEqual([]);
  });

  it('the README explains the full-SHA pin with its version as a comment', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toMatch(/@<sha> # v1\.2\.3/);
    expect(readme).toMatch(/migration-rollback\.yml@v1\b/);
  });

  it('the check finds a pin to a commit without the path, an unknown commit, and accepts a good one', () => {
    const head = git(['rev-parse', 'HEAD']).stdout;
    // A commit with nothing in it, like the early commit the README once pinned (no actions/, no
    // workflow). commit-tree only adds an object; no branch or tag changes.
    const first = spawnSync('git', ['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', 'empty'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'pin test',
        GIT_AUTHOR_EMAIL: 'pin@test',
        GIT_COMMITTER_NAME: 'pin test',
        GIT_COMMITTER_EMAIL: 'pin@test',
        GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z',
        GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z',
      },
    }).stdout.trim();
    const text = [
      `uses: your-org/db-rollback-actions/.github/workflows/ci.yml@${head} # v9.9.9`,
      `uses: your-org/db-rollback-actions/actions/rollback@${head}`,
      `uses: your-org/db-rollback-actions/actions/rollback@${first}`,
      `uses: your-org/db-rollback-actions/actions/rollback@${'0'.repeat(40)}`,
    ].join('\n');
    const found = findPins('sample.yml', text);
    expect(found.map((pin) => [pin.path, pin.version])).toEqual([
      ['.github/workflows/ci.yml', 'v9.9.9'],
      ['actions/rollback', undefined],
      ['actions/rollback', undefined],
      ['actions/rollback', undefined],
    ]);
    expect(found.flatMap(checkPin)).toEqual([
      `sample.yml:3: commit ${first} has no actions/rollback/action.yml`,
      `sample.yml:4: @${'0'.repeat(40)} is not a commit of this repository`,
    ]);
  });
});
