// The stored shapes the services hand to transports. They are the engine's rows; transports
// import them from here so that no transport depends on the engine itself.
export type {
  AppendedEvent,
  EventReadResult,
  MachineRow,
  MessagePosition,
  MessageRow,
  SessionRow,
  StoredEvent,
} from '../engine/types.js';
