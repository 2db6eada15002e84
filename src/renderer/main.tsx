import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { getApi, onConnectionChange } from './api/index.js';
import { startClock } from './stores/clock.js';
import { useNavigation } from './stores/navigation.js';
import { startSync } from './sync.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

useNavigation.getState().syncFromHash(window.location.hash);
window.addEventListener('popstate', () => useNavigation.getState().syncFromHash(window.location.hash));
window.addEventListener('hashchange', () => useNavigation.getState().syncFromHash(window.location.hash));
startClock();
startSync(getApi(), onConnectionChange);

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
