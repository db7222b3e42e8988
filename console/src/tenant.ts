// The tenant's settings as the operations screen edits them, apart from the screen: the form
// (text as typed), the body a save sends, and the API's field names for each control.

export type Window = "rolling_24h" | "calendar_day" | "rolling_hours";

export interface CapRule {
  channel: string | null; max_messages: number;
  window: "rolling_24h" | "calendar_day" | { rolling_hours: number };
}
export interface TenantSettings {
  timezone: string | null; version: number;
  frequency_cap: { rules: CapRule[]; on_cap: string; max_defer_hours: number } | null;
  throttle: Record<string, { per_minute: number }> | null;
}

export interface RuleForm { channel: string; max_messages: string; window: Window; hours: string }
export interface ThrottleForm { channel: string; per_minute: string }
export interface SettingsForm {
  timezone: string; rules: RuleForm[]; on_cap: string; max_defer_hours: string;
  throttle: ThrottleForm[];
}

/** What `PUT /settings` takes; a field left out keeps the server's value. */
export interface SettingsBody {
  timezone?: string | null;
  frequency_cap?: { rules: unknown[]; on_cap: string; max_defer_hours: unknown } | null;
  throttle?: Record<string, { per_minute: unknown }> | null;
}
export const FIELDS = ["timezone", "frequency_cap", "throttle"] as const;

export const ON_CAP = ["defer", "skip"];
export const WINDOWS: { value: Window; label: string }[] = [
  { value: "rolling_24h", label: "rolling 24 hours" },
  { value: "calendar_day", label: "calendar day (the contact's)" },
  { value: "rolling_hours", label: "rolling hours…" },
];

export function formOf(s: TenantSettings): SettingsForm {
  const cap = s.frequency_cap;
  return {
    timezone: s.timezone ?? "",
    rules: (cap?.rules ?? []).map((r) => ({
      channel: r.channel ?? "", max_messages: String(r.max_messages),
      window: typeof r.window === "string" ? r.window : "rolling_hours",
      hours: typeof r.window === "string" ? "" : String(r.window.rolling_hours),
    })),
    on_cap: cap?.on_cap ?? "defer", max_defer_hours: String(cap?.max_defer_hours ?? 72),
    throttle: Object.entries(s.throttle ?? {}).map(([channel, t]) => ({
      channel, per_minute: String(t.per_minute) })),
  };
}

export const NEW_RULE: RuleForm = { channel: "", max_messages: "3", window: "rolling_24h", hours: "" };
export const NEW_THROTTLE: ThrottleForm = { channel: "", per_minute: "60" };

/** A whole number as typed, else the text itself: the API names the field it rejects. */
function number(text: string): unknown {
  return /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;
}

/** Every field of the form as the API takes it (no rule: no cap; no channel: no throttle). */
export function bodyOf(form: SettingsForm): Required<SettingsBody> {
  return {
    timezone: form.timezone.trim() || null,
    frequency_cap: form.rules.length === 0 ? null : {
      rules: form.rules.map((r) => ({
        channel: r.channel.trim() || null, max_messages: number(r.max_messages),
        window: r.window === "rolling_hours" ? { rolling_hours: number(r.hours) } : r.window,
      })),
      on_cap: form.on_cap, max_defer_hours: number(form.max_defer_hours),
    },
    throttle: form.throttle.length === 0 ? null : Object.fromEntries(form.throttle.map(
      (t) => [t.channel.trim(), { per_minute: number(t.per_minute) }])),
  };
}

function same(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

/** The fields `mine` changed against `base` (the form as loaded): what a save sends. */
export function changesOf(mine: SettingsForm, base: SettingsForm): SettingsBody {
  const now = bodyOf(mine);
  const before = bodyOf(base);
  const out: Record<string, unknown> = {};
  for (const name of FIELDS) if (!same(now[name], before[name])) out[name] = now[name];
  return out as SettingsBody;
}

/** "Keep mine" after a 412: the fields I changed laid over the server's current ones. */
export function rebaseForm(mine: SettingsForm, original: SettingsForm, fresh: SettingsForm,
): SettingsForm {
  const changed = changesOf(mine, original);
  return {
    timezone: "timezone" in changed ? mine.timezone : fresh.timezone,
    rules: "frequency_cap" in changed ? mine.rules : fresh.rules,
    on_cap: "frequency_cap" in changed ? mine.on_cap : fresh.on_cap,
    max_defer_hours: "frequency_cap" in changed ? mine.max_defer_hours : fresh.max_defer_hours,
    throttle: "throttle" in changed ? mine.throttle : fresh.throttle,
  };
}

/** The API's names for one rule's fields (as a 422 names them). */
export function ruleField(index: number, name: "channel" | "max_messages" | "window"): string {
  return `frequency_cap.rules[${index}].${name}`;
}

/** The throttle rows (by index) whose channel an earlier row already has. */
export function repeatedChannels(rows: ThrottleForm[]): Set<number> {
  const seen = new Set<string>();
  const out = new Set<number>();
  rows.forEach((t, i) => {
    const channel = t.channel.trim();
    if (channel && seen.has(channel)) out.add(i);
    seen.add(channel);
  });
  return out;
}
