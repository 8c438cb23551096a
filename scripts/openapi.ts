// Writes docs/openapi.json from the description's modules (packages/herald/src/ops/openapi/), formatted
// as Biome formats JSON. `npm run openapi` after changing a route; test/openapi/ fails until then.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiDocument } from "../packages/herald/src/ops/openapi/index.ts";

const file = fileURLToPath(new URL("../docs/openapi.json", import.meta.url));
writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
execFileSync("npx", ["biome", "format", "--write", file], { stdio: "inherit" });
console.log(`wrote ${file}`);
