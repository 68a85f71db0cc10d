import { useEffect, useState } from 'preact/hooks';
import { createInvitation, getSettings, listInvitations, revokeInvitation, setRegistrationMode, type Invitation, type RegistrationMode, type SiteSettings } from '../../api/admin.ts';
import { Alert } from '../Alert.tsx';
import { useSubmit } from '../useSubmit.ts';
import { t } from '../../i18n/index.ts';

const MODES: readonly RegistrationMode[] = ['open', 'invite_only', 'closed'];

/** Invitations: new links with an expiry and a number of uses, revoking, and the registration mode. */
export function InvitationsAdmin() {
  const [settings, setSettings] = useState<SiteSettings | null>(null);
  const [invitations, setInvitations] = useState<Invitation[]>([]);
  const [hours, setHours] = useState('168');
  const [uses, setUses] = useState('1');
  const [link, setLink] = useState<string | null>(null);
  const loading = useSubmit();
  const saving = useSubmit();

  useEffect(() => {
    void loading.run(async () => {
      setSettings(await getSettings());
      setInvitations(await listInvitations());
    });
  }, []);

  async function create(event: SubmitEvent) {
    event.preventDefault();
    await saving.run(async () => {
      const made = await createInvitation(Number(hours), Number(uses));
      setLink(`${location.origin}${made.path}`);
      setInvitations([made.invitation, ...invitations]);
    });
  }

  async function revoke(id: number) {
    await saving.run(async () => {
      await revokeInvitation(id);
      setInvitations(invitations.map((i) => (i.id === id ? { ...i, revoked: true, usable: false } : i)));
    });
  }

  async function choose(mode: string) {
    await saving.run(async () => setSettings(await setRegistrationMode(mode === 'default' ? null : (mode as RegistrationMode))));
  }

  return (
    <>
      {loading.error !== null && <Alert tone="error">{loading.error}</Alert>}
      {saving.error !== null && <Alert tone="error">{saving.error}</Alert>}
      {settings !== null && (
        <div class="admin-row">
          <label for="admin-registration-mode">{t('admin.invites.mode')}</label>
          <select id="admin-registration-mode" value={settings.registration_mode_overridden ? settings.registration_mode : 'default'} disabled={saving.pending} onChange={(e) => void choose(e.currentTarget.value)}>
            <option value="default">{t('admin.invites.modeDefault', { mode: t(`admin.modes.${settings.registration_mode_default}`) })}</option>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {t(`admin.modes.${m}`)}
              </option>
            ))}
          </select>
        </div>
      )}
      <h3>{t('admin.invites.createTitle')}</h3>
      <form class="admin-form" onSubmit={(e) => void create(e)}>
        <label for="admin-invite-hours">{t('admin.invites.hours')}</label>
        <input id="admin-invite-hours" type="number" min={1} max={2160} value={hours} onInput={(e) => setHours(e.currentTarget.value)} required />
        <label for="admin-invite-uses">{t('admin.invites.uses')}</label>
        <input id="admin-invite-uses" type="number" min={1} max={1000} value={uses} onInput={(e) => setUses(e.currentTarget.value)} required />
        <button type="submit" class="button button-primary" disabled={saving.pending}>
          {t('admin.invites.create')}
        </button>
      </form>
      {link !== null && (
        <div class="admin-row">
          <label for="admin-invite-link">{t('admin.invites.link')}</label>
          <input id="admin-invite-link" readOnly value={link} />
          <button type="button" class="button button-secondary" onClick={() => void navigator.clipboard?.writeText(link)}>
            {t('admin.copy')}
          </button>
        </div>
      )}
      <div class="admin-table-wrap">
        <table class="admin-table">
          <caption class="visually-hidden">{t('admin.tabs.invitations')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('admin.invites.by')}</th>
              <th scope="col">{t('admin.invites.expires')}</th>
              <th scope="col">{t('admin.invites.used')}</th>
              <th scope="col">{t('admin.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {invitations.map((i) => (
              <tr key={i.id}>
                <td>{i.created_by ?? '—'}</td>
                <td>{new Date(i.expires_at).toLocaleString()}</td>
                <td>{t('admin.invites.usedOf', { uses: i.uses, max: i.max_uses })}</td>
                <td>
                  {i.usable ? (
                    <button type="button" class="button button-secondary" disabled={saving.pending} onClick={() => void revoke(i.id)}>
                      {t('admin.invites.revoke')}
                    </button>
                  ) : (
                    t(i.revoked ? 'admin.invites.revoked' : 'admin.invites.spent')
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
