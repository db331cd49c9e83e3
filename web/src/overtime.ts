// The over-time panels (the contract's "Over time" fields): subtree views and
// likes, remixes in the last 24 hours, trending variants, and the remixes over
// time. One time window for the page: "the last 24 hours" is always the 24
// hours up to the moment the page opened (`now`), as in the sidebar; the
// chart covers the whole remix history, so nothing drops out of it when a
// new remix arrives.
import { gql } from "./api";
import { barChart } from "./charts";
import { $, count, distinct, el, setStat, unavailable, utc, videoLink } from "./dom";
import { bucketsQuery, TIME, type CoreVideo, type TimeVideo } from "./queries";

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const ALIASES = 24; // windows per query (the server caps aliases at 30)

export const TRENDING_TITLE = "Trending variants, last 24 hours";
export const HISTORY_TITLE = "Remixes over time";

export async function loadTime(video: CoreVideo, now: Date, isCurrent: () => boolean): Promise<void> {
  const history = $("hours");
  const trending = $("trending");
  let time: TimeVideo;
  try {
    time = (await gql<{ video: TimeVideo }>(TIME, { id: video.id, asOf: now.toISOString() })).video;
  } catch (error) {
    if (!isCurrent()) return;
    for (const key of ["subtreeViews", "subtreeLikes", "remixesToday"]) setStat(key, null);
    history.replaceChildren(el("h3", { text: HISTORY_TITLE }), unavailable("Remixes over time", error));
    trending.replaceChildren(el("h3", { text: TRENDING_TITLE }), unavailable("Trending variants", error));
    return;
  }
  if (!isCurrent()) return;
  setStat("subtreeViews", time.subtreeViews);
  setStat("subtreeLikes", time.subtreeLikes);
  setStat("remixesToday", time.today);
  const newest = video.newest.edges[0]?.node.child.createdAt ?? null;
  renderTrending(trending, video, time, now, newest);
  try {
    await renderHistory(history, video, now, isCurrent);
  } catch (error) {
    if (isCurrent()) history.replaceChildren(el("h3", { text: HISTORY_TITLE }), unavailable("Remixes over time", error));
  }
}

function renderTrending(section: HTMLElement, video: CoreVideo, time: TimeVideo, now: Date, newest: string | null): void {
  section.replaceChildren(
    el("h3", { text: TRENDING_TITLE }),
    el("p", {
      class: "hint",
      text: `Its direct remixes ranked by how many remixes were made below each of them in the 24 hours up to ${utc(now)}.`,
    }),
  );
  if (!time.trendingVariants.length && video.directRemixCount === 0) {
    section.append(el("p", { class: "muted empty", text: "No remixes of this video yet." }));
    return;
  }
  if (!time.trendingVariants.length) {
    const latest = newest ? ` Its latest direct remix is from ${utc(newest)}.` : "";
    section.append(el("p", { class: "muted empty", text: `No new remixes below its remixes in the last 24 hours.${latest}` }));
    return;
  }
  const labels = distinct(time.trendingVariants.map((t) => ({ label: t.remix.promptDiff.variantKey, id: t.remix.child.id })));
  const list = el("ol", { class: "groups" });
  time.trendingVariants.forEach((t, i) => {
    const li = el("li", {}, videoLink(t.remix.child.id, labels[i]), `: ${count(t.remixesIn, "new remix", "new remixes")}`);
    li.dataset.variantKey = t.remix.promptDiff.variantKey;
    list.append(li);
  });
  section.append(list);
}

type Window = "HOUR" | "DAY" | "WEEK";

/** Remixes below `id` in each window ending at `ends` (ascending times). */
async function windows(id: string, window: Window, ends: Date[]): Promise<number[]> {
  const batches: Promise<number[]>[] = [];
  for (let start = 0; start < ends.length; start += ALIASES) {
    const part = ends.slice(start, start + ALIASES);
    const variables: Record<string, unknown> = { id };
    part.forEach((t, i) => (variables[`t${i}`] = t.toISOString()));
    batches.push(
      gql<{ video: Record<string, number> }>(bucketsQuery(window, part.length), variables).then((reply) =>
        part.map((_, i) => reply.video[`h${i}`]),
      ),
    );
  }
  return (await Promise.all(batches)).flat();
}

