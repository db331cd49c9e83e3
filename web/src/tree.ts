// The remix tree around the selected video: the video, its top variants and
// theirs, node size by derivative count, labels by variant key, the rest
// folded into "+N more". A few dozen nodes at most, drawn with d3-hierarchy,
// panned and zoomed with d3-zoom, links by d3-shape; a keyboard tree
// (arrows move the focus, Enter opens the focused node).
import { hierarchy, tree as treeLayout, type HierarchyPointNode } from "d3-hierarchy";
import { select } from "d3-selection";
import { linkHorizontal } from "d3-shape";
import { zoom, zoomIdentity } from "d3-zoom";
import { distinct } from "./dom";
import type { CoreVideo, TreeChild } from "./queries";

export interface TreeNode {
  kind: "video" | "more";
  id: string; // the video's id; for "more", the parent's id
  label: string; // the variant key (the selected video: its title)
  tag: string; // what tells it from a sibling with the same label: its id, or ""
  count: number; // derivative count; for "more", how many direct remixes are folded
  directRemixCount: number;
  children?: TreeNode[];
}

const fmt = new Intl.NumberFormat("en-US");
const plural = (n: number, one: string, many = `${one}s`) => `${fmt.format(n)} ${n === 1 ? one : many}`;

type Variant = { promptDiff: { variantKey: string }; child: TreeChild };

export function buildTree(video: CoreVideo): TreeNode {
  const children = (parent: { id: string; directRemixCount: number }, variants: Variant[], deeper: boolean): TreeNode[] => {
    const labels = distinct(variants.map((v) => ({ label: v.promptDiff.variantKey, id: v.child.id })));
    const kids: TreeNode[] = variants.map((v, i) => {
      const below = deeper ? children(v.child, v.child.topVariants ?? [], false) : [];
      return {
        kind: "video" as const,
        id: v.child.id,
        label: v.promptDiff.variantKey,
        tag: labels[i] === v.promptDiff.variantKey ? "" : v.child.id,
        count: v.child.derivativeCount,
        directRemixCount: v.child.directRemixCount,
        children: below.length ? below : undefined,
      };
    });
    const folded = parent.directRemixCount - kids.length;
    if (folded > 0) kids.push(more(parent.id, folded));
    return kids;
  };
  const top = children(video, video.topVariants, true);
  return {
    kind: "video",
    id: video.id,
    label: video.title ?? video.id,
    tag: "",
    count: video.derivativeCount,
    directRemixCount: video.directRemixCount,
    children: top.length ? top : undefined,
  };
}

