/** `npm run abis`: rewrites contracts/src/abis.ts from the compiled contracts. */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { abisFile, renderAbis } from "./lib/abis.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
await writeFile(path.join(root, abisFile), await renderAbis(root));
process.stdout.write(`wrote ${abisFile}\n`);
