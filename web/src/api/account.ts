// "Export my data" and "Delete my account", each confirmed with the password.

import { apiDownload, apiRequest } from './http.ts';

/** The zip of what the server keeps about the signed-in person. */
export function exportMyData(password: string): Promise<Blob> {
  return apiDownload('/api/users/me/export', { password });
}

/**
 * Deletes the signed-in person's account for good. Refused with
 * `owns_rooms` (naming them) while they own rooms, `last_admin` for the
 * site's last administrator, `invalid_credentials` for a wrong password.
 */
export async function deleteMyAccount(password: string): Promise<void> {
  await apiRequest<{ success: true }>('POST', '/api/users/me/delete', { password });
}
