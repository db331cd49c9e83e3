// The remix-tree explorer: one selected video at a time, named in the
// address (/?video=ID), so a view can be shared and the back button returns.
import "./style.css";
import { gql, GraphQLError, subscribe, type Subscription } from "./api";
import { barChart } from "./charts";
import { renderDiff } from "./diff";
import { $, el, fmt, guessLang, onNavigate, setStat, unavailable, videoLink } from "./dom";
import { openMore } from "./more";
import { loadTime } from "./overtime";
import { loadRights } from "./rights";
import {
  CORE,
  HOME,
  LIVE,
  ORIGINALS,
  TRENDING_ORIGINALS,
  type CoreVideo,
} from "./queries";
import { buildTree, renderTree, type TreeNode } from "./tree";

// -- state -------------------------------------------------------------------

let current: CoreVideo | null = null;
let live: Subscription | null = null;
let generation = 0; // ignores answers for a video no longer selected

function videoFromAddress(): string | null {
  return new URLSearchParams(location.search).get("video");
}

async function select(id: string, push: boolean, preloaded?: CoreVideo): Promise<void> {
  id = id.trim();
  if (!id) return;
  if (push && videoFromAddress() !== id) history.pushState({ video: id }, "", `/?video=${encodeURIComponent(id)}`);
  const mine = ++generation;
  const message = $("message");
  message.textContent = `Loading ${id}…`;
  live?.close();
  live = null;
  let video: CoreVideo | null;
  try {
    video = preloaded ?? (await gql<{ video: CoreVideo | null }>(CORE, { id })).video;
  } catch (error) {
    if (mine !== generation) return;
    message.textContent = `Could not load ${id}: ${error instanceof Error ? error.message : error}`;
    return;
  }
  if (mine !== generation) return;
  if (!video) {
    message.textContent = `There is no video with the id “${id}”.`;
    $("video").hidden = true;
    return;
  }
  message.textContent = "";
  current = video;
  document.title = `${video.title ?? video.id} · Remix-tree explorer`;
  renderVideo(video);
  const isCurrent = () => mine === generation;
  void loadTime(video, isCurrent);
  void loadRights(video, isCurrent);
  startLive(video, mine);
}

// -- the selected video ---------------------------------------------------------

function stat(label: string, value: string, key: string): HTMLElement {
  const dd = el("dd", { text: value });
  dd.dataset.stat = key;
  return el("div", { class: "stat" }, el("dt", { text: label }), dd);
}

