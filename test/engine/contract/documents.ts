// Contract of client documents (engine.documents): put/get/delete per (namespace, owner, name),
// no expiry, and deleteOwner removing one owner's documents only.
import { describe, expect, it } from 'vitest';
import { type EngineHarness, uniqueName } from './harness.js';

export function describeDocumentContract(harness: EngineHarness): void {
  describe('documents', () => {
    it('stores, replaces and deletes a document', async () => {
      const { documents } = harness.engine();
      const ns = uniqueName('ns');
      expect(await documents.get(ns, 's1', 'list')).toBeNull();
      await documents.put(ns, 's1', 'list', '{"entries":[1]}');
      expect(await documents.get(ns, 's1', 'list')).toBe('{"entries":[1]}');
      await documents.put(ns, 's1', 'list', '{"entries":[1,2]}');
      expect(await documents.get(ns, 's1', 'list')).toBe('{"entries":[1,2]}');
      expect(await documents.delete(ns, 's1', 'list')).toBe(true);
      expect(await documents.delete(ns, 's1', 'list')).toBe(false);
      expect(await documents.get(ns, 's1', 'list')).toBeNull();
    });

    it('keeps namespaces, owners and names apart', async () => {
      const { documents } = harness.engine();
      const [a, b] = [uniqueName('ns'), uniqueName('ns')];
      await documents.put(a, 's1', 'doc', '"a-s1"');
      await documents.put(b, 's1', 'doc', '"b-s1"');
      await documents.put(a, 's2', 'doc', '"a-s2"');
      await documents.put(a, '', 'doc', '"a-namespace"');
      await documents.put(a, 's1', 'other', '"a-s1-other"');
      expect(await documents.get(a, 's1', 'doc')).toBe('"a-s1"');
      expect(await documents.get(b, 's1', 'doc')).toBe('"b-s1"');
      expect(await documents.get(a, 's2', 'doc')).toBe('"a-s2"');
      expect(await documents.get(a, '', 'doc')).toBe('"a-namespace"');
      expect(await documents.get(a, 's1', 'other')).toBe('"a-s1-other"');
    });

    it("deleteOwner removes exactly that owner's documents", async () => {
      const { documents } = harness.engine();
      const [a, b] = [uniqueName('ns'), uniqueName('ns')];
      await documents.put(a, 's1', 'x', '1');
      await documents.put(a, 's1', 'y', '2');
      await documents.put(a, 's2', 'x', '3');
      await documents.put(b, 's1', 'x', '4');
      expect(await documents.deleteOwner(a, 's1')).toBe(2);
      expect(await documents.get(a, 's1', 'x')).toBeNull();
      expect(await documents.get(a, 's1', 'y')).toBeNull();
      expect(await documents.get(a, 's2', 'x')).toBe('3');
      expect(await documents.get(b, 's1', 'x')).toBe('4');
      expect(await documents.deleteOwner(a, 's1')).toBe(0);
    });

    it('keeps large values verbatim', async () => {
      const { documents } = harness.engine();
      const ns = uniqueName('ns');
      const json = JSON.stringify({ text: 'é✓\u0000'.repeat(50_000) });
      await documents.put(ns, 's', 'big', json);
      expect(await documents.get(ns, 's', 'big')).toBe(json);
    });
  });
}
