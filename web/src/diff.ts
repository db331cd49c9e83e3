// A prompt diff drawn from its ops: the child's prompt with removed text
// struck through (<del>) and added text marked (<ins>). The ops carry only
// before/after text, so each one is located in the two prompts in order;
// when that fails the ops are listed on their own.
import type { DiffOp } from "./queries";

type Piece = { kind: "same" | "del" | "ins"; text: string };

export function diffPieces(parent: string, child: string, ops: DiffOp[]): Piece[] | null {
  const pieces: Piece[] = [];
  let p = 0;
  let c = 0;
  for (const op of ops) {
    let pi: number;
    let ci: number;
    if (op.before) {
      pi = parent.indexOf(op.before, p);
      if (pi < 0) return null;
      if (op.after) {
        ci = child.indexOf(op.after, c);
        if (ci < 0) return null;
      } else {
        ci = c + (pi - p);
      }
    } else {
      ci = child.indexOf(op.after, c);
      if (ci < 0) return null;
      pi = p + (ci - c);
    }
    const same = child.slice(c, ci);
    if (same) pieces.push({ kind: "same", text: same });
    if (op.before) pieces.push({ kind: "del", text: op.before });
    if (op.after) pieces.push({ kind: "ins", text: op.after });
    p = pi + op.before.length;
    c = ci + op.after.length;
  }
  const rest = child.slice(c);
  if (rest) pieces.push({ kind: "same", text: rest });
  return pieces;
}

export function renderDiff(parent: string, child: string, ops: DiffOp[]): HTMLElement {
  const out = document.createElement("p");
  out.className = "diff";
  const pieces = diffPieces(parent, child, ops);
  if (pieces === null) {
    for (const op of ops) out.append(renderOp(op), " ");
    return out;
  }
  if (!ops.length) {
    out.append(child, " ");
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = "(no prompt change)";
    out.append(note);
    return out;
  }
  for (const piece of pieces) {
    if (piece.kind === "same") out.append(piece.text);
    else out.append(mark(piece.kind, piece.text));
  }
  return out;
}

function mark(kind: "del" | "ins", text: string): HTMLElement {
  const el = document.createElement(kind);
  el.textContent = text;
  el.title = kind === "del" ? "removed" : "added";
  return el;
}

function renderOp(op: DiffOp): HTMLElement {
  const span = document.createElement("span");
  if (op.before) span.append(mark("del", op.before));
  if (op.before && op.after) span.append(" → ");
  if (op.after) span.append(mark("ins", op.after));
  return span;
}
