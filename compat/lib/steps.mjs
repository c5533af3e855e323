// Steps of a flow: node:test tests that run in order, where a step after a failed one is skipped
// with the name of the step that failed, so a run shows exactly where a flow stops.
import { test } from 'node:test';

/** flow returns step(name, fn): the steps of one flow. */
export function flow() {
  let failed;
  return function step(name, fn) {
    test(name, async (t) => {
      if (failed) {
        t.skip(`not reached: "${failed}" failed`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        failed = name;
        throw err;
      }
    });
  };
}
