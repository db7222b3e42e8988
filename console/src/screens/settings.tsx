// The builder's settings drawer (CAPABILITIES §6, screen 3): a journey's trigger, send window,
// re-enrollment, resume policy, goal, experiments, holdout and exemption. It only edits the
// builder's `journey`; the builder's own Save sends the changes, and a 422 it meets comes back
// here as `error`, each message beside the control of the field it names.
import { useEffect, useRef } from "preact/hooks";

import type { ApiError } from "../api";
import type { Journey, SendWindow, Step } from "../types";
import { ExperimentsSection, experimentAnchors } from "./settings-experiments";
import { described, Field, FieldError } from "./field";
import { Check, Chips, NumberInput, Placed, Select } from "./settings-fields";
import { GoalSection, goalAnchors } from "./settings-goal";

// For each trigger, the keys of its data (domain/triggers.py): the identifying ones first.
const TRIGGER_KEYS: Record<string, string[]> = {
  manual: [], tag_added: ["tag_name", "tag_id"], list_joined: ["list_id", "list_name"],
  form_submit: ["form_id", "form_name"], pipeline_entered: ["pipeline_id", "pipeline_name"],
};
const POLICIES = ["never", "after_completion", "after_exit", "always"] as const;
const RESUME = ["send_late", "skip_missed"] as const;
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const HOURS = Array.from({ length: 24 }, (_, h) => h);
const FRESH_WINDOW: SendWindow = { hours: [9, 10, 11, 12, 13, 14, 15, 16, 17],
  weekdays: ["mon", "tue", "wed", "thu", "fri"], timezone: null };
const ZONES = ["UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris",
  "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm",
  "Europe/Warsaw", "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "Africa/Cairo",
  "Africa/Lagos", "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Bangkok",
  "Asia/Singapore", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Tokyo", "Asia/Seoul",
  "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
  "America/Bogota", "America/Mexico_City", "America/New_York", "America/Toronto",
  "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
  "America/Anchorage", "Pacific/Honolulu"];

/** Every field path the drawer shows a message beside, for what is on screen now. */
function anchors(journey: Journey): string[] {
  const windowed = journey.send_window
    ? ["send_window.hours", "send_window.weekdays", "send_window.timezone"] : [];
  return ["trigger_type", "trigger_data", "exit_on_reply", "reenrollment",
    "reenrollment.policy", "reenrollment.cooldown_seconds", "send_window", ...windowed,
    "resume_policy", "holdout_percent", "frequency_cap_exempt",
    ...(TRIGGER_KEYS[journey.trigger_type] ?? []).map((key) => `trigger_data.${key}`),
    ...goalAnchors(journey.goal), ...experimentAnchors(journey.experiments)];
}

const CONTROL = "input:not(:disabled), select:not(:disabled), textarea:not(:disabled), "
  + "button:not(:disabled)";

/**
 * Focus on the drawer's first problem: the list of those no control takes, else the control a
 * message describes or, for a group's message (hours, a goal's match), the group's first
 * control. False when there is none.
 */
function focusProblem(panel: HTMLElement | null): boolean {
  const first = panel?.querySelector<HTMLElement>(".drawer-problems, .field-error");
  if (!panel || !first) return false;
  const owner = first.id
    ? panel.querySelector<HTMLElement>(`[aria-describedby~="${first.id}"]`) : null;
  const target = owner?.matches(CONTROL) ? owner : owner?.querySelector<HTMLElement>(CONTROL);
  if (!target) first.tabIndex = -1; // a message with no control to go to (read-only)
  (target ?? first).focus();
  return true;
}

export interface SettingsProps {
  journey: Journey; editable: boolean; revision: boolean; steps: Step[];
  error: ApiError | null; onChange: (next: Journey) => void; onClose: () => void;
}

