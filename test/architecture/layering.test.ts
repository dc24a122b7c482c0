import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/run-bundle.js';

// The import graph of src/ stays one-way: actions -> domain -> common, with no cycles, and only
// the actions layer talks to @actions/core (the team's STYLE.md, outside this repository; the README's
// Development section states the rule). Read from the sources, as ncc reads them.
const src = path.join(repoRoot, 'src');
const files = (fs.readdirSync(src, { recursive: true }) as string[])
  .filter((file) => file.endsWith('.ts'))
  .map((file) => path.join(src, file));
const specifier = /(?:from\s*|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const imports = new Map(
  files.map((file) => [
    file,
    [...fs.readFileSync(file, 'utf8').matchAll(specifier)]
      .map((match) => path.resolve(path.dirname(file), match[1]).replace(/\.js$/, '.ts'))
      .filter((target) => fs.existsSync(target)),
  ]),
);
const rank = { common: 0, domain: 1, actions: 2 } as const;
function layer(file: string): keyof typeof rank {
  const top = path.relative(src, file).split(path.sep)[0];
  return top === 'actions' || top === 'common' ? top : 'domain';
}
const relative = (file: string) => path.relative(repoRoot, file);

describe('the layering of src/', () => {
  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(80);
    expect([...imports.values()].flat().length).toBeGreaterThan(200);
  });

  it('imports only downwards: actions -> domain -> common', () => {
    const upward = [...imports].flatMap(([file, targets]) =>
      targets
        .filter((target) => rank[layer(target)] > rank[layer(file)])
        .map((t) => `${relative(file)} -> ${relative(t)}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps @actions/core in the actions layer', () => {
    const outside = files.filter(
      (file) => layer(file) !== 'actions' && /from '@actions\/core'/.test(fs.readFileSync(file, 'utf8')),
    );
    expect(outside.map(relative)).toEqual([]);
  });

  it('has no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, stack: string[]) => {
      state.set(file, 'open');
      stack.push(file);
      for (const target of imports.get(file) ?? []) {
        if (state.get(target) === 'open') cycles.push(stack.slice(stack.indexOf(target)).map(relative).join(' -> '));
        else if (!state.has(target)) visit(target, stack);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