function renderVideo(video: CoreVideo): void {
  const root = $("video");
  root.hidden = false;
  root.replaceChildren();

  const heading = el("h2", { id: "video-title", text: video.title ?? video.id });
  const status = el("span", { id: "status-mark", class: "status", "aria-live": "polite", text: "…" });
  const meta = el(
    "p",
    { class: "meta" },
    el("code", { "data-testid": "video-id", text: video.id }),
    video.isOriginal ? " · original" : ` · generation ${video.generation}`,
    video.creator ? ` · by ${video.creator}` : "",
    video.createdAt ? ` · ${new Date(video.createdAt).toUTCString().replace(" GMT", " UTC")}` : "",
    ` · ${fmt.format(video.views)} views · ${fmt.format(video.likes)} likes`,
  );
  const prompt = el("blockquote", { class: "prompt", lang: guessLang(video.prompt), text: video.prompt });
  root.append(el("div", { class: "title-row" }, heading, status), meta, prompt);

  const liveState = el("span", { id: "live-state", class: "live", "aria-live": "polite", text: "live: connecting…" });
  const stats = el(
    "dl",
    { class: "stats", "aria-label": "Counts" },
    stat("Derivatives", fmt.format(video.derivativeCount), "derivativeCount"),
    stat("Tree depth", fmt.format(video.treeDepth), "treeDepth"),
    stat("Direct remixes", fmt.format(video.directRemixCount), "directRemixCount"),
    stat("Subtree views", "…", "subtreeViews"),
    stat("Subtree likes", "…", "subtreeLikes"),
    stat("Remixes today", "…", "remixesToday"),
  );
  root.append(el("section", { class: "panel counts" }, el("div", { class: "panel-head" }, el("h3", { text: "Counts" }), liveState), stats));

  // Tree.
  const treeBox = el("div", { id: "tree", class: "tree-box" });
  root.append(
    el(
      "section",
      { class: "panel" },
      el("h3", { text: "Remix tree" }),
      el("p", {
        class: "hint",
        text: "Node size follows the derivative count; labels say what each remix changed. Click a node, or use the arrow keys and Enter.",
      }),
      treeBox,
    ),
  );
  renderTree(treeBox, buildTree(video), { open: openNode });

  // Path to the original.
  root.append(renderPath(video));

  // Generations, variant groups.
  const charts = el("div", { class: "grid" });
  charts.append(
    el(
      "section",
      { class: "panel", id: "generations" },
      el("h3", { text: "Derivatives per generation" }),
      video.generationCounts.length
        ? barChart(
            "Derivatives per generation",
            video.generationCounts.map((g) => ({ label: `gen ${g.generation}`, value: g.count })),
            ["Generation", "Derivatives"],
            { testid: "generation-chart" },
          )
        : el("p", { class: "muted", text: "No remixes yet." }),
    ),
  );
  charts.append(renderGroups(video));
  root.append(charts);

  const timeGrid = el("div", { class: "grid" });
  timeGrid.append(
    el("section", { class: "panel", id: "hours" }, el("h3", { text: "Remixes per hour, last week" }), el("p", { class: "muted", text: "Loading…" })),
    el("section", { class: "panel", id: "trending" }, el("h3", { text: "Trending variants today" }), el("p", { class: "muted", text: "Loading…" })),
  );
  root.append(timeGrid);
}

function renderGroups(video: CoreVideo): HTMLElement {
  const section = el("section", { class: "panel", id: "variant-groups" }, el("h3", { text: "Variant groups" }));
  if (!video.variantGroups.length) {
    section.append(el("p", { class: "muted", text: "No remixes yet." }));
    return section;
  }
  const list = el("ol", { class: "groups" });
  for (const g of video.variantGroups) {
    const [before, after] = g.key.includes("→") ? g.key.split("→", 2) : [null, g.key];
    const keyText = before !== null ? `${before} → ${after}` : g.key;
    const li = el(
      "li",
      {},
      videoLink(g.top.child.id, keyText),
      `: ${fmt.format(g.remixCount)} remix${g.remixCount === 1 ? "" : "es"}, reach ${fmt.format(g.reach)}`,
    );
    li.dataset.variantKey = g.key;
    list.append(li);
  }
  section.append(list);
  return section;
}

function renderPath(video: CoreVideo): HTMLElement {
  const section = el("section", { class: "panel", id: "path" }, el("h3", { text: "Path to the original" }));
  if (video.isOriginal) {
    section.append(el("p", { class: "muted", text: "This video is an original: it remixes nothing." }));
    return section;
  }
  // Original first, selected video last.
  const chain = [...video.ancestors].reverse();
  const steps = [
    ...chain.map((a) => ({ id: a.id, title: a.title, prompt: a.prompt, generation: a.generation, remixOf: a.remixOf })),
    { id: video.id, title: video.title, prompt: video.prompt, generation: video.generation, remixOf: video.remixOf },
  ];
  const list = el("ol", { class: "path" });
  steps.forEach((step, i) => {
    const li = el("li", {});
    li.dataset.pathId = step.id;
    const head = el("div", { class: "step-head" });
    head.append(
      step.id === video.id ? el("strong", { text: step.id }) : videoLink(step.id),
      el("span", { class: "muted", text: i === 0 ? " · original" : ` · generation ${step.generation}` }),
    );
    li.append(head);
    if (i === 0 || !step.remixOf) {
      li.append(el("p", { class: "diff", lang: guessLang(step.prompt), text: step.prompt }));
    } else {
      const diff = step.remixOf.promptDiff;
      li.append(el("p", { class: "summary", text: diff.summary }));
      const drawn = renderDiff(steps[i - 1].prompt, step.prompt, diff.ops);
      drawn.lang = guessLang(step.prompt);
      li.append(drawn);
    }
    list.append(li);
  });
  section.append(list);
  return section;
}