export function SettingsDrawer(props: SettingsProps) {
  const { journey, editable, revision } = props;
  const panel = useRef<HTMLElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const placed = new Placed(props.error, anchors(journey));
  const set = (fields: Partial<Journey>) => props.onChange({ ...journey, ...fields });
  const sequenceOnly = !editable || revision; // trigger and re-enrollment: the sequence's
  const at = (field: string) => placed.at(field);

  useEffect(() => {
    // Focus moves in (to the first problem, else the heading), and back on close.
    opener.current = document.activeElement as HTMLElement | null;
    if (!focusProblem(panel.current)) {
      panel.current?.querySelector<HTMLElement>("#settings-title")?.focus();
    }
  }, []);
  useEffect(() => { if (props.error) focusProblem(panel.current); }, [props.error]);

  function close() {
    props.onClose();
    const was = opener.current;
    const back = was && was !== document.body && was.isConnected ? was
      : document.getElementById("settings-open");
    back?.focus();
  }

  const keys = TRIGGER_KEYS[journey.trigger_type] ?? [];
  // A message about the data goes beside its first field; with none (manual), beside the type.
  const triggerMessage = [at("trigger_type"), keys.length ? undefined : at("trigger_data")]
    .filter(Boolean).join("; ") || undefined;
  // Another trigger type keeps only its own keys; what was typed for the others is kept
  // here while the drawer is open, so passing through a type (arrow keys) loses nothing.
  const typed = useRef<Record<string, string>>({});
  const switchData = (type: string) => {
    const others = Object.entries(typed.current).filter(([key]) => !keys.includes(key));
    typed.current = { ...Object.fromEntries(others), ...journey.trigger_data };
    return Object.fromEntries(Object.entries(typed.current)
      .filter(([key]) => (TRIGGER_KEYS[type] ?? []).includes(key)));
  };
  const sendWindow = journey.send_window;
  const lastWindow = useRef<SendWindow | null>(sendWindow);
  const setWindow = (fields: Partial<SendWindow>) =>
    sendWindow && set({ send_window: { ...sendWindow, ...fields } });
  return (
    <section ref={panel} id="settings-drawer" class="drawer card" aria-labelledby="settings-title"
      onKeyDown={(e) => { if (e.key === "Escape") { e.preventDefault(); close(); } }}>
      <div class="drawer-head">
        <h2 id="settings-title" tabIndex={-1}>Settings</h2>
        <button type="button" class="quiet" onClick={close}>Close</button>
      </div>
      <p class="muted">{editable ? "Save below sends these with the steps; Escape closes."
        : "Read-only: only a draft's settings change."}</p>
      {placed.rest.length ? (
        <div class="drawer-problems problem" role="alert" tabIndex={-1}>
          {placed.rest.map((p, i) => <p key={i}>{p.field ? `${p.field}: ` : ""}{p.message}</p>)}
        </div>) : null}
      <form class="drawer-sections" aria-label="Journey settings" onSubmit={(e) => e.preventDefault()}>
        <div class="drawer-section" role="group" aria-labelledby="settings-trigger">
          <h3 id="settings-trigger">Trigger</h3>
          {revision ? (
            <p class="note">Trigger and re-enrollment belong to the sequence, not to a revision:
              they are shown here and change only while the sequence is a draft.</p>) : null}
          <Field id="trigger-type" label="Enrolls on" message={triggerMessage}>
            <Select id="trigger-type" value={journey.trigger_type} options={Object.keys(TRIGGER_KEYS)}
              disabled={sequenceOnly} message={triggerMessage}
              onChange={(type) => set({ trigger_type: type, trigger_data: switchData(type) })} />
          </Field>
          {keys.map((key, i) => {
            const id = `trigger-${key.replace("_", "-")}`;
            // A message about the data as a whole goes beside its first field.
            const message = [at(`trigger_data.${key}`), i === 0 ? at("trigger_data") : undefined]
              .filter(Boolean).join("; ") || undefined;
            return (
              <Field key={key} id={id} label={key} message={message}>
                <input {...described(id, !sequenceOnly, message)}
                  value={journey.trigger_data[key] ?? ""}
                  onInput={(e) => {
                    const value = (e.target as HTMLInputElement).value;
                    const data = { ...journey.trigger_data, [key]: value };
                    if (!value) delete data[key];
                    set({ trigger_data: data });
                  }} />
              </Field>);
          })}
          {journey.trigger_type === "tag_added" ? (
            <p class="muted">Give the tag's name or its id.</p>) : null}
          <Check id="exit-on-reply" label="Exit when the contact replies"
            checked={journey.exit_on_reply} disabled={!editable} message={at("exit_on_reply")}
            onChange={(exit_on_reply) => set({ exit_on_reply })} />
          <fieldset aria-describedby={at("reenrollment") ? "reenrollment-error" : undefined}>
            <legend>Re-enrollment</legend>
            <FieldError id="reenrollment" message={at("reenrollment")} />
            <div class="row">
              <Field id="reenroll-policy" label="Enroll again" message={at("reenrollment.policy")}>
                <Select id="reenroll-policy" value={journey.reenrollment.policy} options={POLICIES}
                  disabled={sequenceOnly} message={at("reenrollment.policy")}
                  onChange={(policy) => set({ reenrollment: { ...journey.reenrollment, policy } })} />
              </Field>
              <Field id="reenroll-cooldown" label="Cooldown (seconds)"
                message={at("reenrollment.cooldown_seconds")}>
                <NumberInput id="reenroll-cooldown" value={journey.reenrollment.cooldown_seconds}
                  min={0} disabled={sequenceOnly} message={at("reenrollment.cooldown_seconds")}
                  onChange={(cooldown_seconds) => set({
                    reenrollment: { ...journey.reenrollment, cooldown_seconds } })} />
              </Field>
            </div>
          </fieldset>
        </div>
        <div class="drawer-section" role="group" aria-labelledby="settings-window">
          <h3 id="settings-window">Send window</h3>
          <Check id="window-on" label="Send only in chosen hours and weekdays"
            checked={sendWindow !== null} disabled={!editable} message={at("send_window")}
            onChange={(on) => {
              if (!on) lastWindow.current = sendWindow; // back as it was if turned on again
              set({ send_window: on ? lastWindow.current ?? FRESH_WINDOW : null });
            }} />
          {sendWindow ? (
            <>
              <Chips id="window-hours" legend="Hours (local time)" items={HOURS}
                chosen={sendWindow.hours} disabled={!editable} message={at("send_window.hours")}
                name={(h) => `${String(h).padStart(2, "0")}:00`}
                onChange={(hours) => setWindow({ hours })} />
              <Chips id="window-days" legend="Weekdays" items={DAYS} chosen={sendWindow.weekdays}
                disabled={!editable} message={at("send_window.weekdays")} name={(d) => d}
                onChange={(weekdays) => setWindow({ weekdays })} />
              <Field id="window-zone" label="Time zone (when the contact has none; empty: UTC)"
                message={at("send_window.timezone")}>
                <input {...described("window-zone", editable, at("send_window.timezone"))}
                  list="window-zones" value={sendWindow.timezone ?? ""} autocomplete="off"
                  onInput={(e) => setWindow({ timezone: (e.target as HTMLInputElement).value || null })} />
                <datalist id="window-zones">
                  {ZONES.map((z) => <option key={z} value={z} />)}
                </datalist>
              </Field>
            </>) : null}
          <Field id="resume-policy" label="On resume, steps missed while paused"
            message={at("resume_policy")}>
            <Select id="resume-policy" value={journey.resume_policy} options={RESUME}
              disabled={!editable} message={at("resume_policy")}
              onChange={(resume_policy) => set({ resume_policy })} />
          </Field>
        </div>
        <GoalSection goal={journey.goal} editable={editable} placed={placed}
          onChange={(goal) => set({ goal })} />
        <ExperimentsSection experiments={journey.experiments} steps={props.steps}
          editable={editable} placed={placed} onChange={(experiments) => set({ experiments })} />
        <div class="drawer-section" role="group" aria-labelledby="settings-audience">
          <h3 id="settings-audience">Holdout and caps</h3>
          <Field id="holdout" label="Holdout (% of enrollments sent nothing, 0–50)"
            message={at("holdout_percent")}>
            <NumberInput id="holdout" value={journey.holdout_percent} min={0} max={50}
              disabled={!editable} message={at("holdout_percent")}
              onChange={(holdout_percent) => set({ holdout_percent })} />
          </Field>
          <Check id="cap-exempt" label="Transactional: exempt from the frequency caps"
            checked={journey.frequency_cap_exempt} disabled={!editable}
            message={at("frequency_cap_exempt")}
            onChange={(frequency_cap_exempt) => set({ frequency_cap_exempt })} />
        </div>
      </form>
    </section>
  );
}
