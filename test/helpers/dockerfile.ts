/**
 * A reader of the repository's Dockerfile, enough for the recipe test to run the same steps
 * without a container engine: stages, and per stage its instructions in order.
 */
export interface Instruction {
  /** FROM, WORKDIR, COPY, RUN, ENV, USER, EXPOSE, HEALTHCHECK, STOPSIGNAL, CMD... */
  readonly op: string;
  /** Leading `--name=value` options (RUN --mount, COPY --from, HEALTHCHECK --interval). */
  readonly flags: Record<string, string>;
  /** The rest of the line. */
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly steps: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [op = "", ...rest] = line.split(/\s+/);
    const flags: Record<string, string> = {};
    while (rest[0]?.startsWith("--")) {
      const [name = "", value = ""] = (rest.shift() as string).slice(2).split(/=(.*)/s);
      flags[name] = value;
    }
    const instruction: Instruction = { op: op.toUpperCase(), flags, args: rest.join(" ") };
    if (instruction.op === "FROM") {
      const [from = "", as, name] = instruction.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === "AS" ? name : undefined, steps: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]?.steps.push(instruction);
    }
  }
  return stages;
}

/** The argument list of an exec-form CMD (`["node", "x.js"]`); throws on the shell form. */
export function execForm(args: string): string[] {
  const list = JSON.parse(args) as unknown;
  if (!Array.isArray(list) || !list.every((a) => typeof a === "string")) {
    throw new Error(`not an exec-form command (a JSON array of strings): ${args}`);
  }
  return list;
}

/** `ENV A=1 B=2` as an object (values without quotes or spaces, as in Herald's Dockerfile). */
export function envOf(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of args.split(/\s+/)) {
    const at = pair.indexOf("=");
    if (at < 1 || /["']/.test(pair)) throw new Error(`ENV: write NAME=value pairs without quotes: ${args}`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
