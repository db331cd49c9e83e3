// The remix tree around the selected video: the video, its top variants and
// theirs, node size by derivative count, labels by variant key, the rest
// folded into "+N more". A few dozen nodes at most, drawn with d3-hierarchy,
// panned and zoomed with d3-zoom, links by d3-shape; a keyboard tree
// (arrows move the focus, Enter opens the focused node).
import { hierarchy, tree as treeLayout, type HierarchyPointNode } from "d3-hierarchy";
import { select } from "d3-selection";
import { linkHorizontal } from "d3-shape";
import { zoom, zoomIdentity } from "d3-zoom";
import type { CoreVideo, TreeChild } from "./queries";

export interface TreeNode {
  kind: "video" | "more";
  id: string; // the video's id; for "more", the parent's id
  label: string;
  count: number; // derivative count; for "more", how many are folded
  directRemixCount: number;
  children?: TreeNode[];
}

const fmt = new Intl.NumberFormat("en-US");

export function buildTree(video: CoreVideo): TreeNode {
  const node = (
    child: TreeChild,
    label: string,
    variants: TreeChild["topVariants"],
  ): TreeNode => {
    const kids = (variants ?? []).map((v) => node(v.child, v.promptDiff.variantKey, undefined));
    const folded = child.directRemixCount - kids.length;
    if (variants && folded > 0) kids.push(more(child.id, folded));
    return {
      kind: "video",
      id: child.id,
      label,
      count: child.derivativeCount,
      directRemixCount: child.directRemixCount,
      children: kids.length ? kids : undefined,
    };
  };
  const top = video.topVariants.map((v) =>
    node(v.child, v.promptDiff.variantKey, v.child.topVariants ?? []),
  );
  const folded = video.directRemixCount - top.length;
  if (folded > 0) top.push(more(video.id, folded));
  return {
    kind: "video",
    id: video.id,
    label: video.title ?? video.id,
    count: video.derivativeCount,
    directRemixCount: video.directRemixCount,
    children: top.length ? top : undefined,
  };
}

function more(parentId: string, folded: number): TreeNode {
  return {
    kind: "more",
    id: parentId,
    label: `+${fmt.format(folded)} more`,
    count: folded,
    directRemixCount: 0,
  };
}

export function radius(node: TreeNode): number {
  if (node.kind === "more") return 5;
  return Math.min(26, 4 + Math.sqrt(node.count) / 6);
}

function short(label: string): string {
  return label.length > 34 ? `${label.slice(0, 33)}…` : label;
}

export interface TreeHandlers {
  open(node: TreeNode): void;
}

const ROW = 21;
const COLUMN = 270;
const LEFT = 170; // room for the selected video's label, left of it

