import { readFile } from "node:fs/promises";

import { ConfigError } from "../../common/errors.js";
import { FileRegionalGrid } from "./fileRegionalGrid.js";
import { HttpRegionalGrid } from "./httpRegionalGrid.js";
import type { RegionalGrid } from "./regionalGrid.js";
import type { RegionalGridFeedConfig } from "./supplyConfig.js";

/** The configured feed; an HTTP feed's token is read from its file here, once, at start. */
export async function createRegionalGrid(feed: RegionalGridFeedConfig): Promise<RegionalGrid> {
  switch (feed.kind) {
    case "file":
      return new FileRegionalGrid(feed.path);
    case "http": {
      let token: string | undefined;
      if (feed.tokenFile !== undefined) {
        try {
          token = (await readFile(feed.tokenFile, "utf8")).trim();
        } catch (error) {
          throw new ConfigError([
            `GRIDMESH_SUPPLY_FEED_TOKEN_FILE: ${feed.tokenFile} cannot be read (${(error as Error).message})`,
          ]);
        }
        if (token === "")
          throw new ConfigError([`GRIDMESH_SUPPLY_FEED_TOKEN_FILE: ${feed.tokenFile} is empty`]);
      }
      return new HttpRegionalGrid({ url: feed.url, timeoutMs: feed.timeoutMs, token });
    }
  }
}
