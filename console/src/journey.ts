// A journey's settings as the builder holds them, apart from the screen: what a save must send.
import type { Experiment, Journey, Sequence } from "./types";

/** The fields a draft revision takes; trigger and re-enrollment belong to the sequence. */
export const REVISION_FIELDS = ["exit_on_reply", "send_window", "resume_policy", "goal",
  "frequency_cap_exempt", "experiments", "holdout_percent"] as const;
export const SEQUENCE_FIELDS = ["trigger_type", "trigger_data", "reenrollment",
  ...REVISION_FIELDS] as const;

/** The journey of a sequence or of one of its revisions (`of`: the revision, when editing one). */
export function journeyOf(sequence: Sequence, of: Partial<Journey> | null = null): Journey {
  const source = { ...sequence, ...(of ?? {}) };
  return {
    trigger_type: sequence.trigger_type, trigger_data: { ...sequence.trigger_data },
    reenrollment: sequence.reenrollment ?? { policy: "never", cooldown_seconds: 0 },
    exit_on_reply: source.exit_on_reply, send_window: source.send_window ?? null,
    resume_policy: source.resume_policy ?? "send_late", goal: source.goal ?? null,
    frequency_cap_exempt: source.frequency_cap_exempt ?? false,
    experiments: source.experiments ?? [], holdout_percent: source.holdout_percent ?? 0,
  };
}

function same(a: unknown, b: unknown): boolean { return JSON.stringify(a) === JSON.stringify(b); }

/** The settings of `mine` that differ from `base`, among those the target takes. */
export function journeyChanges(mine: Journey, base: Journey, revision: boolean,
): Partial<Journey> {
  const fields: readonly (keyof Journey)[] = revision ? REVISION_FIELDS : SEQUENCE_FIELDS;
  const patch: Partial<Record<keyof Journey, unknown>> = {};
  for (const name of fields) if (!same(mine[name], base[name])) patch[name] = mine[name];
  return patch as Partial<Journey>;
}

/** "Keep mine" after a 412: my changed settings laid over the server's current ones. The
 * experiments merge one by one (by id): each step's test is edited on its own, so someone
 * else's test on another step stays. */
export function rebaseJourney(mine: Journey, original: Journey, fresh: Journey): Journey {
  const changes = journeyChanges(mine, original, false);
  if (changes.experiments) {
    changes.experiments = rebaseExperiments(mine.experiments, original.experiments,
      fresh.experiments);
  }
  return { ...fresh, ...changes };
}

/** The server's experiments with mine added, changed or removed since `original`. */
function rebaseExperiments(mine: Experiment[], original: Experiment[], fresh: Experiment[],
): Experiment[] {
  const find = (list: Experiment[], id: string) => list.find((x) => x.id === id);
  const kept = fresh.flatMap((theirs) => {
    const before = find(original, theirs.id);
    const now = find(mine, theirs.id);
    if (!before) return [now ?? theirs]; // theirs, or both added it: mine
    if (!now) return []; // I removed it
    return [same(now, before) ? theirs : now];
  });
  // New with me, or changed by me after they removed it.
  const added = mine.filter((x) => !find(fresh, x.id)
    && !same(x, find(original, x.id) ?? null));
  return [...kept, ...added];
}

/** The content experiment testing `stepId`, if any. */
export function experimentOf(journey: Journey, stepId: string): Experiment | null {
  return journey.experiments.find((x) => x.kind === "content" && x.step_id === stepId) ?? null;
}
