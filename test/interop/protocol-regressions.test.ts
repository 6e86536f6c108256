// Focused regressions for mismatches the interop suites found between what the REAL HAPI CLI
// (0.30.7) sends and what our hub handled. Plain socket.io-client / fetch, no CLI binary needed:
// each test replays exactly the request or event the CLI was seen sending.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRest, httpJson } from '../helpers/cli-client.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { loginWeb } from '../helpers/web-api.js';

describe('protocol regressions found with the real CLI', () => {
  let t: TestHub;
  let jwt: string;
  let sid: string;

  beforeAll(async () => {
    t = await startTestHub();
    const token = t.tokenFor('regress');
    jwt = await loginWeb(t.url, token);
    const created = await cliRest(t.url, token).createSession({
      tag: randomUUID(),
      metadata: { path: '/work/p', host: 'h', flavor: 'claude' },
      agentState: {},
    });
    sid = created.body.session.id;
  });

  afterAll(async () => {
    await t.close();
  });

  // Found by: `hapi inspect-peer <id>` and `hapi ping-peer <id> <text>` (pingPeer.ts listSessions
  // without options) → axios GET /api/sessions with NO query string. Our SessionListQuerySchema
  // (zod 4, `z.unknown().transform(...)` per key) rejected the absent keys with 400
  // {"error":"Invalid request","issues":[{"code":"invalid_type","expected":"nonoptional",...}]},
  // so both peer tools failed with "failed to list sessions (Invalid request)". Upstream never
  // fails this route on its query. Fixed by making the keys optional (src/protocol/web-rest.ts).
  it("GET /api/sessions with no query answers 200 with the namespace's sessions", async () => {
    const res = await httpJson(`${t.url}/api/sessions`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((res.body.sessions as { id: string }[]).map((s) => s.id)).toEqual([sid]);
  });

  // `hapi ping-peer --list` sends ?limit=32&order=updatedAt (listPeerSessions); keep it working too.
  it('GET /api/sessions?limit=32&order=updatedAt (ping-peer --list) answers 200', async () => {
    const res = await httpJson(`${t.url}/api/sessions?limit=32&order=updatedAt`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(res.status).toBe(200);
    expect((res.body.sessions as { id: string }[]).map((s) => s.id)).toEqual([sid]);
  });
});
