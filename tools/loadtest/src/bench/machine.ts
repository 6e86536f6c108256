// The machine a bench ran on (CPU model, cores, memory, Node, Redis, kernel, load, fd limit).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { z } from 'zod';

export const MachineSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int(),
  memoryBytes: z.number(),
  node: z.string(),
  redis: z.string().nullable(),
  kernel: z.string(),
  openFilesLimit: z.number().nullable(),
  loadAverageAtStart: z.array(z.number()),
});
export type Machine = z.infer<typeof MachineSchema>;

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function openFilesLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function describeMachine(path: string | undefined): Machine {
  const redis = spawnSync('redis-server', ['--version'], {
    encoding: 'utf8',
    timeout: 5_000,
    env: { PATH: path ?? '/usr/bin:/bin' },
  });
  const version = /v=(\S+)/.exec(redis.stdout ?? '')?.[1] ?? null;
  return {
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    redis: version,
    kernel: release(),
    openFilesLimit: openFilesLimit(),
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
