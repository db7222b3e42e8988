import { useEffect, useState } from "preact/hooks";

import { API, ApiError, call } from "../api";
import type { Answer } from "../api";
import { Loading, ProblemText } from "../components";
import { Dialog, placing } from "../dialog";
import { Field } from "./field";
import {
  changesOf, formOf, NEW_RULE, NEW_THROTTLE, ON_CAP, rebaseForm, repeatedChannels, ruleField,
  WINDOWS,
} from "../tenant";
import type { RuleForm, SettingsForm, TenantSettings, ThrottleForm, Window } from "../tenant";

interface Server { form: SettingsForm; etag: string; version: number }

function serverOf(answer: Answer<TenantSettings>): Server {
  return { form: formOf(answer.body), etag: answer.etag ?? `"${answer.body.version}"`,
    version: answer.body.version };
}

async function load(): Promise<Server> {
  return serverOf(await call<TenantSettings>("GET", `${API}/settings`));
}

const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;

/** The tenant's time zone, frequency cap and throttles, edited and saved with If-Match. */
export function TenantSettingsEditor() {
  const [server, setServer] = useState<Server | null>(null);
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [failed, setFailed] = useState<ApiError | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  function take(loaded: Server) { setServer(loaded); setForm(loaded.form); setFailed(null); }
  useEffect(() => { load().then(take, setProblem); }, []);

  if (!server || !form) return problem ? <ProblemText error={problem} /> : <Loading what="tenant settings" />;
  const dirty = Object.keys(changesOf(form, server.form)).length > 0;
  const set = (fields: Partial<SettingsForm>) => { setForm({ ...form, ...fields }); setSaved(false); };
  const setRule = (i: number, fields: Partial<RuleForm>) =>
    set({ rules: form.rules.map((r, j) => (j === i ? { ...r, ...fields } : r)) });
  const setThrottle = (i: number, fields: Partial<ThrottleForm>) =>
    set({ throttle: form.throttle.map((t, j) => (j === i ? { ...t, ...fields } : t)) });

  // Where each message of a 422 goes: beside its control, else in the alert below the form.
  const place = placing(failed);
  const at = place.at;
  // A rule or throttle added or removed shifts the rows the messages name by index.
  const reshape = (fields: Partial<SettingsForm>) => { setFailed(null); set(fields); };
  // Two rows for one channel would be one key of the body: the later one is refused here.
  const twice = repeatedChannels(form.throttle);

  async function save(base: Server, mine: SettingsForm) {
    const clash = repeatedChannels(mine.throttle).keys().next();
    if (!clash.done) { document.getElementById(`throttle-${clash.value}-channel`)?.focus(); return; }
    setSaving(true); setFailed(null); setProblem(null); setConflict(false); setSaved(false);
    try {
      const answer = await call<TenantSettings>("PUT", `${API}/settings`,
        { body: changesOf(mine, base.form), ifMatch: base.etag });
      take(serverOf(answer));
      setSaved(true);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) setFailed(e);
      else if (e instanceof ApiError && e.status === 412) setConflict(true);
      else setProblem(e);
    } finally {
      setSaving(false);
    }
  }

  async function keepMine() {
    if (!server || !form) return;
    // The dialog goes at once: a second click cannot start a second save.
    setConflict(false); setSaving(true);
    const fresh = await load().finally(() => setSaving(false));
    const merged = rebaseForm(form, server.form, fresh.form);
    setServer(fresh); setForm(merged);
    await save(fresh, merged);
  }

  const capFields = (
    <>
      {form.rules.length === 0 ? <p class="muted">No cap: every send is allowed.</p> : (
        <ol class="rules">
          {form.rules.map((r, i) => (
            <li key={i} class="card rule" data-rule={i}>
              <div class="row">
                <Field id={`rule-${i}-channel`} label={`Rule ${i + 1} channel`}
                  message={at(ruleField(i, "channel"))}>
                  {(aria) => <input {...aria} value={r.channel} placeholder="any"
                    onInput={(e) => setRule(i, { channel: value(e) })} />}
                </Field>
                <Field id={`rule-${i}-max`} label="Max messages"
                  message={at(ruleField(i, "max_messages"))}>
                  {(aria) => <input {...aria} type="number" min={1} value={r.max_messages}
                    onInput={(e) => setRule(i, { max_messages: value(e) })} />}
                </Field>
                <Field id={`rule-${i}-window`} label="Window" message={r.window === "rolling_hours"
                  ? undefined : at(ruleField(i, "window"))}>
                  {(aria) => <select {...aria} value={r.window}
                    onChange={(e) => setRule(i, { window: value(e) as Window })}>
                    {WINDOWS.map((w) => <option key={w.value} value={w.value}>{w.label}</option>)}
                  </select>}
                </Field>
                {r.window === "rolling_hours" ? (
                  <Field id={`rule-${i}-hours`} label="Hours (1–720)"
                    message={at(`${ruleField(i, "window")}.rolling_hours`, ruleField(i, "window"))}>
                    {(aria) => <input {...aria} type="number" min={1} max={720} value={r.hours}
                      onInput={(e) => setRule(i, { hours: value(e) })} />}
                  </Field>) : null}
              </div>
              <button type="button" class="quiet" aria-label={`Remove rule ${i + 1}`}
                onClick={() => reshape({ rules: form.rules.filter((_, j) => j !== i) })}>
                Remove</button>
            </li>
          ))}
        </ol>)}
      {form.rules.length < 10 ? (
        <button type="button" class="quiet" onClick={() => reshape({ rules: [...form.rules, NEW_RULE] })}>
          Add a rule</button>) : null}
      {(() => { const m = at("frequency_cap.rules", "frequency_cap");
        return m ? <p class="field-error" role="alert">{m}</p> : null; })()}
      {form.rules.length > 0 ? (
        <div class="row">
          <Field id="on-cap" label="Over the cap" message={at("frequency_cap.on_cap")}>
            {(aria) => <select {...aria} value={form.on_cap}
              onChange={(e) => set({ on_cap: value(e) })}>
              {ON_CAP.map((o) => <option key={o} value={o}>{o}</option>)}</select>}
          </Field>
          <Field id="max-defer-hours" label="Max defer hours"
            message={at("frequency_cap.max_defer_hours")}>
            {(aria) => <input {...aria} type="number" min={1} max={720}
              value={form.max_defer_hours}
              onInput={(e) => set({ max_defer_hours: value(e) })} />}
          </Field>
        </div>) : null}
    </>
  );

  const throttleFields = (
    <>
      {form.throttle.length === 0 ? <p class="muted">No throttle.</p> : (
        <ol class="rules">
          {form.throttle.map((t, i) => {
            const key = `throttle.${t.channel.trim()}`;
            return (
              <li key={i} class="row" data-throttle={i}>
                <Field id={`throttle-${i}-channel`} label={`Throttle ${i + 1} channel`}
                  message={twice.has(i) ? `${t.channel.trim()} has a throttle above: one per channel`
                    : at(key)}>
                  {(aria) => <input {...aria} value={t.channel}
                    onInput={(e) => setThrottle(i, { channel: value(e) })} />}
                </Field>
                <Field id={`throttle-${i}-per-minute`} label="Per minute"
                  message={at(`${key}.per_minute`)}>
                  {(aria) => <input {...aria} type="number" min={1} value={t.per_minute}
                    onInput={(e) => setThrottle(i, { per_minute: value(e) })} />}
                </Field>
                <div class="field">
                  <button type="button" class="quiet" aria-label={`Remove throttle ${i + 1}`}
                    onClick={() => reshape({ throttle: form.throttle.filter((_, j) => j !== i) })}>
                    Remove</button>
                </div>
              </li>);
          })}
        </ol>)}
      <button type="button" class="quiet"
        onClick={() => reshape({ throttle: [...form.throttle, NEW_THROTTLE] })}>Add a throttle</button>
    </>
  );

  const body = (
    <form class="settings" aria-label="Tenant settings" data-settings-version={server.version}
      noValidate /* the API's 422 names the field, beside it; the browser's bubble would not */
      onSubmit={(e) => { e.preventDefault(); if (dirty && !saving) void save(server, form); }}>
      <Field id="timezone" label="Time zone (IANA, for contacts without one)" message={at("timezone")}>
        {(aria) => <input {...aria} value={form.timezone} placeholder="UTC"
          onInput={(e) => set({ timezone: value(e) })} />}
      </Field>
      <fieldset data-setting="frequency_cap">
        <legend>Frequency cap (every rule must allow a send)</legend>
        {capFields}
      </fieldset>
      <fieldset data-setting="throttle">
        <legend>Throttle (message requests per channel per minute)</legend>
        {throttleFields}
      </fieldset>
      <div class="savebar">
        <button type="submit" disabled={!dirty || saving}>{saving ? "Saving…" : "Save settings"}</button>
        <button type="button" class="quiet" disabled={!dirty || saving}
          onClick={() => take(server)}>Discard changes</button>
        <span class="muted" aria-live="polite">{dirty ? "Unsaved changes" : saved ? "Saved" : ""}</span>
      </div>
    </form>
  );
  // Computed after the fields took theirs: a message no control shows goes in the alert.
  const rest = place.rest();
  return (
    <>
      {body}
      {rest ? <p class="problem" role="alert" data-settings-problem>{rest.problem.detail}</p> : null}
      <ProblemText error={problem} />
      {conflict ? (
        <Dialog id="settings-conflict-title" title="Changed elsewhere">
          <p>Someone saved the tenant settings after you opened them. Your values are kept
            until you choose.</p>
          <div class="savebar">
            <button type="button" onClick={() => { setConflict(false); load().then(take, setProblem); }}>
              Reload theirs</button>
            <button type="button" onClick={() => { keepMine().catch(setProblem); }}>Keep mine</button>
          </div>
        </Dialog>) : null}
    </>
  );
}
