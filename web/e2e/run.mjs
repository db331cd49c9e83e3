// Drives the explorer in headless Chromium (Debian's chromium through
// playwright-core, no browser download) for the end-to-end tests in
// tests/e2e: `node e2e/run.mjs SCENARIO BASE_URL [ARG...]` prints one JSON
// object with what the page showed; screenshots go to $E2E_ARTIFACTS.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [scenario, base, ...args] = process.argv.slice(2);
const artifacts = process.env.E2E_ARTIFACTS ?? "test-artifacts";
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
const page = await context.newPage();
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));

const shot = (name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
const text = (selector) => page.locator(selector).first().innerText();
const stat = (key) => text(`[data-stat="${key}"]`);
const videoInAddress = () => new URL(page.url()).searchParams.get("video");
async function openVideo(id) {
  await page.goto(`${base}/?video=${encodeURIComponent(id)}`);
  await page.waitForSelector(`[data-testid="video-id"]:text-is("${id}")`);
  await page.waitForSelector("svg.tree [data-video-id]");
}
async function gql(query, variables = {}, headers = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

const scenarios = {
  // The first view: the demo's leading original, opened from "/".
  async load() {
    const started = Date.now();
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-stat="derivativeCount"]');
    await page.waitForSelector("svg.tree [data-video-id]");
    const firstViewMs = Date.now() - started;
    await page.waitForSelector("#originals-derivatives a");
    await page.waitForSelector('[data-testid="generation-chart"]');
    await page.waitForTimeout(300);
    await shot("explorer-home");
    return {
      firstViewMs,
      video: videoInAddress(),
      title: await text("#video-title"),
      derivativeCount: await stat("derivativeCount"),
      treeDepth: await stat("treeDepth"),
      directRemixCount: await stat("directRemixCount"),
      originals: await page.locator("#originals-derivatives a").allInnerTexts(),
      treeNodes: await page.locator("svg.tree .node").count(),
      domElements: await page.evaluate(() => document.querySelectorAll("*").length),
      treeLabels: await page.locator("svg.tree .node text").allTextContents(),
      generationTable: await page.locator('[data-testid="generation-chart"] tbody tr').evaluateAll((rows) =>
        rows.map((r) => [...r.children].map((c) => c.textContent)),
      ),
      variantGroups: await page.locator("#variant-groups li").allInnerTexts(),
      consoleErrors,
    };
  },
  // First views of "/" in fresh browser contexts (cold cache), for benchmarks/bench_explorer.py.
  async firstview() {
    const times = [];
    for (let i = 0; i < Number(args[0] ?? 5); i++) {
      const fresh = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      const tab = await fresh.newPage();
      const started = Date.now();
      await tab.goto(`${base}/`);
      await tab.waitForSelector('[data-stat="derivativeCount"]');
      await tab.waitForSelector("svg.tree [data-video-id]");
      times.push(Date.now() - started);
      await fresh.close();
    }
    return { times, consoleErrors };
  },
  // Clicking the hippo variant in the tree selects it: its diff and its count.
  async hippo() {
    await openVideo(args[0]);
    const node = page.locator('svg.tree .node[aria-level="2"]', { hasText: "crocodile→hippo" }).first();
    const clicked = await node.getAttribute("data-video-id");
    await node.click();
    await page.waitForSelector(`[data-testid="video-id"]:text-is("${clicked}")`);
    await page.waitForSelector("#path del");
    await shot("explorer-hippo");
    const last = page.locator("#path li").last();
    return {
      clicked,
      video: videoInAddress(),
      derivativeCount: await stat("derivativeCount"),
      deleted: await last.locator("del").allInnerTexts(),
      inserted: await last.locator("ins").allInnerTexts(),
      summary: await last.locator(".summary").innerText(),
      diffText: await last.locator(".diff").innerText(),
      consoleErrors,
    };
  },
  // /?video=ID of a deep remix: the path up to its original, every step's diff.
  async path() {
    await openVideo(args[0]);
    await page.waitForSelector("#path li");
    await shot(`explorer-path-${args[0]}`);
    const steps = page.locator("#path li");
    const n = await steps.count();
    const out = [];
    for (let i = 0; i < n; i++) {
      const step = steps.nth(i);
      out.push({
        id: await step.getAttribute("data-path-id"),
        deleted: await step.locator("del").allInnerTexts(),
        inserted: await step.locator("ins").allInnerTexts(),
      });
    }
    return { video: videoInAddress(), steps: out, consoleErrors };
  },
  // Arrow keys move the focus in the tree, Enter selects; Back returns.
  async keyboard() {
    await openVideo(args[0]);
    await page.focus(`svg.tree [data-video-id="${args[0]}"]`);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowDown");
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-video-id"));
    await page.screenshot({ path: join(artifacts, "explorer-keyboard-focus.png") });
    await page.keyboard.press("Enter");
    await page.waitForSelector(`[data-testid="video-id"]:text-is("${focused}")`);
    const selected = videoInAddress();
    const derivativeCount = await stat("derivativeCount");
    await page.goBack();
    await page.waitForSelector(`[data-testid="video-id"]:text-is("${args[0]}")`);
    return { focused, selected, derivativeCount, afterBack: videoInAddress(), consoleErrors };
  },
  // "+N more" opens a paged list of the remixes, never all of them.
  async more() {
    await openVideo(args[0]);
    await page.locator(`svg.tree [data-more-parent="${args[0]}"]`).click();
    await page.waitForSelector("#more-list li a");
    const firstPage = await page.locator("#more-list li a").count();
    const status = await text("#more-status");
    await page.getByRole("button", { name: "Next 50 →" }).click();
    await page.waitForFunction((s) => {
      const now = document.querySelector("#more-status")?.textContent;
      return now !== s && now !== "Loading…";
    }, status);
    const secondStatus = await text("#more-status");
    await page.fill("#more-filter", args[1]);
    const filtered = await page.locator("#more-list li a").allInnerTexts();
    const filterNote = await text("#more-dialog .filter-note");
    const listStart = await page.getAttribute("#more-list", "start");
    await shot("explorer-more");
    return { firstPage, status, secondStatus, filtered, filterNote, listStart, consoleErrors };
  },
  // A remix written through the API while the page is open shows in the live count.
  async live() {
    await openVideo(args[0]);
    await page.waitForSelector("#live-state.on", { timeout: 10000 });
    const before = await stat("derivativeCount");
    const headers = process.env.LINEAGE_TOKEN ? { authorization: `Bearer ${process.env.LINEAGE_TOKEN}` } : {};
    const reply = await gql(
      `mutation($p: ID!, $i: VideoInput!) { remixVideo(parentId: $p, input: $i) { child { id } } }`,
      { p: args[1], i: { id: args[2], prompt: args[3] } },
      headers,
    );
    if (reply.errors) return { before, mutationErrors: reply.errors, consoleErrors };
    await page.waitForFunction((b) => document.querySelector('[data-stat="derivativeCount"]')?.textContent !== b, before, { timeout: 10000 });
    await shot("explorer-live");
    return { before, after: await stat("derivativeCount"), liveState: await text("#live-state"), consoleErrors };
  },
  // The over-time figures: subtree views and likes, remixes per hour, trending variants.
  async time() {
    await openVideo(args[0]);
    await page.waitForSelector('[data-testid="hours-chart"]', { timeout: 15000 });
    await shot(`explorer-time-${args[0]}`);
    return {
      subtreeViews: await stat("subtreeViews"),
      subtreeLikes: await stat("subtreeLikes"),
      remixesToday: await stat("remixesToday"),
      hours: await page.locator('[data-testid="hours-chart"] tbody tr').evaluateAll((rows) =>
        rows.map((r) => [...r.children].map((c) => c.textContent)),
      ),
      hoursNote: await text("#hours .hint"),
      historyUnit: await page.getAttribute("#hours", "data-unit"),
      trending: await page.locator("#trending li").allInnerTexts(),
      trendingNote: await text("#trending .hint"),
      consoleErrors,
    };
  },
  // Status marks of a removed video and of what derives from it.
  async status() {
    const out = {};
    for (const id of args) {
      await openVideo(id);
      await page.waitForSelector("#status-mark[data-status]", { timeout: 10000 });
      await shot(`explorer-status-${id}`);
      out[id] = {
        mark: await text("#status-mark"),
        status: await page.getAttribute("#status-mark", "data-status"),
        removedNodes: await page.locator("svg.tree .node.removed").evaluateAll((ns) => ns.map((n) => n.getAttribute("data-video-id"))),
        derivedNodes: await page.locator("svg.tree .node.derived").evaluateAll((ns) => ns.map((n) => n.getAttribute("data-video-id"))),
        pathBadges: await page.locator("#path .badge").allInnerTexts(),
      };
    }
    return { ...out, consoleErrors };
  },
  // The header box: words list the matches (counts, keys, links), an exact
  // id opens the video, /?q= is in the address, Back and Forward return.
  async search() {
    const [words, id, nothing] = args;
    // The results of `words`: shown, in the address, answered.
    const results = async (words) => {
      await page.waitForFunction((w) => {
        const s = document.querySelector("#results-status")?.textContent;
        const shown = !document.querySelector("#results")?.hidden;
        const title = document.querySelector("#results-title")?.textContent;
        return shown && title === `Search: “${w}”` && new URL(location.href).searchParams.get("q") === w && s && s !== "Searching…";
      }, words);
      return {
        status: await text("#results-status"),
        ids: await page.locator("#results-list .hit").evaluateAll((hs) => hs.map((h) => h.getAttribute("data-video-id"))),
        q: new URL(page.url()).searchParams.get("q"),
      };
    };
    await openVideo(id);
    await page.fill("#search-text", words);
    await page.press("#search-text", "Enter");
    const first = await results(words);
    const focused = await page.evaluate(() => document.activeElement?.id);
    const live = await page.getAttribute("#results-status", "aria-live");
    const hit = page.locator("#results-list .hit").first();
    const firstHit = {
      link: await hit.locator("a.hit-title").getAttribute("href"),
      facts: await hit.locator(".facts").innerText(),
      marks: await hit.locator(".hit-prompt mark").allInnerTexts(),
      titleMarks: await hit.locator("a.hit-title mark").allInnerTexts(),
    };
    await shot("explorer-search");
    // An exact id opens that video.
    await page.fill("#search-text", id);
    await page.press("#search-text", "Enter");
    await page.waitForSelector(`[data-testid="video-id"]:text-is("${id}")`);
    const opened = { video: videoInAddress(), notice: await text("#notice"), resultsHidden: await page.isHidden("#results") };
    // Nothing matches: said in words.
    await page.fill("#search-text", nothing);
    await page.click("#search button[type=submit]");
    const none = await results(nothing);
    // Back: the id's video, then the first results; Forward: the video again.
    await page.goBack();
    await page.waitForSelector(`[data-testid="video-id"]:text-is("${id}")`);
    const back1 = videoInAddress();
    await page.goBack();
    const back2 = await results(words);
    await page.goForward();
    await page.waitForSelector(`[data-testid="video-id"]:text-is("${id}")`);
    const forward = videoInAddress();
    return { first, focused, live, firstHit, opened, none, back1, back2, forward, consoleErrors };
  },
  // /?q=TEXT[&within=ID] opened directly, and the next page.
  async q() {
    const [words, within] = args;
    const params = new URLSearchParams({ q: words });
    if (within) params.set("within", within);
    await page.goto(`${base}/?${params}`);
    const ready = async (previous) => {
      await page.waitForFunction((p) => {
        const s = document.querySelector("#results-status")?.textContent;
        return s && s !== "Searching…" && s !== p;
      }, previous);
      return {
        status: await text("#results-status"),
        ids: await page.locator("#results-list .hit").evaluateAll((hs) => hs.map((h) => h.getAttribute("data-video-id"))),
        keys: await page.locator("#results-list .hit .key").evaluateAll((ks) => ks.map((k) => k.getAttribute("data-variant-key"))),
        start: await page.getAttribute("#results-list", "start"),
      };
    };
    const first = await ready(null);
    await shot(`explorer-q-${within ?? "all"}`);
    let second = null;
    if (!(await page.isDisabled("#results .pager button >> nth=1"))) {
      await page.click("#results .pager button >> nth=1");
      second = await ready(first.status);
    }
    const title = await page.title();
    // A result's link opens its video (the focus goes to it); Back returns to the results.
    let opened = null;
    const link = page.locator("#results-list .hit a.hit-title").first();
    if (await link.count()) {
      const href = await link.getAttribute("href");
      await link.click();
      const id = new URLSearchParams(href.slice(2)).get("video");
      await page.waitForSelector(`[data-testid="video-id"]:text-is("${id}")`);
      const focused = await page.evaluate(() => document.activeElement?.id);
      await page.goBack();
      await page.waitForFunction(() => {
        const s = document.querySelector("#results-status")?.textContent;
        return s && s !== "Searching…";
      });
      opened = { id, focused, video: videoInAddress(), back: new URL(page.url()).searchParams.get("q") };
    }
    return { first, second, title, opened, consoleErrors };
  },
  // "Search in this tree" on a video's page: the search kept within it.
  async treesearch() {
    const [id, words] = args;
    await openVideo(id);
    await page.fill("#tree-search-text", words);
    await page.press("#tree-search-text", "Enter");
    await page.waitForFunction(() => {
      const s = document.querySelector("#results-status")?.textContent;
      return s && s !== "Searching…";
    });
    await shot("explorer-tree-search");
    const address = new URL(page.url()).searchParams;
    const out = {
      q: address.get("q"),
      within: address.get("within"),
      status: await text("#results-status"),
      ids: await page.locator("#results-list .hit").evaluateAll((hs) => hs.map((h) => h.getAttribute("data-video-id"))),
      focused: await page.evaluate(() => document.activeElement?.id),
    };
    // A tree that does not exist: said in words.
    await page.goto(`${base}/?q=${encodeURIComponent(words)}&within=${encodeURIComponent(args[2])}`);
    await page.waitForFunction(() => {
      const s = document.querySelector("#results-status")?.textContent;
      return s && s !== "Searching…";
    });
    out.unknown = {
      status: await text("#results-status"),
      hits: await page.locator("#results-list .hit").count(),
      pagerHidden: await page.isHidden("#results .pager"),
    };
    return { ...out, consoleErrors };
  },
  // GraphiQL from our own build, with every non-local request refused.
  async graphiql() {
    const blocked = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    // GraphiQL ignores a run until it has its schema: wait for the
    // introspection answer, then run until a result shows (a loaded machine
    // can still be rendering the editor when the first click lands).
    const introspected = page.waitForResponse((r) => r.url().endsWith("/graphql") && r.request().method() === "POST", { timeout: 30000 });
    await page.goto(`${base}/graphql`);
    await page.waitForSelector(".graphiql-container", { timeout: 15000 });
    await introspected;
    const shown = () => page.waitForFunction(() => document.querySelector(".result-window")?.textContent?.includes("derivativeCount"), null, { timeout: 5000 });
    for (let attempt = 1; ; attempt++) {
      await page.locator(".graphiql-execute-button").click();
      try { await shown(); break; } catch (error) { if (attempt === 4) throw error; }
    }
    await page.waitForTimeout(300);
    await shot("graphiql");
    return { blocked, result: await page.locator(".result-window").innerText(), consoleErrors };
  },
};

try {
  const result = await scenarios[scenario]();
  process.stdout.write(JSON.stringify(result));
} catch (error) {
  await shot(`failed-${scenario}`).catch(() => {});
  process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error), consoleErrors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