function openNode(node: TreeNode): void {
  if (node.kind === "more") void openMore(node.id, (id) => void select(id, true));
  else if (node.id !== current?.id) void select(node.id, true);
}

// -- live ---------------------------------------------------------------------------

function startLive(video: CoreVideo, mine: number): void {
  const state = $("live-state");
  live = subscribe<{ videoUpdated: Partial<CoreVideo> }>(
    LIVE,
    { id: video.id },
    ({ videoUpdated }) => {
      if (mine !== generation || !current) return;
      Object.assign(current, videoUpdated);
      setStat("derivativeCount", current.derivativeCount);
      setStat("treeDepth", current.treeDepth);
      setStat("directRemixCount", current.directRemixCount);
      state.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    },
    (message) => {
      if (mine !== generation) return;
      state.textContent = "live updates unavailable";
      state.title = message;
      state.className = "live off";
    },
    () => {
      if (mine !== generation || state.classList.contains("off")) return;
      if (state.textContent === "live: connecting…") state.textContent = "live";
      state.className = "live on";
    },
  );
}

// -- originals ---------------------------------------------------------------------

type OriginalsReply = {
  originals: { edges: { node: { id: string; title: string | null; derivativeCount: number } }[] };
};

function renderOriginals(reply: OriginalsReply): void {
  const byDerivatives = $("originals-derivatives");
  byDerivatives.replaceChildren(
    ...reply.originals.edges.map(({ node }) =>
      el("li", {}, videoLink(node.id, node.title ?? node.id), el("span", { class: "count", text: fmt.format(node.derivativeCount) })),
    ),
  );
  if (!reply.originals.edges.length) byDerivatives.replaceChildren(el("li", { class: "muted", text: "No videos yet." }));
}

async function loadOriginals(): Promise<void> {
  try {
    renderOriginals(await gql<OriginalsReply>(ORIGINALS));
  } catch (error) {
    $("originals-derivatives").replaceChildren(el("li", {}, unavailable("Originals", error)));
  }
}

async function loadTrendingOriginals(trending: HTMLElement): Promise<void> {
  try {
    type Reply = { trendingOriginals: { remixesIn: number; video: { id: string; title: string | null } }[] };
    const reply = await gql<Reply>(TRENDING_ORIGINALS, { asOf: new Date().toISOString() });
    trending.replaceChildren(
      ...reply.trendingOriginals.map((t) =>
        el("li", {}, videoLink(t.video.id, t.video.title ?? t.video.id), el("span", { class: "count", text: `+${fmt.format(t.remixesIn)}` })),
      ),
    );
    if (!reply.trendingOriginals.length) trending.replaceChildren(el("li", { class: "muted", text: "No remixes in the last 24 hours." }));
  } catch (error) {
    trending.replaceChildren(el("li", {}, unavailable("Trending originals", error)));
  }
}

// -- start ---------------------------------------------------------------------------

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("search-id") as HTMLInputElement;
  void select(input.value, true);
});

window.addEventListener("popstate", () => {
  const id = videoFromAddress();
  if (id) void select(id, false);
});

onNavigate((id) => void select(id, true));
const initial = videoFromAddress();
if (initial) {
  void loadOriginals();
  void select(initial, false);
} else {
  // No video in the address: open the leading original (one round trip).
  gql<OriginalsReply & { lead: { edges: { node: CoreVideo }[] } }>(HOME)
    .then((reply) => {
      renderOriginals(reply);
      const lead = reply.lead.edges[0]?.node;
      if (lead) {
        history.replaceState({ video: lead.id }, "", `/?video=${encodeURIComponent(lead.id)}`);
        void select(lead.id, false, lead);
      } else $("message").textContent = "The store is empty: import some videos (lineage import FILE).";
    })
    .catch((error: unknown) => {
      $("message").textContent = `The service did not answer: ${error instanceof GraphQLError ? error.message : error}`;
    });
}
void loadTrendingOriginals($("originals-trending"));
