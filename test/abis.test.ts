import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

import { abisFile, renderAbis } from "../scripts/lib/abis.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("@gridmesh/contracts ABIs", function () {
  it("match the compiled contracts (run `npm run abis` after changing a contract)", async function () {
    const committed = await readFile(path.join(root, abisFile), "utf8");
    expect(committed === (await renderAbis(root)), `${abisFile} is stale: run \`npm run abis\``).to.equal(
      true,
    );
  });
});
