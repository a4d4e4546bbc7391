// The review loop: acknowledge a change, the changes shown, or a whole run, with the reviewer's name and an
// optional note (kept with the history, in its hash chain; never sent to AMA).
import { useState } from "preact/hooks";
import { post } from "./api.ts";
import type { ChangeRow } from "./api.ts";
import { num } from "./format.ts";
import { say, tick } from "./state.ts";
import { Time } from "./common.tsx";

const NAME = "ctagent.reviewer";
function storedName(): string {
  try {
    return localStorage.getItem(NAME) ?? "";
  } catch {
    return "";
  }
}

/** What an acknowledgement covers: change ids, or a run's changes. */
export type Subject = { changeIds: number[] } | { run: number };

/** A button that opens the acknowledge form for `subject`. */
export function AckButton(props: { subject: Subject; label: string; count: number }) {
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <button type="button" class="small-btn ack-open" onClick={() => setOpen(true)}>
        {props.label}
      </button>
    );
  }
  return <AckForm {...props} close={() => setOpen(false)} />;
}

/** What is acknowledged, in words. */
function what(p: { subject: Subject; count: number }): string {
  if ("run" in p.subject) return `every change of run ${p.subject.run}`;
  return `${num(p.count)} change${p.count === 1 ? "" : "s"}`;
}

function AckForm(props: { subject: Subject; count: number; close(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="ack-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const reviewer = String(f.get("reviewer") ?? "").trim();
        const note = String(f.get("note") ?? "");
        try {
          localStorage.setItem(NAME, reviewer);
        } catch { /* not kept */ }
        setBusy(true);
        try {
          await post("acks", { ...props.subject, reviewer, ...(note ? { note } : {}) });
          say(`Acknowledged ${what(props)}`);
          props.close();
          tick.value++;
        } catch (err) {
          setError((err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        Reviewer{" "}
        <input name="reviewer" required maxLength={200} defaultValue={storedName()} autocomplete="name" />
      </label>
      <label>
        Note <textarea name="note" rows={2} maxLength={10000} placeholder="optional: why this is expected" />
      </label>
      <div class="ack-actions">
        <button type="submit" class="primary" disabled={busy}>
          Acknowledge {what(props)}
        </button>
        <button type="button" onClick={props.close}>Cancel</button>
      </div>
      {error && <div class="err small" role="alert">{error}</div>}
    </form>
  );
}

/** A change's review state: who acknowledged it, when, with what note. */
export function Reviewed(props: { change: ChangeRow }) {
  const a = props.change.ack;
  if (!a) return null;
  return (
    <span class="reviewed" title={a.note ? `${a.reviewer}: ${a.note}` : `acknowledged by ${a.reviewer}`}>
      ✓ {a.reviewer} <Time at={a.at} rel />
      {a.note ? <span class="dim">· “{a.note}”</span> : null}
    </span>
  );
}
