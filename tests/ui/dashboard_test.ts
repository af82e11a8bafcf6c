import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startGateway, upstream } from "../_support/gateway.ts";
import { spawnFixture } from "../_support/process.ts";
import { requireTool } from "../_support/tools.ts";
import { waitFor } from "../_support/wait.ts";

Deno.test(requireTool(["chromium"], {
  name:
    "/ui shows upstreams, tools and rates, reloads the config, and turns a killed upstream red within seconds",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(tools) {
    await using child = await spawnFixture(["--name", "kid"]);
    await using gw = await startGateway(
      `servers:\n${
        upstream(
          "kid",
          child.url,
          "    reconnect:\n      backoff_base_ms: 100\n      backoff_max_ms: 500\n",
        )
      }`,
    );
    await waitFor(() => gw.gateway.catalog().size > 0);
    const browser = await chromium.launch({
      executablePath: tools.chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(gw.base)) external.push(request.url());
      });
      await page.goto(`${gw.base}/ui`);
      const card = page.locator('.card[data-server="kid"]');
      await card.waitFor();
      assert.equal(await card.getAttribute("data-state"), "up");
      assert.equal(await page.locator("#overall").textContent(), "ok");
      await page.locator("#search").fill("adds two");
      await page.waitForFunction('document.querySelectorAll("#tools tr").length === 1');
      assert.equal(await page.locator("#tools tr td.tool").textContent(), "kid__add");
      await page.locator("#reload").click();
      await page.waitForFunction(
        'document.querySelector("#notice").textContent.startsWith("reloaded:")',
      );
      await child.kill("SIGKILL");
      const killedAt = performance.now();
      await page.waitForSelector('.card[data-server="kid"][data-state="down"]', { timeout: 5000 });
      const seconds = (performance.now() - killedAt) / 1000;
      assert.ok(seconds < 5, `turned red after ${seconds.toFixed(1)} s`);
      assert.equal(await page.locator("#overall").textContent(), "degraded");
      assert.match(
        (await page.locator('.card[data-server="kid"] .meta').first().textContent()) ?? "",
        /\d+ tools \(stale: from before it went down\)/,
        "its tools are kept and marked stale",
      );
      assert.match(
        (await page.locator('.card[data-server="kid"] .error').textContent()) ?? "",
        /kid/,
      );
      await page.screenshot({ path: `${Deno.makeTempDirSync()}/dashboard.png` });
      assert.deepEqual(external, [], "the page makes no requests elsewhere");
    } finally {
      await browser.close();
    }
  },
}));
