import { useEffect, useState } from 'preact/hooks';
import { actOnUser, createResetLink, createUser, listUsers, type AdminUser, type UserAction } from '../../api/admin.ts';
import { Alert } from '../Alert.tsx';
import { useSubmit } from '../useSubmit.ts';
import { t } from '../../i18n/index.ts';

/** Users: search, create, disable and enable, administration, reset links. */
export function UsersAdmin({ selfId }: { selfId: number }) {
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [resetLink, setResetLink] = useState<string | null>(null);
  const loading = useSubmit();
  const action = useSubmit();
  const creating = useSubmit();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [makeAdmin, setMakeAdmin] = useState(false);

  async function load(after: number | null) {
    await loading.run(async () => {
      const page = await listUsers(query.trim(), after);
      setUsers(after === null ? page.users : [...users, ...page.users]);
      setNext(page.next_after);
    });
  }

  useEffect(() => {
    void load(null);
  }, []);

  function replace(updated: AdminUser) {
    setUsers(users.map((u) => (u.id === updated.id ? updated : u)));
  }

  async function act(user: AdminUser, what: UserAction) {
    await action.run(async () => replace(await actOnUser(user.id, what)));
  }

  async function reset(user: AdminUser) {
    await action.run(async () => {
      const link = await createResetLink(user.id);
      setResetLink(`${location.origin}${link.path}`);
    });
  }

  async function create(event: SubmitEvent) {
    event.preventDefault();
    await creating.run(async () => {
      const user = await createUser(name.trim(), password, makeAdmin);
      setUsers([...users, user]);
      setName('');
      setPassword('');
      setMakeAdmin(false);
    });
  }

  return (
    <>
      <form
        class="admin-row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void load(null);
        }}
      >
        <label for="admin-user-search">{t('admin.users.search')}</label>
        <input id="admin-user-search" type="search" value={query} maxLength={32} onInput={(e) => setQuery(e.currentTarget.value)} />
        <button type="submit" class="button button-secondary" disabled={loading.pending}>
          {t('admin.users.searchButton')}
        </button>
      </form>
      {loading.error !== null && <Alert tone="error">{loading.error}</Alert>}
      {action.error !== null && <Alert tone="error">{action.error}</Alert>}
      {resetLink !== null && (
        <div class="admin-row">
          <label for="admin-reset-link">{t('admin.users.resetLink')}</label>
          <input id="admin-reset-link" readOnly value={resetLink} />
          <button type="button" class="button button-secondary" onClick={() => void navigator.clipboard?.writeText(resetLink)}>
            {t('admin.copy')}
          </button>
        </div>
      )}
      <div class="admin-table-wrap">
        <table class="admin-table">
          <caption class="visually-hidden">{t('admin.tabs.users')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('admin.users.name')}</th>
              <th scope="col">{t('admin.users.state')}</th>
              <th scope="col">{t('admin.users.created')}</th>
              <th scope="col">{t('admin.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.username}
                  {u.is_admin && <span class="badge">{t('header.admin')}</span>}
                </td>
                <td>{u.disabled ? t('admin.users.disabled') : t('admin.users.active')}</td>
                <td>{new Date(u.created_at).toLocaleDateString()}</td>
                <td class="admin-actions">
                  <button type="button" class="button button-secondary" disabled={action.pending} onClick={() => void act(u, u.disabled ? 'enable' : 'disable')} aria-label={`${u.disabled ? t('admin.users.enable') : t('admin.users.disable')} ${u.username}`}>
                    {u.disabled ? t('admin.users.enable') : t('admin.users.disable')}
                  </button>
                  <button type="button" class="button button-secondary" disabled={action.pending || (u.is_admin && u.id === selfId)} onClick={() => void act(u, u.is_admin ? 'demote' : 'promote')} aria-label={`${u.is_admin ? t('admin.users.demote') : t('admin.users.promote')} ${u.username}`}>
                    {u.is_admin ? t('admin.users.demote') : t('admin.users.promote')}
                  </button>
                  <button type="button" class="button button-secondary" disabled={action.pending} onClick={() => void reset(u)} aria-label={`${t('admin.users.reset')} ${u.username}`}>
                    {t('admin.users.reset')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next !== null && (
        <button type="button" class="button button-secondary" disabled={loading.pending} onClick={() => void load(next)}>
          {t('admin.more')}
        </button>
      )}
      <h3>{t('admin.users.createTitle')}</h3>
      {creating.error !== null && <Alert tone="error">{creating.error}</Alert>}
      <form class="admin-form" onSubmit={(e) => void create(e)}>
        <label for="admin-new-name">{t('auth.username')}</label>
        <input id="admin-new-name" autoComplete="off" value={name} maxLength={32} onInput={(e) => setName(e.currentTarget.value)} required />
        <label for="admin-new-password">{t('auth.password')}</label>
        <input id="admin-new-password" type="password" autoComplete="new-password" value={password} maxLength={1024} onInput={(e) => setPassword(e.currentTarget.value)} required />
        <label class="admin-check">
          <input type="checkbox" checked={makeAdmin} onChange={(e) => setMakeAdmin(e.currentTarget.checked)} />
          {t('admin.users.makeAdmin')}
        </label>
        <button type="submit" class="button button-primary" disabled={creating.pending}>
          {t('admin.users.create')}
        </button>
      </form>
    </>
  );
}
