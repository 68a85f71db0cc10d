// A room's registered slash commands (`/api/rooms/{id}/commands`) and
// running one in a plaintext channel (`POST /api/channels/{id}/commands`).

import type { RegisteredCommand } from '../chat/commands.ts';
import { apiRequest } from './http.ts';

export interface CommandInfo extends RegisteredCommand {
  id: number;
  room_id: number;
}

export interface Ran {
  response_type: 'ephemeral' | 'in_channel';
  /** The receiver's text: for me only when ephemeral. */
  text: string | null;
  message_id: number | null;
}

export async function roomCommands(roomId: number): Promise<CommandInfo[]> {
  return (await apiRequest<{ commands: CommandInfo[] }>('GET', `/api/rooms/${roomId}/commands`)).commands;
}

export async function runCommand(channelId: number, command: string, text: string): Promise<Ran> {
  return apiRequest<Ran>('POST', `/api/channels/${channelId}/commands`, { command, text });
}
