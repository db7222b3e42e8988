// The API's response shapes the console reads (a subset of /openapi.json).
export interface Page<T> { items: T[]; total: number; page: number; limit: number }

export interface MessageTemplate {
  type: string; content: string; template_id: string | null;
  variables: Record<string, string>; media_url: string | null; channel: string;
}
export interface Condition { type: string; operator: string; value: string; field: string | null }
export interface Step {
  id: string; order: number; name: string; delay_amount: number; delay_unit: string;
  message_template: MessageTemplate; conditions: Condition[]; on_condition_fail: string;
}
export interface Arm {
  key: string; weight: number; message_template?: MessageTemplate | null; steps?: Step[] | null;
}
export interface Experiment {
  id: string; kind: string; step_id: string | null; arms: Arm[]; metric: string;
  auto_winner?: Record<string, unknown> | null;
}
export interface SendWindow { hours: number[]; weekdays: string[]; timezone: string | null }
export interface Goal {
  event_type: string; match: Record<string, string>; attribution_window_hours: number;
  exit_on_goal: boolean;
}
export interface ReEnrollment { policy: string; cooldown_seconds: number }
/**
 * A journey's settings as the builder edits them: what `PUT /sequences/{id}` takes on a draft
 * sequence; a draft revision takes all but trigger and re-enrollment (`PUT …/revisions/{n}`).
 */
export interface Journey {
  trigger_type: string; trigger_data: Record<string, string>; reenrollment: ReEnrollment;
  exit_on_reply: boolean; send_window: SendWindow | null; resume_policy: string;
  goal: Goal | null; frequency_cap_exempt: boolean; experiments: Experiment[];
  holdout_percent: number;
}
export interface Sequence {
  id: string; name: string; description: string; status: string; trigger_type: string;
  trigger_data: Record<string, string>; exit_on_reply: boolean; steps: Step[];
  version: number; created_at: string; updated_at: string; activated_at: string | null;
  revision: number | null; draft_revision: number | null;
  reenrollment?: ReEnrollment; send_window?: SendWindow | null; resume_policy?: string;
  goal?: Goal | null; frequency_cap_exempt?: boolean | null; experiments?: Experiment[];
  holdout_percent?: number;
}
export interface Preview {
  rendered: { type: string; channel: string; content: string; variables: Record<string, string>;
    media_url: string | null };
  missing: string[]; contact_known: boolean; warnings: string[];
}
export interface Rates { [name: string]: number | null }
export interface StepFunnel {
  step_id: string | null; step_order: number; reached: number; message_requested: number;
  skipped: Record<string, number>; failed: number; delivered: number; opened: number;
  clicked: number; replied?: number; unsubscribed?: number; converted?: number; rates: Rates;
}
export interface Stats {
  sequence_id: string; total_enrolled: number; active_count: number; paused_count: number;
  completed_count: number; exited_count: number; completion_rate: number;
  exits_by_reason: Record<string, number>; avg_completion_seconds: number | null;
  steps: StepFunnel[];
  conversions?: { converted: number; conversion_rate: number | null; lift: number | null;
    holdout: { enrolled: number; converted: number; conversion_rate: number | null } } | null;
}
export interface Day {
  date: string; enrolled: number; sent: number; delivered: number; opened: number;
  clicked: number; replied: number; unsubscribed: number; converted: number;
  completed: number; exited: number;
}
export interface Enrollment {
  id: string; sequence_id: string; contact_id: string; status: string;
  current_step_order: number; next_scheduled_at: string | null; enrolled_at: string;
  completed_at: string | null; exited_at: string | null; exit_reason: string | null;
  converted_at: string | null; source: string; version: number; revision: number;
}
export interface HistoryEntry { version: number; type: string; at: string; data: Record<string, unknown> }
export interface Message {
  message_id: string; step_order: number | null; channel: string | null; status: string;
  due_at: string | null; created_at: string | null; content: string | null;
}
