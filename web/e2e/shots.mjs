// Screenshots of the explorer's panels for a person to look at:
// `node e2e/shots.mjs BASE_URL OUT_DIR PATH...` (each PATH like "/?video=grandma"),
// one full page and one image per panel for each.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, out, ...paths] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
for (const path of paths) {
  const name = path.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_|_$/g, "") || "home";
  await page.goto(`${base}${path}`);
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  const panels = page.locator(".panel, .sidebar section, #results");
  const n = await panels.count();
  for (let i = 0; i < n; i++) {
    const panel = panels.nth(i);
    if (!(await panel.isVisible())) continue;
    const id = (await panel.getAttribute("id")) ?? `panel${i}`;
    await panel.screenshot({ path: join(out, `${name}--${i}-${id}.png`) });
  }
}
await browser.close();
