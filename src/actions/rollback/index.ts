import { relaunchWithLiftoff } from '../common/liftoff.js';

// The parent only relaunches; the action itself (loaded on demand) runs in the relaunched process.
if (!(await relaunchWithLiftoff(import.meta.url))) {
  const { action } = await import('./main.js');
  await action.start();
}
