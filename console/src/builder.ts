// The builder's arithmetic, apart from the screen: what a save must send for an arrangement.
import { ApiError } from "./api";
import type { MessageTemplate, Step } from "./types";

export const EDITABLE = ["name", "delay_amount", "delay_unit", "message_template",
  "conditions", "on_condition_fail"] as const;
export type Editable = (typeof EDITABLE)[number];
export type StepPatch = Partial<Pick<Step, Editable | "order">>;

/** A card of the builder: a saved step, or one added here and not saved yet (a temporary id,
 * sent without it), written out or copied from a step template (`template`). */
export interface Card extends Step {
  template?: { id: string; name: string; copied: Step };
}

const LOCAL = "local-";
let made = 0;

/** Added here, not saved yet: its id is the page's own. */
export function isLocal(card: Step): boolean { return card.id.startsWith(LOCAL); }

function localId(): string { made += 1; return `${LOCAL}${made}`; }

function same(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

/** The fields of `mine` that differ from `base` (the server's step of the same id). */
export function changes(mine: Step, base: Step | undefined): StepPatch {
  const patch: Record<string, unknown> = {};
  for (const name of EDITABLE) {
    if (!base || !same(mine[name], base[name])) patch[name] = mine[name];
  }
  return patch as StepPatch;
}

const TEXT: MessageTemplate = { type: "text", content: "", template_id: null, variables: {},
  media_url: null, channel: "whatsapp" };

/** A new message, on the channel of the card before it: its content is for the user. */
export function blankCard(channel = TEXT.channel): Card {
  return { id: localId(), order: -1, name: "New message", delay_amount: 1, delay_unit: "days",
    message_template: { ...TEXT, channel }, conditions: [], on_condition_fail: "exit" };
}

/** What a step template's `body` gives a new step (the server copies the same fields). */
export interface StepTemplateBody {
  name: string; delay_amount: number; delay_unit: string;
  message_template: Partial<MessageTemplate>; conditions?: Step["conditions"];
  on_condition_fail?: string;
}

/** A copy of a step template, shown as the save will make it; edits become its overrides. */
export function templateCard(template: { id: string; name: string; body: StepTemplateBody },
): Card {
  const { body } = template;
  const copied: Step = { id: localId(), order: -1, name: body.name,
    delay_amount: body.delay_amount, delay_unit: body.delay_unit,
    message_template: { ...TEXT, ...body.message_template },
    conditions: body.conditions ?? [], on_condition_fail: body.on_condition_fail ?? "exit" };
  return { ...copied, template: { id: template.id, name: template.name, copied } };
}

function ids(steps: Step[]): string { return steps.map((s) => s.id).join(); }

/** Whether `mine` (in display order) differs from `base` (the server's steps, by order). */
export function stepsChanged(mine: Step[], base: Step[]): boolean {
  return ids(mine) !== ids(base)
    || mine.some((step, i) => Object.keys(changes(step, base[i])).length > 0);
}

/** The highest step order the API takes. */
const MAX_ORDER = 10_000;

/**
 * The order of each position: the numbers the steps have now, in turn (a save that only
 * edits renumbers nothing), then one past the highest for each position beyond them; when
 * those would pass the highest order the API takes, the positions themselves (0, 1, 2, …).
 */
export function numbering(base: Step[], count: number): number[] {
  const used = base.map((s) => s.order).sort((a, b) => a - b);
  const top = used.length ? used[used.length - 1] : -1;
  if (top + Math.max(0, count - used.length) > MAX_ORDER) {
    return Array.from({ length: count }, (_, i) => i);
  }
  return Array.from({ length: count }, (_, i) => (i < used.length ? used[i] : top + 1 + i - used.length));
}

/** The body of `PUT …/steps`: every card, in display order; a step not listed is removed. */
export function items(mine: Card[], base: Step[]): Record<string, unknown>[] {
  const orders = numbering(base, mine.length);
  return mine.map((card, i) => {
    if (card.template) {
      const overrides = changes(card, card.template.copied);
      return { template_id: card.template.id, order: orders[i],
        ...(Object.keys(overrides).length ? { overrides } : {}) };
    }
    const fields: Record<string, unknown> = { order: orders[i] };
    for (const name of EDITABLE) fields[name] = card[name];
    return isLocal(card) ? fields : { id: card.id, ...fields };
  });
}

const ITEM = /^steps\[(\d+)\]\.(?:overrides\.)?(.+)$/;

/** The item a 422 of `PUT …/steps` names first (`steps[2].delay_amount` → 2), if any. */
export function failedItem(error: ApiError): number | null {
  const names = [...(error.problem.errors ?? []).map((e) => e.field), error.problem.field ?? ""];
  for (const name of names) {
    const found = ITEM.exec(name);
    if (found) return Number(found[1]);
  }
  return null;
}

/** The errors of item `index` (the card `name`), named as the inspector names its fields
 * (`delay_amount`); the detail names the card as the page does ("Step 3, Final Offer"), for
 * when it shows away from the card. */
export function errorsOf(error: ApiError, index: number, name: string): ApiError {
  const local = (field: string | null | undefined) => {
    const found = field ? ITEM.exec(field) : null;
    return found && Number(found[1]) === index ? found[2] : null;
  };
  const errors = (error.problem.errors ?? []).flatMap((e) => {
    const field = local(e.field);
    return field ? [{ field, message: e.message }] : [];
  });
  const label = (field: string) => (field.split(".").pop() ?? field).replace(/_/g, " ");
  const detail = errors.length ? `Step ${index + 1}, ${name}: `
    + errors.map((e) => `${label(e.field)}: ${e.message}`).join("; ") : error.problem.detail;
  return new ApiError({ ...error.problem, detail, field: local(error.problem.field), errors });
}

export function move<T>(items: T[], from: number, to: number): T[] {
  if (to < 0 || to >= items.length || from === to) return items;
  const copy = items.slice();
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}

/**
 * "Keep mine" after a 412: my edits (`mine` against what I loaded, `original`) laid over what
 * the server has now (`fresh`), so neither side's other fields are lost. My arrangement wins
 * if I changed it, with the cards I added and without those I removed; steps removed
 * elsewhere stay removed, steps added elsewhere come last.
 */
export function rebase(mine: Card[], original: Step[], fresh: Step[]): Card[] {
  const before = new Map(original.map((s) => [s.id, s]));
  const now = new Map(fresh.map((s) => [s.id, s]));
  const edited = new Map(mine.map((s) => [s.id, s]));
  const order = ids(mine) !== ids(original) ? mine.map((s) => s.id) : fresh.map((s) => s.id);
  const merged = order.flatMap((id): Card[] => {
    const own = edited.get(id);
    if (own && isLocal(own)) return [own];
    const theirs = now.get(id);
    if (!theirs) return [];
    return [own ? { ...theirs, ...changes(own, before.get(id)) } : theirs];
  });
  return [...merged, ...fresh.filter((s) => !before.has(s.id) && !order.includes(s.id))];
}
