import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

import type { ApiError } from "./api";

const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), "
  + "textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/**
 * A modal asking one question. Its first button takes the focus; Tab and Shift+Tab stay inside
 * (it is modal); Escape answers `onEscape` when given; closed, it gives the focus back to the
 * control that had it when it opened.
 */
export function Dialog(props: { id: string; title: string; onEscape?: () => void;
  children: ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);
  const escape = useRef(props.onEscape);
  escape.current = props.onEscape;
  useEffect(() => {
    const opener = document.activeElement;
    box.current?.querySelector("button")?.focus();
    // On the document: a Tab from outside the dialog (the page behind) comes back into it.
    document.addEventListener("keydown", keep);
    return () => {
      document.removeEventListener("keydown", keep);
      // After the closing render: the opener may have been replaced or disabled meanwhile.
      requestAnimationFrame(() => {
        if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      });
    };
  }, []);

  function keep(e: KeyboardEvent) {
    if (e.key === "Escape" && escape.current) { e.preventDefault(); escape.current(); return; }
    if (e.key !== "Tab" || !box.current) return;
    const all = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (all.length === 0) return;
    const first = all[0], last = all[all.length - 1];
    const at = document.activeElement;
    if (e.shiftKey && (at === first || !box.current.contains(at))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (at === last || !box.current.contains(at))) { e.preventDefault(); first.focus(); }
  }

  return (
    <div class="dialog-backdrop">
      <div ref={box} role="alertdialog" aria-modal="true" aria-labelledby={props.id}
        class="dialog">
        <h2 id={props.id}>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}

/**
 * Where the messages of a 422 go: `at(...)` gives a control the first message naming one of
 * its fields (and marks it shown); `rest()`, asked after every control took its own, is the
 * problem when some message was shown beside none.
 */
export function placing(failed: ApiError | null) {
  const shown = new Set<string>();
  return {
    at(...fields: string[]): string | undefined {
      for (const f of fields) {
        const message = failed?.at(f);
        if (message !== undefined) { shown.add(f); return message; }
      }
      return undefined;
    },
    rest(): ApiError | null {
      if (!failed) return null;
      const named = failed.problem.errors ?? [{ field: failed.problem.field ?? "" }];
      return named.every((e) => shown.has(e.field)) ? null : failed;
    },
  };
}
