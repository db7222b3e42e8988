import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

import { ApiError } from "./api";
import { BASE, onLink } from "./router";

export function Link(props: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={BASE + props.to} class={props.class} onClick={(e) => onLink(e, props.to)}>
      {props.children}
    </a>
  );
}

/** The problem text of a failed call, where the user looks for it. */
export function ProblemText(props: { error: unknown }) {
  if (!props.error) return null;
  const text = props.error instanceof ApiError
    ? `${props.error.problem.title}: ${props.error.problem.detail}`
    : String(props.error);
  return <p class="problem" role="alert">{text}</p>;
}

export interface Loaded<T> { data: T | null; error: unknown; reload: () => void }

/** Load once per change of `deps`; `reload()` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((d) => { if (live) { setData(d); setError(null); } },
      (e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function Loading(props: { what: string }) {
  return <p class="muted" aria-live="polite">Loading {props.what}…</p>;
}

export function Badge(props: { value: string }) {
  return <span class={`badge badge-${props.value}`}>{props.value}</span>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

/** A feature not in this server's API yet: say so instead of calling a missing route. */
export function NotYet(props: { what: string }) {
  return <p class="muted not-yet">{props.what} is not offered by this server's API yet.</p>;
}

/** A table that may scroll sideways on a narrow screen: reachable by keyboard, named. */
export function Scroll(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}

/** A list filter: one of `options`, or "any" (the empty value). */
export function Filter(props: {
  label: string; value: string; options: string[]; onChange: (value: string) => void;
}) {
  return (
    <label>{props.label}
      <select value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        <option value="">any</option>
        {props.options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    </label>
  );
}
