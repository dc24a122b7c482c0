import { relaunchWithLiftoff } from '../common/liftoff.js';

// The check parses every statement a down() sends (the rollback's guard, observing): relaunched
// with --liftoff-only, the parser runs in this process instead of a round trip per statement to
// a helper process (src/actions/common/liftoff.ts). The parent only relaunches.
if (!(await relaunchWithLiftoff(import.meta.url))) {
  const { action } = await import('./main.js');
  await action.start();
}
