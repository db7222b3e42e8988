// The builder's arithmetic, apart from the screen: what a save must send for an arrangement.
import type { Step } from "./types";

export const EDITABLE = ["name", "delay_amount", "delay_unit", "message_template",
  "conditions", "on_condition_fail"] as const;
export type Editable = (typeof EDITABLE)[number];
export type StepPatch = Partial<Pick<Step, Editable | "order">>;

export interface Write { stepId: string; patch: StepPatch }

function same(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

/** The fields of `mine` that differ from `base` (the server's step of the same id). */
export function changes(mine: Step, base: Step | undefined): StepPatch {
  const patch: Record<string, unknown> = {};
  for (const name of EDITABLE) {
    if (!base || !same(mine[name], base[name])) patch[name] = mine[name];
  }
  return patch as StepPatch;
}

/**
 * The PUTs that turn `base` (the server's steps) into `mine` (in display order). Orders are
 * unique, so a step that moves first parks on a free order above all others, then takes its
 * place; the order numbers in use stay the ones the sequence had.
 */
export function plan(mine: Step[], base: Step[]): Write[] {
  const byId = new Map(base.map((s) => [s.id, s]));
  const orders = base.map((s) => s.order).sort((a, b) => a - b);
  const park = (orders.length ? orders[orders.length - 1] : 0) + 1;
  const parked: Write[] = [];
  const settled: Write[] = [];
  mine.forEach((step, index) => {
    const order = orders[index];
    const patch = changes(step, byId.get(step.id));
    const moves = byId.get(step.id)?.order !== order;
    if (moves) parked.push({ stepId: step.id, patch: { order: park + parked.length } });
    if (moves || Object.keys(patch).length) {
      settled.push({ stepId: step.id, patch: moves ? { ...patch, order } : patch });
    }
  });
  return [...parked, ...settled];
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
 * if I changed it; steps removed elsewhere stay removed, steps added elsewhere come last.
 */
export function rebase(mine: Step[], original: Step[], fresh: Step[]): Step[] {
  const before = new Map(original.map((s) => [s.id, s]));
  const now = new Map(fresh.map((s) => [s.id, s]));
  const rearranged = mine.map((s) => s.id).join() !== original.map((s) => s.id).join();
  const order = rearranged ? mine.map((s) => s.id) : fresh.map((s) => s.id);
  const edited = new Map(mine.map((s) => [s.id, s]));
  const merged = order.filter((id) => now.has(id)).map((id) => {
    const theirs = now.get(id) as Step;
    const own = edited.get(id);
    return own ? { ...theirs, ...changes(own, before.get(id)) } : theirs;
  });
  return [...merged, ...fresh.filter((s) => !order.includes(s.id))];
}
