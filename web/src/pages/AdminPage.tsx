import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api/auth.ts';
import { deleteRoom, getStatus, listAudit, listRooms, type AdminRoom, type AuditEntry, type ServerStatus } from '../api/admin.ts';
import { describeError } from '../api/errors.ts';
import { Alert } from '../components/Alert.tsx';
import { AppHeader } from '../components/AppHeader.tsx';
import { confirmAction } from '../components/ConfirmDialog.tsx';
import { Link } from '../components/Link.tsx';
import { useSubmit } from '../components/useSubmit.ts';
import { InvitationsAdmin } from '../components/admin/InvitationsAdmin.tsx';
import { UsersAdmin } from '../components/admin/UsersAdmin.tsx';
import { HOME_PATH } from '../router.ts';
import { t } from '../i18n/index.ts';

const TABS = ['users', 'invitations', 'rooms', 'audit', 'status'] as const;
type Tab = (typeof TABS)[number];

/** The admin console (site administrators only): one tab per section. */
export function AdminPage({ user }: { user: User }) {
  const [tab, setTab] = useState<Tab>('users');

  function onKey(event: KeyboardEvent) {
    const at = TABS.indexOf(tab);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = TABS[(at + step + TABS.length) % TABS.length] ?? 'users';
    setTab(next);
    document.getElementById(`admin-tab-${next}`)?.focus();
  }

  return (
    <>
      <AppHeader user={user} />
      <main class="home admin">
        <h1>{t('admin.title')}</h1>
        <p>
          <Link href={HOME_PATH}>{t('account.back')}</Link>
        </p>
        <div role="tablist" aria-label={t('admin.title')} class="admin-tabs" onKeyDown={onKey}>
          {TABS.map((name) => (
            <button key={name} id={`admin-tab-${name}`} type="button" role="tab" class="button button-secondary" aria-selected={tab === name} aria-controls={`admin-panel-${name}`} tabIndex={tab === name ? 0 : -1} onClick={() => setTab(name)}>
              {t(`admin.tabs.${name}`)}
            </button>
          ))}
        </div>
        <section class="card" role="tabpanel" id={`admin-panel-${tab}`} aria-labelledby={`admin-tab-${tab}`}>
          <h2>{t(`admin.tabs.${tab}`)}</h2>
          {tab === 'users' && <UsersAdmin selfId={user.id} />}
          {tab === 'invitations' && <InvitationsAdmin />}
          {tab === 'rooms' && <RoomsAdmin />}
          {tab === 'audit' && <AuditAdmin />}
          {tab === 'status' && <StatusAdmin />}
        </section>
      </main>
    </>
  );
}

/** Every room with its owner and size; deleting one. */
function RoomsAdmin() {
  const [rooms, setRooms] = useState<AdminRoom[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const loading = useSubmit();
  const deleting = useSubmit();

  async function load(after: number | null) {
    await loading.run(async () => {
      const page = await listRooms(after);
      setRooms(after === null ? page.rooms : [...rooms, ...page.rooms]);
      setNext(page.next_after);
    });
  }

  useEffect(() => {
    void load(null);
  }, []);

  async function remove(room: AdminRoom) {
    const sure = await confirmAction({ title: t('admin.rooms.deleteTitle'), message: t('admin.rooms.deleteMessage', { name: room.name }), action: t('admin.rooms.delete') });
    if (!sure) return;
    await deleting.run(async () => {
      await deleteRoom(room.id);
      setRooms(rooms.filter((r) => r.id !== room.id));
    });
  }

  return (
    <>
      {loading.error !== null && <Alert tone="error">{loading.error}</Alert>}
      {deleting.error !== null && <Alert tone="error">{deleting.error}</Alert>}
      <div class="admin-table-wrap">
        <table class="admin-table">
          <caption class="visually-hidden">{t('admin.tabs.rooms')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('admin.rooms.name')}</th>
              <th scope="col">{t('admin.rooms.owner')}</th>
              <th scope="col">{t('admin.rooms.members')}</th>
              <th scope="col">{t('admin.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rooms.map((r) => (
              <tr key={r.id}>
                <td>
                  {r.name}
                  {r.is_private && <span class="badge">{t('admin.rooms.private')}</span>}
                </td>
                <td>{r.owner_username ?? '—'}</td>
                <td>{r.members}</td>
                <td>
                  <button type="button" class="button button-secondary" disabled={deleting.pending} onClick={() => void remove(r)} aria-label={`${t('admin.rooms.delete')} ${r.name}`}>
                    {t('admin.rooms.delete')}
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
    </>
  );
}

/** The audit log across rooms, or of site administration. */
function AuditAdmin() {
  const [scope, setScope] = useState<'rooms' | 'site'>('rooms');
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The scope last asked for: an answer for another one came too late and is dropped
  // (switching scope while a page loads must load the new scope, not be ignored).
  const wanted = useRef(scope);

  async function load(which: 'rooms' | 'site', before: number | null) {
    wanted.current = which;
    setError(null);
    setPending(true);
    try {
      const page = await listAudit(which, before);
      if (wanted.current !== which) return;
      setEntries((shown) => (before === null ? page.entries : [...shown, ...page.entries]));
      setNext(page.next_before);
    } catch (err) {
      if (wanted.current === which) setError(describeError(err));
    } finally {
      if (wanted.current === which) setPending(false);
    }
  }

  useEffect(() => {
    void load(scope, null);
  }, [scope]);

  return (
    <>
      <div class="admin-row">
        <label for="admin-audit-scope">{t('admin.audit.scope')}</label>
        <select id="admin-audit-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value === 'site' ? 'site' : 'rooms')}>
          <option value="rooms">{t('admin.audit.rooms')}</option>
          <option value="site">{t('admin.audit.site')}</option>
        </select>
      </div>
      {error !== null && <Alert tone="error">{error}</Alert>}
      <div class="admin-table-wrap">
        <table class="admin-table">
          <caption class="visually-hidden">{t('admin.tabs.audit')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('admin.audit.when')}</th>
              <th scope="col">{t('admin.audit.who')}</th>
              <th scope="col">{t('admin.audit.what')}</th>
              <th scope="col">{t('admin.audit.where')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.created_at).toLocaleString()}</td>
                <td>{e.actor_username ?? '—'}</td>
                <td>
                  <code>{e.action}</code> {e.target_username ?? ''} {e.detail}
                </td>
                <td>{e.room_name ?? (e.room_id === null ? t('admin.audit.siteWide') : `#${e.room_id}`)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next !== null && (
        <button type="button" class="button button-secondary" disabled={pending} onClick={() => void load(scope, next)}>
          {t('admin.more')}
        </button>
      )}
    </>
  );
}

/** The server's version, database, nodes and connections. */
function StatusAdmin() {
  const [status, setStatus] = useState<ServerStatus | null>(null);
  const loading = useSubmit();
  useEffect(() => {
    void loading.run(async () => setStatus(await getStatus()));
  }, []);
  if (loading.error !== null) return <Alert tone="error">{loading.error}</Alert>;
  if (status === null) return <p role="status">{t('app.loading')}</p>;
  const rows: [string, string | number][] = [
    [t('admin.status.version'), status.version],
    [t('admin.status.database'), status.database],
    [t('admin.status.nodes'), status.clustered ? status.nodes : t('admin.status.single')],
    [t('admin.status.connections'), status.connections],
    [t('admin.status.users'), status.users],
    [t('admin.status.disabledUsers'), status.disabled_users],
    [t('admin.status.admins'), status.admins],
    [t('admin.status.rooms'), status.rooms],
  ];
  return (
    <dl class="admin-status">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
