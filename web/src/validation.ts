// Form validation, mirroring the server's account rules so that people get
// an answer before a round trip. The server stays the authority: it checks
// the same rules again and its message is shown when it disagrees.

import { t } from './i18n/index.ts';

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const PASSWORD_MIN = 8;

const USERNAME_CHARACTERS = /^[A-Za-z0-9_.-]+$/;

/** Errors keyed by form field; a field without an entry is valid. */
export type FieldErrors<Field extends string> = Partial<Record<Field, string>>;

/** Usernames never contain spaces, so stray ones from pasting or autofill are dropped. */
export function normalizeUsername(username: string): string {
  return username.trim();
}

export function usernameProblem(username: string): string | null {
  if (username === '') return t('validation.enterUsername');
  if (username.length < USERNAME_MIN || username.length > USERNAME_MAX) {
    return t('validation.usernameLength', { min: USERNAME_MIN, max: USERNAME_MAX });
  }
  if (!USERNAME_CHARACTERS.test(username)) {
    return t('validation.usernameCharacters');
  }
  return null;
}

/** Rules for a password being chosen (registration, password change). */
export function newPasswordProblem(password: string): string | null {
  if (password === '') return t('validation.enterPassword');
  // Count characters, not UTF-16 units, so "8 characters" means what it says.
  if ([...password].length < PASSWORD_MIN) {
    return t('validation.passwordLength', { min: PASSWORD_MIN });
  }
  return null;
}

export interface LoginForm {
  username: string;
  password: string;
}

/** Logging in only needs both fields: the rules are for choosing them. */
export function validateLogin(form: LoginForm): FieldErrors<keyof LoginForm> {
  const errors: FieldErrors<keyof LoginForm> = {};
  if (normalizeUsername(form.username) === '') errors.username = t('validation.enterYourUsername');
  if (form.password === '') errors.password = t('validation.enterYourPassword');
  return errors;
}

export interface RegistrationForm {
  username: string;
  password: string;
  confirmPassword: string;
}

export function validateRegistration(form: RegistrationForm): FieldErrors<keyof RegistrationForm> {
  const errors: FieldErrors<keyof RegistrationForm> = {};
  const username = usernameProblem(normalizeUsername(form.username));
  if (username !== null) errors.username = username;
  const password = newPasswordProblem(form.password);
  if (password !== null) errors.password = password;
  else if (form.confirmPassword !== form.password) errors.confirmPassword = t('validation.mismatch');
  return errors;
}

export interface PasswordChangeForm {
  currentPassword: string;
  newPassword: string;
  confirmPassword: string;
}

export function validatePasswordChange(form: PasswordChangeForm): FieldErrors<keyof PasswordChangeForm> {
  const errors: FieldErrors<keyof PasswordChangeForm> = {};
  if (form.currentPassword === '') errors.currentPassword = t('validation.enterCurrentPassword');
  const password = newPasswordProblem(form.newPassword);
  if (password !== null) errors.newPassword = password;
  else if (form.confirmPassword !== form.newPassword) errors.confirmPassword = t('validation.mismatch');
  return errors;
}

export interface PasswordResetForm {
  newPassword: string;
  confirmPassword: string;
}

export function validatePasswordReset(form: PasswordResetForm): FieldErrors<keyof PasswordResetForm> {
  const errors: FieldErrors<keyof PasswordResetForm> = {};
  const password = newPasswordProblem(form.newPassword);
  if (password !== null) errors.newPassword = password;
  else if (form.confirmPassword !== form.newPassword) errors.confirmPassword = t('validation.mismatch');
  return errors;
}

/** The first field of `order` that has an error, to move the focus to it. */
export function firstInvalidField<Field extends string>(errors: FieldErrors<Field>, order: readonly Field[]): Field | null {
  return order.find((field) => errors[field] !== undefined) ?? null;
}