export function renderTree(container: HTMLElement, root: TreeNode, handlers: TreeHandlers): void {
  container.replaceChildren();
  const data = hierarchy(root, (d) => d.children);
  const laid = treeLayout<TreeNode>().nodeSize([ROW, COLUMN])(data);
  let x0 = Infinity;
  let x1 = -Infinity;
  laid.each((d) => {
    x0 = Math.min(x0, d.x);
    x1 = Math.max(x1, d.x);
  });
  const width = container.clientWidth || 900;
  const height = root.children ? Math.max(120, x1 - x0 + ROW * 2) : ROW * 3;
  const ns = "http://www.w3.org/2000/svg";
  const svg = select(container)
    .append("svg")
    .attr("class", "tree")
    .attr("width", "100%")
    .attr("height", height)
    .attr("viewBox", `0 0 ${width} ${height}`);
  svg.append("title").text("Remix tree (drag to pan, Ctrl + wheel to zoom)");
  const layer = svg.append("g");
  const offset = { x: LEFT, y: ROW - x0 };
  layer.attr("transform", `translate(${offset.x},${offset.y})`);
  const view = svg.append("g").attr("class", "view");
  view.node()?.append(layer.node() as Node);

  const link = linkHorizontal<unknown, HierarchyPointNode<TreeNode>>()
    .x((d) => d.y)
    .y((d) => d.x);
  layer
    .append("g")
    .attr("class", "links")
    .selectAll("path")
    .data(laid.links())
    .join("path")
    .attr("d", (d) => link({ source: d.source, target: d.target }) ?? "");

  const treeRoot = document.createElementNS(ns, "g");
  treeRoot.setAttribute("role", "tree");
  treeRoot.setAttribute("aria-label", `Remix tree of ${root.label}`);
  layer.node()?.append(treeRoot);

  const all = laid.descendants();
  const elements = new Map<HierarchyPointNode<TreeNode>, SVGGElement>();
  for (const d of all) {
    const g = document.createElementNS(ns, "g") as SVGGElement;
    const n = d.data;
    g.setAttribute("class", `node ${n.kind}${d.depth === 0 ? " selected" : ""}`);
    g.setAttribute("transform", `translate(${d.y},${d.x})`);
    g.setAttribute("role", "treeitem");
    g.setAttribute("aria-level", String(d.depth + 1));
    if (d.children) g.setAttribute("aria-expanded", "true");
    g.setAttribute("tabindex", d.depth === 0 ? "0" : "-1");
    if (n.kind === "video") {
      g.dataset.videoId = n.id;
      g.setAttribute(
        "aria-label",
        `${n.label}: ${n.id}, ${fmt.format(n.count)} derivatives, ${fmt.format(n.directRemixCount)} direct remixes`,
      );
    } else {
      g.dataset.moreParent = n.id;
      g.setAttribute("aria-label", `${n.label} remixes of ${n.id}: open the list`);
    }
    const circle = document.createElementNS(ns, "circle");
    circle.setAttribute("r", String(radius(n)));
    g.append(circle);
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", String(radius(n) + 6));
    text.setAttribute("dy", "0.32em");
    text.textContent = n.kind === "video" && d.depth > 0 ? `${short(n.label)} · ${fmt.format(n.count)}` : short(n.label);
    if (d.depth === 0) {
      text.setAttribute("x", String(-radius(n) - 8));
      text.setAttribute("text-anchor", "end");
    }
    g.append(text);
    const tip = document.createElementNS(ns, "title");
    tip.textContent = n.kind === "video" ? `${n.id}: ${fmt.format(n.count)} derivatives` : n.label;
    g.append(tip);
    g.addEventListener("click", () => handlers.open(n));
    g.addEventListener("keydown", (event) => onKey(event, d));
    g.addEventListener("focus", () => ensureVisible(d));
    treeRoot.append(g);
    elements.set(d, g);
  }

  const behaviour = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.3, 3])
    .filter((event: Event) => (event.type === "wheel" ? (event as WheelEvent).ctrlKey : !(event as MouseEvent).button))
    .on("zoom", (event) => view.attr("transform", event.transform.toString()));
  svg.call(behaviour).on("dblclick.zoom", null);
  svg.call(behaviour.transform, zoomIdentity);
  if (!root.children) {
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = "No remixes of this video yet.";
    container.append(note);
  }

  function ensureVisible(_d: HierarchyPointNode<TreeNode>): void {
    // The tree is as tall as its rows; the page scrolls the focused node into view.
  }

  function focus(d: HierarchyPointNode<TreeNode> | undefined): void {
    if (!d) return;
    for (const el of elements.values()) el.setAttribute("tabindex", "-1");
    const el = elements.get(d);
    if (!el) return;
    el.setAttribute("tabindex", "0");
    el.focus();
  }

  function onKey(event: KeyboardEvent, d: HierarchyPointNode<TreeNode>): void {
    const siblings = d.parent?.children ?? [d];
    const index = siblings.indexOf(d);
    switch (event.key) {
      case "ArrowRight":
        focus(d.children?.[0]);
        break;
      case "ArrowLeft":
        focus(d.parent ?? undefined);
        break;
      case "ArrowDown":
        focus(siblings[Math.min(siblings.length - 1, index + 1)]);
        break;
      case "ArrowUp":
        focus(siblings[Math.max(0, index - 1)]);
        break;
      case "Home":
        focus(laid);
        break;
      case "Enter":
      case " ":
        handlers.open(d.data);
        break;
      default:
        return;
    }
    event.preventDefault();
  }
}
