// The public HTTP API, and nothing else: every call carries the key as a Bearer token.
const KEY = "dripline.key";
export const API = "/api/v1/automation";

export interface FieldProblem { field: string; message: string }
export interface Problem {
  type: string; title: string; status: number; detail: string;
  field?: string | null; errors?: FieldProblem[] | null;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) { super(problem.detail || problem.title); }
  get status(): number { return this.problem.status; }
  /** The message for one field, as the API named it (e.g. `delay_amount`), or undefined. */
  at(field: string): string | undefined {
    const hit = (this.problem.errors ?? []).find((e) => e.field === field);
    if (hit) return hit.message;
    return this.problem.field === field ? this.problem.detail : undefined;
  }
}

export function getKey(): string | null { return sessionStorage.getItem(KEY); }
export function setKey(key: string): void { sessionStorage.setItem(KEY, key); }
export function forgetKey(): void { sessionStorage.removeItem(KEY); }

export interface Answer<T> { body: T; etag: string | null }

export async function call<T>(method: string, path: string, options: {
  body?: unknown; ifMatch?: string | null; key?: string;
} = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = options.key ?? getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.ifMatch) headers["If-Match"] = options.ifMatch;
  const response = await fetch(path, {
    method, headers, credentials: "omit",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const problem = (body ?? {}) as Partial<Problem>;
    throw new ApiError({
      type: problem.type ?? "about:blank", title: problem.title ?? response.statusText,
      status: response.status, detail: problem.detail ?? response.statusText,
      field: problem.field ?? null, errors: problem.errors ?? null,
    });
  }
  return { body: body as T, etag: response.headers.get("ETag") };
}

export async function get<T>(path: string): Promise<T> {
  return (await call<T>("GET", path)).body;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

// Screens grow as features land: what the API offers is read from its own contract.
let features: Promise<Set<string>> | null = null;

function shape(path: string): string { return path.replace(/\{[^}]+\}/g, "{}"); }

export function offered(): Promise<Set<string>> {
  features ??= fetch("/openapi.json", { credentials: "omit" })
    .then((r) => r.json() as Promise<{ paths?: Record<string, unknown> }>)
    .then((spec) => new Set(Object.keys(spec.paths ?? {}).map(shape)))
    .catch(() => new Set<string>());
  return features;
}

export async function has(path: string): Promise<boolean> {
  return (await offered()).has(shape(path));
}
