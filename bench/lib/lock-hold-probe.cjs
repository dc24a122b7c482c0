// Loaded with `node --require` into a process that is not ours (the Knex CLI): times each
// transaction its pg clients run, from sending BEGIN to COMMIT's reply, and prints the longest
// at exit as "Lock-hold: N ms" (the same line the rollback action logs). The rollback's one
// transaction is the longest; Knex's lock-row transactions are a few ms.
'use strict';
const { performance } = require('node:perf_hooks');
const pg = require(require.resolve('pg', { paths: [process.cwd()] }));

const begun = new WeakMap();
let longest = 0;
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const text = (typeof config === 'string' ? config : (config && config.text) || '').trim().toUpperCase();
  if (/^(BEGIN|START TRANSACTION)\b/.test(text)) begun.set(this, performance.now());
  if (!/^(COMMIT|END)\b/.test(text) || !begun.has(this)) return original.call(this, config, values, callback);
  const started = begun.get(this);
  const done = () => (longest = Math.max(longest, performance.now() - started));
  const args = [config, values, callback];
  const at = args.findIndex((argument) => typeof argument === 'function');
  if (at >= 0) {
    const inner = args[at];
    args[at] = (...reply) => {
      done();
      inner(...reply);
    };
    return original.apply(this, args);
  }
  const reply = original.call(this, config, values, callback);
  return reply && typeof reply.then === 'function' ? reply.then((result) => (done(), result)) : reply;
};
process.on('exit', () => process.stderr.write(`Lock-hold: ${longest.toFixed(1)} ms from BEGIN to COMMIT\n`));
