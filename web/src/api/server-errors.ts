// The API error codes whose messages the UI shows in the reader's language:
// those a person meets in normal use (signing in and registering, roles and
// membership, names, busy or unreachable server, links and backups). Each
// has a `serverErrors.<code>` entry in every catalogue; any other code shows
// the server's English sentence.

export const TRANSLATED_CODES = [
  'account_disabled',
  'already_member',
  'ban_not_found',
  'banned',
  'cannot_remove_admin',
  'cannot_remove_owner',
  'channel_name_taken',
  'channel_not_found',
  'direct_message',
  'empty_message',
  'file_not_found',
  'insufficient_role',
  'internal_error',
  'invalid_backup',
  'invalid_credentials',
  'invalid_credentials_format',
  'invalid_invite',
  'invalid_name',
  'invalid_password',
  'invalid_reset_link',
  'invalid_second_factor',
  'invalid_title',
  'invalid_totp_code',
  'invalid_url',
  'invalid_username',
  'invite_only',
  'invite_required',
  'last_admin',
  'last_channel',
  'link_answered',
  'link_not_found',
  'member_not_found',
  'membership_changed',
  'message_not_found',
  'no_backup',
  'not_a_member',
  'not_site_admin',
  'not_your_message',
  'not_your_resource',
  'owner_must_transfer',
  'payload_too_large',
  'registration_closed',
  'room_not_found',
  'same_password',
  'second_factor_enrolment_required',
  'second_factor_required',
  'second_factor_unreadable',
  'server_busy',
  'sso_second_factor_expired',
  'totp_already_enabled',
  'totp_not_enabled',
  'totp_not_set_up',
  'unauthenticated',
  'unsupported_media_type',
  'upload_interrupted',
  'user_banned',
  'user_not_found',
  'username_confusable',
  'username_taken',
  'weak_password',
] as const;

export type TranslatedCode = (typeof TRANSLATED_CODES)[number];

export function isTranslatedCode(code: string): code is TranslatedCode {
  return (TRANSLATED_CODES as readonly string[]).includes(code);
}
