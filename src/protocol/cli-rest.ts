// Bodies and queries of the /cli/* REST routes.
import { z } from 'zod';
import { jsonDocument } from './json-document.js';

export const CreateSessionBodySchema = z.object({
  id: z.string().uuid().optional(),
  tag: z.string().min(1).max(512),
  metadata: jsonDocument('metadata'),
  agentState: jsonDocument('agentState').optional(),
  model: z.string().max(256).optional(),
  modelReasoningEffort: z.string().max(256).optional(),
  effort: z.string().max(256).optional(),
  machine: z
    .object({
      id: z.string().min(1).max(256),
      metadata: jsonDocument('metadata'),
      runnerState: jsonDocument('runnerState').optional(),
    })
    .optional(),
});
export type CreateSessionBody = z.infer<typeof CreateSessionBodySchema>;

export const CreateMachineBodySchema = z.object({
  id: z.string().min(1).max(256),
  metadata: jsonDocument('metadata'),
  runnerState: jsonDocument('runnerState').optional(),
});
export type CreateMachineBody = z.infer<typeof CreateMachineBodySchema>;

export const CliMessagesQuerySchema = z.object({
  afterSeq: z.coerce.number().int().min(0),
  limit: z.coerce.number().int().min(1).max(200).default(200),
});
