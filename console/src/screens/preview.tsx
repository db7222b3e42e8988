// The live preview: the edited (unsaved) message rendered as it would be sent now, for a
// chosen contact or none (POST …/steps/{step_id}/preview with `message_template`).
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";

import { ApiError, call } from "../api";
import { ProblemText } from "../components";
import type { MessageTemplate, Preview } from "../types";
import { described, Field, inputValue, type Lookup } from "./field";

/** Typing pauses this long before the preview asks the server again. */
const DEBOUNCE_MS = 350;

export interface Previewed { preview: Preview | null; error: unknown; pending: boolean }

/** The preview of `template` at `path` (null: the step is not saved yet), asked again a
 * moment after the message or the contact stops changing; a late answer to an older
 * question is dropped. `subject` names the message previewed (a step's, an arm's): until
 * its own first answer, what another one's said is not shown as its. */
export function usePreview(path: string | null, subject: string, template: MessageTemplate,
  contactId: string): Previewed {
  const [state, setState] = useState<Previewed & { subject: string }>(
    { preview: null, error: null, pending: false, subject });
  const message = JSON.stringify(template);
  useEffect(() => {
    if (!path) {
      setState({ preview: null, error: null, pending: false, subject });
      return undefined;
    }
    let live = true;
    setState((s) => ({ ...s, pending: true }));
    const contact = contactId.trim();
    const timer = setTimeout(() => {
      call<Preview>("POST", path, { body: {
        ...(contact ? { contact_id: contact } : {}), message_template: JSON.parse(message) } })
        .then((answer) => {
          if (live) setState({ preview: answer.body, error: null, pending: false, subject });
        }, (error: unknown) => {
          if (live) setState({ preview: null, error, pending: false, subject });
        });
    }, DEBOUNCE_MS);
    return () => { live = false; clearTimeout(timer); };
  }, [path, subject, message, contactId]);
  return state.subject === subject ? state
    : { preview: null, error: null, pending: path !== null };
}

function invalid(error: unknown): ApiError | null {
  return error instanceof ApiError && error.status === 422 ? error : null;
}

/** The preview's 422 about the message, by field inside it (`content`, `variables.x`). */
export function previewLookup(state: Previewed): Lookup {
  return (field) => {
    const message = invalid(state.error)?.at(`message_template.${field}`);
    if (!message || field !== "content" || /^(cannot be rendered|is required)/.test(message)) {
      return message;
    }
    return `cannot be rendered: ${message}`;
  };
}

export function PreviewPanel(props: {
  state: Previewed; saved: boolean; contactId: string; onContact: (id: string) => void;
}) {
  const { state, saved } = props;
  const { preview, error } = state;
  const problem = invalid(error);
  const contactError = problem?.at("contact_id");
  const aboutMessage = problem !== null && (problem.problem.errors ?? [])
    .some((e) => e.field.startsWith("message_template"));
  return (
    <section class="live-preview" aria-labelledby="live-preview-title" data-live-preview>
      <h3 id="live-preview-title">Preview</h3>
      {!saved ? (
        <p class="muted">The preview is available after the first save.</p>) : (
        <>
          <Field id="live-preview-contact" label="Preview for contact id"
            hint="Empty: no contact (the fallbacks are shown)" message={contactError}>
            <input {...described("live-preview-contact", true, contactError,
              "Empty: no contact (the fallbacks are shown)")} value={props.contactId}
              maxLength={200} autoComplete="off"
              onInput={(e) => props.onContact(inputValue(e))} />
          </Field>
          <div aria-live="polite" class="preview-output" data-pending={state.pending || undefined}>
            {state.pending ? <p class="muted">Rendering…</p> : null}
            {aboutMessage ? (
              <p class="muted">The message cannot be rendered: see beside its field.</p>) : null}
            {error && !problem ? <ProblemText error={error} /> : null}
            {preview ? (
              <>
                <p class="preview-content"><span class="muted">
                  {preview.rendered.channel} · {preview.rendered.type}:</span>{" "}
                  {preview.rendered.content}</p>
                {preview.rendered.media_url ? (
                  <p class="preview-media">Media: {preview.rendered.media_url}</p>) : null}
                {Object.keys(preview.rendered.variables).length ? (
                  <dl class="facts">{Object.entries(preview.rendered.variables).map(([k, v]) => (
                    <Fragment key={k}><dt>{k}</dt><dd>{v}</dd></Fragment>))}</dl>) : null}
                <p class="muted" data-contact-known={String(preview.contact_known)}>
                  {preview.contact_known ? "A known contact." : "No known contact."}</p>
                {preview.missing.length ? (
                  <p data-missing="some">Missing for this contact:{" "}
                    {preview.missing.map((m, i) => (
                      <span key={m}>{i ? ", " : ""}<code>{m}</code></span>))}
                  </p>) : <p class="muted" data-missing="none">Nothing missing.</p>}
                {preview.warnings.map((w) => <p key={w} class="note">{w}</p>)}
              </>) : null}
          </div>
        </>)}
    </section>
  );
}
