// One message's controls: channel, type, content with the variable picker, the WhatsApp
// template id or the media URL, and its variables. The step's own message and each
// content variant are edited with these same controls.
import { useEffect, useRef } from "preact/hooks";

import type { MessageTemplate } from "../types";
import { described, Field, inputValue, type Lookup } from "./field";
import { insertAt, VariablePicker, variableGroups, VariablesMap } from "./variables";

const TYPES = ["text", "template", "media"];

/** `at` names fields inside the message (`content`, `variables.x`, …). Mount it with a key
 * per message edited, so the caret it remembers is that message's. */
export function MessageEditor(props: {
  template: MessageTemplate; editable: boolean; at: Lookup; customFields: string[];
  onChange: (template: MessageTemplate) => void;
}) {
  const { template, editable, at } = props;
  const set = (fields: Partial<MessageTemplate>) => props.onChange({ ...template, ...fields });
  const content = useRef<HTMLTextAreaElement>(null);
  const touched = useRef(false); // before the user has been in the text, insert at its end
  const caret = useRef<number | null>(null);

  useEffect(() => {
    const area = content.current;
    if (caret.current === null || !area) return;
    area.focus();
    area.setSelectionRange(caret.current, caret.current);
    caret.current = null;
  });

  function insert(expression: string) {
    const area = content.current;
    const end = template.content.length;
    const [from, to] = area && touched.current ? [area.selectionStart, area.selectionEnd]
      : [end, end];
    const done = insertAt(template.content, from, to, expression);
    caret.current = done.caret;
    touched.current = true;
    set({ content: done.text });
  }

  return (
    <div class="message">
      <div class="row">
        <Field id="step-channel" label="Channel" message={at("channel")}>
          <input {...described("step-channel", editable, at("channel"))}
            value={template.channel} onInput={(e) => set({ channel: inputValue(e) })} />
        </Field>
        <Field id="step-type" label="Type" message={at("type")}>
          <select {...described("step-type", editable, at("type"))} value={template.type}
            onChange={(e) => set({ type: inputValue(e) })}>
            {TYPES.map((t) => <option key={t} value={t}>{t}</option>)}</select>
        </Field>
      </div>
      <Field id="step-content" label="Content" message={at("content")}>
        <textarea {...described("step-content", editable, at("content"))} ref={content}
          rows={4} value={template.content} onFocus={() => { touched.current = true; }}
          onInput={(e) => set({ content: inputValue(e) })} />
      </Field>
      {editable ? (
        <VariablePicker id="step-variable" onInsert={insert}
          groups={variableGroups(template, props.customFields)} />) : null}
      {template.type === "template" || template.template_id ? (
        <Field id="step-template-id" label="WhatsApp template id" message={at("template_id")}>
          <input {...described("step-template-id", editable, at("template_id"))}
            value={template.template_id ?? ""}
            onInput={(e) => set({ template_id: inputValue(e) || null })} />
        </Field>) : null}
      {template.type === "media" || template.media_url ? (
        <Field id="step-media-url" label="Media URL (https://)" message={at("media_url")}>
          <input {...described("step-media-url", editable, at("media_url"))} type="url"
            value={template.media_url ?? ""}
            onInput={(e) => set({ media_url: inputValue(e) || null })} />
        </Field>) : null}
      <VariablesMap id="step-variables" variables={template.variables} editable={editable}
        at={at} onChange={(variables) => set({ variables })} />
    </div>
  );
}
