import { contextBridge, ipcRenderer } from 'electron';
import { buildBridge } from './bridge.js';

// Errors as data: the contextBridge would strip an Error down to its message (see apiErrorToData).
contextBridge.exposeInMainWorld('kestrel', buildBridge(ipcRenderer, { errorsAsData: true }));
