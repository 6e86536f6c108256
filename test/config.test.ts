// loadConfig: upstream defaults, validation errors that name the variable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults', () => {
    // toMatchObject: settings added later need their own assertions, not an edit here.
    expect(loadConfig({})).toMatchObject({
      listenHost: '127.0.0.1',
      listenPort: 3006,
      publicUrl: 'http://localhost:3006',
      corsOrigins: ['http://localhost:3006'],
      cliApiToken: undefined,
      redisUrl: undefined,
      workers: 1,
      jwtSecret: undefined,
      namespaceAuth: 'token',
      globalTokenEnabled: true,
      logLevel: 'info',
      sessionTtlMs: 30_000,
      machineTtlMs: 45_000,
      sweepIntervalMs: 5_000,
      sseHeartbeatMs: 30_000,
      eventLogMaxEvents: 1024,
      eventLogMaxBytes: 8 * 1024 * 1024,
      sseMaxBufferedBytes: 4 * 1024 * 1024,
      messageHistoryLimit: 0,
      drainTimeoutMs: 20_000,
      rpcTimeoutMs: 30_000,
      rpcLongTimeoutMs: 120_000,
      maxHttpBufferBytes: 48 * 1024 * 1024,
      maxBodyBytes: 68 * 1024 * 1024,
    });
  });

  it('reads and converts values', () => {
    const config = loadConfig({
      HAPI_LISTEN_HOST: '0.0.0.0',
      HAPI_LISTEN_PORT: '8080',
      HAPI_PUBLIC_URL: 'https://hub.example.com/base',
      CLI_API_TOKEN: '  secret-token  ',
      REDIS_URL: 'redis://localhost:6379',
      HAPI_WORKERS: '4',
      HAPI_NAMESPACE_AUTH: 'trust',
      HAPI_GLOBAL_TOKEN: 'off',
      LOG_LEVEL: 'silent',
    });
    expect(config).toMatchObject({
      listenHost: '0.0.0.0',
      listenPort: 8080,
      publicUrl: 'https://hub.example.com/base',
      corsOrigins: ['https://hub.example.com'],
      cliApiToken: 'secret-token',
      redisUrl: 'redis://localhost:6379',
      workers: 4,
      namespaceAuth: 'trust',
      globalTokenEnabled: false,
      logLevel: 'silent',
    });
  });

  it('CORS_ORIGINS: a list of origins, or * for any; blank values are unset', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com/app, https://b.example.com ,' }).corsOrigins).toEqual([
      'https://a.example.com',
      'https://b.example.com',
    ]);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com,*' }).corsOrigins).toBe('*');
    expect(loadConfig({ CLI_API_TOKEN: '   ', REDIS_URL: '' })).toMatchObject({
      cliApiToken: undefined,
      redisUrl: undefined,
    });
  });

  it.each([
    ['HAPI_LISTEN_PORT', 'abc'],
    ['HAPI_LISTEN_PORT', '70000'],
    ['HAPI_NAMESPACE_AUTH', 'maybe'],
    ['HAPI_GLOBAL_TOKEN', 'sometimes'],
    ['CLI_API_TOKEN', 'base:namespace'],
    ['HAPI_WORKERS', '0'],
    ['HAPI_JWT_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['HAPI_PUBLIC_URL', 'not a url'],
    ['HAPI_SESSION_TTL_MS', '-5'],
    ['HAPI_ENGINE', 'postgres'],
    ['HAPI_NAMESPACE_REGISTRATION', 'invite-only'],
    ['HAPI_METRICS_PORT', 'abc'],
    ['HAPI_METRICS_PORT', '70000'],
    ['HAPI_METRICS_HOST', ''],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(name);
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ HAPI_LISTEN_PORT: 'abc', HAPI_NAMESPACE_AUTH: 'maybe' })).toThrow(
      /HAPI_LISTEN_PORT[\s\S]*HAPI_NAMESPACE_AUTH|HAPI_NAMESPACE_AUTH[\s\S]*HAPI_LISTEN_PORT/,
    );
  });

  it('HAPI_ENGINE: redis when REDIS_URL is set, else sqlite; memory only when chosen explicitly', () => {
    expect(loadConfig({}).engineKind).toBe('sqlite');
    expect(loadConfig({ HAPI_ENGINE: '' }).engineKind).toBe('sqlite');
    expect(loadConfig({ REDIS_URL: 'redis://localhost:6379' }).engineKind).toBe('redis');
    expect(loadConfig({ HAPI_ENGINE: 'sqlite' }).engineKind).toBe('sqlite');
    expect(loadConfig({ HAPI_ENGINE: 'memory' }).engineKind).toBe('memory');
    expect(loadConfig({ HAPI_ENGINE: 'redis', REDIS_URL: 'redis://localhost:6379' }).engineKind).toBe('redis');
  });

  it.each([
    [{ HAPI_ENGINE: 'redis' }, /HAPI_ENGINE: redis needs REDIS_URL/],
    [{ HAPI_ENGINE: 'sqlite', REDIS_URL: 'redis://localhost:6379' }, /HAPI_ENGINE: sqlite .*REDIS_URL is set/],
    [{ HAPI_ENGINE: 'memory', REDIS_URL: 'redis://localhost:6379' }, /HAPI_ENGINE: memory .*REDIS_URL is set/],
  ])('HAPI_ENGINE that contradicts REDIS_URL throws a ConfigError (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('HAPI_DATA_DIR: ~/.hapi-hub by default, ~ expanded, relative paths made absolute', () => {
    expect(loadConfig({}).dataDir).toBe(join(homedir(), '.hapi-hub'));
    expect(loadConfig({ HAPI_DATA_DIR: '~/hub-data' }).dataDir).toBe(join(homedir(), 'hub-data'));
    expect(loadConfig({ HAPI_DATA_DIR: 'rel/data' }).dataDir).toBe(resolve('rel/data'));
    expect(loadConfig({ HAPI_DATA_DIR: '/srv/hapi' }).dataDir).toBe('/srv/hapi');
  });

  it('HAPI_NAMESPACE_REGISTRATION: open by default (upstream behaviour), closed on request', () => {
    expect(loadConfig({}).namespaceRegistration).toBe('open');
    expect(loadConfig({ HAPI_NAMESPACE_REGISTRATION: 'closed' }).namespaceRegistration).toBe('closed');
  });

  it('HAPI_METRICS_PORT: no metrics listener unless set; loopback unless HAPI_METRICS_HOST says otherwise', () => {
    expect(loadConfig({}).metricsListen).toBeNull();
    expect(loadConfig({ HAPI_METRICS_PORT: '' }).metricsListen).toBeNull();
    expect(loadConfig({ HAPI_METRICS_PORT: '9464' }).metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ HAPI_METRICS_PORT: '9464', HAPI_METRICS_HOST: '0.0.0.0' }).metricsListen).toEqual({
      host: '0.0.0.0',
      port: 9464,
    });
    expect(() => loadConfig({ HAPI_LISTEN_PORT: '8080', HAPI_METRICS_PORT: '8080' })).toThrow(
      /HAPI_METRICS_PORT: 8080 is HAPI_LISTEN_PORT/,
    );
  });

  it('REDIS_PASSWORD / REDIS_PASSWORD_FILE become the credentials of REDIS_URL, in every URL form', () => {
    const pw = 'p@ss:w/rd';
    const enc = encodeURIComponent(pw);
    expect(loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD: pw }).redisUrl).toBe(
      `redis://:${enc}@redis:6379`,
    );
    expect(loadConfig({ REDIS_URL: 'rediss://hub@redis:6380/2', REDIS_PASSWORD: pw }).redisUrl).toBe(
      `rediss://hub:${enc}@redis:6380/2`,
    );
    expect(loadConfig({ REDIS_URL: 'redis+sentinel://s1:26379,s2:26379/main?db=1', REDIS_PASSWORD: pw }).redisUrl).toBe(
      `redis+sentinel://:${enc}@s1:26379,s2:26379/main?db=1`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'hapi-config-'));
    const file = join(dir, 'redis-password');
    writeFileSync(file, 'from-a-file\n');
    expect(loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD_FILE: file }).redisUrl).toBe(
      'redis://:from-a-file@redis:6379',
    );
    expect(loadConfig({ REDIS_URL: 'redis://redis:6379' }).redisUrl).toBe('redis://redis:6379');
  });

  it.each([
    [{ REDIS_PASSWORD: 'x' }, /REDIS_PASSWORD: needs REDIS_URL/],
    [
      { REDIS_URL: 'redis://:old@redis:6379', REDIS_PASSWORD: 'x' },
      /REDIS_PASSWORD: REDIS_URL already carries a password/,
    ],
    [
      { REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD: 'x', REDIS_PASSWORD_FILE: '/x' },
      /REDIS_PASSWORD_FILE: set either/,
    ],
    [
      { REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD_FILE: '/nonexistent/pw' },
      /REDIS_PASSWORD_FILE: cannot read \/nonexistent\/pw \(ENOENT\)/,
    ],
  ])('bad Redis password settings throw a ConfigError naming the variable (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('a password never appears in a ConfigError message', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://:secret-one@redis:6379', REDIS_PASSWORD: 'secret-two' })).toThrow(
      /^(?![\s\S]*secret-)/,
    );
  });
});
