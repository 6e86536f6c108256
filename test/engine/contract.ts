// The engine contract: behaviour every Engine implementation must show, tested only through the
// Engine record, one file per store in contract/ (named like the store files in src/engine/).
// Run it from a *.test.ts file with a factory for the engine under test:
//
//   describeEngineContract('memory', async (options) => {
//     const engine = createMemoryEngine(options);
//     return { engine, cleanup: () => engine.close() };
//   });
//
// `makeEngine` is called once per test (and again for tests that need other options); its
// cleanup must tolerate an engine the test already closed. Tests use random namespaces and ids,
// so one backing store may serve the whole file.
import { describe } from 'vitest';
import { describeCarriedOverRowsContract } from './contract/carried-over-rows.js';
import { describeCoordinationContract } from './contract/coordination.js';
import { describeDocumentContract } from './contract/documents.js';
import { describeEventLogContract } from './contract/event-log.js';
import { createHarness, type MakeEngine } from './contract/harness.js';
import { describeLifecycleContract } from './contract/lifecycle.js';
import { describeLimitContract } from './contract/limits.js';
import { describeMachineContract } from './contract/machines.js';
import { describeMessageContract } from './contract/messages.js';
import { describeMessageTruncateContract } from './contract/message-truncate.js';
import { describeNamespaceContract } from './contract/namespaces.js';
import { describePresenceContract } from './contract/presence.js';
import { describePresenceBatchContract } from './contract/presence-batch.js';
import { describeRpcRouteContract } from './contract/rpc-routes.js';
import { describeSessionContract } from './contract/sessions.js';

export type { MakeEngine } from './contract/harness.js';

export function describeEngineContract(name: string, makeEngine: MakeEngine): void {
  describe(`engine contract: ${name}`, () => {
    const harness = createHarness(makeEngine);
    describeSessionContract(harness);
    describeMachineContract(harness);
    describeMessageContract(harness);
    describeMessageTruncateContract(harness);
    describePresenceContract(harness);
    describePresenceBatchContract(harness);
    describeNamespaceContract(harness);
    describeRpcRouteContract(harness);
    describeEventLogContract(harness);
    describeCoordinationContract(harness);
    describeDocumentContract(harness);
    describeLimitContract(harness);
    describeLifecycleContract(harness);
    describeCarriedOverRowsContract(harness);
  });
}
