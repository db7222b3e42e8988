import { useRef, useState } from "preact/hooks";

import { API, get, query } from "../api";
import { blankCard, templateCard } from "../builder";
import type { Card, StepTemplateBody } from "../builder";
import { ProblemText } from "../components";
import type { Page } from "../types";

interface StepTemplate { id: string; name: string; description: string; body: StepTemplateBody }

/** "Add a message" and "Add from a template" under the last card: each makes a card that
 * exists only on the page until Save. */
export function AddSteps(props: { channel?: string; onAdd: (card: Card) => void }) {
  const [templates, setTemplates] = useState<StepTemplate[] | null>(null);
  const [picking, setPicking] = useState<string | null>(null);  // the template chosen
  const [error, setError] = useState<unknown>(null);
  const chosen = templates?.find((t) => t.id === picking);
  const opener = useRef<HTMLButtonElement>(null);
  /** The picker closed without adding: the focus goes back to the button that opened it. */
  const close = () => { setPicking(null); requestAnimationFrame(() => opener.current?.focus()); };

  async function open() {
    setError(null);
    try {
      const found = templates ?? (await get<Page<StepTemplate>>(
        `${API}/templates${query({ kind: "step", limit: 500 })}`)).items;
      setTemplates(found);
      setPicking(found[0]?.id ?? "");
    } catch (e) { setError(e); }
  }

  return (
    <div>
      <div class="add-steps">
        <button type="button" class="quiet" id="add-message"
          onClick={() => props.onAdd(blankCard(props.channel))}>
          Add a message</button>
        <button type="button" class="quiet" ref={opener} aria-expanded={picking !== null}
          onClick={() => { if (picking === null) open(); else setPicking(null); }}>
          Add from a template</button>
      </div>
      <ProblemText error={error} />
      {picking !== null && templates ? (
        <div class="card template-picker">
          {templates.length === 0 ? <p class="muted">There are no step templates.</p> : (
            <div class="field">
              <label for="step-template">Step template</label>
              <select id="step-template" value={picking}
                onChange={(e) => setPicking((e.target as HTMLSelectElement).value)}>
                {templates.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
              </select>
            </div>)}
          {chosen ? <p class="muted">{chosen.body.message_template.content}</p> : null}
          <div class="savebar">
            <button type="button" disabled={!chosen}
              onClick={() => { if (chosen) { props.onAdd(templateCard(chosen)); setPicking(null); } }}>
              Add this step</button>
            <button type="button" class="quiet" onClick={close}>Cancel</button>
          </div>
        </div>) : null}
    </div>
  );
}
