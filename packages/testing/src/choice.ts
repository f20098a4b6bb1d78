// Which environment a command works in — one rule for every command: the one named by `--env` (or
// `--env-name`), else the one named by CLEANROOM_ENV, else the only live environment of the project,
// else a throwaway one made for the command. Pure: what was asked and what is live in, the choice (and
// why, for the line a command prints when the choice is not obvious) out.

export interface EnvironmentChoice {
  /** The environment to use; undefined: a throwaway one. */
  name?: string;
  source: "flag" | "CLEANROOM_ENV" | "only-live" | "throwaway";
  /** Why, when the command should say so (undefined when it is what the user typed). */
  note?: string;
  /** The live environments there were to choose from. */
  live: string[];
}

export function chooseEnvironment(asked: {
  flag?: string | undefined;
  envVar?: string | undefined;
  /** Names of the project's live environments (not other runs' throwaway ones). */
  live: readonly string[];
}): EnvironmentChoice {
  const live = [...asked.live].sort();
  if (asked.flag) return { name: asked.flag, source: "flag", live };
  const fromVar = asked.envVar?.trim();
  if (fromVar)
    return {
      name: fromVar,
      source: "CLEANROOM_ENV",
      note: `environment ${fromVar} (from CLEANROOM_ENV)`,
      live,
    };
  if (live.length === 1)
    return {
      name: live[0]!,
      source: "only-live",
      note: `environment ${live[0]} (the only live one in this project)`,
      live,
    };
  return {
    source: "throwaway",
    live,
    ...(live.length > 1
      ? {
          note: `a throwaway environment (${live.length} live ones: ${live.join(", ")}; name one with --env or CLEANROOM_ENV)`,
        }
      : {}),
  };
}
