// The admin console's endpoints (`/api/admin/*`, site administrators only),
// and the two public ones the sign-up and reset pages use.

import { apiRequest } from './http.ts';

export type RegistrationMode = 'open' | 'invite_only' | 'closed';

export interface AdminUser {
  id: number;
  username: string;
  is_admin: boolean;
  disabled: boolean;
  created_at: string;
}

export interface UserPage {
  users: AdminUser[];
  next_after: number | null;
}

export interface Invitation {
  id: number;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  revoked: boolean;
  usable: boolean;
}

export interface AdminRoom {
  id: number;
  name: string;
  is_private: boolean;
  created_at: string;
  owner_username: string | null;
  members: number;
}

export interface AuditEntry {
  id: number;
  room_id: number | null;
  room_name: string | null;
  actor_username: string | null;
  action: string;
  target_username: string | null;
  detail: string;
  created_at: string;
}

export interface SiteSettings {
  registration_mode: RegistrationMode;
  registration_mode_default: RegistrationMode;
  registration_mode_overridden: boolean;
}

export interface ServerStatus {
  version: string;
  database: string;
  nodes: number;
  clustered: boolean;
  connections: number;
  users: number;
  disabled_users: number;
  admins: number;
  rooms: number;
}

export async function listUsers(query: string, after: number | null): Promise<UserPage> {
  const params = new URLSearchParams({ q: query, limit: '50' });
  if (after !== null) params.set('after', String(after));
  return apiRequest<UserPage>('GET', `/api/admin/users?${params.toString()}`);
}

export async function createUser(username: string, password: string, isAdmin: boolean): Promise<AdminUser> {
  return (await apiRequest<{ user: AdminUser }>('POST', '/api/admin/users', { username, password, is_admin: isAdmin })).user;
}

export type UserAction = 'disable' | 'enable' | 'promote' | 'demote';

export async function actOnUser(id: number, action: UserAction): Promise<AdminUser> {
  return (await apiRequest<{ user: AdminUser }>('POST', `/api/admin/users/${id}/${action}`)).user;
}

/** A one-time password-reset link's path (`/reset-password?token=…`). */
export async function createResetLink(id: number): Promise<{ path: string; expires_at: string }> {
  return apiRequest('POST', `/api/admin/users/${id}/password-reset`);
}

export async function listInvitations(): Promise<Invitation[]> {
  return (await apiRequest<{ invitations: Invitation[] }>('GET', '/api/admin/invitations?limit=100')).invitations;
}

export async function createInvitation(hours: number, uses: number): Promise<{ path: string; invitation: Invitation }> {
  return apiRequest('POST', '/api/admin/invitations', { expires_in_hours: hours, max_uses: uses });
}

export async function revokeInvitation(id: number): Promise<void> {
  await apiRequest('DELETE', `/api/admin/invitations/${id}`);
}

export async function getSettings(): Promise<SiteSettings> {
  return apiRequest<SiteSettings>('GET', '/api/admin/settings');
}

/** `null` goes back to the server's `REGISTRATION_MODE`. */
export async function setRegistrationMode(mode: RegistrationMode | null): Promise<SiteSettings> {
  return apiRequest<SiteSettings>('PUT', '/api/admin/settings', { registration_mode: mode });
}

export async function listRooms(after: number | null): Promise<{ rooms: AdminRoom[]; next_after: number | null }> {
  const params = new URLSearchParams({ limit: '50' });
  if (after !== null) params.set('after', String(after));
  return apiRequest('GET', `/api/admin/rooms?${params.toString()}`);
}

export async function deleteRoom(id: number): Promise<void> {
  await apiRequest('DELETE', `/api/admin/rooms/${id}`);
}

export async function listAudit(scope: 'rooms' | 'site', before: number | null): Promise<{ entries: AuditEntry[]; next_before: number | null }> {
  const params = new URLSearchParams({ scope, limit: '50' });
  if (before !== null) params.set('before', String(before));
  return apiRequest('GET', `/api/admin/audit?${params.toString()}`);
}

export async function getStatus(): Promise<ServerStatus> {
  return apiRequest<ServerStatus>('GET', '/api/admin/status');
}

/** Who may register now (public). */
export async function registrationMode(): Promise<RegistrationMode> {
  return (await apiRequest<{ mode: RegistrationMode }>('GET', '/api/auth/registration')).mode;
}

/** Sets a new password with a reset link's token (public). */
export async function redeemReset(token: string, newPassword: string): Promise<void> {
  await apiRequest('POST', '/api/auth/password-reset', { token, new_password: newPassword });
}
