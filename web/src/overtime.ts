// The over-time panels (the contract's "Over time" fields): subtree views and
// likes, remixes today, remixes per hour over a week, trending variants.
import { gql } from "./api";
import { barChart } from "./charts";
import { $, el, fmt, setStat, unavailable, videoLink } from "./dom";
import { hoursQuery, TIME, type CoreVideo, type TimeVideo } from "./queries";

export async function loadTime(video: CoreVideo, isCurrent: () => boolean): Promise<void> {
  const hours = $("hours");
  const trending = $("trending");
  let asOf = new Date();
  let time: TimeVideo;
  try {
    time = (await gql<{ video: TimeVideo }>(TIME, { id: video.id, asOf: asOf.toISOString() })).video;
    // A quiet week (a demo loaded from old records): show the week up to the latest remix.
    const newest = video.newest.edges[0]?.node.child.createdAt;
    let note = "the last 7 days up to now";
    if (time.week === 0 && newest) {
      asOf = new Date(newest);
      const before = time;
      time = (await gql<{ video: TimeVideo }>(TIME, { id: video.id, asOf: asOf.toISOString() })).video;
      time.subtreeViews = before.subtreeViews;
      time.subtreeLikes = before.subtreeLikes;
      note = `no remixes in the last 7 days; shown: the 7 days up to the latest direct remix (${asOf.toISOString().slice(0, 16).replace("T", " ")} UTC)`;
    }
    if (!isCurrent()) return;
    setStat("subtreeViews", time.subtreeViews);
    setStat("subtreeLikes", time.subtreeLikes);
    setStat("remixesToday", time.today);
    // Past data: say which 24 hours the count covers.
    const label = document.querySelector('[data-stat="remixesToday"]')?.previousElementSibling;
    if (label instanceof HTMLElement && note !== "the last 7 days up to now") {
      label.textContent = `Remixes to ${asOf.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" })}`;
      label.title = `in the 24 hours up to ${asOf.toISOString().slice(0, 16).replace("T", " ")} UTC`;
    }
    renderTrending(trending, time, asOf);
    await renderHours(hours, video.id, asOf, note, isCurrent);
  } catch (error) {
    if (!isCurrent()) return;
    for (const key of ["subtreeViews", "subtreeLikes", "remixesToday"]) setStat(key, null);
    hours.replaceChildren(el("h3", { text: "Remixes per hour, last week" }), unavailable("Remixes per hour", error));
    trending.replaceChildren(el("h3", { text: "Trending variants today" }), unavailable("Trending variants", error));
  }
}

function renderTrending(section: HTMLElement, time: TimeVideo, asOf: Date): void {
  section.replaceChildren(el("h3", { text: "Trending variants today" }));
  const span = Date.now() - asOf.getTime() < 3600 * 1000 ? "the last 24 hours" : `the 24 hours up to ${asOf.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  section.append(el("p", { class: "hint", text: `Direct remixes ranked by the remixes they drew in ${span}.` }));
  if (!time.trendingVariants.length) {
    section.append(el("p", { class: "muted", text: "None of its remixes drew new remixes then." }));
    return;
  }
  const list = el("ol", { class: "groups" });
  for (const t of time.trendingVariants) {
    list.append(
      el("li", {}, videoLink(t.remix.child.id, t.remix.promptDiff.variantKey), `: ${fmt.format(t.remixesIn)} new remixes`),
    );
  }
  section.append(list);
}

async function renderHours(
  section: HTMLElement,
  id: string,
  asOf: Date,
  note: string,
  isCurrent: () => boolean,
): Promise<void> {
  const hour = 3600 * 1000;
  const end = Math.floor(asOf.getTime() / hour) * hour;
  const days = await Promise.all(
    Array.from({ length: 7 }, async (_, day) => {
      const times = Array.from({ length: 24 }, (_, h) => new Date(end - (167 - (day * 24 + h)) * hour));
      const variables: Record<string, unknown> = { id };
      times.forEach((t, i) => (variables[`t${i}`] = t.toISOString()));
      const reply = await gql<{ video: Record<string, number> }>(hoursQuery(24), variables);
      return times.map((t, i) => ({ t, value: reply.video[`h${i}`] }));
    }),
  );
  if (!isCurrent()) return;
  const bars = days.flat().map(({ t, value }) => ({ label: `${t.toISOString().slice(5, 13).replace("T", " ")}h`, value }));
  section.replaceChildren(
    el("h3", { text: "Remixes per hour, last week" }),
    el("p", { class: "hint", text: `Derivatives created per UTC hour: ${note}.` }),
    barChart("Remixes per hour", bars, ["Hour (UTC)", "Remixes"], { tickEvery: 24, testid: "hours-chart" }),
  );
}
