// Entry point: starts routing, checks the session cookie, mounts the UI.

import { render } from 'preact';
import { App } from './app.tsx';
import { startRouter } from './router.ts';
import { loadSession } from './state/session.ts';
import './styles.css';

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');

startRouter();
void loadSession();
render(<App />, root);
