import { describe, expect, it } from 'vitest';
import { createMemoryEngine } from '../../src/engine/memory/engine.js';
import type { AppendedEvent } from '../../src/engine/types.js';
import { describeEngineContract } from './contract.js';
import { DEFAULT_OPTIONS } from './contract/harness.js';

describeEngineContract('memory', async (options) => {
  const engine = createMemoryEngine(options);
  return { engine, cleanup: () => engine.close() };
});

describe('memory engine specifics', () => {
  it('reports its kind', () => {
    expect(createMemoryEngine(DEFAULT_OPTIONS).kind).toBe('memory');
  });

  // The shared contract cannot append to a closed engine (a closed Redis engine has no
  // connection), so the "close unsubscribes" half is checked here where appending still works.
  it('stops delivering events to listeners once closed', async () => {
    const engine = createMemoryEngine(DEFAULT_OPTIONS);
    const received: AppendedEvent[] = [];
    await engine.events.subscribe((event) => received.push(event));
    await engine.events.append('ns', '{"before":true}');
    await engine.close();
    await engine.events.append('ns', '{"after":true}');
    expect(received.map((event) => event.json)).toEqual(['{"before":true}']);
  });

  it('delivers events appended from inside a listener after the current one, keeping offset order', async () => {
    const engine = createMemoryEngine(DEFAULT_OPTIONS);
    const seenByFirst: number[] = [];
    const seenBySecond: number[] = [];
    await engine.events.subscribe((event) => {
      seenByFirst.push(event.offset);
      if (event.offset === 1) void engine.events.append('ns', '{"echo":true}');
    });
    await engine.events.subscribe((event) => seenBySecond.push(event.offset));
    await engine.events.append('ns', '{"first":true}');
    expect(seenByFirst).toEqual([1, 2]);
    expect(seenBySecond).toEqual([1, 2]);
  });
});
