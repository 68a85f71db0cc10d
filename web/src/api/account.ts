// "Export my data": the account's archive, confirmed with the password.

import { apiDownload } from './http.ts';

/** The zip of what the server keeps about the signed-in person. */
export function exportMyData(password: string): Promise<Blob> {
  return apiDownload('/api/users/me/export', { password });
}
