// Entry point: starts routing, checks the session cookie, mounts the UI.

import './theme.ts'; // first: the theme is on <html> before anything renders
import { render } from 'preact';
import { App } from './app.tsx';
import { ConfirmHost } from './components/ConfirmDialog.tsx';
import { startRouter } from './router.ts';
import { startPwa } from './pwa.ts';
import { startPushClient } from './push/index.ts';
import { loadSession } from './state/session.ts';
import { startI18n } from './i18n/index.ts';
import './styles.css';

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');

startRouter();
void loadSession();
startPwa();
startPushClient();
// The catalogue of a non-English reader loads before the first render, so
// no English frame flashes; English is bundled and resolves at once.
void startI18n().then(() =>
  render(
    <>
      <App />
      <ConfirmHost />
    </>,
    root,
  ),
);
