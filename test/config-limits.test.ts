// HAPI_LIMIT_* parsing (config.ts → config/limits.ts) and the `ns set-limits` / `ns limits`
// command against a real (sqlite) engine file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAssignments } from '../src/admin/limits-command.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { LIMITS } from '../src/config/limits.js';
import { runNamespaceCommand } from '../src/ns-admin.js';

const dir = mkdtempSync(join(tmpdir(), 'hapi-limits-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HAPI_LIMIT_*', () => {
  it('defaults to the table and takes overrides from the environment', () => {
    const config = loadConfig({ HAPI_LIMIT_CONNECTIONS: '7', HAPI_LIMIT_HISTORY_POLICY: 'drop-archived' });
    expect(config.limits.defaults.connections).toBe(7);
    expect(config.limits.defaults.sessions).toBe(LIMITS.sessions.default);
    expect(config.limits.historyPolicy).toBe('drop-archived');
    expect(loadConfig({}).limits.historyPolicy).toBe('refuse');
  });

  it('refuses a bad value naming the variable', () => {
    expect(() => loadConfig({ HAPI_LIMIT_SESSIONS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ HAPI_LIMIT_SESSIONS: 'many' })).toThrow(/HAPI_LIMIT_SESSIONS/);
    expect(() => loadConfig({ HAPI_LIMIT_HISTORY_POLICY: 'evict' })).toThrow(/HAPI_LIMIT_HISTORY_POLICY/);
  });
});

describe('hapi-hub ns set-limits / ns limits', () => {
  const config = loadConfig({ HAPI_ENGINE: 'sqlite', HAPI_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runNamespaceCommand(config, args, (line) => lines.push(line));
    return { code, lines };
  };

  it('parses key=value, and key= to remove', () => {
    expect(parseAssignments(['connections=5', 'sessions='])).toEqual({ connections: 5, sessions: null });
    expect(parseAssignments(['nonsense=5'])).toMatch(/invalid limit/);
    expect(parseAssignments(['connections=-1'])).toMatch(/invalid limit/);
    expect(parseAssignments([])).toMatch(/at least one/);
  });

  it('sets overrides that every later reader of the engine sees, shows and removes them; bad input changes nothing', async () => {
    expect((await run('set-limits', 'alice', 'connections=5', 'historyBytes=1000')).code).toBe(0);
    const shown = await run('limits', 'alice');
    expect(shown.code).toBe(0);
    expect(shown.lines).toContain('connections\t5\tnamespace\tnamespace\t');
    expect(shown.lines).toContain(`sessions\t${LIMITS.sessions.default}\tdefault\tnamespace\t`);
    expect((await run('limits')).lines).toEqual(['alice\tconnections=5 historyBytes=1000']);
    expect((await run('set-limits', 'alice', 'connections=zero')).code).toBe(2);
    expect((await run('set-limits', 'bad name!', 'connections=1')).code).toBe(2);
    expect((await run('limits')).lines).toEqual(['alice\tconnections=5 historyBytes=1000']);
    expect((await run('set-limits', 'alice', 'connections=', 'historyBytes=')).code).toBe(0);
    expect((await run('limits')).lines).toEqual([]);
  });
});