function more(parentId: string, folded: number): TreeNode {
  return {
    kind: "more",
    id: parentId,
    label: `+${fmt.format(folded)} more ${folded === 1 ? "remix" : "remixes"}`,
    tag: "",
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

/** What a node's label reads: the change, what tells it apart, its derivatives. */
export function nodeText(node: TreeNode, depth: number): string {
  const name = node.tag ? `${short(node.label)} (${node.tag})` : short(node.label);
  return node.kind === "video" && depth > 0 ? `${name} · ${fmt.format(node.count)}` : name;
}

export interface TreeHandlers {
  open(node: TreeNode): void;
}

const ROW = 21;
const GAP = 56; // between the end of a label and the next column's nodes
const PAD = 12;

export function renderTree(container: HTMLElement, root: TreeNode, handlers: TreeHandlers): void {
  container.replaceChildren();
  const data = hierarchy(root, (d) => d.children);
  const laid = treeLayout<TreeNode>().nodeSize([ROW, 1])(data);
  let x0 = Infinity;
  let x1 = -Infinity;
  laid.each((d) => {
    x0 = Math.min(x0, d.x);
    x1 = Math.max(x1, d.x);
  });
  const height = root.children ? Math.max(120, x1 - x0 + ROW * 2) : ROW * 2;
  const ns = "http://www.w3.org/2000/svg";
  const svg = select(container).append("svg").attr("class", "tree").attr("height", height);
  svg.append("title").text("Remix tree (drag to pan, Ctrl + wheel to zoom)");
  const view = svg.append("g").attr("class", "view");
  const layer = view.append("g");
  const links = layer.append("g").attr("class", "links");

  const treeRoot = document.createElementNS(ns, "g");
  treeRoot.setAttribute("role", "tree");
  treeRoot.setAttribute("aria-label", `Remix tree of ${root.label}`);
  layer.node()?.append(treeRoot);

  const all = laid.descendants();
  const elements = new Map<HierarchyPointNode<TreeNode>, SVGGElement>();
  const textWidth = new Map<HierarchyPointNode<TreeNode>, number>();
  for (const d of all) {
    const g = document.createElementNS(ns, "g") as SVGGElement;
    const n = d.data;
    g.setAttribute("class", `node ${n.kind}${d.depth === 0 ? " selected" : ""}`);
    g.setAttribute("role", "treeitem");
    g.setAttribute("aria-level", String(d.depth + 1));
    if (d.children) g.setAttribute("aria-expanded", "true");
    g.setAttribute("tabindex", d.depth === 0 ? "0" : "-1");
    const name = n.tag ? `${n.label} (${n.tag})` : n.label;
    if (n.kind === "video") {
      g.dataset.videoId = n.id;
      g.setAttribute(
        "aria-label",
        `${name}: ${n.id}, ${plural(n.count, "derivative")}, ${plural(n.directRemixCount, "direct remix", "direct remixes")}`,
      );
    } else {
      g.dataset.moreParent = n.id;
      g.setAttribute("aria-label", `${n.label} of ${n.id}, not drawn: open the list`);
    }
    const circle = document.createElementNS(ns, "circle");
    circle.setAttribute("r", String(radius(n)));
    g.append(circle);
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", String(radius(n) + 6));
    text.setAttribute("dy", "0.32em");
    text.textContent = nodeText(n, d.depth);
    if (d.depth === 0) {
      text.setAttribute("x", String(-radius(n) - 8));
      text.setAttribute("text-anchor", "end");
    }
    g.append(text);
    const tip = document.createElementNS(ns, "title");
    tip.textContent =
      n.kind === "video"
        ? `${name}: ${n.id}, ${plural(n.count, "derivative")} (every remix below it), ${plural(n.directRemixCount, "direct remix", "direct remixes")}`
        : `${n.label}: direct remixes of ${n.id} not drawn here; open the list`;
    g.append(tip);
    g.addEventListener("click", () => handlers.open(n));
    g.addEventListener("keydown", (event) => onKey(event, d));
    treeRoot.append(g);
    elements.set(d, g);
    textWidth.set(d, text.getComputedTextLength() || nodeText(n, d.depth).length * 7);
  }

  // Columns as wide as their longest label, so that no link crosses a label:
  // a node's links leave from the end of its label.
  const maxRadius = (depth: number) => Math.max(0, ...all.filter((d) => d.depth === depth).map((d) => radius(d.data)));
  const widest = (depth: number) => Math.max(0, ...all.filter((d) => d.depth === depth).map((d) => textWidth.get(d) ?? 0));
  const depthMax = Math.max(0, ...all.map((d) => d.depth));
  const column: number[] = [PAD + widest(0) + 8 + maxRadius(0)];
  for (let depth = 1; depth <= depthMax; depth++) {
    const previous = column[depth - 1];
    const leave = depth === 1 ? previous + maxRadius(0) : previous + maxRadius(depth - 1) + 6 + widest(depth - 1);
    column.push(leave + GAP + maxRadius(depth));
  }
  const width = Math.max(
    container.clientWidth || 900,
    column[depthMax] + maxRadius(depthMax) + 6 + widest(depthMax) + PAD,
  );
  svg.attr("width", width).attr("viewBox", `0 0 ${width} ${height}`);
  layer.attr("transform", `translate(0,${ROW - x0})`);
  const place = (d: HierarchyPointNode<TreeNode>) => column[d.depth];
  for (const [d, g] of elements) g.setAttribute("transform", `translate(${place(d)},${d.x})`);
  const source = (d: HierarchyPointNode<TreeNode>) =>
    d.depth === 0 ? place(d) + radius(d.data) : place(d) + radius(d.data) + 6 + (textWidth.get(d) ?? 0) + 4;
  const link = linkHorizontal<{ source: [number, number]; target: [number, number] }, [number, number]>();
  links
    .selectAll("path")
    .data(laid.links())
    .join("path")
    .attr("d", (l) => link({ source: [source(l.source), l.source.x], target: [place(l.target) - radius(l.target.data), l.target.x] }) ?? "");

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
