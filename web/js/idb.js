// The app's IndexedDB database, 'atlas-offline': what a field officer keeps for work with no
// signal. Two stores: `wards` (one record per ward kept offline: its outline, its places
// for search and Near me, and what was saved and how big; the tiles and records
// themselves are HTTP answers in Cache Storage, `atlas-ward-N`) and `outbox` (writes made
// offline, in the order they were made, each with its Idempotency-Key). A tiny promise
// wrapper: no library.

const NAME = 'atlas-offline';
const VERSION = 1;
let opening = null;

function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (!('indexedDB' in self)) {
      reject(new Error('IndexedDB is not available'));
      return;
    }
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('wards')) db.createObjectStore('wards', { keyPath: 'ward' });
      if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  // A failure is not kept: the next call tries again.
  opening.catch(() => { opening = null; });
  return opening;
}

/** Runs fn(store) in a transaction on `store` and resolves to the request's result. */
async function run(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = fn(tx.objectStore(store));
    let result;
    if (req) req.onsuccess = () => { result = req.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

export const get = (store, key) => run(store, 'readonly', (s) => s.get(key));
export const all = (store) => run(store, 'readonly', (s) => s.getAll());
export const put = (store, value) => run(store, 'readwrite', (s) => s.put(value));
export const del = (store, key) => run(store, 'readwrite', (s) => s.delete(key));
