// A room's bots (`/api/rooms/{id}/bots`), for its owner and admins. A
// bot's token comes back once: when the bot is made, and when it is given
// a new one in place of a lost one.

import { apiRequest } from './http.ts';

export interface Bot {
  id: number;
  username: string;
  created_by?: number;
  created_by_username?: string;
  created_at: string;
  /** When it was revoked; absent while its token works. */
  revoked_at?: string;
}

export interface CreatedBot {
  bot: Bot;
  token: string;
  /** The rooms it joined at once; a room with a signed membership log is not among them. */
  joined: number[];
}

export async function list(roomId: number): Promise<Bot[]> {
  return (await apiRequest<{ bots: Bot[] }>('GET', `/api/rooms/${roomId}/bots`)).bots;
}

export function create(roomId: number, username: string): Promise<CreatedBot> {
  return apiRequest<CreatedBot>('POST', `/api/rooms/${roomId}/bots`, { username });
}

export async function revoke(roomId: number, botId: number): Promise<void> {
  await apiRequest('DELETE', `/api/rooms/${roomId}/bots/${botId}`);
}

/** A new token in place of the bot's old one, which stops working; shown only now. */
export async function newToken(roomId: number, botId: number): Promise<string> {
  return (await apiRequest<{ token: string }>('POST', `/api/rooms/${roomId}/bots/${botId}/token`)).token;
}
