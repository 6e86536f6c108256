// `helm test` connection check, run by templates/tests/test-connection.yaml inside the hub image
// (node, no other image to pull) against the release's Service. Also run by
// test/deploy/helm.test.ts against a real hub. Exits 0 only if the hub answers as a hub:
//   GET /health  -> 200 {status: 'ok', protocolVersion: <number>}
//   GET /ready   -> 200 (the engine answers and the pod is not draining)
//   Socket.IO long-polling handshake on /socket.io/ -> an engine.io open packet with a sid.
const base = process.env.HUB_URL;
if (!base) {
  console.error('FAIL HUB_URL is not set');
  process.exit(1);
}
const TIMEOUT_MS = 10_000;

async function get(path) {
  try {
    const response = await fetch(new URL(path, base), { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { status: 0, body: String(error?.cause ?? error) };
  }
}

function check(condition, message) {
  if (!condition) {
    console.error(`FAIL ${message}`);
    process.exit(1);
  }
  console.log(`ok   ${message}`);
}

const health = await get('/health');
let healthBody = {};
try {
  healthBody = JSON.parse(health.body);
} catch {}
check(health.status === 200 && healthBody.status === 'ok' && typeof healthBody.protocolVersion === 'number', `GET /health: ${health.status} ${health.body.slice(0, 200)}`);
const ready = await get('/ready');
check(ready.status === 200, `GET /ready: ${ready.status} ${ready.body.slice(0, 200)}`);
const handshake = await get('/socket.io/?EIO=4&transport=polling');
const open = /^0(\{.*\})/.exec(handshake.body);
let sid;
try {
  sid = open ? JSON.parse(open[1]).sid : undefined;
} catch {}
check(handshake.status === 200 && typeof sid === 'string', `Socket.IO handshake: ${handshake.status} ${handshake.body.slice(0, 200)}`);
console.log(`hub at ${base} answers: protocolVersion ${healthBody.protocolVersion}`);
