import { describe, expect, it } from 'vitest';
import { messageReceivedEventParts } from '../../src/services/events.js';
import { messageToWeb } from '../../src/services/wire.js';

// The ingest path stores `message-received` split around the seq, which only the engine assigns;
// the joined text must be exactly the document publish() writes for the stored row.
describe('messageReceivedEventParts', () => {
  const draft = { id: 'm-1', sessionId: 's-1', localId: null, createdAt: 1_000, invokedAt: 1_000 };

  it.each([
    ['plain content', { role: 'agent', content: { type: 'text', text: 'hi' } }],
    ['content holding the placeholder text', { role: 'user', content: { text: '"seq":-1, and {"seq":-1,}' } }],
    ['content with its own seq key', { seq: -1, nested: { seq: -1, x: 1 } }],
    ['a string content', 'raw "seq":-1, text'],
  ])('joins to the published document (%s)', (_label, content) => {
    const parts = messageReceivedEventParts('team "a"', { ...draft, content });
    for (const seq of [1, 42, 1_000_000]) {
      const expected = JSON.stringify({
        type: 'message-received',
        sessionId: 's-1',
        message: messageToWeb({ ...draft, content, seq }),
        namespace: 'team "a"',
      });
      expect(parts.before + String(seq) + parts.after).toBe(expected);
    }
  });

  it('keeps a queued prompt queued (localId set, invokedAt null)', () => {
    const parts = messageReceivedEventParts('ns', {
      ...draft,
      localId: 'l-1',
      invokedAt: null,
      content: { text: 'x' },
    });
    expect(JSON.parse(`${parts.before}7${parts.after}`)).toMatchObject({
      message: { id: 'm-1', seq: 7, localId: 'l-1', invokedAt: null },
    });
  });
});
