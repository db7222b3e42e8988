// Deep links under /console/: the server answers index.html for any of them.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";
const listeners = new Set<() => void>();
let guard: (() => boolean) | null = null;

/** A screen with unsaved changes asks before the console leaves it. */
export function setLeaveGuard(check: (() => boolean) | null): void { guard = check; }

export function navigate(to: string): void {
  if (guard && !guard()) return;
  guard = null;
  history.pushState(null, "", BASE + to);
  listeners.forEach((f) => f());
}

export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return path.replace(/\/+$/, "") || "/";
}

export function useRoute(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => { listeners.delete(update); window.removeEventListener("popstate", update); };
  }, []);
  return path;
}

/** A link that stays in the page (plain clicks) and still opens in a new tab otherwise. */
export function onLink(event: MouseEvent, to: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  navigate(to);
}
