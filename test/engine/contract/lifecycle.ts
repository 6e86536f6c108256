// Contract of the engine record itself: ping and close.
import { describe, expect, it } from 'vitest';
import type { EngineHarness } from './harness.js';

export function describeLifecycleContract(harness: EngineHarness): void {
  describe('lifecycle', () => {
    it('answers ping', async () => {
      await expect(harness.engine().ping()).resolves.toBeUndefined();
    });

    it('closes cleanly', async () => {
      // The harness cleanup runs after this; makeEngine's cleanup must tolerate a closed engine.
      await expect(harness.engine().close()).resolves.toBeUndefined();
    });
  });
}
