// Lets `node --import ./scripts/register-ts.mjs some-script.ts` run this repository's own
// TypeScript (the demo, the benchmarks) with the sucrase transpiler the actions already carry.
// Our sources import each other as `./x.js` (NodeNext style), which means `./x.ts` here.
import fs from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { transform } from 'sucrase';

module.registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
        return nextResolve(specifier.replace(/\.js$/, '.ts'), context);
      }
      throw error;
    }
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/'))
      return nextLoad(url, context);
    const file = fileURLToPath(url);
    const { code } = transform(fs.readFileSync(file, 'utf8'), {
      transforms: ['typescript'],
      filePath: file,
      disableESTransforms: true,
    });
    return { format: 'module', source: code, shortCircuit: true };
  },
});
