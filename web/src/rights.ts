// Status marks (the contract's "Rights" fields): the selected video's status
// in its header, and removed / derived-from-removed marks in the tree and path.
import { gql } from "./api";
import { $, el, fmt } from "./dom";
import { RIGHTS, type CoreVideo, type RightsVideo, type StatusMark } from "./queries";

export async function loadRights(video: CoreVideo, isCurrent: () => boolean): Promise<void> {
  let rights: RightsVideo;
  try {
    rights = (await gql<{ video: RightsVideo }>(RIGHTS, { id: video.id })).video;
  } catch (error) {
    if (!isCurrent()) return;
    // A server without the rights fields: no status to show.
    const mark = $("status-mark");
    mark.hidden = true;
    mark.title = `status is not available from this server (${error instanceof Error ? error.message : error})`;
    return;
  }
  if (!isCurrent()) return;
  const mark = $("status-mark");
  if (rights.status === "REMOVED") {
    mark.className = "status removed";
    mark.textContent = `Removed${rights.removedReason ? `: ${rights.removedReason}` : ""}`;
  } else if (rights.derivedFromRemoved) {
    mark.className = "status derived";
    mark.textContent = "Derived from removed content";
  } else {
    mark.className = "status active";
    mark.textContent = "Active";
  }
  mark.dataset.status = rights.status;
  mark.dataset.derivedFromRemoved = String(rights.derivedFromRemoved);
  if (rights.removedDerivativeCount > 0) {
    mark.textContent += ` · ${fmt.format(rights.removedDerivativeCount)} removed below`;
  }
  const marks: StatusMark[] = [rights, ...rights.ancestors];
  for (const v of rights.topVariants) marks.push(v.child, ...v.child.topVariants.map((w) => w.child));
  for (const m of marks) {
    const cls = m.status === "REMOVED" ? "removed" : m.derivedFromRemoved ? "derived" : null;
    if (!cls) continue;
    const text = cls === "removed" ? "removed" : "derived from removed";
    for (const node of document.querySelectorAll<SVGGElement>(`[data-video-id="${CSS.escape(m.id)}"]`)) {
      node.classList.add(cls);
      node.setAttribute("aria-label", `${node.getAttribute("aria-label")} (${text})`);
    }
    for (const item of document.querySelectorAll<HTMLElement>(`[data-path-id="${CSS.escape(m.id)}"] .step-head`)) {
      item.append(el("span", { class: `badge ${cls}`, text }));
    }
  }
}