/** The last millisecond of the UTC day holding `t`. */
const endOfDay = (t: Date) => new Date(Math.floor(t.getTime() / DAY) * DAY + DAY - 1);
const day = (t: Date) => t.toISOString().slice(0, 10);

async function renderHistory(
  section: HTMLElement,
  video: CoreVideo,
  now: Date,
  isCurrent: () => boolean,
): Promise<void> {
  const head = el("h3", { text: HISTORY_TITLE });
  if (video.derivativeCount === 0) {
    section.replaceChildren(head, el("p", { class: "muted empty", text: "No remixes of this video yet, so there is nothing to chart." }));
    return;
  }
  // Weeks counted back from today until they hold every derivative (at most
  // three years); the chart spans the first to the latest week with remixes.
  const today = endOfDay(now);
  const weeks: number[] = [];
  let total = 0;
  for (let batch = 0; batch < 6 && total < video.derivativeCount; batch++) {
    const ends = Array.from({ length: 26 }, (_, i) => new Date(today.getTime() - (batch * 26 + i) * WEEK));
    for (const c of await windows(video.id, "WEEK", ends)) {
      if (total >= video.derivativeCount) break;
      weeks.push(c);
      total += c;
    }
  }
  if (!isCurrent()) return;
  const latest = Math.max(0, weeks.findIndex((c) => c > 0));
  const end = new Date(today.getTime() - latest * WEEK);
  const span = Math.max(1, weeks.length - latest);
  let bars: { label: string; value: number }[];
  let unit: string;
  let tickEvery: number;
  if (span === 1) {
    const ends = Array.from({ length: 168 }, (_, i) => new Date(end.getTime() - (167 - i) * HOUR));
    const values = await windows(video.id, "HOUR", ends);
    bars = ends.map((t, i) => ({ label: `${t.toISOString().slice(5, 13).replace("T", " ")}h`, value: values[i] }));
    unit = "hour";
    tickEvery = 24;
  } else if (span <= 17) {
    const days = span * 7;
    const ends = Array.from({ length: days }, (_, i) => new Date(end.getTime() - (days - 1 - i) * DAY));
    const values = await windows(video.id, "DAY", ends);
    bars = ends.map((t, i) => ({ label: day(t), value: values[i] }));
    unit = "day";
    tickEvery = Math.max(1, Math.ceil(days / 8));
  } else {
    const ends = Array.from({ length: span }, (_, i) => new Date(end.getTime() - (span - 1 - i) * WEEK));
    const values = await windows(video.id, "WEEK", ends);
    bars = ends.map((t, i) => ({ label: `${day(new Date(t.getTime() - WEEK + 1))} to ${day(t)}`, value: values[i] }));
    unit = "week";
    tickEvery = Math.max(1, Math.ceil(span / 6));
  }
  if (!isCurrent()) return;
  // Leading empty buckets say nothing: start at the first remix.
  const first = bars.findIndex((b) => b.value > 0);
  if (first > 0 && unit !== "hour") bars = bars.slice(first);
  let last = bars.length;
  while (unit !== "hour" && last > 1 && bars[last - 1].value === 0) last--;
  bars = bars.slice(0, last);
  const shown = bars.reduce((sum, b) => sum + b.value, 0);
  const from = bars[0]?.label.slice(0, 10) ?? "";
  const to = bars[bars.length - 1]?.label.slice(-10) ?? "";
  const outside = video.derivativeCount - shown;
  const hint =
    `Derivatives created per UTC ${unit}, ${unit === "hour" ? `the week up to ${day(end)}` : `${from} to ${to}`}: ` +
    `${count(shown, "remix", "remixes")} in all` +
    (outside > 0 ? `; ${count(outside, "derivative")} made earlier fall outside.` : ".");
  section.replaceChildren(
    head,
    el("p", { class: "hint", text: hint }),
    barChart(`Remixes per ${unit}`, bars, [`${unit[0].toUpperCase()}${unit.slice(1)} (UTC)`, "Remixes"], {
      tickEvery,
      tick: unit === "hour" ? undefined : (label) => label.slice(unit === "day" ? 5 : 0, 10),
      testid: "hours-chart",
    }),
  );
  section.dataset.unit = unit;
}
